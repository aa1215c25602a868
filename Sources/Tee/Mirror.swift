import SocketIOProtocol
import Synchronization

/// The global mirror queue shared by all sessions: producers never wait, one
/// consumer takes entries in sequence order.
final class Mirror: Sendable {
    enum Item: Sendable {
        /// A client's event or ack, for its session's shadow leg.
        case packet(ProxySession, SocketIOPacket)
        /// The client left: its shadow leg may close (control).
        case sessionClosed(ProxySession)
        /// A client connected: its shadow leg may connect (control).
        case openLeg(ShadowLegGate)
        /// A write into the shadow's state, in order with the events (control).
        case shadowWrite(ShadowWriteRequest)
    }

    private struct State {
        var queue: MirrorQueue<Item>
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var busy = false
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(queue: MirrorQueue(capacity: capacity)))
    }

    /// Queues a copy (or records it as dropped); never waits.
    func offer(_ item: Item) -> MirrorQueue<Item>.Offer {
        let (offer, waiter) = state.withLock { state -> (MirrorQueue<Item>.Offer, CheckedContinuation<Void, Never>?) in
            let offer = state.queue.offer(item)
            defer { state.waiter = nil }
            return (offer, state.waiter)
        }
        waiter?.resume()
        return offer
    }

    /// Queues a control item behind everything offered so far; false once the mirror is
    /// finishing (the consumer may be gone: nobody would take it).
    func enqueueControl(_ item: Item) -> Bool {
        let (queued, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.queue.enqueueControl(item)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return queued
    }

    /// Queues a control item right behind event `sequence`, ahead of newer events still
    /// waiting; nil once the mirror is finishing, false when a newer event was already taken.
    func insertControl(_ item: Item, after sequence: Int64) -> Bool? {
        let (inserted, waiter) = state.withLock { state -> (Bool?, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            guard state.queue.insertControl(item, after: sequence) else { return (false, nil) }
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return inserted
    }

    /// The next entry, waiting for one; nil once finished and empty (or cancelled).
    /// Marks the consumer busy until ``done()``.
    func next() async -> MirrorQueue<Item>.Entry? {
        while true {
            enum Step { case entry(MirrorQueue<Item>.Entry), end, wait }
            let step: Step = state.withLock { state in
                if let entry = state.queue.next() {
                    state.busy = true
                    return .entry(entry)
                }
                return state.finished ? .end : .wait
            }
            switch step {
            case .entry(let entry): return entry
            case .end: return nil
            case .wait:
                if Task.isCancelled { return nil }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if !state.queue.isEmpty || state.finished || Task.isCancelled { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state in
                        defer { state.waiter = nil }
                        return state.waiter
                    }
                    waiter?.resume()
                }
            }
        }
    }

    /// The consumer finished the entry it took.
    func done() {
        state.withLock { $0.busy = false }
    }

    /// Stops the consumer once the queue is empty.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Events waiting.
    var depth: Int { state.withLock { $0.queue.depth } }
    /// Nothing waiting and nothing being delivered.
    var isIdle: Bool { state.withLock { $0.queue.isEmpty && !$0.busy } }
    /// Events dropped on overflow so far.
    var droppedCount: Int { state.withLock { $0.queue.droppedCount } }
    /// The sequence the next mirrored event gets.
    var upcomingSequence: Int64 { state.withLock { $0.queue.upcomingSequence } }
}
