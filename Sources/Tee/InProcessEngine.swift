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
}

/// One client's session inside an ``InProcessEngine``.
public protocol InProcessEngineSession: Sendable {
    /// A packet from the client (event, ack, DISCONNECT).
    func receive(_ packet: SocketIOPacket) async
    /// Ends the session as if the client disconnected.
    func close() async
}

/// A leg to the embedded engine: no socket, no Engine.IO framing, no task hop per
/// packet, no task once connected. Until the engine's CONNECT was reported (and
/// handled), what it sends queues for the leg's task, in order; from then on its
/// events and acks go to the session at once, from inside the engine (a broadcast
/// reaches every session without waking a task per session), and ``run(_:)``
/// returns: the engine session lives on until ``close()``. (The engine never ends a
/// session by itself; ``close()`` reports nothing more once handed over.)
struct EmbeddedLeg: UpstreamLeg {
    private let engine: any InProcessEngine
    private let auth: JSONValue?
    private let box = SessionBox()

    init(engine: any InProcessEngine, auth: JSONValue?) {
        self.engine = engine
        self.auth = auth
    }

    func run(_ reporter: LegReporter) async {
        let box = self.box
        let session: any InProcessEngineSession
        do {
            session = try await engine.openSession(auth: auth) { box.deliver($0, direct: reporter.packet) }
        } catch {
            await reporter.event(.refused(["message": .string(String(describing: error))]))
            await reporter.event(.ended(reason: String(describing: error)))
            return
        }
        guard box.set(session) else {
            await session.close()
            await reporter.event(.ended(reason: "closed"))
            return
        }
        while let packet = await box.next() {
            switch packet.kind {
            case .connect:
                await reporter.event(.connected(sid: packet.data?["sid"]?.stringValue ?? ""))
                box.connected()
            case .connectError: await reporter.event(.refused(packet.data ?? .null))
            case .disconnect: box.close()
            default: await reporter.event(.packet(packet))
            }
        }
        // Handed over: events and acks go directly, ``close()`` closes the engine session.
        if box.isHandedOver { return }
        await session.close()
        await reporter.event(.ended(reason: "closed"))
    }

    func send(_ packet: SocketIOPacket) async -> Bool {
        guard let session = box.session else { return false }
        await session.receive(packet)
        return true
    }

    func close() async {
        if let handedOver = box.close() { await handedOver.close() }
    }
}

import Synchronization

/// The embedded leg's session once opened, what the engine sent that the leg's task
/// has still to report, and whether events and acks go directly.
private final class SessionBox: Sendable {
    private struct State {
        var session: (any InProcessEngineSession)?
        var closed = false
        /// The CONNECT was reported (and handled).
        var connectedReported = false
        /// The CONNECT was reported and the leg's task found nothing queued since: events and acks go
        /// directly, the leg's task has returned.
        var direct = false
        var queue: [SocketIOPacket] = []
        var head = 0
        var waiter: CheckedContinuation<SocketIOPacket?, Never>?
    }

    private let state = Mutex(State())

    var session: (any InProcessEngineSession)? { state.withLock { $0.closed ? nil : $0.session } }

    /// False when already closed.
    func set(_ session: any InProcessEngineSession) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.session = session
            return true
        }
    }

    /// A packet from the engine: to `direct` at once once connected (events and acks), else queued.
    func deliver(_ packet: SocketIOPacket, direct: @Sendable (SocketIOPacket) -> Void) {
        enum Route { case direct, queued(CheckedContinuation<SocketIOPacket?, Never>?), dropped }
        let isData = packet.kind == .event || packet.kind == .binaryEvent || packet.kind == .ack || packet.kind == .binaryAck
        let route = state.withLock { state -> Route in
            if state.closed { return .dropped }
            if state.direct, isData { return .direct }
            if let waiter = state.waiter {
                state.waiter = nil
                return .queued(waiter)
            }
            state.queue.append(packet)
            return .queued(nil)
        }
        switch route {
        case .direct: direct(packet)
        case .queued(let waiter): waiter?.resume(returning: packet)
        case .dropped: break
        }
    }

    /// The CONNECT was reported: once the leg's task finds the queue empty, events and acks go directly.
    func connected() {
        state.withLock { $0.connectedReported = true }
    }

    /// The next queued packet (what was queued before a close included); nil once closed.
    func next() async -> SocketIOPacket? {
        await withCheckedContinuation { (continuation: CheckedContinuation<SocketIOPacket?, Never>) in
            enum Step { case packet(SocketIOPacket), end, wait }
            let step = state.withLock { state -> Step in
                if state.head < state.queue.count {
                    let packet = state.queue[state.head]
                    state.head += 1
                    if state.head == state.queue.count {
                        state.queue.removeAll()
                        state.head = 0
                    }
                    return .packet(packet)
                }
                if state.closed { return .end }
                // Everything queued was reported: later events and acks need no task.
                if state.connectedReported {
                    state.direct = true
                    return .end
                }
                state.waiter = continuation
                return .wait
            }
            switch step {
            case .packet(let packet): continuation.resume(returning: packet)
            case .end: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    /// Whether the leg's task returned, leaving the session to direct delivery.
    var isHandedOver: Bool { state.withLock { $0.direct && !$0.closed } }

    /// Closes; returns the session when it was handed over (nobody else will close it), once.
    @discardableResult
    func close() -> (any InProcessEngineSession)? {
        let (waiter, session) = state.withLock {
            state -> (CheckedContinuation<SocketIOPacket?, Never>?, (any InProcessEngineSession)?) in
            let session = state.direct && !state.closed ? state.session : nil
            state.closed = true
            defer { state.waiter = nil }
            return (state.waiter, session)
        }
        waiter?.resume(returning: nil)
        return session
    }
}
