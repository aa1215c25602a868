import AsyncHTTPClient
import Compare
import Engine
import Foundation
import NIOHTTP1
import JSONValue
import JSONDiff
import Logging
import NIOCore
import ServiceLifecycle
import SocketIOClient
import StateTeeTesting
import Synchronization
import Testing
@testable import Tee

/// Live-test helpers: legacy fixtures, the proxy in-process, python clients.
enum Harness {
    static let root = TestEnvironment.repositoryRoot()
    static let python = TestEnvironment.python(repositoryRoot: root)
    static let token = "test-admin-token"

    static var logger: Logger {
        var logger = Logger(label: "tee-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEE_TEST_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .critical
        return logger
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tee-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A legacy fixture on a free port (`--ordered`: each client's events in order, so
    /// message streams are deterministic), stopped after `body`.
    /// - Parameter lag: when given, `increment_cp` is applied that many seconds after it
    ///   arrives while reads are answered at once (`Tests/interop/tee_lagging_server.py`).
    static func withLegacy<R>(
        ordered: Bool = true, seed: Int = 7, lag: Double? = nil, _ body: (TestProcess, String) async throws -> R
    ) async throws -> R {
        let directory = temporaryDirectory()
        let script = lag == nil ? root + "/fixtures/legacy-server/server.py" : root + "/Tests/interop/tee_lagging_server.py"
        var arguments = [
            script, "--host", "127.0.0.1", "--port", "0",
            "--state-file", directory + "/state.json", "--seed", "\(seed)",
        ]
        if ordered { arguments.append("--ordered") }
        if let lag { arguments += ["--lag", "\(lag)"] }
        return try await withTestProcess(python, arguments) { process in
            let port = try await process.listeningPort()
            return try await body(process, "http://127.0.0.1:\(port)")
        }
    }

    /// The garbage WebSocket server.
    static func withGarbageServer<R>(_ body: (TestProcess, String) async throws -> R) async throws -> R {
        try await withTestProcess(python, [root + "/Tests/interop/tee_garbage_server.py", "--port", "0"]) { process in
            let port = try await process.listeningPort()
            return try await body(process, "http://127.0.0.1:\(port)")
        }
    }

    struct Proxy: Sendable {
        let proxy: TeeProxy
        let port: Int
        let adminPort: Int
        /// The comparator, when the proxy runs with one.
        var comparator: StateComparator<ContinuousClock>?
        /// The embedded engine, when there is one.
        var engine: ScorerEngine?
        var url: String { "http://127.0.0.1:\(port)" }
        var adminURL: String { "http://127.0.0.1:\(adminPort)" }
    }

    static func configuration(legacy: String, engine: String) -> TeeConfiguration {
        configuration(legacy: legacy, engine: .url(engine))
    }

    static func configuration(legacy: String, engine: UpstreamEndpoint) -> TeeConfiguration {
        var configuration = TeeConfiguration(
            host: "127.0.0.1", port: 0, legacy: .url(legacy), engine: engine,
            // The whole suite runs at once on 2 cores: the catch-up and drain get 10 s.
            drainTimeout: .seconds(10), settleInterval: .milliseconds(50),
            // Probes every 200 ms, answered within the default 2 s: CI's 2-core machine stalls
            // for over a second at times, and two misses in a row refuse a switchover.
            probeInterval: .milliseconds(200), probeTimeout: .seconds(2),
            legReconnect: .init(initialDelay: .milliseconds(100), maxDelay: .milliseconds(500), retryInitialConnect: true),
            // The default: a threaded legacy starved on a loaded machine may take seconds to
            // accept a leg (a client that leaves meanwhile keeps its copies as long).
            legConnectTimeout: .seconds(5))
        configuration.rules = (try? Compare.RulesFile.load(path: root + "/fixtures/rules/scorer.yaml")) ?? .none
        // The whole suite runs at once on 2 cores: the embedded engine (one event at a time)
        // may trail the four senders by ~100 events; hold the clients from that backlog on.
        configuration.holdBacklog = 128
        return configuration
    }

    /// The embedded engine's configuration for tests: its SQLite in `directory`, the legacy's
    /// pages, no rate limit (the tests send faster than 50 events a second per client).
    static func engineConfiguration(directory: String, dice: EngineDice = .system) -> EngineConfiguration {
        EngineConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: directory,
            staticDirectory: root + "/fixtures/legacy-server/static", rateLimit: 0, dice: dice)
    }

    /// Runs the proxy (core, client port, admin port) in a service group around `body`; with
    /// `engine: .embedded`, the engine too (its data in `engineDirectory`, a fresh one by default;
    /// its dice `engineDice`, e.g. `.seeded(n)` to roll as a legacy started with `--seed n`).
    static func withProxy<R: Sendable>(
        _ configuration: TeeConfiguration,
        roleStore: any RoleStore = MemoryRoleStore(),
        engineDirectory: String? = nil,
        engineDice: EngineDice = .system,
        comparator withComparator: Bool = false,
        _ body: @Sendable (Proxy) async throws -> R
    ) async throws -> R {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var embedded: EmbeddedShadow?
        var embeddedEngine: ScorerEngine?
        if configuration.engine == .embedded || configuration.legacy == .embedded {
            let (shadow, engine) = try await EmbeddedShadow.open(
                configuration: engineConfiguration(directory: engineDirectory ?? temporaryDirectory(), dice: engineDice),
                logger: logger)
            embedded = shadow
            embeddedEngine = engine
            services.append(.init(service: engine))
        }
        let observer = ComparatorObserver()
        let proxy = try await TeeProxy(
            configuration: configuration, roleStore: roleStore, observer: withComparator ? observer : NullObserver(),
            engine: embedded, logger: logger)
        var comparator: StateComparator<ContinuousClock>?
        if withComparator {
            let service = proxy.makeComparator(
                observer: observer, rules: configuration.rules, store: MemoryComparisonStore(), logger: logger)
            comparator = service.comparator
            services.append(.init(service: service))
        }
        let ports = AsyncEventLog<(String, Int)>()
        let client = proxy.clientApplication { ports.append(("client", $0)) }
        let admin = AdminAPI.application(proxy: proxy, token: token, port: 0, logger: logger) { ports.append(("admin", $0)) }
        services += [.init(service: proxy), .init(service: client), .init(service: admin)]
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        return try await withThrowingTaskGroup(of: R?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            do {
                let clientPort = try await ports.next("client port") { $0.0 == "client" }.1
                let adminPort: Int
                if let known = ports.all.first(where: { $0.0 == "admin" })?.1 {
                    adminPort = known
                } else {
                    adminPort = try await ports.next("admin port") { $0.0 == "admin" }.1
                }
                let result = try await body(
                    Proxy(proxy: proxy, port: clientPort, adminPort: adminPort, comparator: comparator,
                          engine: embeddedEngine))
                await group.triggerGracefulShutdown()
                while try await tasks.next() != nil {}
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    // MARK: - Python clients

    struct ClientRun: Sendable {
        var lines: [String]
        var exitStatus: Int32
        var stderr = ""

        /// Received events as (name, args).
        var events: [(name: String, args: JSONValue)] {
            lines.compactMap { line in
                guard line.hasPrefix("EVENT "), let json = try? JSONValue(parsing: String(line.dropFirst(6))),
                      let name = json["name"]?.stringValue
                else { return nil }
                return (name, json["args"] ?? .null)
            }
        }

        var acks: [JSONValue] {
            lines.compactMap { line in
                guard line.hasPrefix("ACK ") else { return nil }
                return try? JSONValue(parsing: String(line.dropFirst(4)))
            }
        }

        var done: JSONValue? {
            lines.last { $0.hasPrefix("DONE ") }.flatMap { try? JSONValue(parsing: String($0.dropFirst(5))) }
        }

        var disconnects: Int { done?["disconnects"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? -1 }
        var failed: Bool { exitStatus != 0 || lines.contains { $0.hasPrefix("FAILED") } }
    }

    /// Starts a scripted client; returns its process (read `stdoutLines`, `waitForExit`).
    /// `standardInput`: the script may wait for a line from the test (`wait_stdin`).
    /// Releases a client that waits on standard input: it saw no disconnect and exits cleanly.
    static func release(_ client: TestProcess, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        #expect(!client.stdoutLines.contains { $0.hasPrefix("DISCONNECTED") }, sourceLocation: sourceLocation)
        try client.writeLine("done")
        #expect(try await client.waitForExit(timeout: .seconds(15)) == 0, sourceLocation: sourceLocation)
    }

    static func startClient(
        url: String, script: JSONValue, transport: String = "websocket", standardInput: Bool = false
    ) throws -> TestProcess {
        try TestProcess(
            python,
            [root + "/Tests/interop/tee_client.py", "--url", url, "--transport", transport, "--script", script.serialized()],
            standardInput: standardInput)
    }

    /// Runs a scripted client to its end.
    static func runClient(url: String, script: JSONValue, transport: String = "websocket", timeout: Duration = .seconds(30))
        async throws -> ClientRun
    {
        let process = try startClient(url: url, script: script, transport: transport)
        do {
            let status = try await process.waitForExit(timeout: timeout)
            // stdout may still be draining after the exit.
            _ = try? await process.waitForLine(prefix: "DONE", timeout: .seconds(2))
            return ClientRun(lines: process.stdoutLines, exitStatus: status, stderr: process.stderr)
        } catch {
            await process.terminate()
            throw ClientFailure(description: "\(error); its last lines: \(process.stdoutLines.suffix(6)); stderr: \(process.stderr.suffix(2000))")
        }
    }

    struct ClientFailure: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: - Admin API

    static func admin(
        _ proxy: Proxy, _ method: HTTPMethod, _ path: String, token: String? = Harness.token, body: JSONValue? = nil
    ) async throws -> (status: Int, json: JSONValue?) {
        var request = HTTPClientRequest(url: proxy.adminURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body.serializedBytes())) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try? JSONParser.parse(bytes.readableBytesView))
    }

    /// Polls `/status` until `predicate` holds (the proxy reports asynchronously).
    static func waitForStatus(
        _ proxy: Proxy, _ what: String, timeout: Duration = .seconds(10), _ predicate: @escaping @Sendable (JSONValue) -> Bool
    ) async throws -> JSONValue {
        try await poll(what, timeout: timeout) {
            let status = await proxy.proxy.status()
            // (Not `? status : nil`: a nil literal would become JSONValue.null, not "not yet".)
            guard predicate(status) else { return nil }
            return status
        }
    }

    /// Reads the primary's and the shadow's state until they agree under `rules` (the shadow
    /// trails the primary by the mirror's latency) or 5 s passed; returns the last comparison.
    static func shadowComparison(_ proxy: Proxy, rules: ComparisonRules) async throws
        -> (comparison: (isClean: Bool, unexpected: [String]), primary: JSONValue, shadow: JSONValue)
    {
        let evaluator = RulesEvaluator(rules)
        let (primary, shadow) = try await pollUntil {
            (try await proxy.proxy.monitor(proxy.proxy.primary).readState(),
             try await proxy.proxy.monitor(proxy.proxy.primary.other).readState())
        } done: { evaluator.compare(primary: $0.0, shadow: $0.1).isClean }
        let comparison = evaluator.compare(primary: primary, shadow: shadow)
        return ((comparison.isClean, comparison.unexpected.map { "\($0)" }), primary, shadow)
    }

    /// A Pi + phone game set-up that ends in `game_play` (no dice involved).
    static let startGame: [JSONValue] = [
        ["call": "start_new_game"],
        ["call": "set_player_name", "args": [["player_id": 1, "name": "Ada"]]],
        ["call": "set_player_name", "args": [["player_id": 2, "name": "Bob"]]],
        ["call": "start_first_turn_phase"],
        ["call": "first_turn_choice", "args": [["chooser_id": 1, "chose_self": true]]],
        ["call": "start_game"],
    ]
}

extension JSONValue {
    var intValue: Int? { if case .int(let n) = self { n } else { nil } }
}
