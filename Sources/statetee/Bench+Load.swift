import ArgumentParser
import Foundation
import JSONValue

extension BenchEvent: ExpressibleByArgument {}

/// The servers `bench load` measures side by side.
enum LoadTarget: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// The legacy fixture, clients connected directly: the baseline.
    case legacy
    /// A second legacy fixture behind `statetee proxy` (embedded shadow).
    case proxy
    /// `statetee engine`, clients connected directly.
    case engine

    var title: String {
        switch self {
        case .legacy: "legacy direct"
        case .proxy: "legacy via proxy"
        case .engine: "engine direct"
        }
    }
}

extension StateTee.Bench {
    /// `statetee bench load`: closed-loop Socket.IO clients against the legacy
    /// fixture, the legacy through the proxy, and the engine, in one run.
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load",
            abstract: "Round-trip throughput and latency of the legacy, the proxy and the engine, side by side.",
            discussion: """
                Starts every target as a child process on 127.0.0.1 (free ports): the legacy fixture (venv \
                python), a second legacy fixture behind `statetee proxy --shadow embedded`, and `statetee engine \
                --rate-limit 0` (this executable, so the same build). For each event kind and client count, each \
                target in turn gets N concurrent Socket.IO clients (WebSocket), each in a closed loop: send the \
                event, wait for its answer (request_game_state: the requester's game_state_update; update_score: \
                the broadcast carrying this client's value; start_game in set-up: its ack), repeat. Latency goes into an HdrHistogram. Ratios are \
                to the legacy direct figure of the same run. Stops by itself. With --rate the load is paced instead: \
                the clients together offer that many events a second, whatever the answers' pace, which measures \
                the latency a user feels at that load rather than the queueing of a saturated server.
                """
        )

        @Option(help: "Concurrent clients per run, comma-separated.")
        var clients: BenchCounts = BenchCounts([1, 10, 100, 1000])

        @Option(help: "Measuring window per run (e.g. 10s, 500ms).")
        var duration: BenchDuration = BenchDuration(.seconds(10), "10s")

        @Option(help: "Warm-up before each window (not recorded).")
        var warmup: BenchDuration = BenchDuration(.seconds(2), "2s")

        @Option(help: "Targets, comma-separated: legacy, proxy, engine.")
        var targets: String = "legacy,proxy,engine"

        @Option(name: .customLong("event"), help: "Event each client sends (repeat for several): request_game_state, update_score, start_game (acked).")
        var events: [BenchEvent] = []

        @Option(help: "Also write the results as JSON to this file.")
        var json: String?

        @Option(help: ArgumentHelp(
            "Paced load: events per second offered by all clients together (each client every clients/rate s); "
                + "latency is timed from when each event was due. Default: closed loop.",
            valueName: "events/s"))
        var rate: Double?

        @OptionGroup var servers: BenchServerOptions

        func validate() throws {
            _ = try parsedTargets()
            guard clients.values.allSatisfy({ $0 <= 20_000 }) else { throw ValidationError("--clients: at most 20000") }
            if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate: a positive number of events a second") }
        }

        func parsedTargets() throws -> [LoadTarget] {
            let names = targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return try names.map { name in
                guard let target = LoadTarget(rawValue: name) else {
                    throw ValidationError("unknown target '\(name)' (legacy, proxy, engine)")
                }
                return target
            }
        }

        func run() async throws {
            BenchProcessRegistry.shared.installSignalHandlers()
            let largest = clients.values.max() ?? 1
            let fileLimit = raiseOpenFileLimit(to: 4 * largest + 1024)
            let plan = LoadBench.Plan(
                targets: try parsedTargets(), clients: clients.values, events: events.isEmpty ? [.requestGameState] : events,
                warmup: warmup.duration, duration: duration.duration, rate: rate)
            let bench = LoadBench(servers: try servers.servers(), plan: plan)
            print("# statetee bench load")
            print("")
            print("\(BenchFormat.machineLine()); open-file limit \(fileLimit)")
            print("window \(duration) after \(warmup) warm-up per run; clients: \(plan.clients.map(String.init).joined(separator: ","))")
            print(rate.map { "paced: \(BenchFormat.integer($0)) events/s offered by all clients together" } ?? "closed loop")
            print("")
            let report = await bench.run { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            print(report.markdown)
            if let json { try BenchFormat.writeJSON(report.json, to: json) }
        }
    }
}

/// The load benchmark's procedure, apart from the command line.
struct LoadBench: Sendable {
    struct Plan: Sendable {
        var targets: [LoadTarget]
        var clients: [Int]
        var events: [BenchEvent]
        var warmup: Duration
        var duration: Duration
        /// Paced load (events/s, all clients together); nil: closed loop.
        var rate: Double? = nil
    }

    struct Row: Sendable {
        var event: BenchEvent
        var target: LoadTarget
        var result: LoadGenerator.Result?
        var skipped: String?
        var clients: Int
    }

    struct Report: Sendable {
        var rows: [Row]
        var notes: [String]
        var loadBefore: String
        var loadAfter: String
        var rate: Double? = nil

        func baseline(for row: Row) -> LoadGenerator.Result? {
            rows.first { $0.event == row.event && $0.clients == row.clients && $0.target == .legacy }?.result
        }

        var markdown: String {
            var out: [String] = []
            for event in Set(rows.map(\.event)).sorted(by: { $0.rawValue < $1.rawValue }) {
                out.append("## \(event.rawValue)" + (rate.map { ", paced at \(BenchFormat.integer($0)) events/s" } ?? ""))
                out.append("")
                var table: [[String]] = []
                for row in rows where row.event == event {
                    guard let result = row.result, result.failure == nil else {
                        let reason = row.skipped ?? row.result?.failure ?? "?"
                        table.append([String(row.clients), row.target.title, "skipped", "-", "-", "-", "-", "-", "-", "-", reason])
                        continue
                    }
                    let base = baseline(for: row)
                    let throughputRatio = base.map { result.throughput / $0.throughput } ?? .nan
                    let p99Ratio = base.map { result.percentileMilliseconds(99) / $0.percentileMilliseconds(99) } ?? .nan
                    let p99Delta = base.map { result.percentileMilliseconds(99) - $0.percentileMilliseconds(99) } ?? .nan
                    var notes: [String] = []
                    if result.unanswered > 0 { notes.append("\(result.unanswered) unanswered at window end") }
                    if result.disconnects > 0 { notes.append("\(result.disconnects) disconnects") }
                    if let failure = result.sendFailure { notes.append("send failed: \(failure)") }
                    if result.completed == 0 { notes.append("no request answered in the window") }
                    table.append([
                        String(row.clients), row.target.title, BenchFormat.integer(result.throughput),
                        BenchFormat.ms(result.percentileMilliseconds(50)), BenchFormat.ms(result.percentileMilliseconds(99)),
                        BenchFormat.ms(result.percentileMilliseconds(99.9)), BenchFormat.ms(result.maxMilliseconds),
                        row.target == .legacy ? "1.00×" : BenchFormat.ratio(throughputRatio),
                        row.target == .legacy ? "1.00×" : BenchFormat.ratio(p99Ratio),
                        row.target == .legacy ? "0.000" : BenchFormat.ms(p99Delta),
                        notes.joined(separator: "; "),
                    ])
                }
                out.append(
                    BenchFormat.table(
                        [
                            "clients", "target", "events/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "events/s vs legacy",
                            "p99 vs legacy", "p99 − legacy ms", "notes",
                        ], table))
                out.append("")
            }
            out.append("load average before \(loadBefore), after \(loadAfter)")
            for note in notes { out.append("- " + note) }
            return out.joined(separator: "\n")
        }

        var json: JSONValue {
            var entries: [JSONValue] = []
            for row in rows {
                var object: JSONObject = [
                    "event": .string(row.event.rawValue), "target": .string(row.target.rawValue), "clients": .int(row.clients),
                ]
                if let skipped = row.skipped { object["skipped"] = .string(skipped) }
                if let result = row.result {
                    let base = baseline(for: row)
                    object["connected"] = .int(result.connected)
                    object["completed"] = .int(result.completed)
                    object["unanswered"] = .int(result.unanswered)
                    object["disconnects"] = .int(result.disconnects)
                    object["window_s"] = BenchFormat.number(result.seconds)
                    object["throughput_per_s"] = BenchFormat.number(result.throughput)
                    object["p50_ms"] = BenchFormat.number(result.percentileMilliseconds(50))
                    object["p99_ms"] = BenchFormat.number(result.percentileMilliseconds(99))
                    object["p999_ms"] = BenchFormat.number(result.percentileMilliseconds(99.9))
                    object["max_ms"] = BenchFormat.number(result.maxMilliseconds)
                    if let failure = result.failure { object["failure"] = .string(failure) }
                    if let base, base.failure == nil {
                        object["throughput_vs_legacy"] = BenchFormat.number(result.throughput / base.throughput)
                        object["p99_vs_legacy"] = BenchFormat.number(
                            result.percentileMilliseconds(99) / base.percentileMilliseconds(99))
                        object["p99_minus_legacy_ms"] = BenchFormat.number(
                            result.percentileMilliseconds(99) - base.percentileMilliseconds(99))
                    }
                }
                entries.append(.object(object))
            }
            return [
                "benchmark": "load", "load_before": .string(loadBefore), "load_after": .string(loadAfter),
                "rate_per_s": rate.map { BenchFormat.number($0) } ?? .null,
                "notes": .array(notes.map { .string($0) }), "runs": .array(entries),
            ]
        }
    }

    let servers: BenchServers
    let plan: Plan

    /// Starts the targets, runs every (event, clients, target) in that order so
    /// that the figures compared with each other are measured next to each
    /// other, stops everything. `progress` gets one line per run.
    func run(progress: @Sendable (String) -> Void) async -> Report {
        let loadBefore = BenchFormat.loadAverage()
        var notes: [String] = []
        var urls: [LoadTarget: String] = [:]
        var skipped: [LoadTarget: String] = [:]
        var started: [BenchProcess] = []
        var proxies: [BenchServers.Proxy] = []
        for target in plan.targets {
            do {
                switch target {
                case .legacy:
                    let legacy = try await servers.startLegacy(name: "legacy")
                    started.append(legacy)
                    urls[target] = legacy.url
                case .engine:
                    let engine = try await servers.startEngine(name: "engine")
                    started.append(engine)
                    urls[target] = engine.url
                case .proxy:
                    let upstream = try await servers.startLegacy(name: "legacy-behind-proxy")
                    started.append(upstream)
                    let proxy = try await servers.startProxy(primary: upstream.url)
                    proxies.append(proxy)
                    urls[target] = proxy.process.url
                    notes.append("proxy shadow: \(proxy.shadow)")
                }
                progress("started \(target.title) at \(urls[target] ?? "?")")
            } catch {
                skipped[target] = "could not start: \(error)"
                progress("skipped \(target.title): \(error)")
            }
        }
        var rows: [Row] = []
        for event in plan.events {
            for clients in plan.clients {
                for target in plan.targets {
                    guard let url = urls[target] else {
                        rows.append(Row(event: event, target: target, result: nil, skipped: skipped[target], clients: clients))
                        continue
                    }
                    let generator = LoadGenerator(
                        url: url, clients: clients, event: event, warmup: plan.warmup, duration: plan.duration,
                        rate: plan.rate)
                    let result = await generator.run()
                    rows.append(Row(event: event, target: target, result: result, skipped: nil, clients: clients))
                    if let failure = result.failure {
                        progress("\(event.rawValue) \(clients) clients \(target.title): FAILED \(failure)")
                    } else {
                        progress(
                            "\(event.rawValue) \(clients) clients \(target.title): \(BenchFormat.integer(result.throughput)) events/s, "
                                + "p50 \(BenchFormat.ms(result.percentileMilliseconds(50))) ms, "
                                + "p99 \(BenchFormat.ms(result.percentileMilliseconds(99))) ms")
                    }
                }
            }
        }
        for proxy in proxies {
            if !proxy.process.isRunning { notes.append("the proxy exited during the run: \(BenchProcess.tail(of: proxy.process.logPath))") }
            await proxy.stop()
        }
        for process in started {
            if !process.isRunning { notes.append("\(process.name) exited during the run: \(BenchProcess.tail(of: process.logPath))") }
            await process.stop()
        }
        servers.cleanUp()
        return Report(rows: rows, notes: notes, loadBefore: loadBefore, loadAfter: BenchFormat.loadAverage(), rate: plan.rate)
    }
}
