import Compare
import Foundation
import JSONDiff
import JSONValue
import Metrics
import Synchronization
import Testing

/// A clock that moves only when told: `sleep` returns once `advance` passes its deadline.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case passed, cancelled, waiting }
                let now = state.withLock { state -> Now in
                    if deadline <= state.now { return .passed }
                    if Task.isCancelled { return .cancelled }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .waiting
                }
                switch now {
                case .passed: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers whose deadline passed.
    func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for key in due.keys { state.sleepers[key] = nil }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// Test failures that fakes throw.
struct FakeError: Error, CustomStringConvertible {
    var description: String
}

/// One side's state: readable, and (for the shadow) loadable and patchable.
final class FakeSide: StateSource, ShadowControl {
    private struct State {
        var document: JSONValue
        var reads = 0
        var loads: [(JSONValue, String)] = []
        var patches: [[StatePatch]] = []
        var failReads: String?
        var failLoads: String?
        var loadAttempts = 0
        var onRead: (@Sendable () -> Void)?
    }

    private let state: Mutex<State>

    init(_ document: JSONValue) {
        state = Mutex(State(document: document))
    }

    var document: JSONValue { state.withLock { $0.document } }
    var reads: Int { state.withLock { $0.reads } }
    var loads: [JSONValue] { state.withLock { $0.loads.map(\.0) } }
    var loadReasons: [String] { state.withLock { $0.loads.map(\.1) } }
    var patches: [[StatePatch]] { state.withLock { $0.patches } }

    func change(_ body: (inout JSONValue) -> Void) {
        state.withLock { body(&$0.document) }
    }

    func failReads(_ why: String?) { state.withLock { $0.failReads = why } }
    func failLoads(_ why: String?) { state.withLock { $0.failLoads = why } }
    var loadAttempts: Int { state.withLock { $0.loadAttempts } }

    /// Runs during the next reads (before the state is returned).
    func onRead(_ hook: (@Sendable () -> Void)?) { state.withLock { $0.onRead = hook } }

    func readState() async throws -> JSONValue {
        let hook = state.withLock { $0.onRead }
        hook?()
        let (document, failure) = state.withLock { state in
            state.reads += 1
            return (state.document, state.failReads)
        }
        if let failure { throw FakeError(description: failure) }
        return document
    }

    func loadState(_ document: JSONValue, reason: String) async throws {
        let failure = state.withLock { state -> String? in
            state.loadAttempts += 1
            if let failure = state.failLoads { return failure }
            state.document = document
            state.loads.append((document, reason))
            return nil
        }
        if let failure { throw FakeError(description: failure) }
    }

    func patch(_ patches: [StatePatch], reason: String) async throws {
        state.withLock { state in
            for p in patches { _ = state.document.set(p.value, at: p.path) }
            state.patches.append(patches)
        }
    }
}

/// A small Scorer-like state.
func scorerState(phase: String = "game_play") -> JSONValue {
    [
        "player1": ["name": "Alice", "primary_score": 0, "secondary_score": 0, "total_score": 0, "cp": 1,
                    "deployment_roll": 0],
        "player2": ["name": "Bob", "primary_score": 0, "secondary_score": 0, "total_score": 0, "cp": 1,
                    "deployment_roll": 0],
        "current_round": 1, "game_phase": .string(phase), "deployment_initiative_winner_id": nil,
        "status_message": "",
    ]
}

let epoch = Date(timeIntervalSince1970: 1_754_000_000)

/// A comparator on a manual clock with two fake sides and a memory store, and
/// helpers that play the proxy's part.
struct Harness {
    let clock = ManualClock()
    let primary: FakeSide
    let shadow: FakeSide
    let store = MemoryComparisonStore()
    let comparator: StateComparator<ManualClock>

    init(rules: ComparisonRules = .none, configuration: ComparatorConfiguration = .init(reconciliationInterval: nil),
         state: JSONValue = scorerState(), metrics: (any MetricsFactory)? = nil) {
        primary = FakeSide(state)
        shadow = FakeSide(state)
        comparator = StateComparator(
            configuration: configuration, rules: RulesEvaluator(rules), primary: primary, shadow: shadow,
            shadowControl: shadow, store: store, clock: clock,
            wallClock: { [clock] in epoch.addingTimeInterval(Double(clock.now.offset.components.seconds)) },
            metricsFactory: metrics)
    }

    var now: ManualClock.Instant { clock.now }

    func event(_ sequence: Int64, _ name: String, _ payload: JSONValue? = nil, session: String = "pi",
               role: String = "pi", mirrored: Bool = true) -> MirroredEvent {
        MirroredEvent(
            sequence: sequence, sessionID: session, clientRole: role, name: name, arguments: payload.map { [$0] } ?? [],
            receivedAt: epoch.addingTimeInterval(Double(sequence)), mirroredToShadow: mirrored)
    }

    func send(_ input: ComparatorInput) async {
        await comparator.handle(input, at: clock.now)
    }

    /// The proxy's part for one event: mirrored, both sides apply their change,
    /// broadcast the state to `sessions` and ack.
    func play(
        _ event: MirroredEvent, primary change: (inout JSONValue) -> Void, shadow shadowChange: ((inout JSONValue) -> Void)? = nil,
        broadcastTo sessions: [String] = ["pi"], ack: Bool = true
    ) async {
        await send(.mirrored(event))
        primary.change(change)
        if let shadowChange { shadow.change(shadowChange) } else { shadow.change(change) }
        for session in sessions {
            await send(.output(SideOutput(side: .primary, sessionID: session, name: "game_state_update", payload: primary.document)))
            await send(.output(SideOutput(side: .shadow, sessionID: session, name: "game_state_update", payload: shadow.document)))
        }
        if ack {
            await send(.output(.ack(side: .primary, sessionID: event.sessionID, sequence: event.sequence, payload: ["ok": true])))
            await send(.output(.ack(side: .shadow, sessionID: event.sessionID, sequence: event.sequence, payload: ["ok": true])))
        }
    }

    /// Lets the settle window pass and runs the timer.
    func settle(_ duration: Duration = .milliseconds(150)) async {
        clock.advance(by: duration)
        await comparator.tick(at: clock.now)
    }
}

func set(_ path: String, _ value: JSONValue) -> (inout JSONValue) -> Void {
    { document in _ = document.set(value, at: JSONPointer(path)!) }
}

func nothing(_ document: inout JSONValue) {}

/// Runs `body`, failing if it takes longer than `seconds` (generous: on a 2-core CI machine the
/// cooperative pool is shared with live tests that hold threads for a while).
func withTimeout<T: Sendable>(
    _ seconds: Double = 60, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw FakeError(description: "timed out after \(seconds) s")
        }
        group.cancelAll()
        return value
    }
}
