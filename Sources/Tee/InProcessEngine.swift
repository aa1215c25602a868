import Hummingbird
import JSONValue
import SocketIOProtocol

/// The Swift engine running in the proxy's process (`--shadow embedded`):
/// client sessions without sockets, state read and load, and its HTTP routes.
///
/// The executable adapts `Engine` to this protocol, so the proxy depends on
/// nothing but these few calls. The engine runs with its broadcasts on: the
/// proxy needs to see what each client would have received from it.
public protocol InProcessEngine: Sendable {
    /// Opens one client's Socket.IO session (namespace `/`, `auth` from the
    /// client's CONNECT). Everything the engine sends to that client, the
    /// CONNECT answer included, goes to `deliver`, in order.
    func openSession(auth: JSONValue?, deliver: @escaping @Sendable (SocketIOPacket) -> Void) async throws
        -> any InProcessEngineSession
    /// The current served state.
    func currentState() async throws -> JSONValue
    /// Replaces the engine's state (the switchover's handoff).
    func loadState(_ state: JSONValue) async throws
    /// Answers a plain HTTP request (`/`, `/player/1`, static files) when the engine is primary.
    func respond(to request: Request) async -> Response
    /// The engine's role changed (and once at start): a primary must make every acknowledged
    /// event durable before it is acknowledged; a shadow need not (the comparator reloads it
    /// from the primary when it is behind). Called before the proxy relays it as the primary.
    func setRole(primary: Bool) async throws
}

extension InProcessEngine {
    /// Nothing to change by default.
    public func setRole(primary: Bool) async throws {}
}

/// One client's session inside an ``InProcessEngine``.
public protocol InProcessEngineSession: Sendable {
    /// A packet from the client (event, ack, DISCONNECT).
    func receive(_ packet: SocketIOPacket) async
    /// Ends the session as if the client disconnected.
    func close() async
}

/// A leg to the embedded engine: no socket, no Engine.IO framing.
struct EmbeddedLeg: UpstreamLeg {
    private let engine: any InProcessEngine
    private let auth: JSONValue?
    private let box = SessionBox()

    init(engine: any InProcessEngine, auth: JSONValue?) {
        self.engine = engine
        self.auth = auth
    }

    func run(_ reporter: LegReporter) async {
        let report = reporter.event
        let (packets, sink) = AsyncStream.makeStream(of: SocketIOPacket.self)
        let session: any InProcessEngineSession
        do {
            session = try await engine.openSession(auth: auth) { sink.yield($0) }
        } catch {
            await report(.refused(["message": .string(String(describing: error))]))
            await report(.ended(reason: String(describing: error)))
            return
        }
        guard box.set(session, onClose: { sink.finish() }) else {
            await session.close()
            await report(.ended(reason: "closed"))
            return
        }
        for await packet in packets {
            switch packet.kind {
            case .connect: await report(.connected(sid: packet.data?["sid"]?.stringValue ?? ""))
            case .connectError: await report(.refused(packet.data ?? .null))
            case .disconnect:
                sink.finish()
            default: await report(.packet(packet, text: nil))
            }
        }
        await session.close()
        await report(.ended(reason: "closed"))
    }

    func send(_ packet: SocketIOPacket) async -> Bool {
        guard let session = box.session else { return false }
        await session.receive(packet)
        return true
    }

    /// The engine takes every copy (it is in the process: nothing to pile up in a connection).
    func sendCopy(_ packet: SocketIOPacket) async -> Bool {
        await send(packet)
    }

    func close() async {
        box.close()
    }
}

import Synchronization

/// The embedded leg's session once opened, and whether it was closed first.
private final class SessionBox: Sendable {
    private struct State {
        var session: (any InProcessEngineSession)?
        var onClose: (@Sendable () -> Void)?
        var closed = false
    }

    private let state = Mutex(State())

    var session: (any InProcessEngineSession)? { state.withLock { $0.closed ? nil : $0.session } }

    /// False when already closed.
    func set(_ session: any InProcessEngineSession, onClose: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.session = session
            state.onClose = onClose
            return true
        }
    }

    func close() {
        let onClose = state.withLock { state -> (@Sendable () -> Void)? in
            state.closed = true
            return state.onClose
        }
        onClose?()
    }
}
