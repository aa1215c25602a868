import JSONValue
import ScorerState
import Testing

/// A Pi event applied with one save; ack `{"ok": true}`.
func piSaved(
    _ label: String, _ event: String, _ args: [JSONValue], start: JSONValue, saved: JSONValue, rolls: [Int] = []
) -> EventCase {
    EventCase(
        label: label, start: start, event: event, arguments: args, rolls: rolls, expected: saved, saves: [saved],
        ack: okAck)
}

/// A Pi event the legacy ignores: still acked `{"ok": true}`.
func piIgnored(_ label: String, _ event: String, _ args: [JSONValue], start: JSONValue) -> EventCase {
    EventCase(label: label, start: start, event: event, arguments: args, expected: start, ack: okAck, errorCode: .actionDenied)
}

/// A Pi event whose handler raises: acked with the exception's text.
func piFails(
    _ label: String, _ event: String, _ args: [JSONValue], start: JSONValue, rolls: [Int] = [], _ exception: String
) -> EventCase {
    EventCase(
        label: label, start: start, event: event, arguments: args, rolls: rolls, expected: start,
        ack: [["ok": false, "error": .string(exception)]], errorCode: .invalidState, pythonException: exception)
}

@Suite("Pi events")
struct PiEventTests {
    static let nameEntry = Docs.fresh.with("/game_phase", "name_entry")
    static let deployment = Docs.fresh.with("/game_phase", "deployment_setup")
    static let firstTurn = Docs.fresh.with([
        "/deployment_initiative_winner_id": 2, "/deployment_attacker_id": 2, "/deployment_defender_id": 1,
        "/game_phase": "first_turn_setup",
        "/first_turn_initiative_winner_id": nil, "/first_turn_player_id": nil,
    ])
    static let noneGetError = "AttributeError: 'NoneType' object has no attribute 'get'"

    static let setupCases: [EventCase] = [
        piSaved("from a game in play, extra arguments ignored", "start_new_game", [5, "x"], start: Docs.playingLive,
            saved: nameEntry),
        piSaved("name", "set_player_name", [["player_id": 1, "name": "Zed"]], start: nameEntry,
            saved: nameEntry.with("/player1/name", "Zed")),
        piSaved("\"2\" names player2", "set_player_name", [["player_id": "2", "name": "Bo"]], start: nameEntry,
            saved: nameEntry.with("/player2/name", "Bo")),
        piSaved("a missing name is None", "set_player_name", [["player_id": 1]], start: nameEntry,
            saved: nameEntry.with("/player1/name", nil)),
        piSaved("only the first argument counts", "set_player_name", [["player_id": 2, "name": "B"], "junk"],
            start: nameEntry, saved: nameEntry.with("/player2/name", "B")),
        piIgnored("player3", "set_player_name", [["player_id": 3, "name": "X"]], start: nameEntry),
        piFails("payload missing", "set_player_name", [], start: nameEntry, noneGetError),
        piFails("payload a list", "set_player_name", [[1]], start: nameEntry,
            "AttributeError: 'list' object has no attribute 'get'"),
        piSaved("deployment resets the roll-off", "start_deployment_phase", [],
            start: nameEntry.with([
                "/player1/deployment_roll": 5, "/player2/deployment_roll": 2, "/deployment_initiative_winner_id": 1,
                "/deployment_attacker_id": 1, "/deployment_defender_id": 2,
            ]),
            saved: deployment),
        piSaved("first-turn phase appends its keys", "start_first_turn_phase", [],
            start: deployment.with(["/player1/first_turn_roll": 6]),
            saved: deployment.with([
                "/game_phase": "first_turn_setup", "/first_turn_initiative_winner_id": nil, "/first_turn_player_id": nil,
            ])),
    ]

    @Test(arguments: setupCases) func setup(_ c: EventCase) { check(c) }

    static let rollCases: [EventCase] = [
        piSaved("first roll", "deployment_roll", [["player_id": 1]], start: deployment,
            saved: deployment.with("/player1/deployment_roll", 4), rolls: [4]),
        piSaved("higher second roll wins", "deployment_roll", [["player_id": 2]],
            start: deployment.with("/player1/deployment_roll", 4),
            saved: deployment.with([
                "/player1/deployment_roll": 4, "/player2/deployment_roll": 5, "/deployment_initiative_winner_id": 2,
            ]), rolls: [5]),
        piSaved("lower second roll loses", "deployment_roll", [["player_id": "2"]],
            start: deployment.with("/player1/deployment_roll", 4),
            saved: deployment.with([
                "/player1/deployment_roll": 4, "/player2/deployment_roll": 2, "/deployment_initiative_winner_id": 1,
            ]), rolls: [2]),
        piSaved("a tie resets both rolls", "deployment_roll", [["player_id": 2]],
            start: deployment.with("/player1/deployment_roll", 3), saved: deployment, rolls: [3]),
        piSaved("re-rolling overwrites", "deployment_roll", [["player_id": 1]],
            start: deployment.with("/player1/deployment_roll", 3),
            saved: deployment.with("/player1/deployment_roll", 6), rolls: [6]),
        piIgnored("decided: no die rolled", "deployment_roll", [["player_id": 1]],
            start: deployment.with("/deployment_initiative_winner_id", 1)),
        piFails("unknown player: the die is rolled, then KeyError", "deployment_roll", [["player_id": 3]],
            start: deployment, rolls: [2], "KeyError: 'player3'"),
        piFails("payload missing: no die rolled", "deployment_roll", [], start: deployment, noneGetError),

        piSaved("first-turn roll", "first_turn_roll", [["player_id": 2]], start: firstTurn,
            saved: firstTurn.with("/player2/first_turn_roll", 1), rolls: [1]),
        piSaved("higher wins", "first_turn_roll", [["player_id": 1]],
            start: firstTurn.with("/player2/first_turn_roll", 2),
            saved: firstTurn.with([
                "/player1/first_turn_roll": 5, "/player2/first_turn_roll": 2, "/first_turn_initiative_winner_id": 1,
            ]), rolls: [5]),
        piSaved("a tie goes to the attacker", "first_turn_roll", [["player_id": 1]],
            start: firstTurn.with("/player2/first_turn_roll", 4),
            saved: firstTurn.with([
                "/player1/first_turn_roll": 4, "/player2/first_turn_roll": 4, "/first_turn_initiative_winner_id": 2,
            ]), rolls: [4]),
        piSaved("a tie without attacker goes to player 1", "first_turn_roll", [["player_id": 1]],
            start: firstTurn.with(["/player2/first_turn_roll": 4, "/deployment_attacker_id": nil]),
            saved: firstTurn.with([
                "/player2/first_turn_roll": 4, "/deployment_attacker_id": nil, "/player1/first_turn_roll": 4,
                "/first_turn_initiative_winner_id": 1,
            ]), rolls: [4]),
        piSaved("winner key absent counts as None (a legacy state before start_first_turn_phase)", "first_turn_roll",
            [["player_id": 1]], start: deployment, saved: deployment.with("/player1/first_turn_roll", 3), rolls: [3]),
        piIgnored("decided", "first_turn_roll", [["player_id": 2]],
            start: firstTurn.with("/first_turn_initiative_winner_id", 1)),
        piFails("unknown player", "first_turn_roll", [["player_id": 0]], start: firstTurn, rolls: [6],
            "KeyError: 'player0'"),
    ]

    @Test(arguments: rollCases) func rolls(_ c: EventCase) { check(c) }

    static let choiceCases: [EventCase] = [
        piSaved("attacker", "deployment_role_choice", [["chooser_id": 1, "chose_attacker": true]], start: deployment,
            saved: deployment.with(["/deployment_attacker_id": 1, "/deployment_defender_id": 2])),
        piSaved("defender", "deployment_role_choice", [["chooser_id": 2, "chose_attacker": false]], start: deployment,
            saved: deployment.with(["/deployment_attacker_id": 1, "/deployment_defender_id": 2])),
        piSaved("2 attacks", "deployment_role_choice", [["chooser_id": 2, "chose_attacker": 1]], start: deployment,
            saved: deployment.with(["/deployment_attacker_id": 2, "/deployment_defender_id": 1])),
        piSaved("missing choice is falsy", "deployment_role_choice", [["chooser_id": 1]], start: deployment,
            saved: deployment.with(["/deployment_attacker_id": 2, "/deployment_defender_id": 1])),
        piSaved("chooser 0 is not None", "deployment_role_choice", [["chooser_id": 0, "chose_attacker": true]],
            start: deployment, saved: deployment.with(["/deployment_attacker_id": 0, "/deployment_defender_id": 1])),
        piSaved("\"1\" != 1: both roles end up with 1-ish", "deployment_role_choice",
            [["chooser_id": "1", "chose_attacker": true]], start: deployment,
            saved: deployment.with(["/deployment_attacker_id": "1", "/deployment_defender_id": 1])),
        piIgnored("chooser null", "deployment_role_choice", [["chooser_id": nil, "chose_attacker": true]],
            start: deployment),
        piIgnored("chooser missing", "deployment_role_choice", [["chose_attacker": true]], start: deployment),

        piSaved("self", "first_turn_choice", [["chooser_id": 1, "chose_self": true]], start: firstTurn,
            saved: firstTurn.with(["/first_turn_player_id": 1, "/first_player_of_game_id": 1])),
        piSaved("the other", "first_turn_choice", [["chooser_id": 1, "chose_self": false]], start: firstTurn,
            saved: firstTurn.with(["/first_turn_player_id": 2, "/first_player_of_game_id": 2])),
        piSaved("2 gives it away", "first_turn_choice", [["chooser_id": 2]], start: firstTurn,
            saved: firstTurn.with(["/first_turn_player_id": 1, "/first_player_of_game_id": 1])),
        piSaved("the key is appended when absent", "first_turn_choice", [["chooser_id": 2, "chose_self": "y"]],
            start: deployment, saved: deployment.with(["/first_player_of_game_id": 2, "/first_turn_player_id": 2])),
        piIgnored("chooser null", "first_turn_choice", [["chooser_id": nil]], start: firstTurn),
    ]

    @Test(arguments: choiceCases) func choices(_ c: EventCase) { check(c) }

    // MARK: start_game

    static let ready = firstTurn.with(["/first_turn_player_id": 2, "/first_player_of_game_id": 2])
    static let startedSaved = ready.with(["/active_player_id": 2, "/game_phase": "game_play", "/current_round": 1])
    static let started = startedSaved.with([
        "/game_timer/status": "running", "/game_timer/start_time": 1500.0,
        "/game_timer/turn_segment_start_time": 1500.0,
    ])

    static let startGameCases: [EventCase] = [
        EventCase(
            label: "saved first, the timer starts after (unsaved)", start: ready, event: "start_game", arguments: [],
            now: 1500, expected: started, saves: [startedSaved], served: startedSaved, ack: okAck),
        EventCase(
            label: "no first-turn player: refused, active_player_id overwritten", start: ready.with([
                "/first_turn_player_id": nil, "/active_player_id": 1,
            ]), event: "start_game", arguments: [], expected: ready.with(["/first_turn_player_id": nil]),
            ack: [["ok": false, "error": "First turn player not set."]], errorCode: .actionDenied),
        EventCase(
            label: "first-turn player 0 is falsy", start: ready.with("/first_turn_player_id", 0), event: "start_game",
            arguments: [], expected: ready.with(["/first_turn_player_id": 0, "/active_player_id": 0]),
            ack: [["ok": false, "error": "First turn player not set."]], errorCode: .actionDenied),
        EventCase(
            label: "key absent (before start_first_turn_phase)", start: deployment, event: "start_game", arguments: [],
            expected: deployment, ack: [["ok": false, "error": "First turn player not set."]], errorCode: .actionDenied),
        // After a phone concede (Q3) the timer still runs: not restarted; the
        // save's broadcast carries the live fields.
        EventCase(
            label: "the timer already runs", start: Docs.playing.with("/game_phase", "game_over"), event: "start_game",
            arguments: [], expected: Docs.playingLive, saves: [Docs.playing], ack: okAck),
    ]

    @Test(arguments: startGameCases) func startGame(_ c: EventCase) { check(c) }

    // MARK: pi_concede

    static func conceded(_ message: String) -> JSONValue {
        Docs.playing.with([
            "/game_phase": "game_over", "/status_message": .string(message), "/last_round_played": 1,
            "/game_timer/status": "stopped",
        ])
    }

    static let concedeCases: [EventCase] = [
        EventCase(
            label: "player 1 concedes: saved twice", start: Docs.playing, event: "pi_concede",
            arguments: [["player_id": 1]], expected: conceded("Alice concedes. Bob wins!"),
            saves: [conceded("Alice concedes. Bob wins!"), conceded("Alice concedes. Bob wins!")], ack: okAck),
        EventCase(
            label: "player 2 concedes", start: Docs.playing, event: "pi_concede",
            arguments: [["player_id": 2]], expected: conceded("Bob concedes. Alice wins!"),
            saves: [conceded("Bob concedes. Alice wins!"), conceded("Bob concedes. Alice wins!")], ack: okAck),
        EventCase(
            label: "\"2\" != 2: Bob concedes and wins", start: Docs.playing, event: "pi_concede",
            arguments: [["player_id": "2"]], expected: conceded("Bob concedes. Bob wins!"),
            saves: [conceded("Bob concedes. Bob wins!"), conceded("Bob concedes. Bob wins!")], ack: okAck),
        piIgnored("not in game_play", "pi_concede", [["player_id": 1]], start: Docs.fresh),
        piFails("unknown player", "pi_concede", [["player_id": 3]], start: Docs.playing, "KeyError: 'player3'"),
        piFails("payload checked before the phase", "pi_concede", [], start: Docs.fresh, noneGetError),
    ]

    @Test(arguments: concedeCases) func piConcede(_ c: EventCase) { check(c) }

    @Test func piEventNames() {
        #expect(
            ScorerGame.piEvents == [
                "start_new_game", "set_player_name", "start_deployment_phase", "deployment_roll",
                "deployment_role_choice", "start_first_turn_phase", "first_turn_roll", "first_turn_choice",
                "start_game", "pi_concede",
            ])
        #expect(
            ScorerGame.phoneEvents == [
                "request_game_state", "update_score", "increment_cp", "end_turn", "concede_game",
                "update_game_phase", "update_round", "update_timer",
            ])
    }
}
