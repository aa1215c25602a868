import JSONDiff
import JSONValue
import Testing

/// A served legacy state in game_play with the timer running.
func gameState(
    start: Double = 1_754_000_000.125, now: Double = 1_754_001_238.5, p1Primary: Int = 12, p1Roll: Int = 5, p2Roll: Int = 2,
    winner: JSONValue = 1, display: String = "00:20:38"
) -> JSONValue {
    json("""
        {"player1":{"name":"Alice","primary_score":\(p1Primary),"secondary_score":4,"total_score":\(p1Primary + 4),"cp":3,
                    "deployment_roll":\(p1Roll),"first_turn_roll":3,"player_elapsed_time_seconds":612.25,
                    "player_time_display":"00:10:12","live_elapsed_seconds":\(640.5 + (now - 1_754_001_238.5))},
         "player2":{"name":"Bob","primary_score":10,"secondary_score":6,"total_score":16,"cp":2,"deployment_roll":\(p2Roll),
                    "first_turn_roll":6,"player_elapsed_time_seconds":598.75,"player_time_display":"00:09:58"},
         "current_round":3,"active_player_id":1,"deployment_initiative_winner_id":\(winner.serialized()),
         "deployment_attacker_id":1,"deployment_defender_id":2,"first_turn_choice_winner_id":null,"first_player_of_game_id":2,
         "last_round_played":0,"game_phase":"game_play",
         "game_timer":{"status":"running","start_time":\(start),"elapsed_display":"\(display)",
                       "turn_segment_start_time":\(start + 1210),"elapsed_seconds":\(now - start)},
         "first_turn_initiative_winner_id":2,"first_turn_player_id":2,"status_message":"Round 3 - Player 1's Turn"}
        """)
}

/// Rules like the default scorer.yaml, built in code (JSONDiff does not read YAML).
let scorerLikeRules = ComparisonRules(
    tolerance: [
        ToleranceRule(pattern("/game_timer/start_time"), 2),
        ToleranceRule(pattern("/game_timer/turn_segment_start_time"), 2),
        ToleranceRule(pattern("/game_timer/elapsed_seconds"), 2),
        ToleranceRule(pattern("/player*/player_elapsed_time_seconds"), 2),
        ToleranceRule(pattern("/player*/live_elapsed_seconds"), 2),
    ],
    clock: [ClockRule(pattern("/game_timer/elapsed_display"), seconds: 3), ClockRule(pattern("/player*/player_time_display"), seconds: 3)],
    adopt: [pattern("/player*/deployment_roll"), pattern("/deployment_initiative_winner_id")]
)

let q1Fixed = KnownDivergence(
    id: "q1-fixed",
    paths: [pattern("/player*/primary_score"), pattern("/player*/secondary_score"), pattern("/player*/total_score")],
    condition: Condition(event: "update_score", payload: ["score_type": "secondary"]),
    reason: "Q1 fixed in the engine"
)

@Suite struct RulesEvaluatorTests {
    @Test func identicalStatesAreIdentical() {
        let result = RulesEvaluator(scorerLikeRules).compare(primary: gameState(), shadow: gameState())
        #expect(result.isClean)
        #expect(result.isIdentical)
    }

    @Test func timerDriftIsWithinTolerance() {
        let evaluator = RulesEvaluator(scorerLikeRules)
        let shadow = gameState(start: 1_754_000_000.9, now: 1_754_001_239.6, display: "00:20:40")
        let result = evaluator.compare(primary: gameState(), shadow: shadow)
        #expect(result.isClean)
        #expect(result.toleratedCount == 5)  // start, segment start, elapsed, live elapsed, display
        #expect(result.differences.isEmpty)
    }

    @Test func driftBeyondToleranceIsUnexpected() {
        let evaluator = RulesEvaluator(scorerLikeRules)
        let shadow = gameState(start: 1_754_000_003.5, display: "00:20:42")
        let result = evaluator.compare(primary: gameState(), shadow: shadow)
        #expect(!result.isClean)
        #expect(Set(result.unexpected.map(\.path.description)) == [
            "/game_timer/start_time", "/game_timer/turn_segment_start_time", "/game_timer/elapsed_seconds",
            "/game_timer/elapsed_display",
        ])
    }

    @Test func toleranceDoesNotCoverNullOrMissing() {
        let evaluator = RulesEvaluator(ComparisonRules(tolerance: [ToleranceRule(pattern("/t"), 5)]))
        #expect(!evaluator.compare(primary: ["t": 1.0], shadow: ["t": nil]).isClean)
        #expect(!evaluator.compare(primary: ["t": 1.0], shadow: [:]).isClean)
        #expect(!evaluator.compare(primary: ["t": "1.0"], shadow: ["t": 1.0]).isClean)
        #expect(!evaluator.compare(primary: ["t": true], shadow: ["t": 1]).isClean)
        #expect(evaluator.compare(primary: ["t": 1], shadow: ["t": 5.5]).isClean)
        #expect(evaluator.compare(primary: ["t": 1], shadow: ["t": 6]).isClean)
        #expect(!evaluator.compare(primary: ["t": 1], shadow: ["t": 6.01]).isClean)
    }

    @Test func toleranceIgnoresNumericTypeUnderStrictNumbers() {
        let rules = ComparisonRules(tolerance: [ToleranceRule(pattern("/t"), 0.5)], options: .strict)
        let evaluator = RulesEvaluator(rules)
        #expect(evaluator.compare(primary: ["t": 0], shadow: ["t": 0.25]).toleratedCount == 1)
        #expect(evaluator.compare(primary: ["u": 0], shadow: ["u": 0.0]).unexpected.map(\.kind) == [.typeChanged])
    }

    @Test func firstToleranceInOrderApplies() {
        let narrowFirst = RulesEvaluator(ComparisonRules(tolerance: [
            ToleranceRule(pattern("/a/b"), 0.1), ToleranceRule(pattern("/a"), 10),
        ]))
        #expect(!narrowFirst.compare(primary: ["a": ["b": 1]], shadow: ["a": ["b": 2]]).isClean)
        #expect(narrowFirst.compare(primary: ["a": ["c": 1]], shadow: ["a": ["c": 2]]).isClean)
        let wideFirst = RulesEvaluator(ComparisonRules(tolerance: [
            ToleranceRule(pattern("/a"), 10), ToleranceRule(pattern("/a/b"), 0.1),
        ]))
        #expect(wideFirst.compare(primary: ["a": ["b": 1]], shadow: ["a": ["b": 2]]).isClean)
    }

    @Test func clockRule() {
        let evaluator = RulesEvaluator(ComparisonRules(clock: [ClockRule(pattern("/**/display"), seconds: 2)]))
        #expect(evaluator.compare(primary: ["x": ["display": "00:59:59"]], shadow: ["x": ["display": "01:00:01"]]).isClean)
        #expect(!evaluator.compare(primary: ["display": "00:59:59"], shadow: ["display": "01:00:02"]).isClean)
        #expect(!evaluator.compare(primary: ["display": "00:00:00"], shadow: ["display": "0:00:00:00"]).isClean)
        #expect(!evaluator.compare(primary: ["display": "00:00:00"], shadow: ["display": 0]).isClean)
    }

    @Test func ignoreCoversSubtreesAndCountsEveryDifference() {
        let evaluator = RulesEvaluator(ComparisonRules(ignore: [pattern("/game_timer")]))
        var shadow = gameState(start: 1)
        shadow["game_timer"]?["extra"] = "x"
        let result = evaluator.compare(primary: gameState(), shadow: shadow)
        #expect(result.isClean)
        #expect(result.ignoredCount == 4)  // start_time, turn_segment_start_time, elapsed_seconds, extra
        #expect(result.ignoredCount == JSONDiff.diff(gameState(), shadow).count)
    }

    @Test func ignoringEverything() {
        for root in ["", "/**"] {
            let evaluator = RulesEvaluator(ComparisonRules(ignore: [pattern(root)]))
            let result = evaluator.compare(primary: gameState(), shadow: json(#"{"other":[1,2]}"#))
            #expect(result.isClean)
            #expect(result.differences.isEmpty)
            #expect(result.ignoredCount > 0)
        }
    }

    @Test func knownDivergenceIsAcceptedOnlyWhenItsConditionHolds() {
        let evaluator = RulesEvaluator(ComparisonRules(known: [q1Fixed]))
        // Legacy (primary): 7 written into primary_score. Fixed engine: into secondary_score.
        let primary = json(#"{"player1":{"primary_score":7,"secondary_score":0,"total_score":7}}"#)
        let shadow = json(#"{"player1":{"primary_score":0,"secondary_score":7,"total_score":7}}"#)
        let secondary = EventContext(name: "update_score", payload: ["player_id": 1, "score_type": "secondary", "value": 7])
        let accepted = evaluator.compare(primary: primary, shadow: shadow, context: secondary)
        #expect(accepted.isClean)
        #expect(accepted.acceptedCount == 2)
        #expect(accepted.differences.map(\.classification) == [
            .accepted(knownID: "q1-fixed", reason: "Q1 fixed in the engine"),
            .accepted(knownID: "q1-fixed", reason: "Q1 fixed in the engine"),
        ])

        let primaryUpdate = EventContext(name: "update_score", payload: ["player_id": 1, "score_type": "primary", "value": 7])
        #expect(evaluator.compare(primary: primary, shadow: shadow, context: primaryUpdate).unexpectedCount == 2)
        #expect(evaluator.compare(primary: primary, shadow: shadow, context: nil).unexpectedCount == 2)
        #expect(evaluator.compare(primary: primary, shadow: shadow, context: EventContext(name: "end_turn")).unexpectedCount == 2)
        // Other paths are not covered by the known divergence.
        let cp = evaluator.compare(primary: ["player1": ["cp": 1]], shadow: ["player1": ["cp": 2]], context: secondary)
        #expect(cp.unexpectedCount == 1)
    }

    @Test func conditionPredicatesOnValues() {
        func evaluator(_ condition: Condition) -> RulesEvaluator {
            RulesEvaluator(ComparisonRules(known: [KnownDivergence(id: "k", paths: [pattern("/v")], condition: condition, reason: "r")]))
        }
        let gt = evaluator(Condition(relation: .primaryGreaterThanShadow))
        #expect(gt.compare(primary: ["v": 3], shadow: ["v": 2.5]).isClean)
        #expect(!gt.compare(primary: ["v": 2], shadow: ["v": 3]).isClean)
        #expect(!gt.compare(primary: ["v": "3"], shadow: ["v": "2"]).isClean)
        let lt = evaluator(Condition(relation: .primaryLessThanShadow))
        #expect(lt.compare(primary: ["v": 2], shadow: ["v": 3]).isClean)
        let onlyPrimary = evaluator(Condition(relation: .onlyInPrimary))
        #expect(onlyPrimary.compare(primary: ["v": 2], shadow: [:]).isClean)
        #expect(!onlyPrimary.compare(primary: [:], shadow: ["v": 2]).isClean)
        let onlyShadow = evaluator(Condition(relation: .onlyInShadow))
        #expect(onlyShadow.compare(primary: [:], shadow: ["v": 2]).isClean)
        let values = evaluator(Condition(primary: "legacy", shadow: 1.0))
        #expect(values.compare(primary: ["v": "legacy"], shadow: ["v": 1]).isClean)
        #expect(!values.compare(primary: ["v": "other"], shadow: ["v": 1]).isClean)
        let nullShadow = evaluator(Condition(shadow: nil as JSONValue))
        #expect(nullShadow.compare(primary: ["v": 1], shadow: ["v": nil]).isClean)
        #expect(!nullShadow.compare(primary: ["v": 1], shadow: [:]).isClean)
    }

    @Test func firstKnownWhoseConditionHoldsWins() {
        let rules = ComparisonRules(known: [
            KnownDivergence(id: "a", paths: [pattern("/v")], condition: Condition(event: "x"), reason: "ra"),
            KnownDivergence(id: "b", paths: [pattern("/**")], reason: "rb"),
            KnownDivergence(id: "c", paths: [pattern("/v")], reason: "rc"),
        ])
        let evaluator = RulesEvaluator(rules)
        #expect(evaluator.compare(primary: ["v": 1], shadow: ["v": 2], context: EventContext(name: "x")).differences.map(\.classification)
            == [.accepted(knownID: "a", reason: "ra")])
        #expect(evaluator.compare(primary: ["v": 1], shadow: ["v": 2]).differences.map(\.classification)
            == [.accepted(knownID: "b", reason: "rb")])
    }

    @Test func ignoreComesBeforeKnown() {
        let rules = ComparisonRules(ignore: [pattern("/v")], known: [KnownDivergence(id: "k", paths: [pattern("/v")], reason: "r")])
        let result = RulesEvaluator(rules).compare(primary: ["v": 1], shadow: ["v": 2])
        #expect(result.ignoredCount == 1)
        #expect(result.acceptedCount == 0)
    }

    @Test func classifyListsEverythingAndAgreesWithCompare() {
        let rules = ComparisonRules(
            ignore: [pattern("/player2")], tolerance: scorerLikeRules.tolerance, clock: scorerLikeRules.clock, known: [q1Fixed])
        let evaluator = RulesEvaluator(rules)
        var shadow = gameState(start: 1_754_000_000.5, display: "00:20:39")
        shadow["player2"]?["cp"] = 9
        shadow["player1"]?["primary_score"] = 0
        shadow["status_message"] = "changed"
        let context = EventContext(name: "update_score", payload: ["score_type": "secondary"])
        let classified = evaluator.classify(JSONDiff.diff(gameState(), shadow), context: context)
        #expect(classified.map(\.classification).contains(.ignored))
        #expect(classified.map(\.classification).contains(.withinTolerance))
        #expect(classified.map(\.classification).contains(.unexpected))
        #expect(classified.map(\.classification).contains(.accepted(knownID: "q1-fixed", reason: "Q1 fixed in the engine")))
        #expect(ComparisonResult(classified) == evaluator.compare(primary: gameState(), shadow: shadow, context: context))
    }

    @Test func adoptCopiesThePrimarysDice() {
        let evaluator = RulesEvaluator(scorerLikeRules)
        let primary = gameState(p1Roll: 6, p2Roll: 1, winner: 1)
        var shadow = gameState(p1Roll: 2, p2Roll: 4, winner: 2)
        let changed = evaluator.adopt(from: primary, into: &shadow)
        #expect(changed == [pointer("/player1/deployment_roll"), pointer("/player2/deployment_roll"),
                            pointer("/deployment_initiative_winner_id")])
        #expect(shadow == primary)
        #expect(evaluator.adopt(from: primary, into: &shadow).isEmpty)
    }

    @Test func adoptHandlesValuesAbsentOnEitherSide() {
        let evaluator = RulesEvaluator(ComparisonRules(adopt: [pattern("/p*/roll"), pattern("/winner")]))
        let primary = json(#"{"p1":{"roll":3},"p2":{},"winner":1}"#)
        var shadow = json(#"{"p1":{},"p2":{"roll":5},"p3":{"roll":1}}"#)
        let changed = evaluator.adopt(from: primary, into: &shadow)
        #expect(Set(changed.map(\.description)) == ["/p1/roll", "/p2/roll", "/p3/roll", "/winner"])
        #expect(shadow == json(#"{"p1":{"roll":3},"p2":{},"p3":{},"winner":1}"#))

        // A parent missing in the shadow is not created.
        var bare = json(#"{}"#)
        #expect(evaluator.adopt(from: primary, into: &bare) == [pointer("/winner")])
        #expect(bare == json(#"{"winner":1}"#))
    }

    @Test func adoptIsStrictAboutNumbers() {
        let evaluator = RulesEvaluator(ComparisonRules(adopt: [pattern("/r")]))
        var shadow: JSONValue = ["r": 3]
        #expect(evaluator.adopt(from: ["r": 3.0], into: &shadow) == [pointer("/r")])
        #expect(shadow == ["r": 3.0])
        #expect(RulesEvaluator(.none).adopt(from: ["r": 1], into: &shadow).isEmpty)
    }

    @Test func adoptWithWildcardsOverArraysAndWholeSubtrees() {
        let evaluator = RulesEvaluator(ComparisonRules(adopt: [pattern("/rolls/*/value"), pattern("/dice")]))
        let primary = json(#"{"rolls":[{"value":1},{"value":2}],"dice":{"a":[1,2]}}"#)
        var shadow = json(#"{"rolls":[{"value":5},{"value":2},{"value":9}],"dice":{"a":[3]}}"#)
        let changed = evaluator.adopt(from: primary, into: &shadow)
        #expect(changed.map(\.description) == ["/rolls/0/value", "/rolls/2/value", "/dice"])
        #expect(shadow == json(#"{"rolls":[{"value":1},{"value":2},{}],"dice":{"a":[1,2]}}"#))
    }
}
