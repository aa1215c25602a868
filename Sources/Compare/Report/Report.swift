import Foundation
import JSONDiff
import JSONValue

/// What `statetee report` shows, built from a ``ComparisonStore`` by
/// ``build(from:since:settings:game:generatedAt:worstLimit:timelineBuckets:)``
/// and rendered by ``MarkdownReport``, ``HTMLReport`` and ``JSONReport``.
public struct Report: Sendable, Equatable {
    public struct Totals: Sendable, Equatable {
        public var eventsMirrored = 0
        public var comparisons = 0
        /// Comparisons by kind.
        public var eventComparisons = 0
        public var rangeComparisons = 0
        public var reconciliations = 0
        public var resyncComparisons = 0
        /// Comparisons by outcome.
        public var cleanComparisons = 0
        public var acceptedComparisons = 0
        public var divergentComparisons = 0
        public var unverifiedComparisons = 0
        /// Divergence rows by class.
        public var unexpectedDivergences = 0
        public var acceptedDivergences = 0
        /// Counted, never listed.
        public var ignoredDifferences = 0
        public var toleratedDifferences = 0
        public var adoptedValues = 0
        public var resyncs = 0
        public var gaps = 0
        public var eventsLost = 0
        public var firstComparisonAt: Date?
        public var lastComparisonAt: Date?
        /// The newest event any comparison covered (0: none).
        public var lastComparedSequence: Int64 = 0

        public init() {}

        /// Comparisons that were clean or only accepted, out of all comparisons.
        public var cleanShare: Double? {
            comparisons > 0 ? Double(cleanComparisons + acceptedComparisons) / Double(comparisons) : nil
        }
    }

    /// One kind of divergence (same path, class and known id), worst first.
    public struct WorstDivergence: Sendable, Equatable {
        public var path: String
        public var classification: DivergenceEntry.Class
        public var knownID: String?
        /// How many divergence rows share it.
        public var occurrences: Int
        public var firstSeen: Date
        public var lastSeen: Date
        /// Its first occurrence.
        public var example: DivergenceEntry
        /// The comparison of the first occurrence.
        public var comparison: ComparisonEntry?
        /// The event the first occurrence is attributed to, when stored.
        public var event: MirroredEvent?
        /// When the first occurrence is blamed on a range: the range's events (at most 10).
        public var rangeEvents: [MirroredEvent]
    }

    /// Accepted divergences by known-divergence id.
    public struct KnownTally: Sendable, Equatable {
        public var id: String
        public var reason: String
        public var count: Int
    }

    /// Comparisons over time, by outcome.
    public struct Timeline: Sendable, Equatable {
        public struct Bucket: Sendable, Equatable {
            public var start: Date
            public var end: Date
            public var clean = 0
            public var accepted = 0
            public var unexpected = 0
            public var unverified = 0

            public var total: Int { clean + accepted + unexpected + unverified }

            public subscript(outcome: ComparisonOutcome) -> Int {
                switch outcome {
                case .clean: clean
                case .accepted: accepted
                case .unexpected: unexpected
                case .unverified: unverified
                }
            }
        }

        public var start: Date?
        public var end: Date?
        public var buckets: [Bucket] = []
        /// When gaps happened.
        public var gapTimes: [Date] = []
    }

    public var generatedAt: Date
    /// The start of the window; `nil`: everything stored.
    public var since: Date?
    public var totals: Totals
    public var divergencesByPath: [DivergenceTally]
    public var divergencesByEvent: [DivergenceTally]
    public var knownDivergences: [KnownTally]
    public var worst: [WorstDivergence]
    /// The events divergences are attributed to, in sequence order (at most
    /// ``divergentEventLimit``; ``divergentEventCount`` says how many there were).
    public var divergentEvents: [DivergentEvent] = []
    public var divergentEventCount = 0
    public var gaps: [MirrorGap]
    /// The readiness gate replayed over the window's comparisons.
    public var readiness: Readiness
    public var timeline: Timeline

    /// Whether any unexpected divergence was recorded in the window.
    public var hasUnexpectedDivergences: Bool { totals.unexpectedDivergences > 0 }

    /// What `statetee report` exits with: 1 when unexpected divergences exist, else 0.
    public var exitStatus: Int32 { hasUnexpectedDivergences ? 1 : 0 }
}

extension Report {
    /// One event that divergences are attributed to: the answer to "which event caused it".
    public struct DivergentEvent: Sendable, Equatable {
        public var sequence: Int64
        /// The event as mirrored; `nil` when it is no longer stored.
        public var event: MirroredEvent?
        /// `event` when at least one divergence names it as the cause, `range` when it only
        /// opens a range that could not be told apart, `none` for a reconciliation.
        public var blame: DivergenceEntry.Blame
        public var unexpected: Int
        public var accepted: Int
        /// The distinct paths, in order of appearance (at most 8).
        public var paths: [String]
    }

    /// How many divergent events a report lists.
    public static let divergentEventLimit = 200

    static func divergentEvents(_ divergences: [DivergenceEntry], store: any ComparisonStore) async throws
        -> (events: [DivergentEvent], count: Int)
    {
        var bySequence: [Int64: DivergentEvent] = [:]
        for d in divergences {
            var entry = bySequence[d.sequence]
                ?? DivergentEvent(sequence: d.sequence, event: nil, blame: d.blame, unexpected: 0, accepted: 0, paths: [])
            switch d.classification {
            case .unexpected: entry.unexpected += 1
            case .accepted: entry.accepted += 1
            }
            if d.blame == .event { entry.blame = .event }
            if entry.paths.count < 8, !entry.paths.contains(d.path) { entry.paths.append(d.path) }
            bySequence[d.sequence] = entry
        }
        var listed = bySequence.values.sorted { $0.sequence < $1.sequence }.prefix(divergentEventLimit).map { $0 }
        for i in listed.indices {
            listed[i].event = try await store.events(in: listed[i].sequence...listed[i].sequence).first
        }
        return (listed, bySequence.count)
    }

    /// Reads the window from `store` and builds the report.
    /// - Parameters:
    ///   - since: the window's start; `nil`: everything stored.
    ///   - settings: the readiness gate (from the rules file).
    ///   - worstLimit: how many kinds of divergence to show in detail.
    ///   - timelineBuckets: how many bars the timeline has at most.
    public static func build(
        from store: any ComparisonStore, since: Date?, settings: ReadinessSettings, game: GameBoundaries = .scorer,
        generatedAt: Date, worstLimit: Int = 10, timelineBuckets: Int = 48, pageSize: Int = 5000
    ) async throws -> Report {
        let from = since ?? Date(timeIntervalSince1970: -62_135_596_800)  // 0001-01-01
        var comparisons: [ComparisonEntry] = []
        while true {
            let page = try await store.comparisons(since: from, afterID: comparisons.last?.id, limit: pageSize)
            comparisons += page
            if page.count < pageSize { break }
        }
        var divergences: [DivergenceEntry] = []
        while true {
            let page = try await store.divergences(since: from, afterID: divergences.last?.id, limit: pageSize)
            divergences += page
            if page.count < pageSize { break }
        }
        let gaps = try await store.gaps(since: from)

        var totals = Totals()
        totals.eventsMirrored = try await store.eventCount(since: from)
        totals.comparisons = comparisons.count
        for c in comparisons {
            switch c.kind {
            case .event: totals.eventComparisons += 1
            case .range: totals.rangeComparisons += 1
            case .reconciliation: totals.reconciliations += 1
            case .resync: totals.resyncComparisons += 1
            }
            switch c.outcome {
            case .clean: totals.cleanComparisons += 1
            case .accepted: totals.acceptedComparisons += 1
            case .unexpected: totals.divergentComparisons += 1
            case .unverified: totals.unverifiedComparisons += 1
            }
            totals.ignoredDifferences += c.ignoredCount
            totals.toleratedDifferences += c.toleratedCount
            totals.adoptedValues += c.adoptedCount
            if c.resynced { totals.resyncs += 1 }
        }
        totals.firstComparisonAt = comparisons.map(\.time).min()
        totals.lastComparisonAt = comparisons.map(\.time).max()
        totals.lastComparedSequence = comparisons.map(\.lastSequence).max() ?? 0
        totals.unexpectedDivergences = divergences.count { $0.classification == .unexpected }
        totals.acceptedDivergences = divergences.count { $0.classification == .accepted }
        totals.gaps = gaps.count
        totals.eventsLost = gaps.reduce(0) { $0 + $1.count }

        // Known divergences, in order of first appearance.
        var known: [KnownTally] = []
        for d in divergences where d.classification == .accepted {
            let id = d.knownID ?? "(unnamed)"
            if let i = known.firstIndex(where: { $0.id == id }) {
                known[i].count += 1
            } else {
                known.append(KnownTally(id: id, reason: d.reason ?? "", count: 1))
            }
        }

        let worst = try await worstDivergences(divergences, comparisons: comparisons, store: store, limit: worstLimit)

        // Readiness: the comparisons and gaps in the order they happened.
        var tracker = ReadinessTracker(settings: settings, game: game)
        var gapIndex = 0
        let orderedGaps = gaps.sorted { $0.time < $1.time }
        for c in comparisons {
            while gapIndex < orderedGaps.count, orderedGaps[gapIndex].time <= c.time {
                tracker.recordGap()
                gapIndex += 1
            }
            tracker.record(c)
        }
        if gapIndex < orderedGaps.count { tracker.recordGap() }

        let divergent = try await divergentEvents(divergences, store: store)
        return Report(
            generatedAt: generatedAt, since: since, totals: totals,
            divergencesByPath: try await store.divergenceCounts(by: .path, since: from),
            divergencesByEvent: try await store.divergenceCounts(by: .event, since: from),
            knownDivergences: known, worst: worst, divergentEvents: divergent.events,
            divergentEventCount: divergent.count, gaps: gaps, readiness: tracker.readiness,
            timeline: timeline(comparisons, gaps: gaps, buckets: timelineBuckets))
    }

    private static func worstDivergences(
        _ divergences: [DivergenceEntry], comparisons: [ComparisonEntry], store: any ComparisonStore, limit: Int
    ) async throws -> [WorstDivergence] {
        struct Key: Hashable {
            var path: String
            var cls: DivergenceEntry.Class
            var knownID: String?
        }
        let comparisonsByID = Dictionary(comparisons.compactMap { c in c.id.map { ($0, c) } }) { a, _ in a }
        var groups: [Key: (count: Int, first: DivergenceEntry, firstSeen: Date, lastSeen: Date)] = [:]
        var order: [Key] = []
        for d in divergences {
            let key = Key(path: d.path, cls: d.classification, knownID: d.knownID)
            let time = d.comparisonID.flatMap { comparisonsByID[$0]?.time } ?? .distantPast
            if var group = groups[key] {
                group.count += 1
                group.firstSeen = min(group.firstSeen, time)
                group.lastSeen = max(group.lastSeen, time)
                groups[key] = group
            } else {
                groups[key] = (1, d, time, time)
                order.append(key)
            }
        }
        let ranked = order.enumerated().sorted { a, b in
            let ga = groups[a.element]!, gb = groups[b.element]!
            if a.element.cls != b.element.cls { return a.element.cls == .unexpected }
            if ga.count != gb.count { return ga.count > gb.count }
            return a.offset < b.offset
        }.prefix(max(0, limit))

        var result: [WorstDivergence] = []
        for (_, key) in ranked {
            let group = groups[key]!
            let example = group.first
            let comparison = example.comparisonID.flatMap { comparisonsByID[$0] }
            let event = try await store.events(in: example.sequence...example.sequence).first
            var rangeEvents: [MirroredEvent] = []
            if example.blame == .range, let comparison, comparison.lastSequence > comparison.firstSequence {
                let upper = min(comparison.lastSequence, comparison.firstSequence + 9)
                rangeEvents = try await store.events(in: comparison.firstSequence...upper)
            }
            result.append(WorstDivergence(
                path: key.path, classification: key.cls, knownID: key.knownID, occurrences: group.count,
                firstSeen: group.firstSeen, lastSeen: group.lastSeen, example: example, comparison: comparison,
                event: event, rangeEvents: rangeEvents))
        }
        return result
    }

    static func timeline(_ comparisons: [ComparisonEntry], gaps: [MirrorGap], buckets: Int) -> Timeline {
        guard let start = comparisons.map(\.time).min(), let end = comparisons.map(\.time).max() else {
            return Timeline(gapTimes: gaps.map(\.time))
        }
        let span = end.timeIntervalSince(start)
        let count = span > 0 ? max(1, min(buckets, comparisons.count)) : 1
        let width = span > 0 ? span / Double(count) : 0
        var result = (0..<count).map { i in
            Timeline.Bucket(
                start: start.addingTimeInterval(width * Double(i)),
                end: i == count - 1 ? end : start.addingTimeInterval(width * Double(i + 1)))
        }
        for c in comparisons {
            let index = width > 0 ? min(count - 1, Int(c.time.timeIntervalSince(start) / width)) : 0
            switch c.outcome {
            case .clean: result[index].clean += 1
            case .accepted: result[index].accepted += 1
            case .unexpected: result[index].unexpected += 1
            case .unverified: result[index].unverified += 1
            }
        }
        return Timeline(start: start, end: end, buckets: result, gapTimes: gaps.map(\.time))
    }
}
