import Foundation

/// One checkpoint as the comparator records it: the events
/// `firstSequence...lastSequence` judged together (or, for a reconciliation,
/// the state after `lastSequence`).
public struct ComparisonEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// One event, compared once both sides processed it.
        case event
        /// Several events closer together than the settle window, compared as one.
        case range
        /// The periodic full comparison when no event explains a difference (drift).
        case reconciliation
        /// Not judged: the shadow was reloaded from the primary (after a gap,
        /// a failed comparison, the shadow coming back, or a postponed resync).
        case resync
    }

    /// Assigned by the store.
    public var id: Int64?
    public var kind: Kind
    public var firstSequence: Int64
    public var lastSequence: Int64
    /// When the comparison was made (wall clock).
    public var time: Date
    /// How long reading, adopting, diffing and recording took.
    public var duration: Duration
    /// Checks that matched: the state, each aligned message and each matching ack.
    public var cleanCount: Int
    /// Divergences recorded as unexpected, and differences accepted by a known rule.
    public var unexpectedCount: Int
    public var acceptedCount: Int
    /// Differences under an `ignore` rule (and messages under `ignore_events`),
    /// and within a tolerance: counted, never listed.
    public var ignoredCount: Int
    public var toleratedCount: Int
    /// The primary's values adopted into the shadow before the diff.
    public var adoptedCount: Int
    /// Whether the shadow was reloaded from the primary afterwards.
    public var resynced: Bool
    /// The first checkpoint after mirrored events were lost.
    public var afterGap: Bool
    /// The compared events include the start of a game (`start_new_game`).
    public var startsGame: Bool
    /// The primary's game phase at the checkpoint (`/game_phase`), when read.
    public var phase: String?
    /// Why the comparison could not be made, when it could not.
    public var error: String?

    public init(
        id: Int64? = nil, kind: Kind, firstSequence: Int64, lastSequence: Int64, time: Date,
        duration: Duration = .zero, cleanCount: Int = 0, unexpectedCount: Int = 0, acceptedCount: Int = 0,
        ignoredCount: Int = 0, toleratedCount: Int = 0, adoptedCount: Int = 0, resynced: Bool = false,
        afterGap: Bool = false, startsGame: Bool = false, phase: String? = nil, error: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.time = time
        self.duration = duration
        self.cleanCount = cleanCount
        self.unexpectedCount = unexpectedCount
        self.acceptedCount = acceptedCount
        self.ignoredCount = ignoredCount
        self.toleratedCount = toleratedCount
        self.adoptedCount = adoptedCount
        self.resynced = resynced
        self.afterGap = afterGap
        self.startsGame = startsGame
        self.phase = phase
        self.error = error
    }

    /// How the checkpoint came out, for readiness and the timeline.
    public var outcome: ComparisonOutcome {
        if error != nil || kind == .resync { return .unverified }
        if unexpectedCount > 0 { return .unexpected }
        return acceptedCount > 0 ? .accepted : .clean
    }

    /// `#12 event 7`, `#13 events 8...11`, `#14 reconciliation after 11`.
    public var label: String {
        let id = self.id.map { "#\($0) " } ?? ""
        switch kind {
        case .event: return "\(id)event \(firstSequence)"
        case .range: return "\(id)events \(firstSequence)...\(lastSequence)"
        case .reconciliation: return "\(id)reconciliation after \(lastSequence)"
        case .resync: return firstSequence == lastSequence ? "\(id)resync at \(lastSequence)"
            : "\(id)resync over \(firstSequence)...\(lastSequence)"
        }
    }
}

/// The outcome of one comparison.
public enum ComparisonOutcome: String, Sendable, Hashable, CaseIterable {
    /// Nothing differed beyond the ignore and tolerance rules.
    case clean
    /// Only differences a known rule accepts.
    case accepted
    /// At least one unexpected divergence.
    case unexpected
    /// Not judged (a resync, or a state could not be read).
    case unverified

    /// Whether it counts as clean for readiness.
    public var isClean: Bool { self == .clean || self == .accepted }
}
