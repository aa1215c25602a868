import JSONValue
import ScorerState
import Testing

/// Whole games from `start_new_game` to the game over at round 6, checked
/// against final states produced by the legacy fixture's `LegacyGame`
/// (`fixtures/legacy-server/legacy_game.py`) driven with the same script,
/// clock and `random.Random(seed)` (generator at the end of this file).
@Suite("Full games")
struct FullGameTests {
    struct Golden: Sendable, CustomTestStringConvertible {
        var seed: Int
        var firstPlayer: Int
        var turns: Int
        var saves: Int
        var finalState: String
        var testDescription: String { "player \(firstPlayer) first (seed \(seed))" }
    }

    static let games: [Golden] = [
        Golden(
            seed: 42, firstPlayer: 1, turns: 10, saves: 42,
            finalState: #"""
                {"player1":{"name":"Alice","primary_score":17,"secondary_score":0,"total_score":17,"cp":6,"deployment_roll":6,"first_turn_roll":6,"player_elapsed_time_seconds":434.7499999999998,"player_time_display":"00:07:14","live_elapsed_seconds":422.6999999999998},"player2":{"name":"Bob","primary_score":20,"secondary_score":0,"total_score":20,"cp":6,"deployment_roll":1,"first_turn_roll":1,"player_elapsed_time_seconds":451.2499999999998,"player_time_display":"00:07:31","live_elapsed_seconds":439.1999999999998},"current_round":6,"active_player_id":1,"deployment_initiative_winner_id":1,"deployment_attacker_id":1,"deployment_defender_id":2,"first_turn_choice_winner_id":null,"first_player_of_game_id":1,"last_round_played":5,"game_phase":"game_over","game_timer":{"status":"stopped","start_time":1010.75,"elapsed_display":"00:14:45","turn_segment_start_time":1793.2999999999995,"elapsed_seconds":873.9499999999996},"first_turn_initiative_winner_id":1,"first_turn_player_id":1,"status_message":"Bob CP Updated"}
                """#),
        Golden(
            seed: 7, firstPlayer: 2, turns: 9, saves: 39,
            finalState: #"""
                {"player1":{"name":"Alice","primary_score":15,"secondary_score":0,"total_score":15,"cp":5,"deployment_roll":3,"first_turn_roll":6,"player_elapsed_time_seconds":347.7999999999997,"player_time_display":"00:05:47","live_elapsed_seconds":335.7499999999998},"player2":{"name":"Bob","primary_score":18,"secondary_score":0,"total_score":18,"cp":6,"deployment_roll":2,"first_turn_roll":4,"player_elapsed_time_seconds":434.7499999999998,"player_time_display":"00:07:14","live_elapsed_seconds":422.6999999999998},"current_round":6,"active_player_id":1,"deployment_initiative_winner_id":1,"deployment_attacker_id":1,"deployment_defender_id":2,"first_turn_choice_winner_id":null,"first_player_of_game_id":2,"last_round_played":5,"game_phase":"game_over","game_timer":{"status":"stopped","start_time":1010.75,"elapsed_display":"00:13:02","turn_segment_start_time":1693.1499999999996,"elapsed_seconds":770.4999999999995},"first_turn_initiative_winner_id":1,"first_turn_player_id":2,"status_message":"Bob CP Updated"}
                """#),
    ]

    /// The generator's script, through the public API.
    @Test(arguments: games) func playToTheEnd(_ golden: Golden) throws {
        var game = ScorerGame()
        var dice = PythonRandomDice(seed: golden.seed)
        var now = 1000.0
        var saves = 0
        func send(_ event: String, _ args: [JSONValue] = []) -> ScorerOutcome {
            let outcome = game.receivedEvent(event, arguments: args, now: now, dice: &dice)
            saves += outcome.savedDocuments.count
            #expect(outcome.error == nil, "\(event) \(args)")
            return outcome
        }
        _ = send("start_new_game"); now += 1.25
        _ = send("set_player_name", [["player_id": 1, "name": "Alice"]]); now += 1.25
        _ = send("set_player_name", [["player_id": 2, "name": "Bob"]]); now += 1.25
        _ = send("start_deployment_phase"); now += 1.25
        while game.document.at("/deployment_initiative_winner_id") == .null {
            _ = send("deployment_roll", [["player_id": 1]]); now += 0.5
            _ = send("deployment_roll", [["player_id": 2]]); now += 0.5
        }
        let deploymentWinner = try #require(game.document.at("/deployment_initiative_winner_id"))
        _ = send("deployment_role_choice", [["chooser_id": deploymentWinner, "chose_attacker": true]]); now += 1.25
        _ = send("start_first_turn_phase"); now += 1.25
        while game.document.at("/first_turn_initiative_winner_id") == .null {
            _ = send("first_turn_roll", [["player_id": 2]]); now += 0.5
            _ = send("first_turn_roll", [["player_id": 1]]); now += 0.5
        }
        let winner = try #require(game.document.at("/first_turn_initiative_winner_id"))
        _ = send("first_turn_choice", [["chooser_id": winner, "chose_self": .bool(winner == .int(golden.firstPlayer))]])
        now += 1.25
        let start = send("start_game")
        #expect(start.piAck == ["ok": true])
        #expect(game.document.at("/active_player_id") == .int(golden.firstPlayer))

        var turns = 0
        var messages: [JSONValue] = []
        while game.document.at("/game_phase") == "game_play" {
            now += 61.7 + Double(turns) * 3.3
            let active = try #require(game.document.at("/active_player_id")?.intValue)
            _ = send(
                "update_score",
                [["player_id": .int(active), "score_type": "primary", "value": .int(turns * 2 + active)]])
            _ = send("increment_cp", [["player_id": .int(active), "action": "add"]])
            now += 12.05
            let refreshed = game.refreshDisplay(now: now)
            #expect(refreshed)
            let end = send("end_turn", [["player_id": .int(active)]])
            #expect(end.saved)
            turns += 1
            messages.append(game.document.at("/status_message") ?? .null)
        }

        #expect(turns == golden.turns)
        #expect(golden.turns == (golden.firstPlayer == 1 ? 10 : 9))
        #expect(saves == golden.saves)
        expectSameBytes(game.document, try JSONValue(parsing: golden.finalState))
        #expect(game.isTimerRunning == false)
        // Every turn but the last announces the next one; the last keeps the
        // message of the step before it (here the CP update).
        #expect(messages.last == "Bob CP Updated")
        // Player 2 moving first ends round 1 with the very first turn.
        #expect(messages.first == (golden.firstPlayer == 1 ? "Round 1 - Player 2's Turn" : "Round 2 - Player 1's Turn"))
        // After the game: a phone end_turn is ignored, a phone concede still saves (Q3).
        let after = game.receivedEvent("end_turn", arguments: [["player_id": 1]], now: now + 1)
        #expect(after.error?.code == .actionDenied)
        #expect(after.stateChanged == false)
    }

    /// A round ends when player 2 ends a turn, whoever began: 10 turns with
    /// player 1 first, 9 with player 2 first.
    @Test(arguments: [1, 2]) func roundsAdvanceAfterPlayerTwo(_ first: Int) {
        var game = makeGame(Docs.playing.with(["/active_player_id": .int(first), "/first_turn_player_id": .int(first)]))
        var rounds: [JSONValue] = []
        var now = 1000.0
        while game.document.at("/game_phase") == "game_play" {
            now += 1
            let active = game.document.at("/active_player_id")!
            _ = game.receivedEvent("end_turn", arguments: [["player_id": active]], now: now)
            rounds.append(game.document.at("/current_round")!)
        }
        let expected: [JSONValue] = first == 1 ? [1, 2, 2, 3, 3, 4, 4, 5, 5, 6] : [2, 2, 3, 3, 4, 4, 5, 5, 6]
        #expect(rounds == expected)
        #expect(game.document.at("/active_player_id") == 1)
        #expect(game.document.at("/game_phase") == "game_over")
    }
}

/*
 The golden final states above come from this script (python3, run against
 the repository's fixtures/legacy-server/legacy_game.py):

# Golden full games from the legacy fixture's LegacyGame (fixtures/legacy-server).
import json, random, sys
sys.path.insert(0, "fixtures/legacy-server")
from legacy_game import LegacyGame

def play(seed, first):
    now = [1000.0]
    saves = []
    g = LegacyGame("/tmp/fullgame-save.json", random.Random(seed), lambda e, p: None, clock=lambda: now[0])
    orig = g.save_game_state
    def counting():
        saves.append(1); orig()
    g.save_game_state = counting
    def at(dt): now[0] += dt
    g.lock.acquire()
    g.start_new_game(); at(1.25)
    g.set_player_name({"player_id": 1, "name": "Alice"}); at(1.25)
    g.set_player_name({"player_id": 2, "name": "Bob"}); at(1.25)
    g.start_deployment_phase(); at(1.25)
    while g.state["deployment_initiative_winner_id"] is None:
        g.deployment_roll({"player_id": 1}); at(0.5)
        g.deployment_roll({"player_id": 2}); at(0.5)
    w = g.state["deployment_initiative_winner_id"]
    g.deployment_role_choice({"chooser_id": w, "chose_attacker": True}); at(1.25)
    g.start_first_turn_phase(); at(1.25)
    while g.state["first_turn_initiative_winner_id"] is None:
        g.first_turn_roll({"player_id": 2}); at(0.5)
        g.first_turn_roll({"player_id": 1}); at(0.5)
    w = g.state["first_turn_initiative_winner_id"]
    g.first_turn_choice({"chooser_id": w, "chose_self": w == first}); at(1.25)
    g.start_game()
    turns = 0
    while g.state["game_phase"] == "game_play":
        at(61.7 + turns * 3.3)
        active = g.state["active_player_id"]
        g.handle_web_score_update({"player_id": active, "score_type": "primary", "value": turns * 2 + active})
        g.handle_web_increment_cp({"player_id": active, "action": "add"})
        at(12.05)
        g.update_timer_display()
        g.handle_web_end_turn({"player_id": active}); turns += 1
    return {"turns": turns, "saves": len(saves), "state": g.state}

for seed, first in [(42, 1), (7, 2)]:
    r = play(seed, first)
    print(json.dumps({"seed": seed, "first": first, "turns": r["turns"], "saves": r["saves"]}))
    print(json.dumps(r["state"], separators=(",", ":")))
*/
