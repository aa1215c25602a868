import Compare
import Foundation
import JSONDiff
import JSONValue
import StateTeeTesting
import Testing

/// Every recorded session played against the legacy fixture and against the
/// engine (no proxy), with the same dice seed: the final states must be
/// equal under the default comparison rules, and the Pi acks identical.
///
/// The engine runs with `--no-error-events` (legacy-exact silence), so the
/// replayer's per-event predictions of what each client receives hold for
/// both servers: any extra or missing message shows up as a warning, and
/// the warnings must be the same too.
@Suite(.serialized) struct ParityTests {
    static let sessionDirectory = Processes.root + "/fixtures/sessions"

    static var sessions: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sessionDirectory)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.sorted()
    }

    @Test func thereAreSessionsToCompare() {
        #expect(!Self.sessions.isEmpty, "no fixtures/sessions/*.jsonl")
    }

    @Test(.timeLimit(.minutes(3)), arguments: sessions)
    func legacyAndEngineEndInTheSameState(_ name: String) async throws {
        let session = Self.sessionDirectory + "/" + name
        let seed = try Processes.seed(ofSession: session)
        let rules = try RulesFile.load(path: Processes.root + "/" + RulesFile.defaultPath)
        try await withTemporaryDirectory { directory in
            let (legacy, legacyPort) = try await Processes.startLegacy(seed: seed, directory: directory)
            let (engine, enginePort) = try await Processes.startEngine(
                dataDirectory: directory + "/engine", seed: seed, extra: ["--rate-limit", "0", "--no-error-events"])
            do {
                let expected = try await Processes.replay(session, url: "http://127.0.0.1:\(legacyPort)", directory: directory)
                let actual = try await Processes.replay(session, url: "http://127.0.0.1:\(enginePort)", directory: directory)
                let result = RulesEvaluator(rules).compare(primary: expected.finalState, shadow: actual.finalState)
                #expect(result.isClean, "\(name): \(result.unexpected)")
                #expect(actual.report["acks"] == expected.report["acks"], "\(name): Pi acks differ")
                #expect(
                    actual.report["warnings"] == expected.report["warnings"],
                    "\(name): legacy \(expected.report["warnings"] ?? .null), engine \(actual.report["warnings"] ?? .null)")
                #expect(expected.finalState["game_phase"] != nil)
            } catch {
                await engine.terminate()
                await legacy.terminate()
                throw error
            }
            await engine.terminate()
            await legacy.terminate()
        }
    }
}
