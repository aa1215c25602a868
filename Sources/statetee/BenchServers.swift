import ArgumentParser
import Foundation

/// Options every server-starting benchmark shares: where the repository, the
/// venv's python and the statetee binary are.
struct BenchServerOptions: ParsableArguments {
    @Option(help: "Repository root (fixtures/legacy-server/server.py, .venv, fixtures/rules).")
    var repo: String = FileManager.default.currentDirectoryPath

    @Option(help: "Python of the legacy fixture (default: REPO/.venv/bin/python).")
    var python: String?

    @Option(help: "statetee binary that runs `engine` and `proxy` (default: this very executable).")
    var statetee: String?

    @Flag(help: "Keep the temporary directory (data dirs, server logs) and print its path.")
    var keepTemp = false

    func servers() throws -> BenchServers {
        let root = (repo as NSString).standardizingPath
        let server = (root as NSString).appendingPathComponent("fixtures/legacy-server/server.py")
        guard FileManager.default.fileExists(atPath: server) else {
            throw ValidationError("no legacy fixture at \(server): run from the repository root or pass --repo")
        }
        let python = self.python ?? (root as NSString).appendingPathComponent(".venv/bin/python")
        let binary = statetee ?? BenchServers.ownExecutable()
        let temp = (NSTemporaryDirectory() as NSString).appendingPathComponent("statetee-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        return BenchServers(repo: root, python: python, statetee: binary, temp: temp, keepTemp: keepTemp)
    }
}

/// Starts the benchmark's servers on 127.0.0.1, each on a free port, each with
/// its own data directory under one temporary directory.
struct BenchServers: Sendable {
    let repo: String
    let python: String
    let statetee: String
    let temp: String
    let keepTemp: Bool

    /// The path of the running executable (`/proc/self/exe`), so the children are the same build.
    static func ownExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return CommandLine.arguments[0]
    }

    private func directory(_ name: String) throws -> String {
        let path = (temp as NSString).appendingPathComponent(name + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The legacy fixture (Flask-SocketIO, threading mode) via the venv's python.
    func startLegacy(name: String = "legacy") async throws -> BenchProcess {
        let dir = try directory(name)
        return try await BenchProcess.start(
            name: name, executable: python,
            arguments: [
                "fixtures/legacy-server/server.py", "--port", "0", "--host", "127.0.0.1",
                "--state-file", (dir as NSString).appendingPathComponent("game_state.json"), "--seed", "1",
            ],
            workingDirectory: repo, environment: ["PYTHONUNBUFFERED": "1"],
            logPath: (dir as NSString).appendingPathComponent("stderr.log"))
    }

    /// `statetee engine` without its per-client rate limit (the benchmark's
    /// closed loops would otherwise measure the limiter).
    func startEngine(name: String = "engine", controlToken: String = BenchServers.controlToken) async throws -> BenchProcess {
        let dir = try directory(name)
        return try await BenchProcess.start(
            name: name, executable: statetee,
            arguments: [
                "engine", "--port", "0", "--host", "127.0.0.1", "--data-dir", dir, "--rate-limit", "0",
                "--control-token", controlToken, "--log-level", "warning",
            ],
            workingDirectory: repo, logPath: (dir as NSString).appendingPathComponent("stderr.log"))
    }

    /// The control token the benchmark gives the engines it starts.
    static let controlToken = "statetee-bench-control-token"
    /// The admin token the benchmark gives the proxies it starts.
    static let adminToken = "statetee-bench-admin-token"

    /// A started proxy and what it needed.
    struct Proxy: Sendable {
        let process: BenchProcess
        /// Extra processes it needs (an external shadow engine), stopped with it.
        let helpers: [BenchProcess]
        /// `embedded`, or why an external engine is the shadow.
        let shadow: String

        var adminURL: String { "http://127.0.0.1:\(process.ports["ADMIN"] ?? 0)" }

        func stop() async {
            await process.stop()
            for helper in helpers { await helper.stop() }
        }
    }

    /// `statetee proxy --primary primaryURL --shadow embedded`. When this build
    /// cannot run an embedded shadow, an external `statetee engine` is started
    /// as the shadow instead and ``Proxy/shadow`` says so.
    func startProxy(primary: String, name: String = "proxy") async throws -> Proxy {
        do {
            let process = try await startProxyProcess(primary: primary, shadow: "embedded", name: name)
            return Proxy(process: process, helpers: [], shadow: "embedded")
        } catch let embeddedError as BenchProcess.StartError where embeddedError.description.contains("embedded") {
            let engine = try await startEngine(name: name + "-shadow-engine")
            do {
                let process = try await startProxyProcess(primary: primary, shadow: engine.url, name: name)
                return Proxy(
                    process: process, helpers: [engine],
                    shadow: "external engine process (embedded shadow unavailable in this build)")
            } catch {
                await engine.stop()
                throw error
            }
        }
    }

    private func startProxyProcess(primary: String, shadow: String, name: String) async throws -> BenchProcess {
        let dir = try directory(name)
        let rules = (repo as NSString).appendingPathComponent("fixtures/rules/scorer.yaml")
        var arguments = [
            "proxy", "--port", "0", "--host", "127.0.0.1", "--primary", primary, "--shadow", shadow,
            "--data-dir", dir, "--admin-port", "0", "--admin-token", Self.adminToken, "--log-level", "warning",
        ]
        if FileManager.default.fileExists(atPath: rules) { arguments += ["--rules", rules] }
        if shadow != "embedded" { arguments += ["--engine-token", Self.controlToken] }
        return try await BenchProcess.start(
            name: name, executable: statetee, arguments: arguments, workingDirectory: repo,
            logPath: (dir as NSString).appendingPathComponent("stderr.log"), announces: ["LISTENING", "ADMIN"])
    }

    /// Removes the temporary directory unless asked to keep it.
    func cleanUp() {
        if keepTemp {
            FileHandle.standardError.write(Data("bench: server data and logs kept in \(temp)\n".utf8))
        } else {
            try? FileManager.default.removeItem(atPath: temp)
        }
    }
}

/// Raises this process's open-file limit (children inherit it) to at least
/// `wanted`, as far as the hard limit, or past it when running as root.
/// Returns the soft limit in force afterwards.
@discardableResult
func raiseOpenFileLimit(to wanted: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    let target = rlim_t(wanted)
    if limit.rlim_cur >= target { return Int(limit.rlim_cur) }
    var raised = limit
    raised.rlim_cur = target
    if raised.rlim_max < target { raised.rlim_max = target }
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
        raised = limit
        raised.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
    }
    _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_cur)
}
