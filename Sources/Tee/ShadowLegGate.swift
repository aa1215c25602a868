import Compare
import SocketIOProtocol
import Synchronization

/// Opens a client's shadow leg at its place in the mirror order.
///
/// A client connects to the primary now, but the shadow may still be working
/// through events mirrored before it (the mirror is asynchronous). Were the
/// shadow leg opened at once, the shadow would send that client the broadcasts
/// of those earlier events, which the primary sent before the client existed:
/// messages that look extra. So the connect goes through the mirror like
/// everything else the client sends: the proxy queues the gate behind what is
/// queued, the mirror consumer opens it when it gets there and waits (bounded)
/// until the leg is connected before it delivers anything newer.
final class ShadowLegGate: Sendable {
    private struct State {
        var opened = false
        var connected = false
        var cancelled = false
        var openWaiters: [CheckedContinuation<Void, Never>] = []
        var connectWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The mirror reached the connect: the leg may start.
    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.opened = true
            defer { state.openWaiters = [] }
            return state.openWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The leg is connected (or gave up, or was closed): the mirror may go on.
    func settle() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connected = true
            defer { state.connectWaiters = [:] }
            return Array(state.connectWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The leg was closed before or while connecting.
    func cancel() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.cancelled = true
            state.opened = true
            state.connected = true
            defer {
                state.openWaiters = []
                state.connectWaiters = [:]
            }
            return state.openWaiters + Array(state.connectWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Returns once ``open()`` or ``cancel()`` was called.
    func waitUntilOpen() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.opened { return true }
                state.openWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Returns once the leg settled (``settle()``, ``cancel()``), `timeout` passed, or the task is cancelled.
    func waitUntilSettled(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilSettled() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitUntilSettled() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.connected || Task.isCancelled { return true }
                    state.connectWaiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.connectWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// A shadow leg that starts once its ``ShadowLegGate`` opens.
struct GatedLeg: UpstreamLeg {
    let inner: any UpstreamLeg
    let gate: ShadowLegGate

    func run(_ reporter: LegReporter) async {
        await gate.waitUntilOpen()
        guard !gate.isCancelled else {
            await reporter.event(.ended(reason: "closed"))
            return
        }
        let gate = self.gate
        let report = reporter.event
        await inner.run(LegReporter(
            event: { event in
                await report(event)
                // After the report: the session has sent the copies that waited for the leg.
                switch event {
                case .connected, .refused, .ended, .lost: gate.settle()
                case .packet, .retrying: break
                }
            },
            packet: reporter.packet))
        gate.settle()
    }

    func send(_ packet: SocketIOPacket) async -> Bool {
        await inner.send(packet)
    }

    func sendCopy(_ packet: SocketIOPacket) async -> Bool {
        await inner.sendCopy(packet)
    }

    func close() async {
        gate.cancel()
        await inner.close()
    }
}

/// A write into the shadow's state (a resync's load, adopted values) that the mirror performs
/// in order: after every event before it was delivered, and only if the state it writes is
/// not older than what the primary has been sent (no event mirrored after `through`).
final class ShadowWriteRequest: Sendable {
    let through: Int64
    let write: @Sendable () async throws -> Void
    private let result = Mutex<CheckedContinuation<Void, any Error>?>(nil)

    init(through: Int64, write: @escaping @Sendable () async throws -> Void) {
        self.through = through
        self.write = write
    }

    /// Queues the request on `mirror` right behind event `through`, ahead of newer events
    /// (refused with ``ShadowNotQuiet`` when the shadow was already given a newer one) and
    /// waits until the consumer performed it.
    func run(on mirror: Mirror) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            result.withLock { $0 = continuation }
            switch mirror.insertControl(.shadowWrite(self), after: through) {
            case true?: break
            case false?: finish(.failure(ShadowNotQuiet(through: through, newest: mirror.upcomingSequence - 1)))
            case nil: finish(.failure(TeeError.shuttingDown))
            }
        }
    }

    /// The consumer's part: every event up to `through` was delivered to the shadow.
    func perform() async {
        do {
            try await write()
            finish(.success(()))
        } catch {
            finish(.failure(error))
        }
    }

    private func finish(_ outcome: Result<Void, any Error>) {
        let continuation = result.withLock { state -> CheckedContinuation<Void, any Error>? in
            defer { state = nil }
            return state
        }
        continuation?.resume(with: outcome)
    }
}
