import JSONValue
import ScorerState
import Testing

/// Python semantics the handlers rely on, observed through events (expected
/// values checked with CPython 3.11).
@Suite("Python semantics")
struct PythonSemanticsTests {
    @Test(
        "repr(str)",
        arguments: [
            ("player3", "'player3'"),
            ("it's", "\"it's\""),
            ("a\"b'c", "'a\"b\\'c'"),
            ("a\nb\u{01}é\u{200B}\\", "'a\\nb\\x01é\\u200b\\\\'"),
            ("tab\there\r", "'tab\\there\\r'"),
            ("\u{7F}\u{85}\u{A0}\u{1F600}\u{E0001}", "'\\x7f\\x85\\xa0\u{1F600}\\U000e0001'"),
        ])
    func stringRepr(_ text: String, _ repr: String) {
        #expect(JSONValue.string(text).pythonRepr == repr)
    }

    /// f"{name} Score Updated" formats the name with str(): names set through
    /// set_player_name may be any JSON value.
    @Test(
        "f-string of a name",
        arguments: [
            (JSONValue.int(5), "5"),
            (.double(1.5), "1.5"),
            (.double(1e16), "1e+16"),
            (.null, "None"),
            (.bool(true), "True"),
            (JSONValue.array(["a", "b'"]), "['a', \"b'\"]"),
            (JSONValue.object(["k": "v", "n": nil, "f": 2.0]), "{'k': 'v', 'n': None, 'f': 2.0}"),
            (JSONValue.object(["it's": 1]), "{\"it's\": 1}"),
        ])
    func nameFormatting(_ name: JSONValue, _ text: String) {
        var game = ScorerGame()
        var dice = ScriptedDice([])
        _ = game.receivedEvent("set_player_name", arguments: [["player_id": 1, "name": name]], now: 1, dice: &dice)
        #expect(game.document.at("/player1/name") == name)
        _ = game.receivedEvent(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": 3]], now: 2, dice: &dice)
        #expect(game.document.at("/status_message") == .string("\(text) Score Updated"))
    }

    /// KeyError messages carry repr() of the missing key (the Pi ack text).
    @Test(
        "KeyError text",
        arguments: [
            (JSONValue.int(3), "KeyError: 'player3'"),
            (.double(1.0), "KeyError: 'player1.0'"),
            (.bool(true), "KeyError: 'playerTrue'"),
            (.null, "KeyError: 'playerNone'"),
            (.string("it's"), "KeyError: \"playerit's\""),
            (JSONValue.array([1, "x"]), "KeyError: \"player[1, 'x']\""),
        ])
    func keyErrorText(_ playerID: JSONValue, _ text: String) {
        var game = makeGame(Docs.fresh.with("/game_phase", "deployment_setup"))
        var dice = ScriptedDice([4])
        let outcome = game.receivedEvent("deployment_roll", arguments: [["player_id": playerID]], now: 1, dice: &dice)
        #expect(outcome.piAck == ["ok": false, "error": .string(text)])
        #expect(outcome.error?.code == .invalidState)
        #expect(dice.rolled == 1, "the die is rolled before the lookup")
        expectSameBytes(game.document, Docs.fresh.with("/game_phase", "deployment_setup"))
    }

    /// Python compares ints and floats exactly; NaN compares false.
    @Test(
        "roll comparisons",
        arguments: [
            (JSONValue.double(2.5), JSONValue.int(1)),  // 3 > 2.5
            (.double(3.0), .int(2)),  // 3 == 3.0: a tie goes to the attacker (2)
            (.double(3.5), .int(2)),  // 3.5 > 3
            (.double(.nan), .null),  // nan > 0 is False: undecided
            (.bool(true), .int(1)),  // 3 > True
            (.bigInt("100000000000000000000"), .int(2)),
        ])
    func rollComparisons(_ otherRoll: JSONValue, _ winner: JSONValue) {
        let start = Docs.fresh.with([
            "/deployment_attacker_id": 2, "/player2/first_turn_roll": otherRoll, "/game_phase": "first_turn_setup",
            "/first_turn_initiative_winner_id": nil,
        ])
        var game = makeGame(start)
        var dice = ScriptedDice([3])
        _ = game.receivedEvent("first_turn_roll", arguments: [["player_id": 1]], now: 1, dice: &dice)
        #expect(game.document.at("/player1/first_turn_roll") == 3)
        #expect(game.document.at("/first_turn_initiative_winner_id") == winner)
    }

    @Test func integerArithmeticStaysExact() {
        // 2**53 + 1 - 1: no float rounding on the way.
        let start = Docs.fresh.with([
            "/game_phase": "game_play", "/player1/cp": .int(9_007_199_254_740_993),
        ])
        var game = makeGame(start)
        _ = game.receivedEvent("increment_cp", arguments: [["player_id": 1, "action": "remove"]], now: 1)
        #expect(game.document.at("/player1/cp") == .int(9_007_199_254_740_992))
        // and a big int plus one stays exact
        var big = makeGame(Docs.fresh.with(["/game_phase": "game_play", "/player1/cp": .int(.max)]))
        _ = big.receivedEvent("increment_cp", arguments: [["player_id": 1, "action": "add"]], now: 1)
        #expect(big.document.at("/player1/cp") == .bigInt("9223372036854775808"))
    }

    @Test func partialChangeBeforeARaiseStays() {
        // total = primary + secondary raises after primary was written: the
        // legacy keeps that write, saves nothing, broadcasts nothing.
        let start = Docs.fresh.with("/player1/secondary_score", "x")
        var game = makeGame(start)
        let outcome = game.receivedEvent(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": 7]], now: 1)
        #expect(outcome.actions.isEmpty)
        #expect(outcome.ackArguments == nil)
        #expect(outcome.error?.code == .serverError)
        #expect(outcome.error?.pythonException == "TypeError: unsupported operand type(s) for +: 'int' and 'str'")
        #expect(outcome.stateChanged)
        expectSameBytes(game.document, start.with("/player1/primary_score", 7))
    }

    @Test func loadingANonObjectIsRefused() {
        #expect(throws: ScorerError.self) { try ScorerGame(document: [1, 2]) }
        #expect(throws: Never.self) { try ScorerGame(document: ["anything": [1], "extra": nil]) }
    }

    @Test func extraKeysRoundTrip() throws {
        let start = Docs.playing.with(["/zzz": ["nested": [1, 2.5, nil]], "/player1/extra": "kept"])
        var game = try ScorerGame(document: start)
        var dice = ScriptedDice([])
        let outcome = game.receivedEvent("end_turn", arguments: [["player_id": 1]], now: tableNow, dice: &dice)
        #expect(outcome.saved)
        #expect(game.document.at("/zzz") == ["nested": [1, 2.5, nil]])
        #expect(game.document.at("/player1/extra") == "kept")
        #expect(Array(game.state.keys.suffix(2)) == ["zzz", "status_message"])
    }
}
