import Synchronization

/// Paces the clients' events while a switchover lets the shadow catch up: an
/// event goes through only with a token, granted tick by tick by the switchover
/// (``Switchover/CatchUp``). Waiting events go first, in arrival order. Once
/// ended, everything goes through (the sessions are holding by then, or the
/// switchover was refused).
final class ShadowPacer: Sendable {
    private struct State {
        var tokens = 0
        var admitted = 0
        var ended = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    private let state = Mutex(State())

    /// Returns when the event may go (a token, or the pacing ended).
    func admit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.ended { return true }
                if state.tokens > 0, state.head == state.waiters.count {
                    state.tokens -= 1
                    state.admitted += 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets `count` more events through (the waiting ones first); unused tokens of the
    /// previous grant lapse.
    func grant(_ count: Int) {
        let resumed = state.withLock { state -> ArraySlice<CheckedContinuation<Void, Never>> in
            guard !state.ended else { return [] }
            let take = min(count, state.waiters.count - state.head)
            let resumed = state.waiters[state.head..<(state.head + take)]
            state.head += take
            state.admitted += take
            state.tokens = count - take
            if state.head == state.waiters.count {
                state.waiters.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return resumed
        }
        for waiter in resumed { waiter.resume() }
    }

    /// Events let through since the last call.
    func takeAdmitted() -> Int {
        state.withLock { state in
            defer { state.admitted = 0 }
            return state.admitted
        }
    }

    /// Events waiting for a token.
    var waiting: Int { state.withLock { $0.waiters.count - $0.head } }

    /// Lets every waiting and later event through.
    func end() {
        let waiters = state.withLock { state -> ArraySlice<CheckedContinuation<Void, Never>> in
            state.ended = true
            defer {
                state.waiters = []
                state.head = 0
            }
            return state.waiters[state.head...]
        }
        for waiter in waiters { waiter.resume() }
    }
}
