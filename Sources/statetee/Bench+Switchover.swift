import ArgumentParser
import AsyncHTTPClient
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import Synchronization

extension StateTee.Bench {
    /// `statetee bench switchover`: how long clients' packets are held while the
    /// proxy switches the primary under load.
    struct Switchover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "switchover",
            abstract: "The switchover pause under load: forced switchover and rollback while N clients send.",
            discussion: """
                Starts the legacy fixture and `statetee proxy --shadow embedded` in front of it; N clients send \
                --event in closed loops (default start_game in set-up: answered by an ack, nothing broadcast, \
                state unchanged; correlated by ack id, so the proxy's refresh of every client cannot pass for an \
                answer; update_score is unambiguous too but broadcasts to every client; request_game_state is \
                miscounted by one after each refresh). After --steady of load, POST \
                /switchover {"force":true} on the admin API; after --steady more, POST /rollback \
                {"force":true}; --steady more, then stop. Reports the proxy's own duration_ms, the longest \
                interval in which no client got any answer (the hold as clients see it) and the worst round trip \
                of the requests in flight during each flip, against the steady-state latency of the same run.
                """
        )

        @Option(help: "Concurrent clients sending during the flips.")
        var clients: Int = 100

        @Option(help: "Event the clients send: start_game (acked, no broadcast), update_score (broadcast) or request_game_state.")
        var event: BenchEvent = .startGame

        @Option(help: "Steady load before, between and after the flips.")
        var steady: BenchDuration = BenchDuration(.seconds(3), "3s")

        @Option(help: "Also write the results as JSON to this file.")
        var json: String?

        @OptionGroup var servers: BenchServerOptions

        func validate() throws {
            guard (1...5000).contains(clients) else { throw ValidationError("--clients must be between 1 and 5000") }
        }

        func run() async throws {
            BenchProcessRegistry.shared.installSignalHandlers()
            raiseOpenFileLimit(to: 4 * clients + 1024)
            let bench = SwitchoverBench(servers: try servers.servers(), clients: clients, event: event, steady: steady.duration)
            print("# statetee bench switchover")
            print("")
            print("\(BenchFormat.machineLine()); \(clients) clients sending \(event.rawValue)")
            print("")
            let report = await bench.run { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            print(report.markdown)
            if let json { try BenchFormat.writeJSON(report.json, to: json) }
        }
    }
}

struct SwitchoverBench: Sendable {
    let servers: BenchServers
    let clients: Int
    let event: BenchEvent
    let steady: Duration

    /// One admin call and what the clients saw around it.
    struct Flip: Sendable {
        var action: String
        var httpStatus: Int = 0
        var ok = false
        var message = ""
        /// The proxy's own `duration_ms` (request to finish, including the readiness check).
        var proxyMilliseconds: Double = .nan
        /// The admin call's round trip as the benchmark saw it.
        var callMilliseconds: Double = .nan
        /// Longest interval, within the call, in which no client got any answer.
        var stallMilliseconds: Double = .nan
        /// Worst round trip among requests in flight during the call.
        var worstMilliseconds: Double = .nan
        var requestsInFlight = 0
        /// The proxy's mirror queue depth (`GET /status`) just before the call.
        var queueDepthBefore: Int?
    }

    struct Report: Sendable {
        var flips: [Flip]
        var steadyP50: Double
        var steadyP99: Double
        var steadyMax: Double
        var throughput: Double
        var skipped: String?
        var notes: [String]

        var markdown: String {
            if let skipped { return "switchover benchmark pending: \(skipped)" }
            var out = [
                "steady state (outside the flips): p50 \(BenchFormat.ms(steadyP50)) ms, p99 \(BenchFormat.ms(steadyP99)) ms, "
                    + "max \(BenchFormat.ms(steadyMax)) ms; \(BenchFormat.integer(throughput)) events/s overall",
                "",
            ]
            out.append(
                BenchFormat.table(
                    [
                        "action", "result", "proxy duration_ms", "admin call ms", "longest no-answer gap ms",
                        "worst round trip in flight ms", "requests in flight", "worst − steady p50 ms",
                        "mirror queue before",
                    ],
                    flips.map { flip in
                        [
                            flip.action, flip.ok ? "ok" : "HTTP \(flip.httpStatus): \(flip.message)",
                            BenchFormat.fixed(flip.proxyMilliseconds, digits: 0), BenchFormat.ms(flip.callMilliseconds),
                            BenchFormat.ms(flip.stallMilliseconds), BenchFormat.ms(flip.worstMilliseconds),
                            String(flip.requestsInFlight), BenchFormat.ms(flip.worstMilliseconds - steadyP50),
                            flip.queueDepthBefore.map(String.init) ?? "-",
                        ]
                    }))
            for note in notes { out.append("- " + note) }
            return out.joined(separator: "\n")
        }

        var json: JSONValue {
            var object: JSONObject = [
                "benchmark": "switchover", "steady_p50_ms": BenchFormat.number(steadyP50),
                "steady_p99_ms": BenchFormat.number(steadyP99), "steady_max_ms": BenchFormat.number(steadyMax),
                "throughput_per_s": BenchFormat.number(throughput), "notes": .array(notes.map { .string($0) }),
                "flips": .array(
                    flips.map {
                        [
                            "action": .string($0.action), "ok": .bool($0.ok), "http_status": .int($0.httpStatus),
                            "message": .string($0.message), "proxy_duration_ms": BenchFormat.number($0.proxyMilliseconds),
                            "admin_call_ms": BenchFormat.number($0.callMilliseconds),
                            "no_answer_gap_ms": BenchFormat.number($0.stallMilliseconds),
                            "worst_in_flight_ms": BenchFormat.number($0.worstMilliseconds),
                            "requests_in_flight": .int($0.requestsInFlight),
                            "mirror_queue_before": $0.queueDepthBefore.map { .int($0) } ?? .null,
                        ]
                    }),
            ]
            if let skipped { object["skipped"] = .string(skipped) }
            return .object(object)
        }
    }

    func run(progress: @escaping @Sendable (String) -> Void) async -> Report {
        var notes: [String] = []
        let legacy: BenchProcess
        let proxy: BenchServers.Proxy
        do {
            legacy = try await servers.startLegacy(name: "legacy")
        } catch {
            servers.cleanUp()
            return Report(flips: [], steadyP50: .nan, steadyP99: .nan, steadyMax: .nan, throughput: .nan, skipped: "\(error)", notes: [])
        }
        do {
            proxy = try await servers.startProxy(primary: legacy.url)
        } catch {
            await legacy.stop()
            servers.cleanUp()
            return Report(
                flips: [], steadyP50: .nan, steadyP99: .nan, steadyMax: .nan, throughput: .nan,
                skipped: "the proxy could not be started: \(error)", notes: [])
        }
        notes.append("proxy shadow: \(proxy.shadow)")
        progress("started legacy at \(legacy.url), proxy at \(proxy.process.url), admin at \(proxy.adminURL)")

        let steady = self.steady
        let admin = proxy.adminURL
        let flipsBox = FlipLog()
        let generator = LoadGenerator(
            url: proxy.process.url, clients: clients, event: event, warmup: .seconds(1), duration: steady * 3)
        let result = await generator.run { recorder in
            recorder.keepTimeline()
            let clock = ContinuousClock()
            for (action, path) in [("switchover", "/switchover"), ("rollback", "/rollback")] {
                try? await Task.sleep(for: steady)
                let depth = await Self.queueDepth(admin: admin)
                let sent = clock.now
                var flip = await Self.call(admin: admin, path: path, action: action)
                flip.queueDepthBefore = depth
                let done = clock.now
                flip.callMilliseconds = Self.milliseconds(done - sent)
                flipsBox.append(flip, from: sent, to: done)
                progress("\(action): \(flip.ok ? "ok" : "refused (\(flip.message))"), proxy \(flip.proxyMilliseconds) ms")
            }
            try? await Task.sleep(for: steady)
        }
        var flips: [Flip] = []
        let recorded = flipsBox.entries
        let pairs = result.timeline
        var steadyLatencies: [Double] = []
        for pair in pairs where !recorded.contains(where: { pair.sent < $0.to && pair.done > $0.from }) {
            steadyLatencies.append(Self.milliseconds(pair.done - pair.sent))
        }
        steadyLatencies.sort()
        for entry in recorded {
            var flip = entry.flip
            let overlapping = pairs.filter { $0.sent < entry.to && $0.done > entry.from }
            flip.requestsInFlight = overlapping.count
            flip.worstMilliseconds = overlapping.map { Self.milliseconds($0.done - $0.sent) }.max() ?? .nan
            // Longest interval inside [from, to] with no completion at all.
            var completions = pairs.map(\.done).filter { $0 >= entry.from && $0 <= entry.to }.sorted()
            completions.insert(entry.from, at: 0)
            completions.append(entry.to)
            var longest = Duration.zero
            for index in 1..<completions.count { longest = max(longest, completions[index] - completions[index - 1]) }
            flip.stallMilliseconds = Self.milliseconds(longest)
            flips.append(flip)
        }
        if let failure = result.failure { notes.append("load failed: \(failure)") }
        if result.unanswered > 0 { notes.append("\(result.unanswered) requests unanswered when the run ended") }
        if result.disconnects > 0 { notes.append("\(result.disconnects) client disconnects during the run") }
        if !proxy.process.isRunning { notes.append("the proxy exited: \(BenchProcess.tail(of: proxy.process.logPath))") }
        await proxy.stop()
        await legacy.stop()
        servers.cleanUp()
        return Report(
            flips: flips, steadyP50: Self.percentile(steadyLatencies, 50), steadyP99: Self.percentile(steadyLatencies, 99),
            steadyMax: steadyLatencies.last ?? .nan, throughput: result.throughput, skipped: nil, notes: notes)
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// The mirror queue's depth from `GET /status`.
    static func queueDepth(admin: String) async -> Int? {
        var request = HTTPClientRequest(url: admin + "/status")
        request.headers.add(name: "Authorization", value: "Bearer " + BenchServers.adminToken)
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)),
            let body = try? await response.body.collect(upTo: 1 << 20),
            let json = try? JSONParser.parse(Array(body.readableBytesView)),
            case .int(let depth)? = json["queue"]?["depth"]
        else { return nil }
        return depth
    }

    /// `POST path {"force": true}` with the benchmark's admin token.
    static func call(admin: String, path: String, action: String) async -> Flip {
        var flip = Flip(action: action)
        var request = HTTPClientRequest(url: admin + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer " + BenchServers.adminToken)
        request.headers.add(name: "X-StateTee-Actor", value: "statetee bench switchover")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"force":true}"#))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 20)
            flip.httpStatus = Int(response.status.code)
            let json = try? JSONParser.parse(Array(body.readableBytesView))
            flip.ok = flip.httpStatus == 200 && json?["ok"] == true
            flip.message = json?["message"]?.stringValue ?? ""
            if let value = json?["duration_ms"] {
                switch value {
                case .int(let ms): flip.proxyMilliseconds = Double(ms)
                case .double(let ms): flip.proxyMilliseconds = ms
                default: break
                }
            }
        } catch {
            flip.message = "admin API call failed: \(error)"
        }
        return flip
    }
}

/// The flips with the instants their admin calls started and ended.
final class FlipLog: Sendable {
    struct Entry: Sendable {
        var flip: SwitchoverBench.Flip
        var from: ContinuousClock.Instant
        var to: ContinuousClock.Instant
    }

    private let storage = Mutex<[Entry]>([])

    func append(_ flip: SwitchoverBench.Flip, from: ContinuousClock.Instant, to: ContinuousClock.Instant) {
        storage.withLock { $0.append(Entry(flip: flip, from: from, to: to)) }
    }

    var entries: [Entry] { storage.withLock { $0 } }
}
