import Compare
import JSONDiff
import JSONValue
import StateTeeTesting
import Testing

@testable import Tee

/// Through the proxy each client receives what it would receive from the legacy
/// directly; the shadow's answers are never delivered, yet its state follows.
@Suite(.timeLimit(.minutes(1))) struct SuppressionTests {
    static let phoneSession: JSONValue = .array(
        Harness.startGame + [
            ["emit": "request_game_state"],
            ["emit": "update_score", "args": [["player_id": 1, "score_type": "primary", "value": 5]]],
            ["emit": "update_score", "args": [["player_id": "2", "score_type": "secondary", "value": "7"]]],
            ["emit": "update_score", "args": [["player_id": 1, "score_type": "primary", "value": "abc"]]],
            ["emit": "increment_cp", "args": [["player_id": 1, "action": "add"]]],
            ["emit": "increment_cp", "args": [["player_id": 2, "action": "remove"]]],
            ["emit": "increment_cp", "args": [["player_id": 2]]],
            ["emit": "update_game_phase", "args": [["phase": "game_play"]]],
            ["emit": "update_round", "args": [["round": 2]]],
            ["emit": "update_timer", "args": [["status": "running", "x": 1]]],
            ["emit": "end_turn", "args": [["player_id": 1]]],
            ["emit": "end_turn", "args": [["player_id": "2"]]],
            ["emit": "unknown_event", "args": [1, 2]],
            ["emit": "end_turn", "args": [["player_id": 2]]],
            ["call": "set_player_name", "args": [["player_id": 9, "name": "nobody"]]],
        ])

    static let piSession: JSONValue = .array(
        Harness.startGame + [
            ["emit": "increment_cp", "args": [["player_id": 1, "action": "add"]]],
            ["emit": "concede_game", "args": [["player_id": 0]]],
            ["call": "pi_concede", "args": [["player_id": 2]]],
            ["call": "start_game"],
            ["emit": "request_game_state"],
            ["call": "set_player_name", "args": [["player_id": 1, "name": "Ada"]]],
        ])

    /// The rules with their time fields (tolerance and clock paths) ignored: a direct run and a
    /// proxied run happen seconds apart.
    static func timeInsensitive(_ rules: ComparisonRules) -> ComparisonRules {
        var rules = rules
        rules.ignore += rules.tolerance.map(\.pattern) + rules.clock.map(\.pattern)
        return rules
    }

    /// Same events in the same order, same counts, payloads equal up to the rules' time fields.
    static func expectSameStream(_ direct: Harness.ClientRun, _ proxied: Harness.ClientRun, rules: ComparisonRules) {
        #expect(!direct.failed, "direct run failed: \(direct.lines)")
        #expect(!proxied.failed, "proxied run failed: \(proxied.lines)")
        #expect(direct.events.count == proxied.events.count)
        #expect(direct.events.map(\.name) == proxied.events.map(\.name))
        #expect(direct.acks == proxied.acks)
        let evaluator = RulesEvaluator(timeInsensitive(rules))
        var unmatched = proxied.events
        for event in direct.events {
            let index = unmatched.firstIndex { candidate in
                candidate.name == event.name
                    && evaluator.compare(primary: event.args[0] ?? .null, shadow: candidate.args[0] ?? .null).isClean
            }
            #expect(index != nil, "no proxied \(event.name) matches \(event.args.serialized())")
            if let index { unmatched.remove(at: index) }
        }
        #expect(unmatched.isEmpty, "proxied extra events: \(unmatched.map { $0.args.serialized() })")
        #expect(proxied.disconnects == 0)
    }

    @Test(arguments: [("phone", "polling"), ("pi", "websocket"), ("phone", "websocket")])
    func clientsReceiveExactlyWhatTheLegacySends(session: String, transport: String) async throws {
        let script = session == "phone" ? Self.phoneSession : Self.piSession
        let rules = Harness.configuration(legacy: "", engine: "").rules
        let direct = try await Harness.withLegacy { _, url in
            try await Harness.runClient(url: url, script: script, transport: transport)
        }
        try await Harness.withLegacy { _, primaryURL in
            try await Harness.withLegacy { _, shadowURL in
                try await Harness.withProxy(Harness.configuration(legacy: primaryURL, engine: shadowURL)) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    let proxied = try await Harness.runClient(url: proxy.url, script: script, transport: transport)
                    Self.expectSameStream(direct, proxied, rules: rules)

                    // The shadow answered too (suppressed, never delivered), and its state followed the primary's.
                    let expected = proxied.events.count
                    let status = try await Harness.waitForStatus(proxy, "the shadow's answers") {
                        ($0["suppressed"]?.intValue ?? 0) >= expected
                    }
                    #expect(status["gaps"] == 0)
                    let (comparison, primaryState, _) = try await Harness.shadowComparison(proxy, rules: rules)
                    #expect(primaryState["game_phase"] != "setup")
                    #expect(comparison.isClean, "shadow diverged: \(comparison.unexpected)")
                }
            }
        }
    }
}
