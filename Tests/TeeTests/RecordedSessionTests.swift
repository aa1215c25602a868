import Compare
import Engine
import Foundation
import JSONDiff
import JSONValue
import StateTeeTesting
import Testing

@testable import Tee

/// Every recorded session (`fixtures/sessions/*.jsonl`), replayed directly against the legacy
/// and through the proxy (the embedded engine as shadow, its dice seeded like the legacy's):
/// each client receives the messages the legacy rules predict (the replayer's `--strict`
/// check, per client and per event) and the same messages as from the legacy directly,
/// compared message by message under the rules (time fields aside); the acks and the final
/// state are the same, and the shadow's state follows, dice sessions included.
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

    /// `fast`: as fast as the barriers allow; else at `speed` times the recorded pace.
    static func replay(_ session: String, url: String, fast: Bool = true, speed: Double = 1) async throws -> Replay {
        let report = Harness.temporaryDirectory() + "/report.json"
        let process = try TestProcess(
            Harness.python,
            [
                Harness.root + "/Tests/interop/tee_replay_messages.py",
                Harness.root + "/fixtures/sessions/\(session).jsonl",
                // --timeout: how long a predicted message may take; the whole suite runs at
                // once on 2 cores (a missing message still fails, only later).
                "--url", url, fast ? "--fast" : "--speed=\(speed)", "--strict", "--timeout", "10", "--report", report,
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

    /// Each client's received messages, in arrival order (the report's `messages`, added by
    /// `tee_replay_messages.py`).
    static func messages(_ report: JSONValue?) -> [String: [StreamMessage]] {
        guard case .object(let clients)? = report?["messages"] else { return [:] }
        var result: [String: [StreamMessage]] = [:]
        for key in clients.keys {
            guard case .array(let list)? = clients[key] else { continue }
            result[key] = list.map { message in
                let payload = message["payload"]
                return StreamMessage(message["name"]?.stringValue ?? "?", payload == .null ? nil : payload)
            }
        }
        return result
    }

    /// Sessions where lines of several clients share an `offset_ms` (a burst): the legacy runs
    /// each event on its own thread, so inside a burst the order of the broadcasts, and the
    /// intermediate states they carry, depend on scheduling (two direct replays differ there).
    static func hasBursts(_ session: String) -> Bool {
        let path = Harness.root + "/fixtures/sessions/\(session).jsonl"
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var clients: [Int: Set<String>] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            guard let json = try? JSONValue(parsing: String(line)), let offset = json["offset_ms"]?.intValue,
                  let client = json["client"]?.stringValue
            else { continue }
            clients[offset, default: []].insert(client)
        }
        return clients.values.contains { $0.count > 1 }
    }

    /// Per client, the proxied messages against the direct ones: the same clients, the same
    /// events with the same counts; without bursts also in the same order with payloads equal
    /// under `rules`, message by message.
    static func expectSameMessages(
        session: String, direct: [String: [StreamMessage]], proxied: [String: [StreamMessage]], rules: ComparisonRules
    ) {
        #expect(!direct.isEmpty, "no messages recorded")
        #expect(Set(direct.keys) == Set(proxied.keys))
        let evaluator = RulesEvaluator(rules)
        let strictOrder = !hasBursts(session)
        for (client, expected) in direct {
            let received = proxied[client] ?? []
            func counts(_ messages: [StreamMessage]) -> [String: Int] {
                messages.reduce(into: [:]) { $0[$1.name, default: 0] += 1 }
            }
            #expect(counts(received) == counts(expected), "client \(client): event counts differ")
            #expect(expected.contains { $0.name == "game_state_update" }, "client \(client) got no state")
            if strictOrder {
                let comparison = evaluator.compareStreams(primary: expected, shadow: received)
                #expect(comparison.isClean, "client \(client): \(comparison.differences.prefix(5))")
                #expect(comparison.matchedCount == expected.count)
            } else {
                // Outside the bursts the order is fixed: the first message (the connect's
                // state) and the last one carry equal payloads.
                #expect(expected.first?.name == received.first?.name)
                let first = evaluator.comparePayloads(expected.first?.payload, received.first?.payload)
                let last = evaluator.comparePayloads(expected.last?.payload, received.last?.payload)
                #expect(first.isClean, "client \(client): first message differs: \(first.unexpected)")
                #expect(last.isClean, "client \(client): last message differs: \(last.unexpected)")
            }
        }
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
            try await Harness.withProxy(
                Harness.configuration(legacy: legacyURL, engine: .embedded), engineDice: .seeded(seed)
            ) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                let proxied = try await Self.replay(session, url: proxy.url)
                #expect(proxied.status == 0, "replay through the proxy: \(proxied.stderr.suffix(2000))")
                #expect(proxied.report?["warnings"] == [])
                #expect(proxied.report?["acks"] == direct.report?["acks"])
                let evaluator = RulesEvaluator(SuppressionTests.timeInsensitive(rules))
                Self.expectSameMessages(
                    session: session, direct: Self.messages(direct.report), proxied: Self.messages(proxied.report),
                    rules: SuppressionTests.timeInsensitive(rules))
                let final = evaluator.compare(
                    primary: direct.report?["final_state"] ?? .null, shadow: proxied.report?["final_state"] ?? .null)
                #expect(final.isClean, "final states differ: \(final.unexpected)")
                let status = await proxy.proxy.status()
                #expect(status["gaps"] == 0)
                #expect((status["suppressed"]?.intValue ?? 0) > 0)

                // The engine behind saw everything and rolled the legacy's dice (both seeded
                // with the session's seed): its state follows, dice sessions included.
                let shadow = try await Harness.shadowComparison(proxy, rules: rules)
                #expect(shadow.comparison.isClean, "the engine diverged: \(shadow.comparison.unexpected)")
            }
        }
    }
}
