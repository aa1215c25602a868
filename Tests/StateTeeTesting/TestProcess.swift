import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process for live tests (e.g. a Python server): its stdout is read
/// line by line, its stderr is kept (last 64 KB) for failure messages, and
/// ``terminate(timeout:)`` (SIGTERM, then SIGKILL) ends it. Prefer
/// ``withTestProcess(_:_:environment:_:)``, which always ends it.
public final class TestProcess: Sendable {
    public let executable: String
    public let arguments: [String]
    public let pid: Int32
    private let process: LockedBox<Process?>
    private let lines = AsyncEventLog<String>()
    private let stderrTail = LockedBox<[UInt8]>([])
    private let exits = AsyncEventLog<Int32>()
    /// The write end of the process's standard input, when it has one (see ``writeLine(_:)``).
    private let input: LockedBox<FileHandle?>

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` with `arguments`; with `standardInput`, its standard input is a pipe
    /// the test writes with ``writeLine(_:)`` (else it reads nothing).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, standardInput: Bool = false
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        if standardInput {
            let pipe = Pipe()
            process.standardInput = pipe
            input = LockedBox(pipe.fileHandleForWriting)
        } else {
            process.standardInput = FileHandle.nullDevice
            input = LockedBox(nil)
        }

        let lines = self.lines
        let pending = LockedBox<[UInt8]>([])
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                lines.finish()
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(contentsOf: data)
                var out: [String] = []
                while let newline = buffer.firstIndex(of: 0x0A) {
                    out.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return out
            }
            for line in complete { lines.append(line) }
        }
        let tail = self.stderrTail
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            tail.withLock { buffer in
                buffer.append(contentsOf: data)
                if buffer.count > 65536 { buffer.removeFirst(buffer.count - 65536) }
            }
        }
        let exits = self.exits
        process.terminationHandler = { process in exits.append(process.terminationStatus) }
        do {
            // Swift's concurrency threads block most signals and a spawned child
            // inherits the spawning thread's mask: unblock them around the spawn
            // so the child can be stopped with SIGTERM.
            var everything = sigset_t()
            var previous = sigset_t()
            sigemptyset(&everything)
            pthread_sigmask(SIG_SETMASK, &everything, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        } catch {
            throw LaunchError(description: "cannot start \(executable): \(error)")
        }
        self.executable = executable
        self.arguments = arguments
        self.pid = process.processIdentifier
        self.process = LockedBox(process)
    }

    /// All stdout lines so far.
    public var stdoutLines: [String] { lines.all }

    /// The last 64 KB of stderr.
    public var stderr: String { String(decoding: stderrTail.withLock { $0 }, as: UTF8.self) }

    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// Waits for a stdout line starting with `prefix` and returns it.
    public func waitForLine(prefix: String, timeout: Duration = .seconds(30)) async throws -> String {
        do {
            return try await lines.next("a line starting with \(prefix) from \(executable)", timeout: timeout) {
                $0.hasPrefix(prefix)
            }
        } catch {
            throw LaunchError(description: "\(error); stderr:\n\(stderr)")
        }
    }

    /// Waits for `LISTENING <port>` on stdout and returns the port.
    public func listeningPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let line = try await waitForLine(prefix: "LISTENING ", timeout: timeout)
        guard let port = Int(line.dropFirst("LISTENING ".count).trimmingCharacters(in: .whitespaces)) else {
            throw LaunchError(description: "bad LISTENING line: \(line)")
        }
        return port
    }

    /// Waits for the process to exit by itself and returns its status.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await exits.next("exit of \(executable)", timeout: timeout)
    }

    /// Writes `line` and a newline to the process's standard input (started with `standardInput`).
    public func writeLine(_ line: String) throws {
        try input.withLock { handle -> Result<Void, any Error> in
            guard let handle else { return .failure(LaunchError(description: "\(executable) has no standard input pipe")) }
            return Result { try handle.write(contentsOf: Array((line + "\n").utf8)) }
        }.get()
    }

    /// Sends a signal (e.g. SIGSTOP / SIGCONT) to the process.
    public func send(signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL after `timeout`; returns once the process has exited.
    public func terminate(timeout: Duration = .seconds(5)) async {
        guard let process = self.process.withLock({ $0 }) else { return }
        input.withLock { handle in
            try? handle?.close()
            handle = nil
        }
        if process.isRunning {
            kill(pid, SIGCONT)
            process.terminate()
            if (try? await exits.next("exit of \(executable)", timeout: timeout)) == nil {
                kill(pid, SIGKILL)
                _ = try? await exits.next("exit of \(executable) after SIGKILL", timeout: .seconds(10))
            }
        }
        process.waitUntilExit()
    }
}

/// Runs `body` with a started process and always terminates it afterwards.
public func withTestProcess<Result>(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    _ body: (TestProcess) async throws -> Result
) async throws -> Result {
    let process = try TestProcess(executable, arguments, environment: environment)
    do {
        let result = try await body(process)
        await process.terminate()
        return result
    } catch {
        await process.terminate()
        throw error
    }
}

/// A `Mutex` in a class, so closures can share it.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
