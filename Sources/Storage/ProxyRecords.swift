import Foundation
import JSONValue

/// Which server a role is played by.
public enum Backend: String, Sendable, CaseIterable {
    case legacy
    case engine

    /// The other server.
    public var other: Backend { self == .legacy ? .engine : .legacy }
}

/// The durable primary/shadow assignment.
public struct Roles: Sendable, Equatable {
    /// The server whose answers reach the clients.
    public var primary: Backend
    /// The server that receives the mirrored copy.
    public var shadow: Backend { primary.other }

    public init(primary: Backend) { self.primary = primary }

    /// Before any switchover: the legacy serves, the engine shadows.
    public static let initial = Roles(primary: .legacy)
}

/// One recorded change of roles.
public struct RoleChange: Sendable, Equatable {
    public var id: Int64?
    public var time: Date
    public var previous: Backend
    public var primary: Backend
    public var reason: String

    public init(id: Int64? = nil, time: Date, previous: Backend, primary: Backend, reason: String) {
        self.id = id
        self.time = time
        self.previous = previous
        self.primary = primary
        self.reason = reason
    }
}

/// A client event as mirrored by the proxy.
public struct EventRecord: Sendable, Equatable {
    /// The proxy's global sequence number (assigned in primary-forwarding order).
    public var sequence: Int64
    public var sessionID: String
    /// The kind of client (`pi`, `phone`, `observer`, `unknown`, ...).
    public var clientRole: String
    public var event: String
    /// The event's arguments exactly as received (`[]` for none).
    public var args: [JSONValue]
    /// When the proxy received the frame from the client.
    public var receivedAt: Date
    public var sentToPrimaryAt: Date?
    public var sentToShadowAt: Date?

    public init(
        sequence: Int64, sessionID: String, clientRole: String, event: String, args: [JSONValue],
        receivedAt: Date, sentToPrimaryAt: Date? = nil, sentToShadowAt: Date? = nil
    ) {
        self.sequence = sequence
        self.sessionID = sessionID
        self.clientRole = clientRole
        self.event = event
        self.args = args
        self.receivedAt = receivedAt
        self.sentToPrimaryAt = sentToPrimaryAt
        self.sentToShadowAt = sentToShadowAt
    }
}

/// One comparator checkpoint: events `firstSequence...lastSequence` judged together.
public struct ComparisonRecord: Sendable, Equatable {
    /// Assigned by the store.
    public var id: Int64?
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var time: Date
    /// Paths (or messages) that compared equal, that differed unexpectedly, and
    /// that differed in a way a rule accepts.
    public var cleanCount: Int
    public var unexpectedCount: Int
    public var acceptedCount: Int
    /// How long the comparison took.
    public var duration: Duration
    /// Whether the shadow was resynced from the primary afterwards.
    public var resynced: Bool
    /// What triggered it, as the comparator names it (`event`, `range`,
    /// `reconciliation`, `resync`).
    public var kind: String
    /// Whether it is the first comparison after a mirror-queue gap.
    public var afterGap: Bool
    /// How many of the primary's values were adopted into the shadow first.
    public var adoptedCount: Int
    /// Differences that a rule ignored, and that were within a tolerance.
    public var ignoredCount: Int
    public var toleratedCount: Int
    /// Whether the compared events include the start of a game.
    public var startsGame: Bool
    /// The primary's game phase at the checkpoint, when known.
    public var gamePhase: String?
    /// Why the comparison could not be made (a state read failed), if so.
    public var error: String?

    public init(
        id: Int64? = nil, firstSequence: Int64, lastSequence: Int64, time: Date, cleanCount: Int = 0,
        unexpectedCount: Int = 0, acceptedCount: Int = 0, duration: Duration = .zero, resynced: Bool = false,
        kind: String = "event", afterGap: Bool = false, adoptedCount: Int = 0, ignoredCount: Int = 0,
        toleratedCount: Int = 0, startsGame: Bool = false, gamePhase: String? = nil, error: String? = nil
    ) {
        self.id = id
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.time = time
        self.cleanCount = cleanCount
        self.unexpectedCount = unexpectedCount
        self.acceptedCount = acceptedCount
        self.duration = duration
        self.resynced = resynced
        self.kind = kind
        self.afterGap = afterGap
        self.adoptedCount = adoptedCount
        self.ignoredCount = ignoredCount
        self.toleratedCount = toleratedCount
        self.startsGame = startsGame
        self.gamePhase = gamePhase
        self.error = error
    }

    /// A comparison of a single event.
    public init(sequence: Int64, time: Date, cleanCount: Int = 0, unexpectedCount: Int = 0, acceptedCount: Int = 0,
                duration: Duration = .zero, resynced: Bool = false) {
        self.init(firstSequence: sequence, lastSequence: sequence, time: time, cleanCount: cleanCount,
                  unexpectedCount: unexpectedCount, acceptedCount: acceptedCount, duration: duration, resynced: resynced)
    }
}

/// How a divergence was judged.
public enum DivergenceClass: String, Sendable, CaseIterable {
    /// No rule explains it.
    case unexpected
    /// A known-divergence rule accepts it.
    case accepted
}

/// One difference found by a comparison.
public struct DivergenceRecord: Sendable, Equatable {
    /// Assigned by the store.
    public var id: Int64?
    /// Assigned by ``ProxyStore/recordComparison(_:divergences:)``.
    public var comparisonID: Int64?
    /// The event the divergence is attributed to.
    public var sequence: Int64
    /// Where (a JSON pointer, or a message stream label).
    public var path: String
    /// The diff kind (`changed`, `added`, `removed`, `type`, ...), as the comparator names it.
    public var kind: String
    /// The primary's and shadow's values; `nil` when absent on that side.
    public var primaryValue: JSONValue?
    public var shadowValue: JSONValue?
    public var classification: DivergenceClass
    /// The known-divergence rule id that accepted it.
    public var knownID: String?
    public var reason: String?
    /// What was compared: `state`, `stream` (a client's messages) or `ack`.
    public var source: String
    /// The client session of a stream or ack divergence.
    public var sessionID: String?
    /// How `sequence` was chosen: `event` (this event), `range` (one of the
    /// events compared together, which one unknown), `none` (a reconciliation).
    public var blame: String
    /// Extra detail (message positions, how many sessions saw it).
    public var detail: String?

    public init(
        id: Int64? = nil, comparisonID: Int64? = nil, sequence: Int64, path: String, kind: String,
        primaryValue: JSONValue?, shadowValue: JSONValue?, classification: DivergenceClass,
        knownID: String? = nil, reason: String? = nil, source: String = "state", sessionID: String? = nil,
        blame: String = "event", detail: String? = nil
    ) {
        self.source = source
        self.sessionID = sessionID
        self.blame = blame
        self.detail = detail
        self.id = id
        self.comparisonID = comparisonID
        self.sequence = sequence
        self.path = path
        self.kind = kind
        self.primaryValue = primaryValue
        self.shadowValue = shadowValue
        self.classification = classification
        self.knownID = knownID
        self.reason = reason
    }
}

/// An operator action (switchover, rollback, resync, prune, ...).
public struct AdminLogRecord: Sendable, Equatable {
    public var id: Int64?
    public var time: Date
    public var action: String
    /// Who asked (`cli`, an address, `auto`).
    public var actor: String
    /// `ok`, `refused`, `failed`, `timeout`, ...
    public var outcome: String
    public var detail: String?

    public init(id: Int64? = nil, time: Date, action: String, actor: String, outcome: String, detail: String? = nil) {
        self.id = id
        self.time = time
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.detail = detail
    }
}

/// Mirror queue overflow: events `fromSequence...toSequence` were not mirrored.
public struct GapRecord: Sendable, Equatable {
    public var id: Int64?
    public var time: Date
    public var fromSequence: Int64
    public var toSequence: Int64
    /// How many events were dropped (the range may contain events of other kinds).
    public var count: Int

    public init(id: Int64? = nil, time: Date, fromSequence: Int64, toSequence: Int64, count: Int) {
        self.id = id
        self.time = time
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.count = count
    }
}

/// Totals for a report window.
public struct ProxySummary: Sendable, Equatable {
    public var events: Int = 0
    public var firstSequence: Int64?
    public var lastSequence: Int64?
    public var comparisons: Int = 0
    /// Sums of the comparisons' counts.
    public var cleanCount: Int = 0
    public var unexpectedCount: Int = 0
    public var acceptedCount: Int = 0
    /// Comparisons with at least one unexpected divergence.
    public var divergentComparisons: Int = 0
    /// Divergence rows by class.
    public var unexpectedDivergences: Int = 0
    public var acceptedDivergences: Int = 0
    public var gaps: Int = 0
    public var droppedEvents: Int = 0
    public var lastComparisonAt: Date?
    public var roles: Roles = .initial

    public init() {}
}

/// Divergence counts grouped by a key (a path or an event name), most frequent first.
public struct DivergenceCount: Sendable, Equatable {
    public var key: String
    public var unexpected: Int
    public var accepted: Int

    public var total: Int { unexpected + accepted }

    public init(key: String, unexpected: Int, accepted: Int) {
        self.key = key
        self.unexpected = unexpected
        self.accepted = accepted
    }
}
