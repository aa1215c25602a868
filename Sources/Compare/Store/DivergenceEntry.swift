import JSONValue

/// One divergence found by a comparison.
public struct DivergenceEntry: Sendable, Equatable {
    /// How the rules judged it.
    public enum Class: String, Sendable, Hashable, CaseIterable {
        /// No rule explains it.
        case unexpected
        /// A known-divergence rule accepts it (``knownID``, ``reason``).
        case accepted
    }

    /// What was compared.
    public enum Source: String, Sendable, Hashable, CaseIterable {
        /// The two state documents.
        case state
        /// The messages one client session received (``sessionID``).
        case stream
        /// The two acks of one event.
        case ack
    }

    /// How ``sequence`` was chosen.
    public enum Blame: String, Sendable, Hashable, CaseIterable {
        /// The event that caused it: the only event compared, or the earliest
        /// event of a range whose name and payload can write that path (or
        /// whose context a known rule needs).
        case event
        /// Several events were compared together and none of them can be
        /// told apart: ``sequence`` is the range's first event.
        case range
        /// No event: found by a reconciliation (``sequence`` is the last event before it).
        case none
    }

    /// Assigned by the store.
    public var id: Int64?
    /// The comparison it belongs to (assigned by the store).
    public var comparisonID: Int64?
    /// The event it is attributed to (see ``blame``).
    public var sequence: Int64
    public var blame: Blame
    public var source: Source
    /// The client session, for stream and ack divergences.
    public var sessionID: String?
    /// A JSON pointer into the state (`/player1/cp`); for messages
    /// `stream:NAME` or `stream:NAME/pointer/into/the/payload`, and `ack:EVENT...`.
    public var path: String
    /// `added`, `removed`, `changed`, `type_changed`; for messages also
    /// `missing` (the shadow did not send it), `extra` (only the shadow did), `reordered`.
    public var kind: String
    /// The values at ``path``; `nil` when absent on that side.
    public var primaryValue: JSONValue?
    public var shadowValue: JSONValue?
    public var classification: Class
    public var knownID: String?
    public var reason: String?
    /// Message positions, how many sessions saw the same divergence, ...
    public var detail: String?

    public init(
        id: Int64? = nil, comparisonID: Int64? = nil, sequence: Int64, blame: Blame = .event,
        source: Source = .state, sessionID: String? = nil, path: String, kind: String, primaryValue: JSONValue?,
        shadowValue: JSONValue?, classification: Class, knownID: String? = nil, reason: String? = nil,
        detail: String? = nil
    ) {
        self.id = id
        self.comparisonID = comparisonID
        self.sequence = sequence
        self.blame = blame
        self.source = source
        self.sessionID = sessionID
        self.path = path
        self.kind = kind
        self.primaryValue = primaryValue
        self.shadowValue = shadowValue
        self.classification = classification
        self.knownID = knownID
        self.reason = reason
        self.detail = detail
    }
}
