import Foundation
import JSONValue

/// A divergence for the status page, with the event it is attributed to.
public struct LatestDivergence: Sendable, Equatable {
    public var divergence: DivergenceEntry
    /// The attributed event, when it was one the comparator still had.
    public var event: MirroredEvent?
    /// When the comparison was made.
    public var time: Date

    public init(divergence: DivergenceEntry, event: MirroredEvent?, time: Date) {
        self.divergence = divergence
        self.event = event
        self.time = time
    }
}

/// What the comparator has seen since it started: for `/status`, the status
/// page and `statetee status`.
public struct ComparatorStatus: Sendable, Equatable {
    public var readiness: Readiness
    public var eventsMirrored = 0
    public var comparisons = 0
    /// Comparisons by outcome.
    public var cleanComparisons = 0
    public var acceptedComparisons = 0
    public var divergentComparisons = 0
    public var unverifiedComparisons = 0
    public var unexpectedDivergences = 0
    public var acceptedDivergences = 0
    public var gaps = 0
    public var resyncs = 0
    public var adoptedValues = 0
    /// State reads, shadow writes and store writes that failed.
    public var failures = 0
    /// Events mirrored but not compared yet.
    public var pendingEvents = 0
    /// The highest mirrored sequence seen.
    public var lastSequence: Int64 = 0
    /// The newest event a recorded comparison covered (judged or resynced).
    public var lastComparedSequence: Int64 = 0
    public var lastComparisonAt: Date?
    public var shadowReachable = true
    /// The newest first.
    public var latestDivergences: [LatestDivergence] = []

    public init(readiness: Readiness) {
        self.readiness = readiness
    }

    /// Stable keys, for `/status` and scripts.
    public var json: JSONValue {
        var o: JSONObject = [:]
        o["readiness"] = readiness.json
        o["events_mirrored"] = .int(eventsMirrored)
        o["comparisons"] = .int(comparisons)
        o["clean_comparisons"] = .int(cleanComparisons)
        o["accepted_comparisons"] = .int(acceptedComparisons)
        o["divergent_comparisons"] = .int(divergentComparisons)
        o["unverified_comparisons"] = .int(unverifiedComparisons)
        o["unexpected_divergences"] = .int(unexpectedDivergences)
        o["accepted_divergences"] = .int(acceptedDivergences)
        o["gaps"] = .int(gaps)
        o["resyncs"] = .int(resyncs)
        o["adopted_values"] = .int(adoptedValues)
        o["failures"] = .int(failures)
        o["pending_events"] = .int(pendingEvents)
        o["last_sequence"] = .int(Int(lastSequence))
        o["last_compared_sequence"] = .int(Int(lastComparedSequence))
        o["last_comparison_at"] = lastComparisonAt.map { .string(ReportFormatting.isoTime($0)) } ?? .null
        o["shadow_reachable"] = .bool(shadowReachable)
        o["latest_divergences"] = .array(latestDivergences.map { latest in
            var d = ReportFormatting.divergenceJSON(latest.divergence)
            if case .object(var object) = d {
                object["time"] = .string(ReportFormatting.isoTime(latest.time))
                object["event"] = latest.event.map(ReportFormatting.eventJSON) ?? .null
                d = .object(object)
            }
            return d
        })
        return .object(o)
    }
}
