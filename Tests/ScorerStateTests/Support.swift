import JSONValue
import ScorerState
import Testing

extension JSONValue {
    /// A copy with `value` at the JSON pointer `path` (a new key is appended
    /// last, as a Python dict appends it).
    func with(_ path: String, _ value: JSONValue) -> JSONValue {
        var copy = self
        let pointer = JSONPointer(path)!
        let done = copy.set(value, at: pointer)
        precondition(done, "cannot set \(path)")
        return copy
    }

    /// A copy with several pointer edits applied in order.
    func with(_ edits: KeyValuePairs<String, JSONValue>) -> JSONValue {
        edits.reduce(self) { $0.with($1.key, $1.value) }
    }

    func at(_ path: String) -> JSONValue? { value(at: JSONPointer(path)!) }
}

/// The documents the tables start from.
enum Docs {
    static let fresh = ScorerGame.defaultDocument

    /// Player 1 to move in round 1; the timer started at 1000.0 (the same
    /// keys, in the same order, as a real game reaches after `start_game`).
    static let playing = fresh.with([
        "/player1/name": "Alice",
        "/player2/name": "Bob",
        "/current_round": 1,
        "/active_player_id": 1,
        "/deployment_initiative_winner_id": 1,
        "/deployment_attacker_id": 1,
        "/deployment_defender_id": 2,
        "/first_player_of_game_id": 1,
        "/game_phase": "game_play",
        "/game_timer/status": "running",
        "/game_timer/start_time": 1000.0,
        "/game_timer/turn_segment_start_time": 1000.0,
        "/first_turn_initiative_winner_id": 1,
        "/first_turn_player_id": 1,
    ])

    /// ``playing`` after a served state was built at 1010.0: the live fields
    /// the legacy writes back into the stored state.
    static let playingLive = playing.with([
        "/game_timer/elapsed_seconds": 10.0,
        "/player1/live_elapsed_seconds": 10.0,
    ])
}

/// The time used by the table cases (10 s after ``Docs/playing`` started).
let tableNow = 1010.0

func makeGame(_ document: JSONValue) -> ScorerGame {
    try! ScorerGame(document: document)
}

/// Byte-for-byte equality of two documents, key order included.
func expectSameBytes(_ actual: JSONValue, _ expected: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.serialized() == expected.serialized(), sourceLocation: sourceLocation)
}

/// One table row: a start document, an event, and everything the legacy does.
struct EventCase: CustomTestStringConvertible, Sendable {
    var label: String
    var start: JSONValue
    var event: String
    var arguments: [JSONValue]
    var now: Double = tableNow
    var rolls: [Int] = []
    /// The stored state afterwards.
    var expected: JSONValue
    /// Documents saved, in order (each is followed by a `game_state_update`
    /// broadcast of the served state, which is the final state here unless
    /// stated otherwise).
    var saves: [JSONValue] = []
    /// The served state those broadcasts carry, when it is not the final
    /// state (`start_game` starts the timer after its save).
    var served: JSONValue? = nil
    /// Other emissions, in order, after the saves' broadcasts.
    var extra: [ScorerAction] = []
    /// ACK arguments (nil: none).
    var ack: [JSONValue]? = []
    var errorCode: ScorerError.Code? = nil
    var pythonException: String? = nil

    var testDescription: String { "\(event) \(label)" }
}

/// Runs a case and checks every field of its outcome.
func check(_ c: EventCase, sourceLocation: SourceLocation = #_sourceLocation) {
    var game = makeGame(c.start)
    var dice = ScriptedDice(c.rolls)
    let outcome = game.receivedEvent(c.event, arguments: c.arguments, now: c.now, dice: &dice)
    expectSameBytes(game.document, c.expected, sourceLocation: sourceLocation)
    var actions: [ScorerAction] = []
    for saved in c.saves {
        actions.append(.save(saved))
        actions.append(.broadcast(event: "game_state_update", payload: c.served ?? c.expected))
    }
    actions += c.extra
    #expect(outcome.actions == actions, sourceLocation: sourceLocation)
    // Exact bytes of every emitted document too (== ignores key order).
    #expect(
        outcome.actions.map(describe) == actions.map(describe), sourceLocation: sourceLocation)
    #expect(outcome.ackArguments == c.ack, sourceLocation: sourceLocation)
    #expect(outcome.error?.code == c.errorCode, sourceLocation: sourceLocation)
    if let e = c.pythonException {
        #expect(outcome.error?.pythonException == e, sourceLocation: sourceLocation)
    }
    #expect(outcome.stateChanged == (c.expected.serialized() != c.start.serialized()), sourceLocation: sourceLocation)
    #expect(dice.remaining.isEmpty, "every scripted roll is used", sourceLocation: sourceLocation)
}

func describe(_ action: ScorerAction) -> String {
    switch action {
    case .save(let d): "save \(d.serialized())"
    case .broadcast(let e, let p): "broadcast \(e) \(p.serialized())"
    case .reply(let e, let p): "reply \(e) \(p.serialized())"
    }
}

let okAck: [JSONValue] = [["ok": true]]
