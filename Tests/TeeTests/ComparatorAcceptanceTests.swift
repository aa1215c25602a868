import AsyncHTTPClient
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import StateTeeTesting
import Storage
import Testing

/// The comparator end to end, every piece a real process: the legacy fixture, `statetee
/// proxy` in front of it (its comparator writing `proxy.sqlite`), a recorded session replayed
/// by python-socketio clients, and `statetee report --format json` reading what was found.
/// The shadow's dice are never the legacy's (another seed): they are adopted.
/// One at a time: each test runs five processes on a machine of two cores.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ComparatorAcceptanceTests {
    static let root = Harness.root
    static let adminToken = "acceptance-admin"

    struct Run {
        var report: JSONValue
        var reportExit: Int32
        var events: [JSONValue]
        var status: JSONValue
        /// The proxy's log (its last lines), for failure messages.
        var log: String
    }

    /// Rules: `base` (a file of fixtures/rules) with a readiness a single recorded game can meet.
    static func rules(_ base: String, directory: String) throws -> String {
        var text = try String(contentsOfFile: root + "/fixtures/rules/" + base, encoding: .utf8)
        if let range = text.range(of: "\nreadiness:") { text = String(text[..<range.lowerBound]) + "\n" }
        text += "readiness:\n  min_consecutive_clean: 10\n  require_full_game: true\n"
        let path = directory + "/rules.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func seed(of session: String) throws -> Int { try RecordedSessionTests.seed(of: session) }

    /// Replays `session` through `statetee proxy` (the engine embedded as its shadow, started
    /// with `defect` when given), waits until every mirrored event was compared, then reports.
    static func run(session: String, rulesFile: String, defect: String?, directory: String) async throws -> Run {
        let binary = try TestEnvironment.stateteeBinary(repositoryRoot: root)
        let legacySeed = try seed(of: session)
        return try await Harness.withLegacy(ordered: false, seed: legacySeed) { _, legacyURL in
            var arguments = [
                "proxy", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--admin-token", adminToken,
                "--primary", legacyURL, "--data-dir", directory, "--rules", rulesFile, "--log-level", "info",
            ]
            if let defect { arguments += ["--inject-defect", defect] }
            // The embedded engine's dice: another seed than the legacy's, so its rolls differ.
            let environment = ["STATETEE_DICE_SEED": "\(legacySeed + 1000)", "STATETEE_RATE_LIMIT": "0"]
            var run = try await withTestProcess(binary, arguments, environment: environment) { proxy in
                let port = try await proxy.listeningPort()
                // ADMIN may come before or after LISTENING.
                let adminLine: String
                if let seen = proxy.stdoutLines.first(where: { $0.hasPrefix("ADMIN ") }) {
                    adminLine = seen
                } else {
                    adminLine = try await proxy.waitForLine(prefix: "ADMIN ")
                }
                let admin = "http://127.0.0.1:" + adminLine.dropFirst("ADMIN ".count)
                _ = try await poll("both upstreams healthy") { () async throws -> JSONValue? in
                    let status = try await Self.status(admin)
                    // (Not `? status : nil`: a nil literal would become JSONValue.null, not "not yet".)
                    guard status["shadow_health"] == "healthy", status["upstreams"]?["legacy"]?["health"] == "healthy"
                    else { return nil }
                    return status
                }
                // At a quarter of the recorded pace (events 200 ms apart, a whole game in 12 s; a
                // real game is slower still): each event is compared on its own, and after a
                // divergence the shadow is resynced before the next event, with the whole suite
                // running on two cores.
                let replay = try await RecordedSessionTests.replay(
                    session, url: "http://127.0.0.1:\(port)", fast: false, speed: 0.25)
                #expect(replay.status == 0, "replay: \(replay.stderr.suffix(2000))")
                // Every mirrored event compared: the report says how far the comparisons reached.
                let mirrored = try await Self.status(admin)["queue"]?["next_sequence"]?.intValue.map { $0 - 1 } ?? -1
                #expect(mirrored > 0)
                do {
                    _ = try await poll("every event compared", timeout: .seconds(40), every: .milliseconds(100)) { () async throws -> JSONValue? in
                        let details = try await Self.status(admin)["readiness"]?["details"]
                        guard let details, (details["last_compared_sequence"]?.intValue ?? 0) >= mirrored else { return nil }
                        return details
                    }
                } catch {
                    Issue.record("\(error); the proxy's log:\n\(proxy.stderr.suffix(4000))")
                    throw error
                }
                let (report, exit) = try await Self.report(binary: binary, directory: directory, rules: rulesFile)
                #expect((report["totals"]?["last_compared_sequence"]?.intValue ?? 0) >= mirrored)
                return Run(
                    report: report, reportExit: exit, events: [], status: try await Self.status(admin),
                    log: String(proxy.stderr.suffix(3000)))
            }
            run.events = try await Self.events(directory: directory)
            return run
        }
    }

    static func status(_ admin: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: admin + "/status")
        request.headers.add(name: "Authorization", value: "Bearer " + adminToken)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONParser.parse(body.readableBytesView)
    }

    static func report(binary: String, directory: String, rules: String) async throws -> (JSONValue, Int32) {
        let out = directory + "/report.json"
        let process = try TestProcess(binary, ["report", "--format", "json", "--data-dir", directory, "--rules", rules, "--out", out])
        let exit = try await process.waitForExit(timeout: .seconds(30))
        let data = try #require(FileManager.default.contents(atPath: out), "no report: \(process.stderr)")
        return (try JSONParser.parse(data), exit)
    }

    /// Every mirrored event as the proxy recorded it (sequence, event, args), read from its
    /// `proxy.sqlite` once it stopped.
    static func events(directory: String) async throws -> [JSONValue] {
        let store = try ProxyStore.open(inDirectory: directory)
        let records = try await store.events(in: 1...Int64.max)
        try await store.close()
        return records.map { ["sequence": .int(Int($0.sequence)), "event": .string($0.event), "args": .array($0.args)] }
    }

    /// The events the report attributes unexpected divergences to: (sequence, event name).
    static func unexpectedEvents(_ report: JSONValue) -> Set<Int> {
        guard case .array(let rows)? = report["divergent_events"] else { return [] }
        return Set(rows.compactMap { row in
            (row["unexpected"]?.intValue ?? 0) > 0 ? row["sequence"]?.intValue : nil
        })
    }

    // MARK: - The acceptance points

    @Test func aFullRecordedGameHasNoUnexpectedDivergenceDespiteTimersAndDice() async throws {
        let directory = Harness.temporaryDirectory()
        let rules = try Self.rules("scorer.yaml", directory: directory)
        let run = try await Self.run(session: "full-game", rulesFile: rules, defect: nil, directory: directory)
        let totals = run.report["totals"]
        #expect(totals?["unexpected_divergences"] == 0, "\(String(describing: run.report["worst_divergences"]))\n\(run.log)")
        #expect(run.reportExit == 0)
        // Timers ran (tolerated differences) and the dice differed (adopted).
        #expect((totals?["tolerated_differences"]?.intValue ?? 0) > 0)
        #expect((totals?["adopted_values"]?.intValue ?? 0) > 0)
        #expect(run.report["verdict"]?["ready"] == true, "\(String(describing: run.report["verdict"]))")
        #expect(run.status["readiness"]?["ready"] == true)
    }

    @Test func anInjectedDefectIsReportedAtExactlyTheEventsThatExerciseIt() async throws {
        let directory = Harness.temporaryDirectory()
        let rules = try Self.rules("scorer.yaml", directory: directory)
        let run = try await Self.run(
            session: "full-game", rulesFile: rules, defect: "cp-add-twice",
            directory: directory)
        // The events that exercise it: increment_cp with action "add" (in game_play, all of them here).
        let exercising = Set(run.events.compactMap { row -> Int? in
            guard row["event"] == "increment_cp", row["args"]?[0]?["action"] == "add" else { return nil }
            return row["sequence"]?.intValue
        })
        #expect(exercising.count == 6)
        #expect(Self.unexpectedEvents(run.report) == exercising, "\(String(describing: run.report["divergent_events"]))\n\(run.log)")
        #expect(run.reportExit == 1)
        #expect(run.report["verdict"]?["ready"] == false)
    }

    @Test func q1DeclaredKnownIsAcceptedAndReady() async throws {
        let directory = Harness.temporaryDirectory()
        let rules = try Self.rules("examples/q1-fixed.yaml", directory: directory)
        let run = try await Self.run(
            session: "concession", rulesFile: rules, defect: "q1-fixed", directory: directory)
        let totals = run.report["totals"]
        #expect(totals?["unexpected_divergences"] == 0, "\(String(describing: run.report["worst_divergences"]))\n\(run.log)")
        #expect((totals?["accepted_divergences"]?.intValue ?? 0) > 0)
        guard case .array(let known)? = run.report["known_divergences"] else {
            Issue.record("no known divergences in \(run.report)")
            return
        }
        #expect(known.contains { $0["id"] == "q1-fixed" || $0["known_id"] == "q1-fixed" }, "\(known)")
        #expect(run.report["verdict"]?["ready"] == true, "\(String(describing: run.report["verdict"]))")
        #expect(run.status["readiness"]?["ready"] == true)
        #expect(run.reportExit == 0)
    }

    @Test func q1UndeclaredIsUnexpectedAndNotReady() async throws {
        let directory = Harness.temporaryDirectory()
        let rules = try Self.rules("scorer.yaml", directory: directory)
        let run = try await Self.run(
            session: "concession", rulesFile: rules, defect: "q1-fixed", directory: directory)
        let secondary = Set(run.events.compactMap { row -> Int? in
            row["event"] == "update_score" && row["args"]?[0]?["score_type"] == "secondary" ? row["sequence"]?.intValue : nil
        })
        #expect(secondary.count == 2)
        #expect(Self.unexpectedEvents(run.report) == secondary, "\(String(describing: run.report["divergent_events"]))\n\(run.log)")
        #expect(run.report["verdict"]?["ready"] == false)
        #expect(run.status["readiness"]?["ready"] == false)
        #expect(run.reportExit == 1)
    }
}
