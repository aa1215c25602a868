import Hummingbird
import JSONValue
import Logging
import SocketIOProtocol
import Synchronization

/// The engine inside another process (the tee proxy's `--shadow embedded`):
/// Socket.IO sessions without sockets or Engine.IO framing, the state read
/// and loaded directly, and the legacy's pages answered in-process.
///
/// A session speaks Socket.IO packets of namespace `/`: ``openSession(auth:deliver:)``
/// delivers the CONNECT answer, then whatever the engine sends that client
/// (its connect-time state, replies, acks, `error` events, every broadcast),
/// in order. Broadcasts go to every open session, so the engine's broadcaster
/// is this hub (do not also serve it with an ``EngineServer``).
///
/// The shape matches the proxy's `InProcessEngine` protocol; the executable
/// adapts one to the other. Run ``engine`` as a service of the embedding
/// process's service group (display refresh; checkpoint and close on shutdown).
public struct EmbeddedEngine: Sendable {
    public let engine: ScorerEngine
    let hub: EmbeddedSessionHub
    let pages: EnginePages

    /// Makes `engine`'s broadcasts reach the embedded sessions.
    public init(engine: ScorerEngine, logger: Logger = Logger(label: "statetee.engine")) async {
        let hub = EmbeddedSessionHub()
        await engine.setBroadcaster { event, arguments in hub.broadcast(event, arguments) }
        self.engine = engine
        self.hub = hub
        self.pages = EnginePages(configuration: engine.configuration, logger: logger)
    }

    /// Opens one client's session (namespace `/`; `auth` is accepted and
    /// ignored, as the legacy ignores it). `deliver` gets the CONNECT packet
    /// first, then everything the engine sends this client, in order.
    public func openSession(auth: JSONValue?, deliver: @escaping @Sendable (SocketIOPacket) -> Void) async
        -> EmbeddedEngineSession
    {
        let id = Self.makeSessionID()
        // Registered before the connect handler runs (python-socketio does the
        // same), so no broadcast falls between the connect-time state and the next.
        deliver(.connect(namespace: "/", data: ["sid": .string(id)]))
        hub.add(id, deliver)
        let session = EmbeddedEngineSession(id: id, engine: engine, hub: hub, deliver: deliver)
        _ = await engine.connect(session.client)
        return session
    }

    /// The state as a client would be served it now.
    public func currentState() async -> JSONValue {
        await engine.state(view: .served).state
    }

    /// Replaces the engine's state (a switchover's handoff), journaled with `reason`.
    public func loadState(_ state: JSONValue, reason: String) async throws(EngineError) {
        try await engine.loadState(state, reason: reason)
    }

    /// Full durability and the rate limit for a primary; relaxed durability and no limit for a
    /// shadow (``ScorerEngine/setRole(primary:)``).
    public func setRole(primary: Bool) async throws(EngineError) {
        try await engine.setRole(primary: primary)
    }

    /// ``loadState(_:reason:)`` with the reason `handoff`.
    public func loadState(_ state: JSONValue) async throws(EngineError) {
        try await engine.loadState(state, reason: "handoff")
    }

    /// Answers the legacy's plain HTTP routes: `/`, `/player/1|2`, static files (404 elsewhere).
    public func respond(to request: Request) async -> Response {
        await pages.respond(to: request)
    }

    /// The number of open sessions.
    public var sessionCount: Int { hub.count }

    static func makeSessionID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<20).map { _ in alphabet[Int(generator.next() % 64)] }, as: UTF8.self)
    }
}

/// One client's session inside an ``EmbeddedEngine``.
public struct EmbeddedEngineSession: Sendable {
    /// The Socket.IO session id sent in the CONNECT answer.
    public let id: String
    let engine: ScorerEngine
    let hub: EmbeddedSessionHub
    let deliver: @Sendable (SocketIOPacket) -> Void

    var client: EngineClient {
        let deliver = self.deliver
        return EngineClient(id: id, label: "embedded") { event, arguments in
            deliver(.event(event, arguments, namespace: "/"))
        }
    }

    /// A packet from the client: an event (acked when it asks and the engine
    /// answers), or DISCONNECT. Other packets and namespaces are ignored.
    public func receive(_ packet: SocketIOPacket) async {
        guard packet.namespace == "/", hub.contains(id) else { return }
        switch packet.kind {
        case .event, .binaryEvent:
            guard let name = packet.eventName else { return }
            let result = await engine.receive(name, arguments: packet.eventArguments, from: client)
            if let ackID = packet.id, let arguments = result.ackArguments {
                deliver(.ack(arguments, id: ackID, namespace: "/"))
            }
        case .disconnect:
            await close()
        case .connect, .connectError, .ack, .binaryAck:
            return
        }
    }

    /// Ends the session as if the client disconnected (idempotent).
    public func close() async {
        guard hub.remove(id) else { return }
        await engine.disconnected(clientID: id)
    }
}

/// The open embedded sessions and their delivery closures.
final class EmbeddedSessionHub: Sendable {
    private let sessions = Mutex<[String: @Sendable (SocketIOPacket) -> Void]>([:])

    func add(_ id: String, _ deliver: @escaping @Sendable (SocketIOPacket) -> Void) {
        sessions.withLock { $0[id] = deliver }
    }

    /// False when it was not open.
    func remove(_ id: String) -> Bool {
        sessions.withLock { $0.removeValue(forKey: id) != nil }
    }

    func contains(_ id: String) -> Bool { sessions.withLock { $0[id] != nil } }

    var count: Int { sessions.withLock { $0.count } }

    /// Called inside the engine, in state order.
    func broadcast(_ event: String, _ arguments: [JSONValue]) {
        let packet = SocketIOPacket.event(event, arguments, namespace: "/")
        for deliver in sessions.withLock({ Array($0.values) }) { deliver(packet) }
    }
}
