import Foundation
import JSONValue
internal import GRDB

/// The state engine's durable store: the current game state, history of its
/// scores, timer and settings, and an append-only journal of accepted events.
///
/// Every write is one SQLite transaction: an event is journaled, the current
/// state replaced and the history rows of the parts that changed appended
/// together, or not at all.
///
/// ## Durability
///
/// File stores are a `DatabasePool` in WAL mode with `synchronous = FULL`:
/// each commit fsyncs the WAL before returning. `NORMAL` (GRDB's WAL default)
/// already survives `kill -9` (committed pages are in the OS cache and the
/// WAL is replayed on the next open), but on power loss it may drop the last
/// transactions, because the WAL is only synced at checkpoints. The engine
/// acknowledges and broadcasts an event after `commit` returns, and a
/// Raspberry Pi on an SD card loses power far more often than a server, so an
/// acknowledged score must survive a pulled plug. The price, one fsync per
/// transaction, is a few milliseconds at human event rates; under load the
/// engine commits the events that arrived during the previous fsync together
/// (``commit(_:)-([(event:resultingState:)])``, one transaction for the group). (An SD card that
/// acknowledges a flush it has not done can still lose data; no pragma fixes
/// that.) An engine that is only a shadow may relax this (``setFullDurability(_:)``).
///
/// ## Game id
///
/// `game_id` starts at 0 and is incremented by every committed event named
/// ``newGameEvent`` (`start_new_game`). ``replaceState(_:reason:at:)`` keeps it.
///
/// ## Journal size
///
/// Every entry stores the event and the SHA-256 of the resulting state
/// (``StateHash``); the full state (~1 KB) is stored only on snapshot entries
/// (every ``StorageConfiguration/journalSnapshotInterval`` sequences, every
/// control entry and every new game). The current state is always complete
/// in `game_state`; ``prune(olderThan:)`` bounds the rest.
public struct EngineStore: Sendable {
    /// The file name inside the engine's data directory.
    public static let fileName = "engine.sqlite"
    /// The event whose commit starts a new game id.
    public static let newGameEvent = "start_new_game"
    /// The control event written by ``replaceState(_:reason:at:)``.
    public static let replaceStateEvent = "replace_state"

    private let writer: any DatabaseWriter
    private let lifecycle = StoreLifecycle()
    private let configuration: StorageConfiguration

    /// Opens (creating and migrating when needed) the store at `path`.
    public init(path: String, configuration: StorageConfiguration = .init()) throws(StorageError) {
        try self.init(writer: SQLiteFile.openPool(path: path, configuration: configuration), configuration: configuration)
    }

    /// Opens `directory/engine.sqlite`, creating the directory when needed.
    public static func open(inDirectory directory: String, configuration: StorageConfiguration = .init())
        throws(StorageError) -> EngineStore
    {
        try EngineStore(path: (directory as NSString).appendingPathComponent(fileName), configuration: configuration)
    }

    /// A fresh in-memory store (tests): same schema, nothing durable.
    public static func inMemory(configuration: StorageConfiguration = .init()) throws(StorageError) -> EngineStore {
        try EngineStore(writer: SQLiteFile.openInMemory(configuration: configuration), configuration: configuration)
    }

    init(writer: any DatabaseWriter, configuration: StorageConfiguration) throws(StorageError) {
        self.writer = writer
        self.configuration = configuration
        try storageOperationSync { try Self.migrator.migrate(writer) }
    }

    /// For tests in this package: the underlying connection.
    var databaseWriter: any DatabaseWriter { writer }

    /// The schema. Migrations are named, never edited once shipped, and
    /// never reference app types.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("engine v1: journal, game_state, history") { db in
            try db.create(table: "journal") { t in
                t.primaryKey("sequence", .integer)
                t.column("time", .double).notNull()
                t.column("kind", .text).notNull().check(sql: "kind IN ('event', 'control')")
                t.column("event", .text).notNull()
                t.column("args", .text).notNull()
                t.column("session_id", .text)
                t.column("client", .text)
                t.column("game_id", .integer).notNull()
                t.column("state_hash", .text).notNull()
                t.column("state", .text)
            }
            try db.create(index: "journal_on_time", on: "journal", columns: ["time"])

            try db.create(table: "game_state") { t in
                t.primaryKey("id", .integer).check(sql: "id = 1")
                t.column("game_id", .integer).notNull()
                t.column("phase", .text)
                t.column("current_player", .integer)
                t.column("current_round", .integer)
                t.column("scores", .text).notNull()
                t.column("timer", .text).notNull()
                t.column("settings", .text).notNull()
                t.column("document", .text).notNull()
                t.column("state_hash", .text).notNull()
                t.column("sequence", .integer).notNull()
                t.column("updated_at", .double).notNull()
            }

            for table in ["scores", "timers", "settings"] {
                try db.create(table: table) { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("sequence", .integer).notNull()
                    t.column("game_id", .integer).notNull()
                    t.column("time", .double).notNull()
                    t.column("value", .text).notNull()
                }
                try db.create(index: "\(table)_on_sequence", on: table, columns: ["sequence"])
                try db.create(index: "\(table)_on_time", on: table, columns: ["time"])
            }
        }
        return migrator
    }
}

// MARK: - Writes

extension EngineStore {
    /// Journals `event` and makes `resultingState` current, in one transaction.
    /// History rows are appended for the parts (``StateParts``) that changed.
    /// - Returns: the entry's sequence number.
    @discardableResult
    public func commit(_ event: JournalEntry, resultingState: JSONValue) async throws(StorageError) -> Int64 {
        let interval = configuration.journalSnapshotInterval
        return try await lifecycle.perform {
            try await writer.write { db in
                try Self.append(event, state: resultingState, snapshotInterval: interval, db)
            }
        }
    }

    /// Journals each event and makes its resulting state current, in order,
    /// all in one transaction: one fsync for the whole group (the engine's
    /// group commit). All or nothing.
    /// - Returns: the entries' sequence numbers, in order.
    public func commit(_ group: [(event: JournalEntry, resultingState: JSONValue)]) async throws(StorageError) -> [Int64] {
        guard !group.isEmpty else { return [] }
        let interval = configuration.journalSnapshotInterval
        return try await lifecycle.perform {
            try await writer.write { db in
                try group.map { try Self.append($0.event, state: $0.resultingState, snapshotInterval: interval, db) }
            }
        }
    }

    /// Loads `state` as the current state (a handoff from the legacy, a
    /// resync): journaled as a `control` entry named ``replaceStateEvent``
    /// with `[{"reason": reason}]` as arguments and the full state.
    @discardableResult
    public func replaceState(_ state: JSONValue, reason: String, at time: Date = Date()) async throws(StorageError)
        -> Int64
    {
        let entry = JournalEntry(time: time, event: Self.replaceStateEvent, args: [["reason": .string(reason)]], kind: .control)
        return try await commit(entry, resultingState: state)
    }

    private static func append(_ entry: JournalEntry, state: JSONValue, snapshotInterval: Int, _ db: Database) throws -> Int64 {
        var previousSequence: Int64 = 0
        var previousGameID: Int64 = 0
        var previousParts: [StatePart: String] = [:]
        if let row = try Row.fetchOne(db, sql: "SELECT sequence, game_id, scores, timer, settings FROM game_state WHERE id = 1") {
            let reader = RowReader(row, table: "game_state", key: "1")
            previousSequence = try reader.int64("sequence")
            previousGameID = try reader.int64("game_id")
            for part in StatePart.allCases {
                // A missing or unreadable part only means "changed".
                previousParts[part] = try? reader.string(part.column)
            }
        }
        let lastJournaled = try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM journal") ?? 0
        let sequence = max(previousSequence, lastJournaled) + 1
        let isNewGame = entry.kind == .event && entry.event == newGameEvent
        let gameID = isNewGame ? previousGameID + 1 : previousGameID
        let hash = StateHash.of(state)
        let document = state.storageText
        let isSnapshot = entry.kind == .control || isNewGame
            || snapshotInterval == 1 || (snapshotInterval > 0 && sequence % Int64(snapshotInterval) == 0)
        let time = entry.time.storageSeconds

        try db.execute(
            sql: """
                INSERT INTO journal (sequence, time, kind, event, args, session_id, client, game_id, state_hash, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                sequence, time, entry.kind.rawValue, entry.event, JSONValue.array(entry.args).storageText,
                entry.sessionID, entry.client, gameID, hash, isSnapshot ? document : nil,
            ])

        let parts = StateParts(extractingFrom: state)
        var partTexts: [StatePart: String] = [:]
        for part in StatePart.allCases {
            let text = part.value(in: parts).canonicalText
            partTexts[part] = text
            if previousParts[part] != text {
                try db.execute(
                    sql: "INSERT INTO \(part.table) (sequence, game_id, time, value) VALUES (?, ?, ?, ?)",
                    arguments: [sequence, gameID, time, text])
            }
        }

        let phase = state["game_phase"]?.stringValue
        let currentPlayer = state["active_player_id"]?.intValue
        let currentRound = state["current_round"]?.intValue
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO game_state
                    (id, game_id, phase, current_player, current_round, scores, timer, settings,
                     document, state_hash, sequence, updated_at)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                gameID, phase, currentPlayer, currentRound, partTexts[.scores], partTexts[.timer], partTexts[.settings],
                document, hash, sequence, time,
            ])
        return sequence
    }
}

// MARK: - Reads

extension EngineStore {
    /// The current state, or `nil` when nothing was ever committed.
    ///
    /// Throws ``StorageError/corruptValue(table:column:key:)`` when the stored
    /// document cannot be decoded and ``StorageError/stateHashMismatch(sequence:)``
    /// when it decodes to something other than what was committed.
    public func loadCurrent() async throws(StorageError) -> StoredState? {
        try await lifecycle.perform {
            try await writer.read { db -> StoredState? in
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT document, sequence, game_id, state_hash, updated_at FROM game_state WHERE id = 1")
                else { return nil }
                let reader = RowReader(row, table: "game_state", key: "1")
                let state = StoredState(
                    document: try reader.json("document"),
                    sequence: try reader.int64("sequence"),
                    gameID: try reader.int64("game_id"),
                    stateHash: try reader.string("state_hash"),
                    updatedAt: try reader.date("updated_at"))
                let actual = StateHash.of(state.document)
                guard actual == state.stateHash else {
                    throw StorageError.stateHashMismatch(
                        sequence: state.sequence, detail: "stored \(state.stateHash), document hashes to \(actual)")
                }
                return state
            }
        }
    }

    /// Journal entries with a sequence greater than `sequence`, oldest first, at most `limit`.
    public func journal(after sequence: Int64, limit: Int = 1000) async throws(StorageError) -> [JournalEntry] {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT sequence, time, kind, event, args, session_id, client, game_id, state_hash, state
                        FROM journal WHERE sequence > ? ORDER BY sequence LIMIT ?
                        """,
                    arguments: [sequence, max(0, limit)])
                return try rows.map { row in
                    let key = (row["sequence"] as Int64?).map(String.init) ?? "?"
                    let reader = RowReader(row, table: "journal", key: key)
                    var entry = JournalEntry(
                        time: try reader.date("time"),
                        event: try reader.string("event"),
                        args: try reader.jsonArray("args"),
                        sessionID: try reader.optionalString("session_id"),
                        client: try reader.optionalString("client"),
                        kind: try reader.enumeration("kind", as: JournalEntry.Kind.self))
                    entry.sequence = try reader.int64("sequence")
                    entry.gameID = try reader.int64("game_id")
                    entry.stateHash = try reader.string("state_hash")
                    entry.state = try reader.optionalJSON("state")
                    return entry
                }
            }
        }
    }

    /// History rows of one part with a sequence greater than `sequence`, oldest first.
    public func history(of part: StatePart, after sequence: Int64 = 0, limit: Int = 1000) async throws(StorageError)
        -> [PartChange]
    {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, sequence, game_id, time, value FROM \(part.table)
                        WHERE sequence > ? ORDER BY sequence, id LIMIT ?
                        """,
                    arguments: [sequence, max(0, limit)])
                return try rows.map { row in
                    let key = (row["id"] as Int64?).map(String.init) ?? "?"
                    let reader = RowReader(row, table: part.table, key: key)
                    return PartChange(
                        part: part, sequence: try reader.int64("sequence"), gameID: try reader.int64("game_id"),
                        time: try reader.date("time"), value: try reader.json("value"))
                }
            }
        }
    }
}

// MARK: - Maintenance

extension EngineStore {
    /// Deletes journal and history rows older than `date`. The current state is kept.
    @discardableResult
    public func prune(olderThan date: Date) async throws(StorageError) -> PruneResult {
        try await lifecycle.perform {
            try await writer.write { db in
                var result = PruneResult()
                for table in ["journal", "scores", "timers", "settings"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE time < ?", arguments: [date.storageSeconds])
                    result.deleted[table] = db.changesCount
                }
                return result
            }
        }
    }

    /// The pragmas in force on the writing connection (for startup logs and tests).
    public func durabilitySettings() async throws(StorageError) -> DurabilitySettings {
        try await SQLiteFile.durabilitySettings(writer, lifecycle)
    }

    /// Whether each commit waits for the disk (`synchronous = FULL`, the default: an acknowledged
    /// event survives power loss) or not (`NORMAL`: it survives a crash of the process, but the
    /// last commits may be lost on power loss). `NORMAL` is for an engine that is a shadow, whose
    /// state is reloaded from the primary when it is behind; going back to `FULL` makes the next
    /// commit sync everything written before it.
    public func setFullDurability(_ full: Bool) async throws(StorageError) {
        try await SQLiteFile.setSynchronous(full: full, writer, lifecycle)
    }

    /// Copies the WAL into the database file and truncates it (`PRAGMA wal_checkpoint(TRUNCATE)`).
    public func checkpoint() async throws(StorageError) {
        try await SQLiteFile.checkpoint(writer, lifecycle)
    }

    /// Checkpoints and closes the connections; later calls fail. Calling it twice is harmless.
    public func close() async throws(StorageError) {
        try await SQLiteFile.close(writer, lifecycle)
    }
}
