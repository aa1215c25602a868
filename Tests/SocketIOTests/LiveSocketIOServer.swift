import Hummingbird
import JSONValue
import Logging
import NIOCore
import SocketIOServer
import StateTeeTesting
import Synchronization

/// What the test namespace saw, for assertions.
enum ServerEvent: Sendable, Equatable {
    case connected(namespace: String, socket: String)
    case disconnected(namespace: String, socket: String, reason: DisconnectReason)
    case event(String, [JSONValue])
}

/// The namespace the interop clients talk to (see Tests/interop/py_client.py).
///
/// - Parameter encoded: send `welcome`, `echo-back` and `binary-back` as packets encoded once
///   (``SocketIOEncodedPacket``) instead of per-socket emits.
func interopNamespace(_ name: String = "/", log: AsyncEventLog<ServerEvent>, encoded: Bool = false) -> SocketIONamespace {
    var namespace = SocketIONamespace(name)
    @Sendable func emit(_ socket: SocketIOSocket, _ event: String, _ args: [JSONValue], attachments: [[UInt8]] = []) {
        if encoded {
            socket.send(.event(event, args, namespace: socket.namespace, attachments: attachments))
        } else {
            socket.emit(event, args, attachments: attachments)
        }
    }
    namespace.onConnect { socket, auth in
        if case .object(let object)? = auth, object["refuse"] != nil {
            throw SocketIOConnectionRefused(message: "Not authorized", data: ["why": "refuse"])
        }
        emit(socket, "welcome", [["sid": .string(socket.id), "auth": auth ?? .null]])
        log.append(.connected(namespace: socket.namespace, socket: socket.id))
    }
    namespace.onDisconnect { socket, reason in
        log.append(.disconnected(namespace: socket.namespace, socket: socket.id, reason: reason))
    }
    namespace.on("echo") { socket, args, attachments, _ in
        log.append(.event("echo", args))
        emit(socket, "echo-back", args, attachments: attachments)
    }
    namespace.on("ack-me") { _, args, attachments, ack in
        ack?(args, attachments: attachments)
    }
    namespace.on("ask-client") { socket, args, _, _ in
        do {
            let answer = try await socket.emitWithAck("question", args, timeout: .seconds(10))
            socket.emit("client-answered", answer.args, attachments: answer.attachments)
        } catch {
            socket.emit("client-answered", [.string("error: \(error)")])
        }
    }
    namespace.on("send-binary") { socket, _, _, _ in
        emit(
            socket, "binary-back", [SocketIOPacket.placeholder(0), ["x": SocketIOPacket.placeholder(1)]],
            attachments: [[1, 2, 3], [0xAA]])
    }
    namespace.on("disconnect-me") { socket, _, _, _ in
        socket.disconnect()
    }
    return namespace
}

/// Runs a Socket.IO server on 127.0.0.1, port 0, for the body; shuts it down afterwards.
func withLiveSocketIOServer<Result: Sendable>(
    configuration: SocketIOConfiguration = .init(),
    namespaces: [SocketIONamespace],
    packetObserver: SocketIOPacketObserver? = nil,
    extraRoutes: (@Sendable (Router<BasicRequestContext>) -> Void)? = nil,
    beforeEngine: (@Sendable (Router<BasicRequestContext>) -> Void)? = nil,
    _ body: @Sendable (SocketIOServer, Int) async throws -> Result
) async throws -> Result {
    var logger = Logger(label: "statetee.tests.socketio")
    logger.logLevel = .critical
    let server = SocketIOServer(configuration: configuration, namespaces: namespaces, logger: logger, packetObserver: packetObserver)
    let ports = AsyncEventLog<Int>()
    let onRunning: @Sendable (any Channel) async -> Void = { channel in
        ports.append(channel.localAddress?.port ?? -1)
    }
    let address = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        if extraRoutes != nil || beforeEngine != nil {
            // Mounted next to other routes, the way the engine and the proxy use it.
            let router = Router()
            beforeEngine?(router)
            router.add(middleware: EngineIOMiddleware(server.engine))
            extraRoutes?(router)
            let app = Application(
                router: router, server: .engineIO([server.engine]), configuration: address,
                services: [server], onServerRunning: onRunning, logger: logger)
            group.addTask { try await app.run() }
        } else {
            let app = server.application(configuration: address, logger: logger, onServerRunning: onRunning)
            group.addTask { try await app.run() }
        }
        do {
            let port = try await ports.next("the server to listen", timeout: .seconds(30))
            let result = try await body(server, port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Runs `Tests/interop/py_client.py SCENARIO URL [extra]` with the project's Python.
func withPythonClient<Result>(
    _ scenario: String,
    port: Int,
    _ extra: [String] = [],
    _ body: (TestProcess) async throws -> Result
) async throws -> Result {
    let root = TestEnvironment.repositoryRoot(filePath: #filePath)
    return try await withTestProcess(
        TestEnvironment.python(repositoryRoot: root),
        [root + "/Tests/interop/py_client.py", scenario, "http://127.0.0.1:\(port)"] + extra,
        body
    )
}

/// Runs a python client scenario to its end and returns its output lines (throws on failure).
func runPythonClient(_ scenario: String, port: Int, _ extra: [String] = [], timeout: Duration = .seconds(60)) async throws -> [String] {
    try await withPythonClient(scenario, port: port, extra) { process in
        let status = try await process.waitForExit(timeout: timeout)
        if status != 0 {
            throw PythonClientFailed(scenario: scenario, status: status, stdout: process.stdoutLines, stderr: process.stderr)
        }
        return process.stdoutLines
    }
}

struct PythonClientFailed: Error, CustomStringConvertible {
    let scenario: String
    let status: Int32
    let stdout: [String]
    let stderr: String
    var description: String {
        "py_client.py \(scenario) exited \(status)\nstdout:\n\(stdout.joined(separator: "\n"))\nstderr:\n\(stderr)"
    }
}

/// Parses the JSON lines a python client printed.
func jsonLines(_ lines: [String]) -> [JSONValue] {
    lines.compactMap { try? JSONParser.parse($0) }
}
