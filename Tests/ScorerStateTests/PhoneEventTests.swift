import JSONValue
import ScorerState
import Testing

/// The live fields every broadcast at `tableNow` writes into ``Docs/playing``
/// derived states (player 1 active, no time banked yet).
func live(_ d: JSONValue, player: String = "player1", elapsed: Double = 10.0, live: Double = 10.0) -> JSONValue {
    d.with(["/game_timer/elapsed_seconds": .double(elapsed), "/\(player)/live_elapsed_seconds": .double(live)])
}

/// An event that the legacy applies with one save, from ``Docs/playing``.
func savedOnce(_ label: String, _ event: String, _ args: [JSONValue], start: JSONValue = Docs.playing, saved: JSONValue)
    -> EventCase
{
    let timerRuns = start.at("/game_timer/status") == "running"
    return EventCase(
        label: label, start: start, event: event, arguments: args,
        expected: timerRuns ? live(saved) : saved, saves: [saved])
}

func ignored(_ label: String, _ event: String, _ args: [JSONValue], start: JSONValue = Docs.playing) -> EventCase {
    EventCase(label: label, start: start, event: event, arguments: args, expected: start, errorCode: .actionDenied)
}

func raises(_ label: String, _ event: String, _ args: [JSONValue], start: JSONValue = Docs.playing, _ exception: String)
    -> EventCase
{
    EventCase(
        label: label, start: start, event: event, arguments: args, expected: start, ack: nil,
        errorCode: .invalidState, pythonException: exception)
}

func scored(_ player: Int, primary: JSONValue, total: JSONValue, base: JSONValue = Docs.playing) -> JSONValue {
    let name = base.at("/player\(player)/name")!.stringValue!
    return base.with([
        "/player\(player)/primary_score": primary,
        "/player\(player)/total_score": total,
        "/status_message": .string("\(name) Score Updated"),
    ])
}

@Suite("Phone events")
struct PhoneEventTests {
    // MARK: update_score

    static let updateScoreCases: [EventCase] = [
        savedOnce("primary", "update_score", [["player_id": 1, "score_type": "primary", "value": 7]],
            saved: scored(1, primary: 7, total: 7)),
        savedOnce("Q1: secondary lands in primary", "update_score", [["player_id": 1, "score_type": "secondary", "value": 5]],
            saved: scored(1, primary: 5, total: 5)),
        savedOnce("Q1: total lands in primary", "update_score", [["player_id": 2, "score_type": "total", "value": 3]],
            saved: scored(2, primary: 3, total: 3)),
        savedOnce("string player id and value", "update_score", [["player_id": "2", "score_type": "primary", "value": "7"]],
            saved: scored(2, primary: 7, total: 7)),
        savedOnce("int(7.9) is 7", "update_score", [["player_id": 1, "score_type": "primary", "value": 7.9]],
            saved: scored(1, primary: 7, total: 7)),
        savedOnce("int(-7.9) is -7", "update_score", [["player_id": 1, "score_type": "primary", "value": -7.9]],
            saved: scored(1, primary: -7, total: -7)),
        savedOnce("int(True) is 1", "update_score", [["player_id": 1, "score_type": "primary", "value": true]],
            saved: scored(1, primary: 1, total: 1)),
        savedOnce("false is not None: int(False) is 0", "update_score", [["player_id": 1, "score_type": "primary", "value": false]],
            saved: scored(1, primary: 0, total: 0)),
        savedOnce("negative kept", "update_score", [["player_id": 1, "score_type": "primary", "value": -5]],
            saved: scored(1, primary: -5, total: -5)),
        savedOnce("10**20 exact", "update_score", [["player_id": 1, "score_type": "primary", "value": .bigInt("100000000000000000000")]],
            saved: scored(1, primary: .bigInt("100000000000000000000"), total: .bigInt("100000000000000000000"))),
        savedOnce("whitespace and underscores", "update_score", [["player_id": 1, "score_type": "primary", "value": " 1_000 "]],
            saved: scored(1, primary: 1000, total: 1000)),
        savedOnce("total adds the secondary score", "update_score", [["player_id": 1, "score_type": "primary", "value": 7]],
            start: Docs.playing.with("/player1/secondary_score", 4),
            saved: scored(1, primary: 7, total: 11, base: Docs.playing.with("/player1/secondary_score", 4))),
        savedOnce("a float secondary makes a float total", "update_score", [["player_id": 1, "score_type": "primary", "value": 7]],
            start: Docs.playing.with("/player1/secondary_score", 0.5),
            saved: scored(1, primary: 7, total: 7.5, base: Docs.playing.with("/player1/secondary_score", 0.5))),
        savedOnce("no phase check", "update_score", [["player_id": 1, "score_type": "primary", "value": 9]],
            start: Docs.fresh, saved: scored(1, primary: 9, total: 9, base: Docs.fresh)),
        savedOnce("extra payload keys ignored", "update_score",
            [["player_id": 1, "score_type": "primary", "value": 2, "junk": [1, 2]]],
            saved: scored(1, primary: 2, total: 2)),

        ignored("player_id 0", "update_score", [["player_id": 0, "score_type": "primary", "value": 7]]),
        ignored("player_id empty", "update_score", [["player_id": "", "score_type": "primary", "value": 7]]),
        ignored("player_id null", "update_score", [["player_id": nil, "score_type": "primary", "value": 7]]),
        ignored("player_id missing", "update_score", [["score_type": "primary", "value": 7]]),
        ignored("score_type empty", "update_score", [["player_id": 1, "score_type": "", "value": 7]]),
        ignored("score_type missing", "update_score", [["player_id": 1, "value": 7]]),
        ignored("value null", "update_score", [["player_id": 1, "score_type": "primary", "value": nil]]),
        ignored("value missing", "update_score", [["player_id": 1, "score_type": "primary"]]),
        ignored("player1.0 absent", "update_score", [["player_id": 1.0, "score_type": "primary", "value": 7]]),
        ignored("playerTrue absent", "update_score", [["player_id": true, "score_type": "primary", "value": 7]]),
        ignored("player3 absent", "update_score", [["player_id": 3, "score_type": "primary", "value": 7]]),
        ignored("bonus_score absent", "update_score", [["player_id": 1, "score_type": "bonus", "value": 7]]),
        ignored("1_score absent", "update_score", [["player_id": 1, "score_type": 1, "value": 7]]),
        ignored("the check comes before int()", "update_score", [["player_id": 3, "score_type": "primary", "value": "abc"]]),

        raises("int('abc')", "update_score", [["player_id": 1, "score_type": "primary", "value": "abc"]],
            "ValueError: invalid literal for int() with base 10: 'abc'"),
        raises("int('7.5')", "update_score", [["player_id": 1, "score_type": "primary", "value": "7.5"]],
            "ValueError: invalid literal for int() with base 10: '7.5'"),
        raises("int('')", "update_score", [["player_id": 1, "score_type": "primary", "value": ""]],
            "ValueError: invalid literal for int() with base 10: ''"),
        raises("int([1])", "update_score", [["player_id": 1, "score_type": "primary", "value": [1]]],
            "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'list'"),
        raises("int({})", "update_score", [["player_id": 1, "score_type": "primary", "value": ["a": 1]]],
            "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'dict'"),
        raises("int(nan)", "update_score", [["player_id": 1, "score_type": "primary", "value": .double(.nan)]],
            "ValueError: cannot convert float NaN to integer"),
        raises("int(inf)", "update_score", [["player_id": 1, "score_type": "primary", "value": .double(.infinity)]],
            "OverflowError: cannot convert float infinity to integer"),
        raises("over 4300 digits", "update_score",
            [["player_id": 1, "score_type": "primary", "value": .string(String(repeating: "1", count: 4301))]],
            "ValueError: Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit"
        ),
        raises("payload missing", "update_score", [],
            "TypeError: handle_score_update() missing 1 required positional argument: 'data'"),
        raises("two arguments", "update_score", [["player_id": 1], ["x": 1]],
            "TypeError: handle_score_update() takes 1 positional argument but 2 were given"),
        raises("payload a list", "update_score", [[1, 2]], "AttributeError: 'list' object has no attribute 'get'"),
        raises("payload a string", "update_score", ["x"], "AttributeError: 'str' object has no attribute 'get'"),
        raises("payload null", "update_score", [nil], "AttributeError: 'NoneType' object has no attribute 'get'"),
    ]

    @Test(arguments: updateScoreCases) func updateScore(_ c: EventCase) { check(c) }

    // MARK: increment_cp

    static func cp(_ player: Int, _ cp: JSONValue, _ message: String, base: JSONValue = Docs.playing) -> JSONValue {
        let name = base.at("/player\(player)/name")!.stringValue!
        return base.with(["/player\(player)/cp": cp, "/status_message": .string("\(name) \(message)")])
    }

    static let incrementCPCases: [EventCase] = [
        savedOnce("add", "increment_cp", [["player_id": 1, "action": "add"]], saved: cp(1, 2, "CP Updated")),
        savedOnce("add for \"2\"", "increment_cp", [["player_id": "2", "action": "add"]], saved: cp(2, 2, "CP Updated")),
        savedOnce("remove", "increment_cp", [["player_id": 1, "action": "remove"]], saved: cp(1, 0, "CP Updated")),
        savedOnce("remove at 0 saves a message", "increment_cp", [["player_id": 1, "action": "remove"]],
            start: Docs.playing.with("/player1/cp", 0), saved: cp(1, 0, "CP is 0", base: Docs.playing.with("/player1/cp", 0))),
        savedOnce("a float cp", "increment_cp", [["player_id": 1, "action": "remove"]],
            start: Docs.playing.with("/player1/cp", 1.5), saved: cp(1, 0.5, "CP Updated")),
        savedOnce("max(0, -0.5) is the int 0", "increment_cp", [["player_id": 1, "action": "remove"]],
            start: Docs.playing.with("/player1/cp", 0.5), saved: cp(1, 0, "CP Updated")),
        savedOnce("True + 1 is 2", "increment_cp", [["player_id": 1, "action": "add"]],
            start: Docs.playing.with("/player1/cp", true), saved: cp(1, 2, "CP Updated")),

        ignored("Q2: no action (the shipped player page)", "increment_cp", [["player_id": 1]]),
        ignored("action empty", "increment_cp", [["player_id": 1, "action": ""]]),
        ignored("player_id missing", "increment_cp", [["action": "add"]]),
        ignored("player_id 0", "increment_cp", [["player_id": 0, "action": "add"]]),
        ignored("unknown action", "increment_cp", [["player_id": 1, "action": "double"]]),
        ignored("add outside game_play", "increment_cp", [["player_id": 1, "action": "add"]], start: Docs.fresh),
        ignored("remove outside game_play", "increment_cp", [["player_id": 1, "action": "remove"]],
            start: Docs.playing.with("/game_phase", "game_over")),
        ignored("add for player3", "increment_cp", [["player_id": 3, "action": "add"]]),
        ignored("remove for player1.0", "increment_cp", [["player_id": 1.0, "action": "remove"]]),
        ignored("add for playerTrue", "increment_cp", [["player_id": true, "action": "add"]]),

        raises("payload missing", "increment_cp", [],
            "TypeError: handle_cp_update() missing 1 required positional argument: 'data'"),
        raises("payload a number", "increment_cp", [5], "AttributeError: 'int' object has no attribute 'get'"),
    ]

    @Test(arguments: incrementCPCases) func incrementCP(_ c: EventCase) { check(c) }

    // MARK: end_turn

    /// Player 1 ends the turn at 1010.0: 10 s banked, player 2 to move.
    static let afterP1Turn = Docs.playing.with([
        "/player1/player_elapsed_time_seconds": 10.0,
        "/active_player_id": 2,
        "/game_timer/turn_segment_start_time": 1010.0,
        "/status_message": "Round 1 - Player 2's Turn",
    ])
    /// Its broadcast: player 2 is now the live one (0 s into the turn).
    static let afterP1TurnLive = afterP1Turn.with([
        "/game_timer/elapsed_seconds": 10.0, "/player2/live_elapsed_seconds": 0.0,
    ])

    static let p2ToMove = Docs.playing.with([
        "/active_player_id": 2,
        "/player1/player_elapsed_time_seconds": 4.0,
        "/game_timer/turn_segment_start_time": 1004.0,
    ])
    static let afterP2Turn = p2ToMove.with([
        "/player2/player_elapsed_time_seconds": 6.0,
        "/active_player_id": 1,
        "/current_round": 2,
        "/game_timer/turn_segment_start_time": 1010.0,
        "/status_message": "Round 2 - Player 1's Turn",
    ])

    /// Round 5, player 2 ends it: game over.
    static let lastTurn = p2ToMove.with([
        "/current_round": 5,
        "/status_message": "Round 5 - Player 2's Turn",
        "/game_timer/elapsed_display": "00:00:09",
    ])
    static let gameOver = lastTurn.with([
        "/player2/player_elapsed_time_seconds": 6.0,
        "/active_player_id": 1,
        "/current_round": 6,
        "/game_phase": "game_over",
        "/last_round_played": 5,
        "/game_timer/status": "stopped",
        // update_timer_display with the status already stopped: elapsed_display
        // keeps its last value; player displays from the banked seconds.
        "/player1/player_time_display": "00:00:04",
        "/player2/player_time_display": "00:00:06",
    ])

    static let endTurnCases: [EventCase] = [
        EventCase(
            label: "player 1 ends round 1's first turn", start: Docs.playing, event: "end_turn",
            arguments: [["player_id": 1]], expected: afterP1TurnLive, saves: [afterP1Turn]),
        EventCase(
            label: "True == 1", start: Docs.playing, event: "end_turn",
            arguments: [["player_id": true]], expected: afterP1TurnLive, saves: [afterP1Turn]),
        EventCase(
            label: "1.0 == 1", start: Docs.playing, event: "end_turn",
            arguments: [["player_id": 1.0]], expected: afterP1TurnLive, saves: [afterP1Turn]),
        EventCase(
            label: "player 2 ends the round", start: p2ToMove, event: "end_turn",
            arguments: [["player_id": 2]],
            expected: afterP2Turn.with(["/game_timer/elapsed_seconds": 10.0, "/player1/live_elapsed_seconds": 4.0]),
            saves: [afterP2Turn]),
        EventCase(
            label: "2.0 == 2", start: p2ToMove, event: "end_turn",
            arguments: [["player_id": 2.0]],
            expected: afterP2Turn.with(["/game_timer/elapsed_seconds": 10.0, "/player1/live_elapsed_seconds": 4.0]),
            saves: [afterP2Turn]),
        EventCase(
            label: "round 5 ends: game over at round 6, status kept, timer stopped", start: lastTurn,
            event: "end_turn", arguments: [["player_id": 2]], expected: gameOver, saves: [gameOver]),

        ignored("\"1\" is not 1", "end_turn", [["player_id": "1"]]),
        ignored("not the active player", "end_turn", [["player_id": 2]]),
        ignored("player_id 0", "end_turn", [["player_id": 0]]),
        ignored("player_id missing", "end_turn", [[:]]),
        ignored("not in game_play", "end_turn", [["player_id": 1]], start: Docs.playing.with("/game_phase", "game_over")),
        ignored("no active player", "end_turn", [["player_id": 1]], start: Docs.fresh),

        raises("payload missing", "end_turn", [], "TypeError: handle_end_turn() missing 1 required positional argument: 'data'"),
        raises("payload a list", "end_turn", [[1]], "AttributeError: 'list' object has no attribute 'get'"),
    ]

    @Test(arguments: endTurnCases) func endTurn(_ c: EventCase) { check(c) }

    // MARK: concede_game (Q3)

    static let concedeGameCases: [EventCase] = [
        savedOnce("Q3: game over, timer still running", "concede_game", [["player_id": 2]],
            saved: Docs.playing.with("/game_phase", "game_over")),
        savedOnce("Q3: any phase", "concede_game", [["player_id": 1]], start: Docs.fresh,
            saved: Docs.fresh.with("/game_phase", "game_over")),
        savedOnce("any truthy id", "concede_game", [["player_id": "x"]],
            saved: Docs.playing.with("/game_phase", "game_over")),
        ignored("player_id 0", "concede_game", [["player_id": 0]]),
        ignored("player_id missing", "concede_game", [["player": 1]]),
        raises("payload a bool", "concede_game", [true], "AttributeError: 'bool' object has no attribute 'get'"),
    ]

    @Test(arguments: concedeGameCases) func concedeGame(_ c: EventCase) { check(c) }

    // MARK: broadcast-only events

    static let broadcastOnlyCases: [EventCase] = [
        EventCase(
            label: "phase", start: Docs.playing, event: "update_game_phase", arguments: [["phase": "x"]],
            expected: Docs.playingLive, extra: [.broadcast(event: "game_phase_update", payload: ["phase": "x"])]),
        EventCase(
            label: "phase 0 is not None", start: Docs.fresh, event: "update_game_phase", arguments: [["phase": 0]],
            expected: Docs.fresh, extra: [.broadcast(event: "game_phase_update", payload: ["phase": 0])]),
        EventCase(
            label: "phase null: ignored, but the served state was built", start: Docs.playing,
            event: "update_game_phase", arguments: [["phase": nil]], expected: Docs.playingLive, errorCode: .actionDenied),
        EventCase(
            label: "payload a list: raises after the served state was built", start: Docs.playing,
            event: "update_game_phase", arguments: [[1]], expected: Docs.playingLive, ack: nil,
            errorCode: .invalidState, pythonException: "AttributeError: 'list' object has no attribute 'get'"),
        EventCase(
            label: "payload missing: raises before the body", start: Docs.playing,
            event: "update_game_phase", arguments: [], expected: Docs.playing, ack: nil, errorCode: .invalidState),
        EventCase(
            label: "round of any type", start: Docs.fresh, event: "update_round", arguments: [["round": "abc"]],
            expected: Docs.fresh, extra: [.broadcast(event: "round_update", payload: ["round": "abc"])]),
        EventCase(
            label: "round 3", start: Docs.playing, event: "update_round", arguments: [["round": 3]],
            expected: Docs.playingLive, extra: [.broadcast(event: "round_update", payload: ["round": 3])]),
        ignored("round missing", "update_round", [[:]], start: Docs.fresh),
        EventCase(
            label: "timer payload echoed", start: Docs.playing, event: "update_timer",
            arguments: [["status": "paused", "x": [1]]], expected: Docs.playingLive,
            extra: [.broadcast(event: "timer_update", payload: ["status": "paused", "x": [1]])]),
        EventCase(
            label: "timer status null still counts", start: Docs.fresh, event: "update_timer",
            arguments: [["status": nil]], expected: Docs.fresh,
            extra: [.broadcast(event: "timer_update", payload: ["status": nil])]),
        ignored("timer without status", "update_timer", [["x": 1]], start: Docs.fresh),
        ignored("timer payload a list: isinstance check, no raise", "update_timer", [[1]], start: Docs.fresh),
    ]

    @Test(arguments: broadcastOnlyCases) func broadcastOnly(_ c: EventCase) { check(c) }

    // MARK: request_game_state, connect, unknown events

    @Test func requestGameStateRepliesToTheRequesterOnly() {
        var game = makeGame(Docs.playing)
        let outcome = game.receivedEvent("request_game_state", arguments: [], now: tableNow)
        #expect(outcome.actions == [.reply(event: "game_state_update", payload: Docs.playingLive)])
        #expect(outcome.ackArguments == [])
        #expect(outcome.error == nil)
        #expect(outcome.stateChanged)  // the shallow-copy quirk
        expectSameBytes(game.document, Docs.playingLive)
    }

    @Test func requestGameStateWithAnArgumentRaises() {
        var game = makeGame(Docs.playing)
        let outcome = game.receivedEvent("request_game_state", arguments: [nil], now: tableNow)
        #expect(outcome.actions.isEmpty)
        #expect(outcome.ackArguments == nil)
        #expect(outcome.error?.code == .invalidState)
        #expect(
            outcome.error?.pythonException
                == "TypeError: handle_game_state_request() takes 0 positional arguments but 1 was given")
        expectSameBytes(game.document, Docs.playing)
    }

    @Test func connectRepliesWithTheServedState() {
        var game = makeGame(Docs.playing)
        let outcome = game.receivedConnect(now: tableNow)
        #expect(outcome.actions == [.reply(event: "game_state_update", payload: Docs.playingLive)])
        #expect(outcome.ackArguments == nil)
        expectSameBytes(game.document, Docs.playingLive)
    }

    @Test(arguments: ["bogus", "score_update", "cp_update", "game_state_update", "update_cp", ""])
    func unknownEventsAreIgnored(_ name: String) {
        var game = makeGame(Docs.playing)
        let outcome = game.receivedEvent(name, arguments: [["player_id": 1]], now: tableNow)
        #expect(outcome == ScorerOutcome(error: outcome.error))
        #expect(outcome.error?.code == .actionDenied)
        #expect(outcome.error?.legacyRaised == false)
        expectSameBytes(game.document, Docs.playing)
    }

    @Test func aClientEventNamedConnectReachesTheConnectHandler() {
        var game = makeGame(Docs.fresh)
        let outcome = game.receivedEvent("connect", arguments: [1, 2], now: tableNow)
        #expect(outcome.actions == [.reply(event: "game_state_update", payload: Docs.fresh)])
        #expect(outcome.ackArguments == [])
    }

    @Test(arguments: [(0, true), (2, true), (3, false)])
    func aClientEventNamedDisconnect(_ count: Int, acked: Bool) {
        var game = makeGame(Docs.fresh)
        let outcome = game.receivedEvent("disconnect", arguments: Array(repeating: 1, count: count), now: tableNow)
        #expect(outcome.actions.isEmpty)
        #expect((outcome.ackArguments != nil) == acked)
        expectSameBytes(game.document, Docs.fresh)
    }

    @Test func phoneEventsAreAckedWithoutArgumentsUnlessTheyRaise() {
        var game = makeGame(Docs.playing)
        #expect(game.receivedEvent("end_turn", arguments: [["player_id": 2]], now: tableNow).ackArguments == [])
        #expect(game.receivedEvent("end_turn", arguments: [["player_id": 1]], now: tableNow).ackArguments == [])
        #expect(game.receivedEvent("end_turn", arguments: [1], now: tableNow).ackArguments == nil)
        #expect(game.receivedEvent("end_turn", arguments: [["player_id": 2]], now: tableNow).piAck == nil)
    }
}
