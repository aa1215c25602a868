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
///
/// Spawned with `posix_spawn` (standard input, output and error its own, every other
/// descriptor closed); its pipes are read and its exit awaited by plain threads
/// doing blocking `read` and `waitpid`. (Foundation's `Process` and `FileHandle`'s
/// readability handlers watch them with libdispatch sources, and libdispatch's event
/// loop crashed now and then in `_dispatch_event_loop_drain` while many test processes
/// came and went: a bad pointer dereference that took the whole test run with it.)
public final class TestProcess: Sendable {
    public let executable: String
    public let arguments: [String]
    public let pid: Int32
    private let running = LockedBox(true)
    private let lines = AsyncEventLog<String>()
    private let stderrTail = LockedBox<[UInt8]>([])
    private let exits = AsyncEventLog<Int32>()
    /// The write end of the process's standard input, when it has one (see ``writeLine(_:)``).
    private let input: LockedBox<Int32?>

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `executable` with `arguments`; with `standardInput`, its standard input is a pipe
    /// the test writes with ``writeLine(_:)`` (else it reads nothing).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, standardInput: Bool = false
    ) throws {
        // Close-on-exec pipes: no other child spawned meanwhile inherits an end (which would
        // keep a pipe open past this child's exit).
        func makePipe() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard Self.pipe2(&fds, O_CLOEXEC) == 0 else {
                throw LaunchError(description: "cannot create a pipe: errno \(errno)")
            }
            return (fds[0], fds[1])
        }
        let stdout = try makePipe()
        let stderr = try makePipe()
        let stdin: (read: Int32, write: Int32)
        if standardInput {
            stdin = try makePipe()
        } else {
            stdin = (open("/dev/null", O_RDONLY | O_CLOEXEC), -1)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.write, 2)
        // Nothing else of this process reaches the child, whatever its close-on-exec flag: a
        // socket of a server under test held open by a child would outlive its close (its
        // peer would never see the end).
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw LaunchError(description: "posix_spawn_file_actions_addclosefrom_np failed")
        }
        // Swift's concurrency threads block most signals and a child inherits the mask:
        // the child starts with none blocked and every signal at its default, so it can be
        // stopped with SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var variables = ProcessInfo.processInfo.environment
        if let environment { variables.merge(environment) { $1 } }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var spawned: pid_t = 0
        let status = posix_spawn(&spawned, executable, &actions, &attributes, argv, envp)
        let child = spawned
        // The child has its copies; the parent keeps only its own ends.
        for fd in [stdin.read, stdout.write, stderr.write] { close(fd) }
        guard status == 0 else {
            for fd in [stdout.read, stderr.read, stdin.write] where fd >= 0 { close(fd) }
            throw LaunchError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.executable = executable
        self.arguments = arguments
        self.pid = child
        self.input = LockedBox(stdin.write >= 0 ? stdin.write : nil)

        let lines = self.lines
        let pending = LockedBox<[UInt8]>([])
        Self.readUntilEnd(stdout.read) { data in
            guard let data else { return lines.finish() }
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
        Self.readUntilEnd(stderr.read) { data in
            guard let data else { return }
            tail.withLock { buffer in
                buffer.append(contentsOf: data)
                if buffer.count > 65536 { buffer.removeFirst(buffer.count - 65536) }
            }
        }
        let exits = self.exits
        let running = self.running
        Thread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1, errno == EINTR {}
            // As Foundation reports it: the exit code, or the number of the signal that ended it.
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
            running.withLock { $0 = false }
            exits.append(code)
        }.start()
    }

    /// `pipe2(2)` and `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34): GNU
    /// extensions, which Glibc's module map leaves out.
    private static let pipe2 = cFunction(
        "pipe2", as: (@convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32).self)
    private static let addCloseFrom = cFunction(
        "posix_spawn_file_actions_addclosefrom_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)

    /// A function of the C library by name.
    private static func cFunction<Function>(_ name: String, as type: Function.Type) -> Function {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            preconditionFailure("no \(name) in the C library")
        }
        return unsafeBitCast(symbol, to: type)
    }

    /// Reads `fd` on a thread of its own until end of file (then `deliver(nil)`), and closes it.
    private static func readUntilEnd(_ fd: Int32, _ deliver: @escaping @Sendable ([UInt8]?) -> Void) {
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    deliver(Array(buffer[..<count]))
                } else if count == 0 || errno != EINTR {
                    break
                }
            }
            close(fd)
            deliver(nil)
        }.start()
    }

    /// All stdout lines so far.
    public var stdoutLines: [String] { lines.all }

    /// The last 64 KB of stderr.
    public var stderr: String { String(decoding: stderrTail.withLock { $0 }, as: UTF8.self) }

    public var isRunning: Bool { running.withLock { $0 } }

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
        try input.withLock { fd -> Result<Void, LaunchError> in
            guard let fd else { return .failure(LaunchError(description: "\(executable) has no standard input pipe")) }
            var bytes = Array((line + "\n").utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return .failure(LaunchError(description: "writing to \(executable): errno \(errno)"))
                }
                bytes = bytes.dropFirst(written)
            }
            return .success(())
        }.get()
    }

    /// Sends a signal (e.g. SIGSTOP / SIGCONT) to the process.
    public func send(signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL after `timeout`; returns once the process has exited.
    public func terminate(timeout: Duration = .seconds(5)) async {
        input.withLock { fd in
            if let fd { close(fd) }
            fd = nil
        }
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if (try? await exits.next("exit of \(executable)", timeout: timeout)) == nil {
            kill(pid, SIGKILL)
            _ = try? await exits.next("exit of \(executable) after SIGKILL", timeout: .seconds(10))
        }
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
