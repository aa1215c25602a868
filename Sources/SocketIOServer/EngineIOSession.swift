import HTTPTypes
import NIOCore
import NIOWebSocket
import NIOPosix
import SocketIOProtocol
import Synchronization

/// One Engine.IO session: the state machine behind a mutex, the continuations of waiting
/// pullers (long-poll GETs, WebSocket writers), the application's handler of inbound
/// messages and the heartbeat timer.
///
/// Inbound messages go to the ``EngineIOSessionHandler`` from the task of the transport that
/// read them (no task hop): they are queued under the lock in the machine's order, and
/// whichever caller finds nobody delivering delivers the queue, so the handler sees them in
/// order, one call at a time, then ``EngineIOSessionHandler/closed()`` once.
///
/// The heartbeat is a task scheduled on an event loop at the machine's next deadline
/// (re-scheduled under the lock whenever a transition moves it), not a Swift task: an idle
/// session holds no task for its timer, only a scheduled callback.
final class EngineIOSession: Sendable {
    typealias Machine = StateMachine<ContinuousClock>

    /// What a long-poll GET is answered with.
    enum Delivery: Sendable {
        case packets([EngineIOPacket])
        case finished
        case rejected(Rejection)
    }

    /// What a waiting puller (a long-poll GET, a WebSocket writer) is resumed with.
    enum Handoff: Sendable {
        case packets([EngineIOOutboundPacket])
        case finished
        case rejected(Rejection)
    }

    private struct State: ~Copyable {
        var machine: Machine
        var waiters: [WaiterID: CheckedContinuation<Handoff, Never>] = [:]
        var directWriters: [WaiterID: DirectWriter] = [:]
        var nextWaiterID = 0
        var reason: DisconnectReason?
        /// The heartbeat callback scheduled for `armed`.
        var timer: Scheduled<Void>?
        /// The deadline the timer is armed for (nil: not armed).
        var armed: ContinuousClock.Instant?
        var terminated = false
        var terminationWaiters: [CheckedContinuation<Void, Never>] = []
        /// Inbound messages not yet given to the handler.
        var inbound: [EngineIOPacket.Payload] = []
        /// The session closed and the handler has not been told yet.
        var inboundEnded = false
        /// Whether a caller is giving `inbound` to the handler.
        var delivering = false
        /// Set by ``attach(_:)``; dropped once it got the end.
        var handler: (any EngineIOSessionHandler)?
    }

    private enum Effect {
        case resume(CheckedContinuation<Handoff, Never>, Handoff)
        /// Give these messages (to this handler), then the queued ones, to the handler.
        case deliverInbound([EngineIOPacket.Payload], to: (any EngineIOSessionHandler)?)
        case terminated([CheckedContinuation<Void, Never>])
    }

    let id: String
    /// The request that opened the session.
    let request: HTTPRequest
    let clock = ContinuousClock()
    private let state: Mutex<State>
    private let onTerminated: @Sendable (String) -> Void

    init(
        id: String,
        request: HTTPRequest,
        transport: Machine.Transport,
        configuration: EngineIOConfiguration,
        onTerminated: @escaping @Sendable (String) -> Void
    ) {
        self.id = id
        self.request = request
        self.onTerminated = onTerminated
        let machine = Machine(
            transport: transport,
            pingInterval: configuration.pingInterval,
            pingTimeout: configuration.pingTimeout,
            allowUpgrades: configuration.allowUpgrades,
            now: clock.now
        )
        self.state = Mutex(State(machine: machine))
        state.withLock { armTimer(&$0) }
    }

    deinit {
        state.withLock { $0.timer?.cancel() }
    }

    /// Why the session ended, once it has.
    var disconnectReason: DisconnectReason? { state.withLock { $0.reason } }

    var isOpen: Bool { state.withLock { $0.machine.isOpen } }

    // MARK: running

    /// Sets the handler of the session's inbound messages (once, before the session is
    /// published to a transport); what arrived before it is delivered now.
    func attach(_ handler: any EngineIOSessionHandler) {
        let deliver = state.withLock { state -> Bool in
            state.handler = handler
            return claimDelivery(&state)
        }
        if deliver { deliverInbound([], to: nil) }
    }

    /// Returns once the session is terminated (the heartbeat runs by itself), or when the
    /// calling task is cancelled.
    func waitUntilTerminated() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.terminated || Task.isCancelled { return true }
                    state.terminationWaiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.terminationWaiters = [] }
                return state.terminationWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// The timer went off (possibly early, or for a deadline since moved: the machine checks).
    private func timerFired() {
        let now = clock.now
        let effects = state.withLock { state -> [Effect] in
            state.armed = nil
            return resolve(state.machine.timerFired(now: now), in: &state)
        }
        perform(effects)
    }

    /// Keeps the timer on the machine's next deadline; cancels it once there is none. Called
    /// under the lock after every transition, so arming follows the machine's order.
    private func armTimer(_ state: inout State) {
        let deadline = state.machine.nextDeadline
        guard deadline != state.armed else { return }
        state.armed = deadline
        state.timer?.cancel()
        state.timer = nil
        guard let deadline else { return }
        let (seconds, attoseconds) = clock.now.duration(to: deadline).components
        // Rounded up: a timer that fires early only re-arms for the rest.
        let nanoseconds = max(0, seconds * 1_000_000_000 + (attoseconds + 999_999_999) / 1_000_000_000)
        state.timer = Self.timerLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] in
            self?.timerFired()
        }
    }

    /// The event loop the heartbeats and connect timeouts run on (the process-wide NIO group
    /// Hummingbird uses too).
    static var timerLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }

    // MARK: events

    func send(_ packets: [EngineIOOutboundPacket]) {
        transition { $0.send(packets) }
    }

    func close(reason: DisconnectReason) {
        let now = clock.now
        transition { $0.close(reason: reason, now: now) }
    }

    func shutdown() {
        let now = clock.now
        transition { $0.shutdown(now: now) }
    }

    /// A long-poll GET: returns the packets to answer with, or a rejection.
    func poll() async -> Delivery {
        let handoff = await waitForDelivery { machine, waiter, now in
            let (result, actions) = machine.pollRequested(waiter, now: now)
            switch result {
            case .respond(let packets): return (.packets(packets), actions)
            case .wait: return (nil, actions)
            case .reject(let rejection): return (.rejected(rejection), actions)
            }
        }
        switch handoff {
        case .packets(let packets): return .packets(packets.map(\.packet))
        case .finished: return .finished
        case .rejected(let rejection): return .rejected(rejection)
        }
    }

    /// A WebSocket writer asks for its next packets. With a ``DirectWriter`` (for this
    /// socket), packets sent while it waits go to the channel directly (while the channel is
    /// writable) and the call returns only for what the writer must do itself: packets when
    /// the channel is not writable, the end of the socket.
    func pull(socket: WebSocketID, direct: DirectWriter? = nil) async -> Handoff {
        await waitForDelivery(direct: direct) { machine, waiter, _ in
            let (result, actions) = machine.webSocketPull(waiter, socket: socket)
            switch result {
            case .write(let packets): return (.packets(packets), actions)
            case .wait: return (nil, actions)
            case .finished: return (.finished, actions)
            }
        }
    }

    func postStarted() -> PostResult {
        let now = clock.now
        return transition { $0.postStarted(now: now) }
    }

    func postFailed(_ failure: Machine.PostFailure) -> PostResult {
        let now = clock.now
        return transition { $0.postFailed(failure, now: now) }
    }

    func postReceived(_ packets: [EngineIOPacket]) -> PostResult {
        let now = clock.now
        return transition { $0.postReceived(packets, now: now) }
    }

    func webSocketOpened(_ socket: WebSocketID) -> Bool {
        transition { ($0.webSocketOpened(socket), []) }
    }

    func webSocketReceived(_ packet: EngineIOPacket, from socket: WebSocketID) {
        let now = clock.now
        transition { $0.webSocketReceived(packet, from: socket, now: now) }
    }

    func webSocketFailed(_ socket: WebSocketID) {
        let now = clock.now
        transition { $0.webSocketFailed(socket, now: now) }
    }

    func webSocketClosed(_ socket: WebSocketID) {
        let now = clock.now
        transition { $0.webSocketClosed(socket, now: now) }
    }

    // MARK: plumbing

    private func transition(_ body: (inout Machine) -> [Action]) {
        transition { machine -> ((), [Action]) in ((), body(&machine)) }
    }

    private func transition<R>(_ body: (inout Machine) -> (R, [Action])) -> R {
        let (result, effects) = state.withLock { state -> (R, [Effect]) in
            let (result, actions) = body(&state.machine)
            return (result, resolve(actions, in: &state))
        }
        perform(effects)
        return result
    }

    private func waitForDelivery(
        direct: DirectWriter? = nil,
        _ body: @escaping (inout Machine, WaiterID, ContinuousClock.Instant) -> (Handoff?, [Action])
    ) async -> Handoff {
        let waiter = state.withLock { state -> WaiterID in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Handoff, Never>) in
                let now = clock.now
                let (immediate, effects) = state.withLock { state -> (Handoff?, [Effect]) in
                    if Task.isCancelled { return (.finished, []) }
                    let (delivery, actions) = body(&state.machine, waiter, now)
                    if delivery == nil {
                        state.waiters[waiter] = continuation
                        state.directWriters[waiter] = direct
                    }
                    return (delivery, resolve(actions, in: &state))
                }
                if let immediate { continuation.resume(returning: immediate) }
                perform(effects)
            }
        } onCancel: {
            let now = clock.now
            let (continuation, effects) = state.withLock { state -> (CheckedContinuation<Handoff, Never>?, [Effect]) in
                state.directWriters.removeValue(forKey: waiter)
                guard let continuation = state.waiters.removeValue(forKey: waiter) else { return (nil, []) }
                let actions = state.machine.waiterCancelled(waiter, now: now)
                return (continuation, resolve(actions, in: &state))
            }
            continuation?.resume(returning: .finished)
            perform(effects)
        }
    }

    private func resolve(_ actions: [Action], in state: inout State) -> [Effect] {
        defer { armTimer(&state) }
        return actions.compactMap { action -> Effect? in
            switch action {
            case .deliver(let waiter, let packets):
                if writeDirectly(packets, to: waiter, in: &state) { return nil }
                state.directWriters.removeValue(forKey: waiter)
                return state.waiters.removeValue(forKey: waiter).map { .resume($0, .packets(packets)) }
            case .finish(let waiter):
                state.directWriters.removeValue(forKey: waiter)
                return state.waiters.removeValue(forKey: waiter).map { .resume($0, .finished) }
            case .dispatch(let payloads):
                // Nobody delivering: this caller hands the batch over as it is (the queue is
                // empty then, unless the handler is not attached yet).
                guard let handler = state.handler, !state.delivering, state.inbound.isEmpty else {
                    state.inbound.append(contentsOf: payloads)
                    return nil
                }
                state.delivering = true
                return .deliverInbound(payloads, to: handler)
            case .disconnected(let reason):
                state.reason = reason
                state.inboundEnded = true
                return claimDelivery(&state) ? .deliverInbound([], to: nil) : nil
            case .terminated:
                state.terminated = true
                defer { state.terminationWaiters = [] }
                return .terminated(state.terminationWaiters)
            case .rescheduleTimer:
                // `armTimer` follows the machine's deadline after every transition.
                return nil
            }
        }
    }

    /// Whether this caller is to deliver the inbound queue (nobody else is, and there is a
    /// handler and something to deliver): then it is marked as delivering.
    private func claimDelivery(_ state: inout State) -> Bool {
        guard !state.delivering, state.handler != nil, !state.inbound.isEmpty || state.inboundEnded else { return false }
        state.delivering = true
        return true
    }

    /// Gives `first` to `handler`, then the queued messages to the handler, outside the lock, until the
    /// queue is empty (what the handler's calls queue meanwhile, such as the end when it closes
    /// the session, is delivered in this loop after them).
    private func deliverInbound(_ first: [EngineIOPacket.Payload], to handler: (any EngineIOSessionHandler)?) {
        if let handler {
            for message in first { handler.received(message) }
        }
        while true {
            let next = state.withLock { state -> (any EngineIOSessionHandler, [EngineIOPacket.Payload], ended: Bool)? in
                guard let handler = state.handler, !state.inbound.isEmpty || state.inboundEnded else {
                    state.delivering = false
                    return nil
                }
                defer { state.inbound = [] }
                // The end is the handler's last call: the session lets go of it.
                if state.inboundEnded { state.handler = nil }
                return (handler, state.inbound, state.inboundEnded)
            }
            guard let (handler, messages, ended) = next else { return }
            for message in messages { handler.received(message) }
            if ended { handler.closed() }
        }
    }

    /// Whether a WebSocket writer waits with a channel to be written to directly (for tests).
    var hasDirectWriter: Bool { state.withLock { !$0.directWriters.isEmpty } }

    /// Writes `packets` for a waiting writer straight to its channel, when it has one that is
    /// writable and the machine takes the writer back at once (its socket is the open
    /// session's transport, whose buffer was just handed over): the writer stays waiting, as
    /// if it had written them and pulled again. False: the writer task gets them.
    private func writeDirectly(_ packets: [EngineIOOutboundPacket], to waiter: WaiterID, in state: inout State) -> Bool {
        guard let direct = state.directWriters[waiter], state.waiters[waiter] != nil, direct.channel.isWritable,
            state.machine.lifecycle == .open, state.machine.transport == .webSocket(direct.socket),
            state.machine.buffer.isEmpty
        else { return false }
        let (result, actions) = state.machine.webSocketPull(waiter, socket: direct.socket)
        // An open session's WebSocket with nothing buffered always waits, and no action follows.
        assert(result == .wait && actions.isEmpty, "a direct writer was not taken back: \(result)")
        direct.write(packets)
        return true
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let continuation, let delivery):
                continuation.resume(returning: delivery)
            case .deliverInbound(let first, let handler):
                deliverInbound(first, to: handler)
            case .terminated(let waiters):
                onTerminated(id)
                for waiter in waiters { waiter.resume() }
            }
        }
    }
}

/// A WebSocket writer's channel, for the packets its session hands it while it waits: they
/// are queued here under the session's lock (so in the session's order) and written by one
/// event-loop task with one flush for all that queued before it ran; the writer task is not
/// woken (one task hop a frame fewer, and a busy socket still gets its frames in batches).
/// Frames are written whole, below the channel's frame encoder (``WebSocketWire``).
final class DirectWriter: Sendable {
    let socket: EngineIOSession.WebSocketID
    let channel: any Channel
    private let pending = Mutex<(frames: [WebSocketWireFrame], scheduled: Bool)>(([], false))
    /// The channel's frame encoder, once found (used on the event loop only).
    private let encoder: NIOLoopBoundBox<ChannelHandlerContext?>

    init(socket: EngineIOSession.WebSocketID, channel: any Channel) {
        self.socket = socket
        self.channel = channel
        self.encoder = .makeEmptyBox(valueType: ChannelHandlerContext.self, eventLoop: channel.eventLoop)
    }

    /// Queues the packets' frames; schedules the write unless one is scheduled already.
    func write(_ packets: [EngineIOOutboundPacket]) {
        let frames = packets.map(\.wireFrame)
        let schedule = pending.withLock { pending -> Bool in
            pending.frames += frames
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { channel.eventLoop.execute { self.flush() } }
    }

    private func flush() {
        let frames = pending.withLock { pending in
            defer {
                pending.frames = []
                pending.scheduled = false
            }
            return pending.frames
        }
        if encoder.value == nil { encoder.value = WebSocketWire.encoder(of: channel) }
        WebSocketWire.write(frames, to: channel, below: encoder.value)
        channel.flush()
    }
}
