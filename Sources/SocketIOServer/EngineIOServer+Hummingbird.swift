import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Router middleware answering the HTTP requests of Engine.IO endpoints and passing every
/// other request on. Add it first to a `Router` so that it sees requests no route matches:
///
/// ```swift
/// let router = Router()
/// router.add(middleware: EngineIOMiddleware(io.engine))
/// router.get("/") { _, _ in "hello" }
/// ```
public struct EngineIOMiddleware<Context: RequestContext>: RouterMiddleware {
    let servers: [EngineIOServer]

    public init(_ servers: EngineIOServer...) {
        self.servers = servers
    }

    public init(_ servers: [EngineIOServer]) {
        self.servers = servers
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        for server in servers where server.matches(path: request.uri.path) {
            return await server.respond(to: request)
        }
        return try await next(request, context)
    }
}

extension EngineIOServer {
    /// The HTTP/1 + WebSocket channel configuration these endpoints need: WebSocket frames up to
    /// the largest `maxPayload`, no WebSocket-level auto ping (Engine.IO has its own heartbeat).
    public static func channelConfiguration(for servers: [EngineIOServer]) -> HTTP1WebSocketUpgradeChannel.Configuration {
        let maxPayload = servers.map(\.configuration.maxPayload).max() ?? 1_000_000
        return .init(
            http1: .init(),
            ws: .init(maxFrameSize: max(maxPayload, 1 << 14), autoPing: .disabled, closeTimeout: .seconds(5))
        )
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with WebSocket upgrades for Engine.IO endpoints.
    ///
    /// - Parameters:
    ///   - servers: the endpoints (matched by path)
    ///   - otherUpgrade: decides upgrades for every other path (default: refuse)
    public static func engineIO(
        _ servers: [EngineIOServer],
        otherUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        > = { _, _, _ in .dontUpgrade }
    ) -> HTTPServerBuilder {
        .http1WebSocketUpgrade(configuration: EngineIOServer.channelConfiguration(for: servers)) { head, channel, logger in
            for server in servers {
                if let result: ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> =
                    server.webSocketUpgrade(for: head, channel: channel)
                {
                    return result
                }
            }
            return try await otherUpgrade(head, channel, logger)
        }
    }
}

extension EngineIOServer {
    /// A standalone Hummingbird application serving only these endpoints (404 elsewhere) and
    /// running them as services.
    ///
    /// - Parameters:
    ///   - servers: the endpoints
    ///   - configuration: address and server name (`.hostname("127.0.0.1", port: 0)` for a free port)
    ///   - onServerRunning: called with the bound channel (read `channel.localAddress?.port`)
    public static func application(
        serving servers: [EngineIOServer],
        configuration: ApplicationConfiguration = .init(),
        logger: Logger = Logger(label: "statetee.engineio"),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: EngineIOMiddleware(servers))
        return Application(
            router: router,
            server: .engineIO(servers),
            configuration: configuration,
            services: servers,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
