import JSONValue
import Testing

@testable import Storage

struct StateHashTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func sha256MatchesFIPSVectors(input: String, expected: String) {
        #expect(SHA256.hexDigest(Array(input.utf8)) == expected)
    }

    @Test func sha256OfAMillionAs() {
        #expect(
            SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func stateHashEqualsPythonsSortedCompactJSONHash() {
        // Expected values from:
        // hashlib.sha256(json.dumps(s, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        #expect(StateHash.of(defaultState()) == "9359f7dcc202d3ba45d1fa95ed8e06f2e2d5a1bf8318617db52071d2201351fd")
        let mixed: JSONValue = [
            "name": "Zoë ☃", "big": .bigInt("100000000000000000000"), "f": 1e16, "g": 0.1, "neg": -2.5e-7,
            "arr": [true, false, nil],
        ]
        #expect(
            String(decoding: mixed.serializedBytes(StateHash.canonicalOptions), as: UTF8.self)
                == #"{"arr":[true,false,null],"big":100000000000000000000,"f":1e+16,"g":0.1,"name":"Zo\u00eb \u2603","neg":-2.5e-07}"#)
        #expect(StateHash.of(mixed) == "1d4dbc14ff91d816bae479de30d13da077ea7a4f0787718e416953737f3fcfb4")
    }

    @Test func stateHashIgnoresKeyOrder() {
        let a: JSONValue = ["x": 1, "y": ["b": 2, "a": 3]]
        let b: JSONValue = ["y": ["a": 3, "b": 2], "x": 1]
        #expect(StateHash.of(a) == StateHash.of(b))
        #expect(StateHash.of(a) != StateHash.of(["x": 1.0, "y": ["b": 2, "a": 3]]))
    }
}

struct StatePartsTests {
    @Test func partsOfTheDefaultState() throws {
        let parts = StateParts(extractingFrom: defaultState())
        #expect(parts.scores == [
            "player1": ["primary_score": 0, "secondary_score": 0, "total_score": 0, "cp": 1],
            "player2": ["primary_score": 0, "secondary_score": 0, "total_score": 0, "cp": 1],
        ])
        #expect(parts.timer == [
            "game_timer": ["status": "stopped", "start_time": nil, "turn_segment_start_time": nil],
            "player1": ["player_elapsed_time_seconds": 0.0],
            "player2": ["player_elapsed_time_seconds": 0.0],
        ])
        #expect(parts.settings == [
            "player1": ["name": "Player 1", "deployment_roll": 0, "first_turn_roll": 0],
            "player2": ["name": "Player 2", "deployment_roll": 0, "first_turn_roll": 0],
            "deployment_initiative_winner_id": nil, "deployment_attacker_id": nil, "deployment_defender_id": nil,
            "first_turn_choice_winner_id": nil, "first_player_of_game_id": nil,
        ])
    }

    @Test func nonObjectDocumentsHaveEmptyParts() {
        let parts = StateParts(extractingFrom: [1, 2])
        #expect(parts == StateParts(scores: [:], timer: [:], settings: [:]))
    }
}
