import Foundation
import JSONValue

/// One accepted event in the engine's append-only journal.
///
/// Build one with ``init(time:event:args:sessionID:client:kind:)`` and hand it
/// to ``EngineStore/commit(_:resultingState:)``; the store fills in
/// ``sequence``, ``gameID``, ``stateHash`` and, on snapshot entries,
/// ``state``. Values of those fields passed to `commit` are ignored.
public struct JournalEntry: Sendable, Equatable {
    /// What produced the entry.
    public enum Kind: String, Sendable {
        /// A client's Socket.IO event.
        case event
        /// An operator or proxy action through the control API (state load, resync).
        case control
    }

    /// Assigned by the store: 1, 2, 3, ... never reused, even after pruning.
    public var sequence: Int64?
    public var time: Date
    public var kind: Kind
    /// The Socket.IO event name (`update_score`, ...) or the control action (`replace_state`).
    public var event: String
    /// The event's arguments exactly as received: `[]` for none, `[null]` for an explicit null.
    public var args: [JSONValue]
    /// The client's session id (Socket.IO sid or proxy session), when known.
    public var sessionID: String?
    /// A free-form client label (role such as `pi`/`phone`, or an address).
    public var client: String?
    /// Assigned by the store: the game the entry belongs to (see ``EngineStore``).
    public var gameID: Int64?
    /// Assigned by the store: ``StateHash`` of the state after the entry.
    public var stateHash: String?
    /// The full state after the entry, on snapshot entries only
    /// (see ``StorageConfiguration/journalSnapshotInterval``).
    public var state: JSONValue?

    public init(
        time: Date = Date(),
        event: String,
        args: [JSONValue] = [],
        sessionID: String? = nil,
        client: String? = nil,
        kind: Kind = .event
    ) {
        self.time = time
        self.kind = kind
        self.event = event
        self.args = args
        self.sessionID = sessionID
        self.client = client
    }
}

/// The engine's current state as last committed.
public struct StoredState: Sendable, Equatable {
    /// The full state document.
    public var document: JSONValue
    /// The journal sequence of the last applied entry.
    public var sequence: Int64
    /// Incremented by every committed `start_new_game`; 0 before the first.
    public var gameID: Int64
    /// ``StateHash`` of ``document`` (verified on load).
    public var stateHash: String
    /// Time of the last applied entry.
    public var updatedAt: Date

    public init(document: JSONValue, sequence: Int64, gameID: Int64, stateHash: String, updatedAt: Date) {
        self.document = document
        self.sequence = sequence
        self.gameID = gameID
        self.stateHash = stateHash
        self.updatedAt = updatedAt
    }
}

/// How many rows a retention pass removed, per table.
public struct PruneResult: Sendable, Equatable {
    public var deleted: [String: Int]

    public init(deleted: [String: Int] = [:]) { self.deleted = deleted }

    public var total: Int { deleted.values.reduce(0, +) }

    public subscript(table: String) -> Int { deleted[table] ?? 0 }
}
