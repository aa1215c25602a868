import Foundation
import Synchronization

/// A server the benchmark started as a child process (legacy fixture, engine,
/// proxy): the ports it announced on stdout (`LISTENING <port>`, `ADMIN <port>`),
/// its stderr in a log file, and a stop that always ends it.
struct BenchProcess: Sendable {
    /// What the benchmark calls it in tables and errors.
    let name: String
    let process: Process
    /// Announced ports by keyword (`LISTENING`, `ADMIN`).
    let ports: [String: Int]
    /// Its stderr.
    let logPath: String
    private let exited: ExitSignal

    var pid: Int32 { process.processIdentifier }
    var port: Int { ports["LISTENING"] ?? 0 }
    var url: String { "http://127.0.0.1:\(port)" }

    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable arguments` and waits (up to `timeout`) until it has
    /// printed a line `KEY <port>` for every key in `announces`. Throws, with
    /// the tail of its stderr, when it exits or times out first (and then
    /// leaves no process behind).
    static func start(
        name: String, executable: String, arguments: [String], workingDirectory: String,
        environment: [String: String] = [:], logPath: String,
        announces: [String] = ["LISTENING"], timeout: Duration = .seconds(60)
    ) async throws -> BenchProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw StartError(description: "\(name): cannot write \(logPath)")
        }
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let stdout = Pipe()
        process.standardOutput = stdout

        let (lines, lineSink) = AsyncStream.makeStream(of: String.self)
        let splitter = LineSplitter()
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lineSink.finish()
                return
            }
            for line in splitter.feed(data) { lineSink.yield(line) }
        }
        let exited = ExitSignal()
        process.terminationHandler = { process in
            exited.fire(process.terminationStatus)
            lineSink.finish()
        }
        do {
            try process.run()
        } catch {
            throw StartError(description: "\(name): cannot start \(executable): \(error)")
        }
        BenchProcessRegistry.shared.add(process.processIdentifier)
        try? log.close()
        var started = BenchProcess(name: name, process: process, ports: [:], logPath: logPath, exited: exited)

        let found: [String: Int]? = await withTaskGroup(of: [String: Int]?.self) { group in
            group.addTask {
                var found: [String: Int] = [:]
                for await line in lines {
                    let parts = line.split(separator: " ")
                    if parts.count == 2, announces.contains(String(parts[0])), let port = Int(parts[1]) {
                        found[String(parts[0])] = port
                        if found.count == announces.count { return found }
                    }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let found else {
            // Its stdout closed: it is most likely exiting; let the exit status arrive.
            _ = await exited.wait(upTo: .seconds(2))
            let status = exited.status.map { "exited with status \($0)" } ?? "did not announce \(announces) within \(timeout)"
            await started.stop()
            throw StartError(description: "\(name) \(status): \(Self.tail(of: logPath))")
        }
        started = BenchProcess(name: name, process: process, ports: found, logPath: logPath, exited: exited)
        return started
    }

    /// Resident memory (VmRSS) in bytes, from `/proc/<pid>/status`.
    func residentBytes() -> Int? {
        Self.residentBytes(pid: pid)
    }

    static func residentBytes(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let number = line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            return number.map { $0 * 1024 }
        }
        return nil
    }

    /// Open file descriptors (entries of `/proc/<pid>/fd`).
    func openFileCount() -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }

    var isRunning: Bool { exited.status == nil }

    /// SIGTERM, up to `grace` for it to exit, then SIGKILL. Safe to call twice.
    func stop(grace: Duration = .seconds(5)) async {
        defer { BenchProcessRegistry.shared.remove(pid) }
        guard exited.status == nil else { return }
        kill(pid, SIGTERM)
        if await exited.wait(upTo: grace) { return }
        kill(pid, SIGKILL)
        _ = await exited.wait(upTo: .seconds(5))
    }

    /// The last lines of a log file, for error messages.
    static func tail(of path: String, lines: Int = 8) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        let last = text.split(separator: "\n").suffix(lines).joined(separator: " | ")
        return last.isEmpty ? "(empty log)" : String(last.prefix(1200))
    }
}

/// Splits a byte stream into lines (shared with the pipe's readability handler).
private final class LineSplitter: Sendable {
    private let buffer = Mutex([UInt8]())

    func feed(_ data: Data) -> [String] {
        buffer.withLock { buffer in
            buffer.append(contentsOf: data)
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespaces))
                buffer.removeSubrange(...newline)
            }
            return lines
        }
    }
}

/// Fires once with the exit status; waiters are resumed then (or when their wait ends).
private final class ExitSignal: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// Waits that ended (timed out) before their waiter registered.
        var abandoned: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    var status: Int32? { state.withLock { $0.status } }

    func fire(_ status: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.status = status
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// True when the process exited within `limit`.
    func wait(upTo limit: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let immediate = self.state.withLock { state -> Bool? in
                        if state.status != nil { return true }
                        if state.abandoned.remove(id) != nil { return false }
                        state.waiters[id] = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            abandon(id)
            return first
        }
    }

    private func abandon(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.status == nil { state.abandoned.insert(id) }
            return nil
        }
        waiter?.resume(returning: false)
    }
}

/// Children still running, so that SIGINT/SIGTERM to the benchmark ends them too.
final class BenchProcessRegistry: Sendable {
    static let shared = BenchProcessRegistry()
    private let pids = Mutex(Set<Int32>())

    func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }

    /// Installs SIGINT/SIGTERM handlers that end every registered child, then exit.
    func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                for pid in self.pids.withLock({ $0 }) { kill(pid, SIGTERM) }
                exit(130)
            }
            source.resume()
            // Lives as long as the process.
            _ = Unmanaged.passRetained(source as AnyObject)
        }
    }
}
