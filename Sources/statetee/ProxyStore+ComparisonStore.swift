import Compare
import Foundation
import Storage

/// The proxy's SQLite store as the comparator's ``ComparisonStore``: the
/// comparator's entries map one to one onto `ProxyStore`'s records (kinds,
/// classes and blames as their raw strings).
extension ProxyStore: ComparisonStore {
    public func recordEvents(_ events: [MirroredEvent]) async throws {
        try await appendEvents(events.map {
            EventRecord(
                sequence: $0.sequence, sessionID: $0.sessionID, clientRole: $0.clientRole, event: $0.name,
                args: $0.arguments, receivedAt: $0.receivedAt)
        })
    }

    @discardableResult
    public func recordComparison(_ comparison: ComparisonEntry, divergences: [DivergenceEntry]) async throws -> Int64 {
        try await recordComparison(Self.record(comparison), divergences: divergences.map(Self.record))
    }

    public func recordGap(_ gap: MirrorGap) async throws {
        try await recordGap(
            GapRecord(time: gap.time, fromSequence: gap.fromSequence, toSequence: gap.toSequence, count: gap.count))
    }

    /// Also deletes admin log entries older than `date` (``ProxyStore/prune(olderThan:)``).
    public func removeRecords(olderThan date: Date) async throws {
        try await prune(olderThan: date)
    }

    public func eventCount(since date: Date) async throws -> Int {
        try await summary(since: date).events
    }

    public func events(in range: ClosedRange<Int64>) async throws -> [MirroredEvent] {
        let records: [EventRecord] = try await events(in: range)
        return records.map {
            MirroredEvent(
                sequence: $0.sequence, sessionID: $0.sessionID, clientRole: $0.clientRole, name: $0.event,
                arguments: $0.args, receivedAt: $0.receivedAt)
        }
    }

    public func comparisons(since date: Date, afterID: Int64?, limit: Int) async throws -> [ComparisonEntry] {
        let records: [ComparisonRecord] = try await comparisons(since: date, afterID: afterID, limit: limit)
        return records.map(Self.entry)
    }

    public func divergences(since date: Date, afterID: Int64?, limit: Int) async throws -> [DivergenceEntry] {
        let records: [DivergenceRecord] = try await divergences(since: date, afterID: afterID, limit: limit)
        return records.map(Self.entry)
    }

    public func divergenceCounts(by grouping: DivergenceGrouping, since date: Date) async throws -> [DivergenceTally] {
        let counts = switch grouping {
        case .path: try await divergenceCountsByPath(since: date)
        case .event: try await divergenceCountsByEvent(since: date)
        }
        return counts.map { DivergenceTally(key: $0.key, unexpected: $0.unexpected, accepted: $0.accepted) }
    }

    public func gaps(since date: Date) async throws -> [MirrorGap] {
        let records: [GapRecord] = try await gaps(since: date, limit: Int.max)
        return records.map {
            MirrorGap(fromSequence: $0.fromSequence, toSequence: $0.toSequence, count: $0.count, time: $0.time)
        }
    }

    // MARK: mapping

    static func record(_ c: ComparisonEntry) -> ComparisonRecord {
        ComparisonRecord(
            id: c.id, firstSequence: c.firstSequence, lastSequence: c.lastSequence, time: c.time,
            cleanCount: c.cleanCount, unexpectedCount: c.unexpectedCount, acceptedCount: c.acceptedCount,
            duration: c.duration, resynced: c.resynced, kind: c.kind.rawValue, afterGap: c.afterGap,
            adoptedCount: c.adoptedCount, ignoredCount: c.ignoredCount, toleratedCount: c.toleratedCount,
            startsGame: c.startsGame, gamePhase: c.phase, error: c.error)
    }

    static func entry(_ r: ComparisonRecord) -> ComparisonEntry {
        ComparisonEntry(
            id: r.id, kind: ComparisonEntry.Kind(rawValue: r.kind) ?? .event, firstSequence: r.firstSequence,
            lastSequence: r.lastSequence, time: r.time, duration: r.duration, cleanCount: r.cleanCount,
            unexpectedCount: r.unexpectedCount, acceptedCount: r.acceptedCount, ignoredCount: r.ignoredCount,
            toleratedCount: r.toleratedCount, adoptedCount: r.adoptedCount, resynced: r.resynced, afterGap: r.afterGap,
            startsGame: r.startsGame, phase: r.gamePhase, error: r.error)
    }

    static func record(_ d: DivergenceEntry) -> DivergenceRecord {
        DivergenceRecord(
            id: d.id, comparisonID: d.comparisonID, sequence: d.sequence, path: d.path, kind: d.kind,
            primaryValue: d.primaryValue, shadowValue: d.shadowValue,
            classification: d.classification == .unexpected ? .unexpected : .accepted, knownID: d.knownID,
            reason: d.reason, source: d.source.rawValue, sessionID: d.sessionID, blame: d.blame.rawValue,
            detail: d.detail)
    }

    static func entry(_ r: DivergenceRecord) -> DivergenceEntry {
        DivergenceEntry(
            id: r.id, comparisonID: r.comparisonID, sequence: r.sequence,
            blame: DivergenceEntry.Blame(rawValue: r.blame) ?? .event,
            source: DivergenceEntry.Source(rawValue: r.source) ?? .state, sessionID: r.sessionID, path: r.path,
            kind: r.kind, primaryValue: r.primaryValue, shadowValue: r.shadowValue,
            classification: r.classification == .unexpected ? .unexpected : .accepted, knownID: r.knownID,
            reason: r.reason, detail: r.detail)
    }
}
