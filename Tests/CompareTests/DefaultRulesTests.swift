import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// A served legacy state in game_play, timer running, after both dice phases.
func servedState(clockOffset: Double = 0, rolls: (Int, Int, Int, Int) = (5, 2, 3, 6), p1Score: Int = 12) -> JSONValue {
    let start = 1_754_000_000.125 + clockOffset
    let now = 1_754_001_238.5 + clockOffset
    let deploymentWinner = rolls.0 > rolls.1 ? 1 : 2
    let firstTurnWinner = rolls.2 > rolls.3 ? 1 : 2
    let seconds = Int(now - start)
    let display = String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
    return try! JSONValue(parsing: """
        {"player1":{"name":"Alice","primary_score":\(p1Score),"secondary_score":4,"total_score":\(p1Score + 4),"cp":3,
                    "deployment_roll":\(rolls.0),"first_turn_roll":\(rolls.2),"player_elapsed_time_seconds":\(612.25 + clockOffset / 3),
                    "player_time_display":"00:10:12","live_elapsed_seconds":\(640.5 + clockOffset / 2)},
         "player2":{"name":"Bob","primary_score":10,"secondary_score":6,"total_score":16,"cp":2,"deployment_roll":\(rolls.1),
                    "first_turn_roll":\(rolls.3),"player_elapsed_time_seconds":\(598.75 - clockOffset / 3),
                    "player_time_display":"00:09:58","live_elapsed_seconds":\(598.75 + clockOffset)},
         "current_round":3,"active_player_id":1,"deployment_initiative_winner_id":\(deploymentWinner),
         "deployment_attacker_id":1,"deployment_defender_id":2,"first_turn_choice_winner_id":null,"first_player_of_game_id":2,
         "last_round_played":0,"game_phase":"game_play",
         "game_timer":{"status":"running","start_time":\(start),"elapsed_display":"\(display)",
                       "turn_segment_start_time":\(start + 1210),"elapsed_seconds":\(now - start + clockOffset / 4)},
         "first_turn_initiative_winner_id":\(firstTurnWinner),"first_turn_player_id":2,"status_message":"Round 3 - Player 1's Turn"}
        """)
}

@Suite struct DefaultRulesTests {
    let rules: ComparisonRules

    init() throws {
        rules = try RulesFile.load(path: rulesPath(RulesFile.defaultPath))
    }

    @Test func coversEveryTimeField() throws {
        let timeFields = [
            "/game_timer/start_time", "/game_timer/turn_segment_start_time", "/game_timer/elapsed_seconds",
            "/player1/player_elapsed_time_seconds", "/player2/player_elapsed_time_seconds",
            "/player1/live_elapsed_seconds", "/player2/live_elapsed_seconds",
        ]
        for field in timeFields {
            let path = try #require(JSONPointer(field))
            #expect(rules.tolerance.contains { $0.pattern.covers(path) && $0.tolerance > 0 }, "\(field) has a tolerance")
        }
        for field in ["/game_timer/elapsed_display", "/player1/player_time_display", "/player2/player_time_display"] {
            let path = try #require(JSONPointer(field))
            #expect(rules.clock.contains { $0.pattern.covers(path) && $0.seconds > 0 }, "\(field) is a clock")
        }
    }

    @Test func adoptsTheDiceAndWhatFollowsFromThem() throws {
        let adopted = [
            "/player1/deployment_roll", "/player2/deployment_roll", "/player1/first_turn_roll", "/player2/first_turn_roll",
            "/deployment_initiative_winner_id", "/first_turn_initiative_winner_id",
        ]
        for field in adopted {
            let path = try #require(JSONPointer(field))
            #expect(rules.adopt.contains { $0.covers(path) }, "\(field) is adopted")
        }
        // Chosen by the clients, not by the dice: compared, never adopted.
        for field in ["/deployment_attacker_id", "/first_turn_player_id", "/first_player_of_game_id", "/status_message",
                      "/player1/primary_score", "/player1/cp", "/game_phase", "/current_round"] {
            let path = try #require(JSONPointer(field))
            #expect(!rules.adopt.contains { $0.covers(path) }, "\(field) is not adopted")
            #expect(!rules.ignore.contains { $0.covers(path) }, "\(field) is not ignored")
        }
    }

    @Test func noKnownDivergencesByDefault() {
        #expect(rules.known.isEmpty)
        #expect(rules.ignore.isEmpty)
        #expect(rules.options.numericEquality == .numeric)
        #expect(rules.readiness == ReadinessSettings(minConsecutiveClean: 50, requireFullGame: true))
    }

    @Test func driftAndDiceAreCleanAfterAdoption() {
        let evaluator = RulesEvaluator(rules)
        let primary = servedState(rolls: (5, 2, 3, 6))
        var shadow = servedState(clockOffset: 0.8, rolls: (1, 4, 6, 2))
        #expect(!evaluator.compare(primary: primary, shadow: shadow).isClean)
        let adopted = evaluator.adopt(from: primary, into: &shadow)
        #expect(adopted.count == 6)
        let result = evaluator.compare(primary: primary, shadow: shadow)
        #expect(result.isClean, "\(result.unexpected)")
        #expect(result.toleratedCount == 7)
    }

    @Test func realDivergencesStillShow() {
        let evaluator = RulesEvaluator(rules)
        let primary = servedState()
        let result = evaluator.compare(primary: primary, shadow: servedState(clockOffset: 0.5, p1Score: 13))
        #expect(result.unexpected.map(\.path.description) == ["/player1/primary_score", "/player1/total_score"])
        // Time beyond its tolerance is a divergence too.
        let late = evaluator.compare(primary: primary, shadow: servedState(clockOffset: 5))
        #expect(late.unexpected.map(\.path.description).contains("/game_timer/start_time"))
        // A timer that did not start on the shadow: null against a number.
        var stopped = primary
        stopped["game_timer"]?["start_time"] = nil as JSONValue
        #expect(evaluator.compare(primary: primary, shadow: stopped).unexpected.map(\.kind) == [.typeChanged])
    }

    @Test func theQ1ExampleAcceptsOnlySecondaryUpdates() throws {
        let example = try RulesFile.load(path: rulesPath("fixtures/rules/examples/q1-fixed.yaml"))
        #expect(example.known.map(\.id) == ["q1-fixed"])
        #expect(example.tolerance == rules.tolerance && example.clock == rules.clock && example.adopt == rules.adopt)
        let evaluator = RulesEvaluator(example)
        let legacy = servedState(p1Score: 7)  // the legacy wrote the secondary value 7 into primary_score
        var engine = servedState(p1Score: 0)
        engine["player1"]?["secondary_score"] = 11
        engine["player1"]?["total_score"] = 11
        let secondary = EventContext(name: "update_score", payload: ["player_id": 1, "score_type": "secondary", "value": 7])
        let accepted = evaluator.compare(primary: legacy, shadow: engine, context: secondary)
        #expect(accepted.isClean)
        #expect(accepted.acceptedCount == 2)  // primary_score and secondary_score; total 11 on both
        let primaryUpdate = EventContext(name: "update_score", payload: ["player_id": 1, "score_type": "primary", "value": 7])
        #expect(evaluator.compare(primary: legacy, shadow: engine, context: primaryUpdate).unexpectedCount == 2)
    }

    @Test func theReadmesYAMLExamplesParse() throws {
        let readme = try String(contentsOfFile: rulesPath("fixtures/rules/README.md"), encoding: .utf8)
        let blocks = readme.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= 3)
        for block in blocks {
            #expect(throws: Never.self) { try RulesFile.parse(yaml: block, fileName: "README.md") }
        }
    }
}
