import Compare
import Foundation
import JSONDiff
import JSONValue
import StateTeeTesting
import Testing

@testable import Tee

/// Every recorded session (`fixtures/sessions/*.jsonl`), replayed directly against the legacy
/// and through the proxy (the embedded engine as shadow): each client receives the messages
/// the legacy rules predict (the replayer's `--strict` check, per client and per event), the
/// acks and the final state are the same, and the shadow's state follows.
@Suite(.timeLimit(.minutes(1))) struct RecordedSessionTests {
    static let sessions = ["full-game", "concession", "burst-four-clients", "bad-input", "reconnecting-client"]

    struct Replay {
        var status: Int32
        var report: JSONValue?
        var stderr: String
    }

    static func seed(of session: String) throws -> Int {
        let path = Harness.root + "/fixtures/sessions/\(session).jsonl"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let header = try JSONValue(parsing: String(text.prefix { $0 != "\n" }))
        return header["seed"]?.intValue ?? 0
    }

    static func replay(_ session: String, url: String) async throws -> Replay {
        let report = Harness.temporaryDirectory() + "/report.json"
        let process = try TestProcess(
            Harness.python,
            [
                Harness.root + "/fixtures/sessions/replay.py", Harness.root + "/fixtures/sessions/\(session).jsonl",
                "--url", url, "--fast", "--strict", "--report", report,
            ])
        let status: Int32
        do {
            status = try await process.waitForExit(timeout: .seconds(40))
        } catch {
            await process.terminate()
            throw error
        }
        let json = FileManager.default.contents(atPath: report).flatMap { try? JSONParser.parse($0) }
        return Replay(status: status, report: json, stderr: process.stderr)
    }

    @Test(arguments: sessions)
    func throughTheProxyAsFromTheLegacy(session: String) async throws {
        let seed = try Self.seed(of: session)
        let rules = Harness.configuration(legacy: "", engine: "").rules
        let direct = try await Harness.withLegacy(ordered: false, seed: seed) { _, url in
            try await Self.replay(session, url: url)
        }
        #expect(direct.status == 0, "direct replay: \(direct.stderr.suffix(2000))")
        #expect(direct.report?["final_state"]?["game_phase"] != nil)
        #expect(direct.report?["trace"] != [])
        try await Harness.withLegacy(ordered: false, seed: seed) { _, legacyURL in
            try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: .embedded)) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                let proxied = try await Self.replay(session, url: proxy.url)
                #expect(proxied.status == 0, "replay through the proxy: \(proxied.stderr.suffix(2000))")
                #expect(proxied.report?["warnings"] == [])
                #expect(proxied.report?["acks"] == direct.report?["acks"])
                let evaluator = RulesEvaluator(SuppressionTests.timeInsensitive(rules))
                let final = evaluator.compare(
                    primary: direct.report?["final_state"] ?? .null, shadow: proxied.report?["final_state"] ?? .null)
                #expect(final.isClean, "final states differ: \(final.unexpected)")
                let status = await proxy.proxy.status()
                #expect(status["gaps"] == 0)
                #expect((status["suppressed"]?.intValue ?? 0) > 0)

                // The engine behind saw everything: its state follows (its dice adopted from the primary's).
                var shadowState = JSONValue.null
                var clean = false
                let deadline = ContinuousClock.now + .seconds(5)
                let primaryState = try await proxy.proxy.monitor(.legacy).readState()
                while !clean, ContinuousClock.now < deadline {
                    shadowState = try await proxy.proxy.monitor(.engine).readState()
                    let adopted = RulesEvaluator(rules)
                    _ = adopted.adopt(from: primaryState, into: &shadowState)
                    clean = adopted.compare(primary: primaryState, shadow: shadowState).isClean
                    if !clean { try await Task.sleep(for: .milliseconds(50)) }
                }
                if !Self.rollsDice(session) {
                    #expect(clean, "the engine diverged: \(RulesEvaluator(rules).compare(primary: primaryState, shadow: shadowState).unexpected)")
                }
            }
        }
    }

    /// Sessions whose later events depend on dice: the engine (its own dice, no comparator
    /// resyncing it here) legitimately takes another path.
    static func rollsDice(_ session: String) -> Bool {
        let path = Harness.root + "/fixtures/sessions/\(session).jsonl"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.contains("\"deployment_roll\"") || text.contains("\"first_turn_roll\"")
    }
}
