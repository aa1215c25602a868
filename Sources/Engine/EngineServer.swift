import Hummingbird
import HummingbirdCore
import JSONValue
import Logging
import NIOCore
import ServiceLifecycle
import SocketIOServer
import UnixSignals

/// The engine on the network: Socket.IO at `/socket.io/` with the legacy's
/// events and emissions, the legacy's HTTP routes (`/`, `/player/1|2`,
/// static files), and the control API under `/statetee/v1/`, all on one port.
///
/// ```swift
/// let engine = try await ScorerEngine.open(configuration: configuration)
/// let server = await EngineServer(engine: engine)
/// let group = server.serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint]) { port in print("LISTENING \(port)") }
/// try await group.run()
/// ```
public struct EngineServer: Sendable {
    public let engine: ScorerEngine
    /// The Socket.IO server (its `broadcast` is the engine's broadcaster).
    public let io: SocketIOServer
    public let configuration: EngineConfiguration
    let logger: Logger

    /// Wires `engine` to a new Socket.IO server.
    public init(engine: ScorerEngine, logger: Logger = Logger(label: "statetee.engine")) async {
        let configuration = engine.configuration
        let io = SocketIOServer(
            configuration: SocketIOConfiguration(
                engine: EngineIOConfiguration(
                    path: "/socket.io/",
                    pingInterval: configuration.pingInterval,
                    pingTimeout: configuration.pingTimeout,
                    maxPayload: configuration.maxPayload
                ),
                connectTimeout: nil  // python-socketio waits for the CONNECT forever
            ),
            namespaces: [Self.namespace(engine)],
            logger: logger
        )
        await engine.setBroadcaster({ event, arguments in io.broadcast(event, arguments) }, encoded: { io.broadcast($0) })
        self.engine = engine
        self.io = io
        self.configuration = configuration
        self.logger = logger
    }

    /// The default namespace: every event goes to the engine, in order per client.
    static func namespace(_ engine: ScorerEngine) -> SocketIONamespace {
        var namespace = SocketIONamespace("/")
        namespace.onConnect { socket, _ in
            _ = await engine.connect(client(socket))
        }
        namespace.onAny { socket, event, arguments, _, ack in
            let result = await engine.receive(event, arguments: arguments, from: client(socket))
            if let ack, let ackArguments = result.ackArguments {
                ack(ackArguments)
            }
        }
        namespace.onDisconnect { socket, _ in
            await engine.disconnected(clientID: socket.id)
        }
        return namespace
    }

    static func client(_ socket: SocketIOSocket) -> EngineClient {
        EngineClient(
            id: socket.id, label: "sid:" + socket.connection.id,
            emit: { event, arguments in socket.emit(event, arguments) },
            emitEncoded: { socket.send($0) })
    }

    /// The HTTP routes: Engine.IO first, then the legacy's pages and static
    /// files (``EnginePages``) for every path outside the control API.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: EngineIOMiddleware(io.engine))
        router.add(middleware: EnginePagesMiddleware(pages: EnginePages(configuration: configuration, logger: logger)))
        addControlRoutes(to: router)
        return router
    }

    /// The Hummingbird application (HTTP/1 with WebSocket upgrades for Engine.IO).
    /// It runs no services of its own: see ``services(onListening:)``.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let port = configuration.port
        return Application(
            router: router(),
            server: .engineIO([io.engine]),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: port), serverName: "statetee-engine"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }

    /// The services in start order: the engine, the HTTP server, the
    /// Socket.IO sessions. A graceful shutdown stops them in reverse: the
    /// sessions close (their in-flight events finish), the HTTP server stops
    /// accepting, then the engine checkpoints and closes its store.
    public func services(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> [any Service] {
        [engine, application(onListening: onListening), io]
    }

    /// A service group running ``services(onListening:)``.
    public func serviceGroup(
        gracefulShutdownSignals: [UnixSignal] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services(onListening: onListening).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger
            ))
    }

    /// Runs the server, calls `body` with the bound port once it listens,
    /// then shuts everything down gracefully (the engine's store is
    /// checkpointed and closed) whether `body` returned or threw.
    public func withRunning<T: Sendable>(_ body: (_ port: Int) async throws -> T) async throws -> T {
        let (ports, portsContinuation) = AsyncStream<Int>.makeStream()
        let group = serviceGroup { port in portsContinuation.yield(port) }
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { portsContinuation.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.waitForAll()  // the reason it stopped, when it threw
                throw EngineError.serverStopped
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(port))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}
