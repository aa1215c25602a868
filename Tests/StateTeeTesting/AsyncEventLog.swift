import Synchronization

/// Records the elements of an async sequence so a test can wait for the one
/// it expects, with a timeout, instead of sleeping.
///
/// Each ``next(_:timeout:where:)`` returns the first element after the
/// previous match that satisfies the predicate (skipped elements stay in
/// ``all``). Feed it with ``collect(_:)`` in a child task, or ``append(_:)``.
///
/// Bind the result before checking it (`let e = try await log.next(...)`,
/// then `#expect(e == ...)`): a consuming `next` written inside `#expect(...)`
/// was seen to time out although the element had arrived.
public final class AsyncEventLog<Element: Sendable>: Sendable {
    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var elements: [Element] = []
        var cursor = 0
        var finished = false
        var waiters: [Waiter] = []
        var nextWaiterID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Appends every element of `sequence` until it ends, then marks the log finished.
    public func collect<S: AsyncSequence & Sendable>(_ sequence: S) async where S.Element == Element {
        do {
            for try await element in sequence { append(element) }
        } catch {}
        finish()
    }

    public func append(_ element: Element) {
        let waiters = state.withLock { state in
            state.elements.append(element)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    public func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Everything recorded so far.
    public var all: [Element] { state.withLock { $0.elements } }

    /// Waits for the next element (after the previous match) satisfying `predicate`.
    /// Throws ``TimeoutError`` after `timeout`, or ``EndOfLog`` if the log finished first.
    @discardableResult
    public func next(
        _ what: String = "an event", timeout: Duration = .seconds(10),
        where predicate: @Sendable @escaping (Element) -> Bool = { _ in true }
    ) async throws -> Element {
        try await withTimeout(timeout, what) { try await self.waitForMatch(predicate, what: what) }
    }

    public struct EndOfLog: Error, CustomStringConvertible {
        public let what: String
        public var description: String { "the event log ended before \(what)" }
    }

    private enum Step { case found(Element), ended, wait }

    private func waitForMatch(_ predicate: @Sendable (Element) -> Bool, what: String) async throws -> Element {
        while true {
            try Task.checkCancellation()
            let step: Step = state.withLock { state in
                while state.cursor < state.elements.count {
                    let element = state.elements[state.cursor]
                    state.cursor += 1
                    if predicate(element) { return .found(element) }
                }
                return state.finished ? .ended : .wait
            }
            switch step {
            case .found(let element): return element
            case .ended: throw EndOfLog(what: what)
            case .wait: await waitForAppend()
            }
        }
    }

    /// Suspends until the next append/finish or cancellation.
    private func waitForAppend() async {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Something may have arrived (or we were cancelled) since the check.
                    if state.cursor < state.elements.count || state.finished || Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume()
        }
    }
}
