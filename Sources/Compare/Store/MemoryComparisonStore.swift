import Foundation
import Synchronization

/// A ``ComparisonStore`` in memory: for tests and for runs without a data
/// directory. It can also wait until a number of comparisons were recorded
/// (``waitForComparisons(_:)``), so tests wait for the event, not for time.
public final class MemoryComparisonStore: ComparisonStore {
    private struct Waiter {
        let count: Int
        let continuation: CheckedContinuation<[ComparisonEntry], any Error>
    }

    private struct State {
        var events: [Int64: MirroredEvent] = [:]
        var comparisons: [ComparisonEntry] = []
        var divergences: [DivergenceEntry] = []
        var gaps: [MirrorGap] = []
        var nextWaiterID = 0
        var waiters: [Int: Waiter] = [:]
        var failure: (any Error)?
        var lastComparisonID: Int64 = 0
        var lastDivergenceID: Int64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Makes every later write throw `error` (`nil`: writes work again).
    public func failWrites(with error: (any Error)?) {
        state.withLock { $0.failure = error }
    }

    // MARK: writing

    public func recordEvents(_ events: [MirroredEvent]) async throws {
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            for event in events {
                guard state.events[event.sequence] == nil else { throw MemoryStoreError.duplicateSequence(event.sequence) }
            }
            for event in events { state.events[event.sequence] = event }
        }
    }

    @discardableResult
    public func recordComparison(_ comparison: ComparisonEntry, divergences: [DivergenceEntry]) async throws -> Int64 {
        let (id, ready) = try state.withLock { state -> (Int64, [(CheckedContinuation<[ComparisonEntry], any Error>, [ComparisonEntry])]) in
            if let failure = state.failure { throw failure }
            state.lastComparisonID += 1
            let id = state.lastComparisonID
            var stored = comparison
            stored.id = id
            state.comparisons.append(stored)
            for var d in divergences {
                state.lastDivergenceID += 1
                d.id = state.lastDivergenceID
                d.comparisonID = id
                state.divergences.append(d)
            }
            var ready: [(CheckedContinuation<[ComparisonEntry], any Error>, [ComparisonEntry])] = []
            for (key, waiter) in state.waiters where state.comparisons.count >= waiter.count {
                ready.append((waiter.continuation, state.comparisons))
                state.waiters[key] = nil
            }
            return (id, ready)
        }
        for (continuation, comparisons) in ready { continuation.resume(returning: comparisons) }
        return id
    }

    public func recordGap(_ gap: MirrorGap) async throws {
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            state.gaps.append(gap)
        }
    }

    public func removeRecords(olderThan date: Date) async throws {
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            state.events = state.events.filter { $0.value.receivedAt >= date }
            let removed = Set(state.comparisons.filter { $0.time < date }.compactMap(\.id))
            state.comparisons.removeAll { $0.time < date }
            state.divergences.removeAll { removed.contains($0.comparisonID ?? 0) }
            state.gaps.removeAll { $0.time < date }
        }
    }

    // MARK: waiting (tests)

    /// Returns every comparison once at least `count` are recorded. Throws
    /// `CancellationError` when the waiting task is cancelled first.
    public func waitForComparisons(_ count: Int) async throws -> [ComparisonEntry] {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[ComparisonEntry], any Error>) in
                enum Now { case done([ComparisonEntry]), cancelled, waiting }
                let now = state.withLock { state -> Now in
                    if state.comparisons.count >= count { return .done(state.comparisons) }
                    if Task.isCancelled { return .cancelled }
                    state.waiters[id] = Waiter(count: count, continuation: continuation)
                    return .waiting
                }
                switch now {
                case .done(let comparisons): continuation.resume(returning: comparisons)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .waiting: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    // MARK: reading

    /// Everything recorded so far (tests).
    public var allComparisons: [ComparisonEntry] { state.withLock { $0.comparisons } }
    public var allDivergences: [DivergenceEntry] { state.withLock { $0.divergences } }
    public var allEvents: [MirroredEvent] { state.withLock { $0.events.values.sorted { $0.sequence < $1.sequence } } }
    public var allGaps: [MirrorGap] { state.withLock { $0.gaps } }

    public func eventCount(since date: Date) async throws -> Int {
        state.withLock { $0.events.values.count { $0.receivedAt >= date } }
    }

    public func events(in range: ClosedRange<Int64>) async throws -> [MirroredEvent] {
        state.withLock { state in state.events.values.filter { range.contains($0.sequence) }.sorted { $0.sequence < $1.sequence } }
    }

    public func comparisons(since date: Date, afterID: Int64?, limit: Int) async throws -> [ComparisonEntry] {
        state.withLock { state in
            Array(state.comparisons.filter { $0.time >= date && ($0.id ?? 0) > (afterID ?? 0) }.prefix(max(0, limit)))
        }
    }

    public func divergences(since date: Date, afterID: Int64?, limit: Int) async throws -> [DivergenceEntry] {
        state.withLock { state in
            let ids = Set(state.comparisons.filter { $0.time >= date }.compactMap(\.id))
            return Array(state.divergences.filter { ids.contains($0.comparisonID ?? 0) && ($0.id ?? 0) > (afterID ?? 0) }
                .prefix(max(0, limit)))
        }
    }

    public func divergenceCounts(by grouping: DivergenceGrouping, since date: Date) async throws -> [DivergenceTally] {
        state.withLock { state in
            let ids = Set(state.comparisons.filter { $0.time >= date }.compactMap(\.id))
            var tallies: [String: DivergenceTally] = [:]
            for d in state.divergences where ids.contains(d.comparisonID ?? 0) {
                let key = switch grouping {
                case .path: d.path
                case .event: state.events[d.sequence]?.name ?? "(unknown)"
                }
                var tally = tallies[key] ?? DivergenceTally(key: key, unexpected: 0, accepted: 0)
                switch d.classification {
                case .unexpected: tally.unexpected += 1
                case .accepted: tally.accepted += 1
                }
                tallies[key] = tally
            }
            return tallies.values.sorted { a, b in a.total != b.total ? a.total > b.total : a.key < b.key }
        }
    }

    public func gaps(since date: Date) async throws -> [MirrorGap] {
        state.withLock { state in state.gaps.filter { $0.time >= date } }
    }
}

/// Why ``MemoryComparisonStore`` refused a write.
enum MemoryStoreError: Error, Equatable {
    case duplicateSequence(Int64)
}
