import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

extension SocketIOServer {
    /// A standalone Hummingbird application serving this Socket.IO server (and optionally more
    /// Engine.IO endpoints on the same port), running them as services.
    ///
    /// - Parameters:
    ///   - configuration: address (`.hostname("127.0.0.1", port: 0)` for a free port)
    ///   - additionalEndpoints: other Engine.IO endpoints to serve on the same port
    ///   - onServerRunning: called with the bound channel (`channel.localAddress?.port`)
    public func application(
        configuration: ApplicationConfiguration = .init(),
        additionalEndpoints: [EngineIOServer] = [],
        logger: Logger = Logger(label: "statetee.socketio"),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        EngineIOServer.application(
            serving: [engine] + additionalEndpoints,
            configuration: configuration,
            logger: logger,
            onServerRunning: onServerRunning
        )
    }
}
