import HTTPTypes
import Logging
import ServiceLifecycle
import SocketIOProtocol
import Synchronization

/// Called once per Engine.IO session, for its whole life; return to close the session.
public typealias EngineIOConnectionHandler = @Sendable (EngineIOConnection) async -> Void

/// An Engine.IO v4 endpoint (HTTP long-polling + WebSocket) at one path.
///
/// Mount its HTTP side with ``EngineIOMiddleware`` (or call ``respond(to:)``) and its
/// WebSocket side with ``webSocketUpgrade(for:)`` / `HTTPServerBuilder.engineIO(_:)`, and run
/// it as a `Service` next to the Hummingbird application: sessions (their handlers'
/// ``EngineIOSessionHandler/run()``) run as child tasks of ``run()``, their heartbeats on
/// timers; their messages reach the handlers from the transports' tasks.
public final class EngineIOServer: Service, Sendable {
    public let configuration: EngineIOConfiguration
    let logger: Logger
    private let accept: @Sendable (EngineIOConnection) -> any EngineIOSessionHandler
    private let sessions: Mutex<[String: EngineIOSession]> = Mutex([:])
    private let nextSocketID = Atomic<Int>(0)
    private let newSessions: AsyncStream<(EngineIOSession, any EngineIOSessionHandler)>
    private let newSessionsContinuation: AsyncStream<(EngineIOSession, any EngineIOSessionHandler)>.Continuation

    /// - Parameters:
    ///   - configuration: path, heartbeat, payload limit, CORS
    ///   - logger: lifecycle at debug, malformed input at error with `statetee.sid` metadata
    ///   - accept: called as each session opens (before any message can arrive), returns
    ///     the handler that gets its messages and runs its task
    public init(
        configuration: EngineIOConfiguration = .init(),
        logger: Logger = Logger(label: "statetee.engineio"),
        accept: @escaping @Sendable (EngineIOConnection) -> any EngineIOSessionHandler
    ) {
        self.configuration = configuration
        self.logger = logger
        self.accept = accept
        (self.newSessions, self.newSessionsContinuation) = AsyncStream.makeStream()
    }

    /// - Parameters:
    ///   - configuration: path, heartbeat, payload limit, CORS
    ///   - logger: lifecycle at debug, malformed input at error with `statetee.sid` metadata
    ///   - handler: runs once per session until it returns or the session's `messages` end
    public convenience init(
        configuration: EngineIOConfiguration = .init(),
        logger: Logger = Logger(label: "statetee.engineio"),
        handler: @escaping EngineIOConnectionHandler
    ) {
        self.init(configuration: configuration, logger: logger) { connection in
            StreamSessionHandler(session: connection.session, body: handler)
        }
    }

    /// Runs the sessions until graceful shutdown (then closes them all and waits for them).
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await (session, handler) in newSessions {
                    group.addTask { await self.run(session, handler: handler) }
                }
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stop accepting sessions and close the open ones.
    public func shutdown() {
        newSessionsContinuation.finish()
        for session in sessions.withLock({ Array($0.values) }) {
            session.shutdown()
        }
    }

    /// (Its async frame stays in the session task's allocator for the session's life: the
    /// logging is done in synchronous helpers.)
    private func run(_ session: EngineIOSession, handler: any EngineIOSessionHandler) async {
        logOpened(session)
        await handler.run()
        session.close(reason: .serverDisconnect)
        // The session may still drain (its writer sends the last packets); its heartbeat
        // timer bounds that.
        await session.waitUntilTerminated()
        logEnded(session)
    }

    @inline(never)
    private func logOpened(_ session: EngineIOSession) {
        logger.debug("Engine.IO session opened", metadata: ["statetee.sid": .string(session.id)])
    }

    @inline(never)
    private func logEnded(_ session: EngineIOSession) {
        logger.debug(
            "Engine.IO session ended",
            metadata: [
                "statetee.sid": .string(session.id),
                "statetee.reason": .string(session.disconnectReason?.description ?? "unknown"),
            ])
    }

    /// Number of sessions currently known (open or draining).
    public var sessionCount: Int { sessions.withLock { $0.count } }

    /// Whether a request path belongs to this endpoint.
    public func matches(path: some StringProtocol) -> Bool {
        configuration.matches(path: Substring(path))
    }

    // MARK: sessions

    func session(id: String) -> EngineIOSession? {
        sessions.withLock { $0[id] }
    }

    func makeSocketID() -> Int {
        nextSocketID.add(1, ordering: .relaxed).newValue
    }

    /// Create, register and start a session; nil once the server is shutting down.
    func openSession(request: HTTPRequest, transport: EngineIOSession.Machine.Transport) -> EngineIOSession? {
        let id = Self.makeSessionID()
        let session = EngineIOSession(
            id: id,
            request: request,
            transport: transport,
            configuration: configuration,
            onTerminated: { [weak self] id in
                _ = self?.sessions.withLock { $0.removeValue(forKey: id) }
            }
        )
        let handler = accept(EngineIOConnection(session: session))
        session.attach(handler)
        sessions.withLock { $0[id] = session }
        if case .terminated = newSessionsContinuation.yield((session, handler)) {
            sessions.withLock { _ = $0.removeValue(forKey: id) }
            session.close(reason: .serverDisconnect)  // the handler gets its end, the session lets go of it
            return nil
        }
        return session
    }

    func handshake(for session: EngineIOSession, upgrades: [String]) -> EngineIOPacket {
        .open(
            EngineIOHandshake(
                sid: session.id,
                upgrades: upgrades,
                pingInterval: configuration.pingInterval.engineIOMilliseconds,
                pingTimeout: configuration.pingTimeout.engineIOMilliseconds,
                maxPayload: configuration.maxPayload
            ))
    }

    /// 20 URL-safe characters from 15 random bytes, like engine.io's ids.
    static func makeSessionID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(20)
        for _ in 0..<20 { out.append(alphabet[Int(generator.next() % 64)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
