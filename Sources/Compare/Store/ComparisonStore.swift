import Foundation

/// Where the comparator records mirrored events, comparisons with their
/// divergences, and gaps, and where reports read them back. The executable
/// plugs in the SQLite store (`Storage.ProxyStore`); tests use
/// ``MemoryComparisonStore``.
///
/// Writes are called from the comparator only, one at a time; reads may run
/// concurrently with them.
public protocol ComparisonStore: Sendable {
    /// Appends mirrored events, in sequence order, each sequence once.
    func recordEvents(_ events: [MirroredEvent]) async throws
    /// Stores a comparison and its divergences together; returns the comparison's id.
    @discardableResult
    func recordComparison(_ comparison: ComparisonEntry, divergences: [DivergenceEntry]) async throws -> Int64
    func recordGap(_ gap: MirrorGap) async throws
    /// Deletes events, comparisons (with their divergences) and gaps older
    /// than `date` (the retention setting).
    func removeRecords(olderThan date: Date) async throws

    /// Events received at or after `date`.
    func eventCount(since date: Date) async throws -> Int
    /// Stored events with a sequence in `range`, in order.
    func events(in range: ClosedRange<Int64>) async throws -> [MirroredEvent]
    /// Comparisons made at or after `date` with an id above `afterID`, oldest first, at most `limit`.
    func comparisons(since date: Date, afterID: Int64?, limit: Int) async throws -> [ComparisonEntry]
    /// Divergences of comparisons made at or after `date` with an id above
    /// `afterID`, oldest first, at most `limit`.
    func divergences(since date: Date, afterID: Int64?, limit: Int) async throws -> [DivergenceEntry]
    /// Divergence counts since `date`, grouped by path or by the name of the
    /// event they are attributed to (`(unknown)` when that event is not
    /// stored), most frequent first, then by key.
    func divergenceCounts(by grouping: DivergenceGrouping, since date: Date) async throws -> [DivergenceTally]
    /// Gaps recorded at or after `date`, oldest first.
    func gaps(since date: Date) async throws -> [MirrorGap]
}

public enum DivergenceGrouping: String, Sendable, Hashable, CaseIterable {
    case path
    case event
}

/// How many divergences share one key (a path or an event name).
public struct DivergenceTally: Sendable, Equatable {
    public var key: String
    public var unexpected: Int
    public var accepted: Int

    public init(key: String, unexpected: Int, accepted: Int) {
        self.key = key
        self.unexpected = unexpected
        self.accepted = accepted
    }

    public var total: Int { unexpected + accepted }
}
