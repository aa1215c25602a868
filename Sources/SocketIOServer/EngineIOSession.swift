import HTTPTypes
import SocketIOProtocol
import Synchronization

/// One Engine.IO session: the state machine behind a mutex, the continuations of waiting
/// pullers (long-poll GETs, WebSocket writers), the application's inbound message stream
/// and the heartbeat timer loop.
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
        var nextWaiterID = 0
        var reason: DisconnectReason?
    }

    private enum Effect {
        case resume(CheckedContinuation<Handoff, Never>, Handoff)
        case dispatch([EngineIOPacket.Payload])
        case disconnected(DisconnectReason)
        case terminated
        case wake
    }

    let id: String
    /// The request that opened the session.
    let request: HTTPRequest
    let clock = ContinuousClock()
    private let state: Mutex<State>
    let inbound: AsyncStream<EngineIOPacket.Payload>
    private let inboundContinuation: AsyncStream<EngineIOPacket.Payload>.Continuation
    private let wakeups: AsyncStream<Void>
    private let wakeupContinuation: AsyncStream<Void>.Continuation
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
        (self.inbound, self.inboundContinuation) = AsyncStream.makeStream()
        (self.wakeups, self.wakeupContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Why the session ended, once it has.
    var disconnectReason: DisconnectReason? { state.withLock { $0.reason } }

    var isOpen: Bool { state.withLock { $0.machine.isOpen } }

    // MARK: running

    /// Runs the heartbeat timer until the session is terminated.
    func runTimer() async {
        var iterator = wakeups.makeAsyncIterator()
        while let deadline = state.withLock({ $0.machine.nextDeadline }) {
            let woken = await withTaskGroup(of: Void.self) { group in
                group.addTask { [clock, wakeupContinuation] in
                    do {
                        try await clock.sleep(until: deadline)
                        wakeupContinuation.yield()
                    } catch {}
                }
                let woken: Void? = await iterator.next()
                group.cancelAll()
                return woken != nil
            }
            guard woken else { return }
            let now = clock.now
            transition { $0.timerFired(now: now) }
        }
    }

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

    /// A WebSocket writer asks for its next packets.
    func pull(socket: WebSocketID) async -> Handoff {
        await waitForDelivery { machine, waiter, _ in
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
            return (result, Self.resolve(actions, in: &state))
        }
        perform(effects)
        return result
    }

    private func waitForDelivery(
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
                    if delivery == nil { state.waiters[waiter] = continuation }
                    return (delivery, Self.resolve(actions, in: &state))
                }
                if let immediate { continuation.resume(returning: immediate) }
                perform(effects)
            }
        } onCancel: {
            let now = clock.now
            let (continuation, effects) = state.withLock { state -> (CheckedContinuation<Handoff, Never>?, [Effect]) in
                guard let continuation = state.waiters.removeValue(forKey: waiter) else { return (nil, []) }
                let actions = state.machine.waiterCancelled(waiter, now: now)
                return (continuation, Self.resolve(actions, in: &state))
            }
            continuation?.resume(returning: .finished)
            perform(effects)
        }
    }

    private static func resolve(_ actions: [Action], in state: inout State) -> [Effect] {
        actions.compactMap { action -> Effect? in
            switch action {
            case .deliver(let waiter, let packets):
                return state.waiters.removeValue(forKey: waiter).map { .resume($0, .packets(packets)) }
            case .finish(let waiter):
                return state.waiters.removeValue(forKey: waiter).map { .resume($0, .finished) }
            case .dispatch(let payloads):
                return .dispatch(payloads)
            case .disconnected(let reason):
                state.reason = reason
                return .disconnected(reason)
            case .terminated:
                return .terminated
            case .rescheduleTimer:
                return .wake
            }
        }
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let continuation, let delivery):
                continuation.resume(returning: delivery)
            case .dispatch(let payloads):
                for payload in payloads { inboundContinuation.yield(payload) }
            case .disconnected:
                inboundContinuation.finish()
            case .terminated:
                wakeupContinuation.finish()
                onTerminated(id)
            case .wake:
                wakeupContinuation.yield()
            }
        }
    }
}
