import ArgumentParser
import Foundation
import JSONValue
import SocketIOClient

extension StateTee.Bench {
    /// `statetee bench memory`: the proxy's resident memory per idle client session.
    struct Memory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "memory",
            abstract: "Resident memory of the proxy with N idle client sessions (per-session cost).",
            discussion: """
                For each primary and each N: starts the primary (the legacy fixture or `statetee engine`) and \
                `statetee proxy --shadow embedded` in front of it, opens and closes one session (lazy \
                initialisation), reads the proxy's VmRSS, opens N idle Socket.IO sessions (WebSocket; each \
                waits for its first game_state_update, so both of its upstream legs are up), waits --settle, \
                reads VmRSS again. Per-session cost = (RSS with N - RSS with none) / N. Raises the open-file \
                limit (children inherit it). The legacy fixture runs one thread per WebSocket: it is measured \
                up to --legacy-max sessions, the engine as primary for every N.
                """
        )

        @Option(help: "Idle sessions per run, comma-separated.")
        var sessions: BenchCounts = BenchCounts([1, 1000, 10000])

        @Option(help: "Primaries behind the proxy, comma-separated: legacy, engine.")
        var primary: String = "legacy,engine"

        @Option(help: "Largest session count tried with the legacy fixture as the primary.")
        var legacyMax: Int = 1000

        @Flag(help: "Also measure `statetee engine` alone with the same sessions (the embedded shadow's share).")
        var engineReference = false

        @Option(help: "Wait after the last session connected before reading RSS.")
        var settle: BenchDuration = BenchDuration(.seconds(3), "3s")

        @Option(help: "Also write the results as JSON to this file.")
        var json: String?

        @OptionGroup var servers: BenchServerOptions

        func run() async throws {
            BenchProcessRegistry.shared.installSignalHandlers()
            let primaries = try primary.split(separator: ",").map { name -> MemoryBench.Primary in
                guard let kind = MemoryBench.Primary(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown --primary \(name) (legacy, engine)")
                }
                return kind
            }
            let largest = sessions.values.max() ?? 1
            let limit = raiseOpenFileLimit(to: 4 * largest + 4096)
            let bench = MemoryBench(
                servers: try servers.servers(), sessions: sessions.values, primaries: primaries, legacyMax: legacyMax,
                engineReference: engineReference, settle: settle.duration)
            print("# statetee bench memory")
            print("")
            print("\(BenchFormat.machineLine()); open-file limit \(limit) (inherited by the proxy)")
            print("")
            let report = await bench.run { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            print(report.markdown)
            if let json { try BenchFormat.writeJSON(report.json, to: json) }
        }
    }
}

struct MemoryBench: Sendable {
    enum Primary: String, Sendable {
        case legacy, engine
    }

    struct Row: Sendable {
        var subject: String
        var sessions: Int
        var connected: Int = 0
        var rssBefore: Int?
        var rssAfter: Int?
        var fdsAfter: Int?
        var connectSeconds: Double = .nan
        var note: String?

        var perSession: Double {
            guard let before = rssBefore, let after = rssAfter, connected > 0 else { return .nan }
            return Double(after - before) / Double(connected)
        }
    }

    struct Report: Sendable {
        var rows: [Row]
        var notes: [String]
        var fileLimit: Int

        var markdown: String {
            let table = rows.map { row -> [String] in
                [
                    row.subject, String(row.sessions), String(row.connected),
                    row.rssBefore.map { BenchFormat.bytes(Double($0)) } ?? "-",
                    row.rssAfter.map { BenchFormat.bytes(Double($0)) } ?? "-",
                    BenchFormat.bytes(row.perSession), row.fdsAfter.map(String.init) ?? "-",
                    BenchFormat.fixed(row.connectSeconds, digits: 1), row.note ?? "",
                ]
            }
            var out = [
                BenchFormat.table(
                    ["measured process", "sessions", "connected", "RSS idle", "RSS with sessions", "per session", "open fds", "connect s", "notes"],
                    table)
            ]
            for note in notes { out.append("- " + note) }
            return out.joined(separator: "\n")
        }

        var json: JSONValue {
            [
                "benchmark": "memory", "notes": .array(notes.map { .string($0) }),
                "runs": .array(
                    rows.map { row in
                        var object: JSONObject = [
                            "subject": .string(row.subject), "sessions": .int(row.sessions), "connected": .int(row.connected),
                            "per_session_bytes": BenchFormat.number(row.perSession),
                            "connect_s": BenchFormat.number(row.connectSeconds),
                        ]
                        if let value = row.rssBefore { object["rss_idle_bytes"] = .int(value) }
                        if let value = row.rssAfter { object["rss_sessions_bytes"] = .int(value) }
                        if let value = row.fdsAfter { object["open_fds"] = .int(value) }
                        if let note = row.note { object["note"] = .string(note) }
                        return .object(object)
                    }),
            ]
        }
    }

    let servers: BenchServers
    let sessions: [Int]
    let primaries: [Primary]
    let legacyMax: Int
    let engineReference: Bool
    let settle: Duration

    func run(progress: @Sendable (String) -> Void) async -> Report {
        var rows: [Row] = []
        var notes: [String] = []
        for primary in primaries {
            for count in sessions {
                let subject = "proxy (primary: \(primary.rawValue))"
                if primary == .legacy, count > legacyMax {
                    rows.append(
                        Row(
                            subject: subject, sessions: count,
                            note: "not run: the legacy fixture (threading mode) holds a thread per WebSocket; see the engine-primary row"))
                    continue
                }
                var upstream: BenchProcess?
                var proxy: BenchServers.Proxy?
                do {
                    let primaryProcess =
                        primary == .legacy
                        ? try await servers.startLegacy(name: "legacy-\(count)") : try await servers.startEngine(name: "engine-primary-\(count)")
                    upstream = primaryProcess
                    let started = try await servers.startProxy(primary: primaryProcess.url, name: "proxy-\(count)")
                    proxy = started
                    if !notes.contains("proxy shadow: \(started.shadow)") { notes.append("proxy shadow: \(started.shadow)") }
                    var row = await measure(subject: subject, process: started.process, url: started.process.url, count: count)
                    if started.shadow != "embedded", let helper = started.helpers.first, let rss = helper.residentBytes() {
                        row.note = [row.note, "shadow engine process RSS \(BenchFormat.bytes(Double(rss))) (not counted)"]
                            .compactMap { $0 }.joined(separator: "; ")
                    }
                    rows.append(row)
                    progress("\(subject), \(count) sessions: \(BenchFormat.bytes(row.perSession)) per session")
                } catch {
                    rows.append(Row(subject: subject, sessions: count, note: "could not start: \(error)"))
                    progress("\(subject), \(count) sessions: could not start: \(error)")
                }
                await proxy?.stop()
                await upstream?.stop()
            }
        }
        if engineReference {
            for count in sessions {
                do {
                    let engine = try await servers.startEngine(name: "engine-alone-\(count)")
                    let row = await measure(subject: "engine alone (reference)", process: engine, url: engine.url, count: count)
                    rows.append(row)
                    progress("engine alone, \(count) sessions: \(BenchFormat.bytes(row.perSession)) per session")
                    await engine.stop()
                } catch {
                    rows.append(Row(subject: "engine alone (reference)", sessions: count, note: "could not start: \(error)"))
                }
            }
        }
        servers.cleanUp()
        var limit = rlimit()
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Report(rows: rows, notes: notes, fileLimit: Int(limit.rlim_cur))
    }

    /// Opens one session and closes it, reads RSS, opens `count`, settles, reads again.
    private func measure(subject: String, process: BenchProcess, url: String, count: Int) async -> Row {
        var row = Row(subject: subject, sessions: count)
        _ = await IdleSessions(url: url, count: 1).hold { _, _ in }
        try? await Task.sleep(for: .milliseconds(500))
        row.rssBefore = process.residentBytes()
        let clock = ContinuousClock()
        let started = clock.now
        let settle = self.settle
        let timeout: Duration = .seconds(60) + .milliseconds(30 * count)
        let outcome = await IdleSessions(url: url, count: count, connectTimeout: timeout).hold { connected, failure in
            let connectTime = clock.now - started
            try? await Task.sleep(for: settle)
            return (connected, failure, connectTime, process.residentBytes(), process.openFileCount())
        }
        row.connected = outcome.0
        row.connectSeconds = Double(outcome.2.components.seconds) + Double(outcome.2.components.attoseconds) / 1e18
        row.rssAfter = outcome.3
        row.fdsAfter = outcome.4
        if let failure = outcome.1 { row.note = failure }
        if !process.isRunning { row.note = "\(process.name) exited: \(BenchProcess.tail(of: process.logPath))" }
        return row
    }
}

/// N idle Socket.IO sessions, held open while a body runs.
struct IdleSessions: Sendable {
    var url: String
    var count: Int
    var connectTimeout: Duration = .seconds(60)
    var parallelism: Int = 100

    /// Connects every session (each waits for its first `game_state_update`),
    /// runs `body` with the number connected and the first failure, then
    /// disconnects them all.
    func hold<T: Sendable>(_ body: @escaping @Sendable (Int, String?) async -> T) async -> T {
        let gate = StartGate(expected: count)
        let limiter = ConnectLimiter(slots: parallelism)
        let registry = ClientRegistry()
        return await withTaskGroup(of: T?.self) { group in
            for _ in 0..<count {
                group.addTask {
                    var configuration = SocketIOClient.Configuration(url: url, reconnect: .disabled, connectTimeout: connectTimeout)
                    configuration.bufferWhileDisconnected = false
                    let client = SocketIORelayClient(configuration: configuration)
                    await registry.add(client)
                    let (stream, sink) = AsyncStream.makeStream(of: SocketIOClient.Event.self)
                    await withTaskGroup(of: Void.self) { inner in
                        inner.addTask {
                            try? await client.run { event in sink.yield(LoadEvents.event(event)) }
                            sink.finish()
                        }
                        await limiter.acquire()
                        var events = stream.makeAsyncIterator()
                        let ready = await SessionStart.awaitReady(&events, gate: gate)
                        await limiter.release()
                        gate.arrive(ok: ready)
                        while await events.next() != nil {}
                    }
                    return nil
                }
            }
            _ = await gate.schedule(warmup: .zero, duration: .zero, connectTimeout: connectTimeout)
            let result = await body(gate.connectedCount, gate.connectedCount < count ? gate.firstFailure ?? "not all connected" : nil)
            await registry.disconnectAll()
            await group.waitForAll()
            return result
        }
    }
}
