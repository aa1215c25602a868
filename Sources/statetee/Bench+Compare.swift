import ArgumentParser
import Compare
import Foundation
import JSONDiff
import JSONValue

extension StateTee.Bench {
    /// `statetee bench compare`: state comparisons per second on one core.
    struct CompareSpeed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "Comparisons per second of RulesEvaluator.compare on a mid-game state, one core.",
            discussion: """
                Loads the rules (default fixtures/rules/scorer.yaml), then times, on this thread only: an \
                identical pair (parsed twice, no shared storage), a pair with tolerated drift (times, live \
                elapsed fields, display clocks), the comparator's per-checkpoint step (adopt the primary's dice \
                into a copy of the shadow, then compare), and a pair with one unexpected difference.
                """
        )

        @Option(help: "Comparisons per scenario.")
        var iterations: Int = 200_000

        @Option(help: "Rules file.")
        var rules: String = RulesFile.defaultPath

        @Option(help: "Also write the results as JSON to this file.")
        var json: String?

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        }

        func run() async throws {
            let loaded = try RulesFile.load(path: rules)
            let results = try CompareBench(rules: loaded).run(iterations: iterations)
            print("# statetee bench compare")
            print("")
            print("\(BenchFormat.machineLine()); rules \(rules); \(iterations) comparisons per scenario, one thread")
            print("")
            print(
                BenchFormat.table(
                    ["scenario", "comparisons/s", "µs per comparison", "result"],
                    results.map { [$0.name, BenchFormat.integer($0.perSecond), BenchFormat.fixed($0.microseconds, digits: 2), $0.verdict] }))
            if let json {
                try BenchFormat.writeJSON(
                    [
                        "benchmark": "compare", "rules": .string(rules), "iterations": .int(iterations),
                        "scenarios": .array(
                            results.map {
                                [
                                    "name": .string($0.name), "per_second": BenchFormat.number($0.perSecond),
                                    "microseconds": BenchFormat.number($0.microseconds), "result": .string($0.verdict),
                                ]
                            }),
                    ], to: json)
            }
        }
    }
}

/// The comparator's hot path on a realistic served state, timed on one thread.
struct CompareBench {
    struct Result {
        var name: String
        var perSecond: Double
        var microseconds: Double
        var verdict: String
    }

    let evaluator: RulesEvaluator

    init(rules: ComparisonRules) {
        evaluator = RulesEvaluator(rules)
    }

    /// A served state in round 3 of a game, timer running (the largest the document gets).
    static func midGame(drift: Double = 0, clockSkew: Int = 0, roll: Int = 5, score: Int = 23) -> String {
        let start = 1_764_000_000.125 + drift
        let segment = 1_764_002_100.5 + drift
        let elapsed = 2_467.25 + drift * 3
        let display = "00:41:\(String(format: "%02d", 7 + clockSkew))"
        return """
            {"player1":{"name":"Alice","primary_score":\(score),"secondary_score":12,"total_score":\(score + 12),"cp":3,\
            "deployment_roll":\(roll),"first_turn_roll":4,"player_elapsed_time_seconds":1210.75,\
            "player_time_display":"00:20:1\(clockSkew)","live_elapsed_seconds":\(1_377.5 + drift * 2)},\
            "player2":{"name":"Bob","primary_score":18,"secondary_score":9,"total_score":27,"cp":2,\
            "deployment_roll":2,"first_turn_roll":6,"player_elapsed_time_seconds":1090.0,\
            "player_time_display":"00:18:10"},\
            "current_round":3,"active_player_id":1,"deployment_initiative_winner_id":1,"deployment_attacker_id":1,\
            "deployment_defender_id":2,"first_turn_choice_winner_id":null,"first_player_of_game_id":2,\
            "first_turn_initiative_winner_id":2,"first_turn_player_id":2,"last_round_played":0,\
            "game_phase":"game_play","status_message":"Round 3 - Player 1's Turn",\
            "game_timer":{"status":"running","start_time":\(start),"elapsed_display":"\(display)",\
            "turn_segment_start_time":\(segment),"elapsed_seconds":\(elapsed)}}
            """
    }

    func run(iterations: Int) throws -> [Result] {
        let primary = try JSONParser.parse(Array(Self.midGame().utf8))
        let identical = try JSONParser.parse(Array(Self.midGame().utf8))
        let drifted = try JSONParser.parse(Array(Self.midGame(drift: 0.0375, clockSkew: 1).utf8))
        let otherDice = try JSONParser.parse(Array(Self.midGame(drift: 0.0375, clockSkew: 1, roll: 2).utf8))
        let diverged = try JSONParser.parse(Array(Self.midGame(drift: 0.0375, score: 24).utf8))
        var results: [Result] = []
        results.append(time("identical", iterations) { evaluator.compare(primary: primary, shadow: identical) })
        results.append(time("tolerated drift (times, clocks)", iterations) { evaluator.compare(primary: primary, shadow: drifted) })
        results.append(
            time("checkpoint: adopt dice + compare", iterations) {
                var shadow = otherDice
                _ = evaluator.adopt(from: primary, into: &shadow)
                return evaluator.compare(primary: primary, shadow: shadow)
            })
        results.append(time("one unexpected difference", iterations) { evaluator.compare(primary: primary, shadow: diverged) })
        return results
    }

    private func time(_ name: String, _ iterations: Int, _ body: () -> BenchComparison) -> Result {
        let clock = ContinuousClock()
        var sink = 0
        for _ in 0..<min(iterations, 2000) { sink &+= body().toleratedCount }
        var last = body()
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                last = body()
                sink &+= last.toleratedCount &+ last.unexpectedCount
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let verdict =
            "\(last.isClean ? "clean" : "diverged"): \(last.unexpectedCount) unexpected, \(last.toleratedCount) tolerated"
            + (sink == Int.min ? "" : "")
        return Result(
            name: name, perSecond: Double(iterations) / seconds, microseconds: seconds * 1e6 / Double(iterations), verdict: verdict)
    }
}
