import Foundation
import JSONValue
internal import GRDB

/// The tee proxy's and comparator's durable store: mirrored events,
/// comparisons and their divergences, the primary/shadow roles, the admin
/// log and mirror-queue gaps.
///
/// Same durability as ``EngineStore``: WAL, `synchronous = FULL`, so a role
/// flip that ``setRoles(_:reason:at:)`` returned from is on disk, and a
/// restart reads it back before accepting clients. Event appends are batched
/// (one transaction, one fsync per batch).
public struct ProxyStore: Sendable {
    /// The file name inside the proxy's data directory.
    public static let fileName = "proxy.sqlite"

    private let writer: any DatabaseWriter
    private let lifecycle = StoreLifecycle()

    /// Opens (creating and migrating when needed) the store at `path`.
    public init(path: String, configuration: StorageConfiguration = .init()) throws(StorageError) {
        try self.init(writer: SQLiteFile.openPool(path: path, configuration: configuration))
    }

    /// Opens `directory/proxy.sqlite`, creating the directory when needed.
    public static func open(inDirectory directory: String, configuration: StorageConfiguration = .init())
        throws(StorageError) -> ProxyStore
    {
        try ProxyStore(path: (directory as NSString).appendingPathComponent(fileName), configuration: configuration)
    }

    /// A fresh in-memory store (tests): same schema, nothing durable.
    public static func inMemory(configuration: StorageConfiguration = .init()) throws(StorageError) -> ProxyStore {
        try ProxyStore(writer: SQLiteFile.openInMemory(configuration: configuration))
    }

    init(writer: any DatabaseWriter) throws(StorageError) {
        self.writer = writer
        try storageOperationSync { try Self.migrator.migrate(writer) }
    }

    /// For tests in this package: the underlying connection.
    var databaseWriter: any DatabaseWriter { writer }

    /// The schema. Migrations are named, never edited once shipped, and
    /// never reference app types.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("proxy v1: events, comparisons, divergences, roles, admin_log, gaps") { db in
            try db.create(table: "events") { t in
                t.primaryKey("sequence", .integer)
                t.column("session_id", .text).notNull()
                t.column("client_role", .text).notNull()
                t.column("event", .text).notNull()
                t.column("args", .text).notNull()
                t.column("received_at", .double).notNull()
                t.column("sent_primary_at", .double)
                t.column("sent_shadow_at", .double)
            }
            try db.create(index: "events_on_received_at", on: "events", columns: ["received_at"])

            try db.create(table: "comparisons") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("first_sequence", .integer).notNull()
                t.column("last_sequence", .integer).notNull()
                t.column("time", .double).notNull()
                t.column("clean_count", .integer).notNull()
                t.column("unexpected_count", .integer).notNull()
                t.column("accepted_count", .integer).notNull()
                t.column("duration", .double).notNull()
                t.column("resynced", .boolean).notNull()
            }
            try db.create(index: "comparisons_on_time", on: "comparisons", columns: ["time"])

            try db.create(table: "divergences") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("comparison_id", .integer).notNull().indexed()
                    .references("comparisons", onDelete: .cascade)
                t.column("sequence", .integer).notNull()
                t.column("path", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("primary_value", .text)
                t.column("shadow_value", .text)
                t.column("class", .text).notNull().check(sql: "class IN ('unexpected', 'accepted')")
                t.column("known_id", .text)
                t.column("reason", .text)
            }
            try db.create(index: "divergences_on_sequence", on: "divergences", columns: ["sequence"])
            try db.create(index: "divergences_on_path", on: "divergences", columns: ["path"])

            try db.create(table: "roles") { t in
                t.primaryKey("id", .integer).check(sql: "id = 1")
                t.column("primary_backend", .text).notNull().check(sql: "primary_backend IN ('legacy', 'engine')")
                t.column("updated_at", .double).notNull()
                t.column("reason", .text).notNull()
            }
            try db.create(table: "role_changes") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull()
                t.column("previous_backend", .text).notNull()
                t.column("primary_backend", .text).notNull()
                t.column("reason", .text).notNull()
            }

            try db.create(table: "admin_log") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull()
                t.column("action", .text).notNull()
                t.column("actor", .text).notNull()
                t.column("outcome", .text).notNull()
                t.column("detail", .text)
            }
            try db.create(index: "admin_log_on_time", on: "admin_log", columns: ["time"])

            try db.create(table: "gaps") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("time", .double).notNull()
                t.column("from_sequence", .integer).notNull()
                t.column("to_sequence", .integer).notNull()
                t.column("count", .integer).notNull()
            }
            try db.create(index: "gaps_on_time", on: "gaps", columns: ["time"])
        }
        migrator.registerMigration("proxy v2: comparator details of comparisons and divergences") { db in
            try db.alter(table: "comparisons") { t in
                t.add(column: "kind", .text).notNull().defaults(to: "event")
                t.add(column: "after_gap", .boolean).notNull().defaults(to: false)
                t.add(column: "adopted_count", .integer).notNull().defaults(to: 0)
                t.add(column: "ignored_count", .integer).notNull().defaults(to: 0)
                t.add(column: "tolerated_count", .integer).notNull().defaults(to: 0)
                t.add(column: "starts_game", .boolean).notNull().defaults(to: false)
                t.add(column: "game_phase", .text)
                t.add(column: "error", .text)
            }
            try db.alter(table: "divergences") { t in
                t.add(column: "source", .text).notNull().defaults(to: "state")
                t.add(column: "session_id", .text)
                t.add(column: "blame", .text).notNull().defaults(to: "event")
                t.add(column: "detail", .text)
            }
        }
        return migrator
    }
}

// MARK: - Mirrored events

extension ProxyStore {
    /// Appends a batch of mirrored events in one transaction. A sequence that
    /// is already stored fails the whole batch (sequences are never reused:
    /// resume from ``lastSequence()`` after a restart).
    public func appendEvents(_ events: [EventRecord]) async throws(StorageError) {
        guard !events.isEmpty else { return }
        try await lifecycle.perform {
            try await writer.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO events
                            (sequence, session_id, client_role, event, args, received_at, sent_primary_at, sent_shadow_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for e in events {
                    try statement.execute(arguments: [
                        e.sequence, e.sessionID, e.clientRole, e.event, JSONValue.array(e.args).storageText,
                        e.receivedAt.storageSeconds, e.sentToPrimaryAt?.storageSeconds, e.sentToShadowAt?.storageSeconds,
                    ])
                }
            }
        }
    }

    /// Records when the shadow leg was sent these events (known after the append).
    public func markSentToShadow(_ sequences: [Int64], at time: Date) async throws(StorageError) {
        guard !sequences.isEmpty else { return }
        try await lifecycle.perform {
            try await writer.write { db in
                let statement = try db.cachedStatement(sql: "UPDATE events SET sent_shadow_at = ? WHERE sequence = ?")
                for sequence in sequences {
                    try statement.execute(arguments: [time.storageSeconds, sequence])
                }
            }
        }
    }

    /// The highest stored event sequence, or `nil` when none was ever stored
    /// (pruned events still count: gaps and comparisons remember them).
    public func lastSequence() async throws(StorageError) -> Int64? {
        try await lifecycle.perform {
            try await writer.read { db in
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT MAX(s) FROM (
                            SELECT MAX(sequence) AS s FROM events
                            UNION ALL SELECT MAX(last_sequence) FROM comparisons
                            UNION ALL SELECT MAX(to_sequence) FROM gaps)
                        """)
            }
        }
    }

    /// Stored events with a sequence in `range`, in order.
    public func events(in range: ClosedRange<Int64>) async throws(StorageError) -> [EventRecord] {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM events WHERE sequence BETWEEN ? AND ? ORDER BY sequence",
                    arguments: [range.lowerBound, range.upperBound])
                return try rows.map { row in
                    let reader = RowReader(row, table: "events", key: Self.key(row, "sequence"))
                    return EventRecord(
                        sequence: try reader.int64("sequence"), sessionID: try reader.string("session_id"),
                        clientRole: try reader.string("client_role"), event: try reader.string("event"),
                        args: try reader.jsonArray("args"), receivedAt: try reader.date("received_at"),
                        sentToPrimaryAt: try reader.optionalDate("sent_primary_at"),
                        sentToShadowAt: try reader.optionalDate("sent_shadow_at"))
                }
            }
        }
    }
}

// MARK: - Comparisons

extension ProxyStore {
    /// Stores a comparison and its divergences in one transaction.
    /// - Returns: the comparison's id (also set as the divergences' `comparisonID`).
    @discardableResult
    public func recordComparison(_ comparison: ComparisonRecord, divergences: [DivergenceRecord])
        async throws(StorageError) -> Int64
    {
        try await lifecycle.perform {
            try await writer.write { db in
                let c = comparison
                try db.execute(
                    sql: """
                        INSERT INTO comparisons
                            (first_sequence, last_sequence, time, clean_count, unexpected_count, accepted_count,
                             duration, resynced, kind, after_gap, adopted_count, ignored_count, tolerated_count,
                             starts_game, game_phase, error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        c.firstSequence, c.lastSequence, c.time.storageSeconds, c.cleanCount, c.unexpectedCount,
                        c.acceptedCount, Self.seconds(c.duration), c.resynced, c.kind, c.afterGap, c.adoptedCount,
                        c.ignoredCount, c.toleratedCount, c.startsGame, c.gamePhase, c.error,
                    ])
                let id = db.lastInsertedRowID
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO divergences
                            (comparison_id, sequence, path, kind, primary_value, shadow_value, class, known_id, reason,
                             source, session_id, blame, detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for d in divergences {
                    try statement.execute(arguments: [
                        id, d.sequence, d.path, d.kind, d.primaryValue?.storageText, d.shadowValue?.storageText,
                        d.classification.rawValue, d.knownID, d.reason, d.source, d.sessionID, d.blame, d.detail,
                    ])
                }
                return id
            }
        }
    }

    /// Comparisons made at or after `date`, oldest first, at most `limit`.
    public func comparisons(since date: Date, limit: Int = 1000) async throws(StorageError) -> [ComparisonRecord] {
        try await comparisons(since: date, afterID: nil, limit: limit)
    }

    /// Comparisons made at or after `date` whose id is greater than `afterID`
    /// (all when `nil`), oldest first, at most `limit`: pages through a long window.
    public func comparisons(since date: Date, afterID: Int64?, limit: Int) async throws(StorageError)
        -> [ComparisonRecord]
    {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM comparisons WHERE time >= ? AND id > ? ORDER BY id LIMIT ?",
                    arguments: [date.storageSeconds, afterID ?? 0, max(0, limit)])
                return try rows.map { row in
                    let reader = RowReader(row, table: "comparisons", key: Self.key(row, "id"))
                    return ComparisonRecord(
                        id: try reader.int64("id"), firstSequence: try reader.int64("first_sequence"),
                        lastSequence: try reader.int64("last_sequence"), time: try reader.date("time"),
                        cleanCount: try reader.int("clean_count"), unexpectedCount: try reader.int("unexpected_count"),
                        acceptedCount: try reader.int("accepted_count"),
                        duration: .nanoseconds(Int64((try reader.double("duration") * 1e9).rounded())),
                        resynced: try reader.bool("resynced"), kind: try reader.string("kind"),
                        afterGap: try reader.bool("after_gap"), adoptedCount: try reader.int("adopted_count"),
                        ignoredCount: try reader.int("ignored_count"), toleratedCount: try reader.int("tolerated_count"),
                        startsGame: try reader.bool("starts_game"), gamePhase: try reader.optionalString("game_phase"),
                        error: try reader.optionalString("error"))
                }
            }
        }
    }

    /// Divergences of comparisons made at or after `date`, oldest first, at most `limit`.
    public func divergences(since date: Date, limit: Int = 1000) async throws(StorageError) -> [DivergenceRecord] {
        try await divergences(since: date, afterID: nil, limit: limit)
    }

    /// Divergences of comparisons made at or after `date` whose id is greater
    /// than `afterID` (all when `nil`), oldest first, at most `limit`.
    public func divergences(since date: Date, afterID: Int64?, limit: Int) async throws(StorageError)
        -> [DivergenceRecord]
    {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.* FROM divergences d JOIN comparisons c ON c.id = d.comparison_id
                        WHERE c.time >= ? AND d.id > ? ORDER BY d.id LIMIT ?
                        """,
                    arguments: [date.storageSeconds, afterID ?? 0, max(0, limit)])
                return try rows.map(Self.divergence)
            }
        }
    }

    /// The divergences recorded with one comparison, in order.
    public func divergences(ofComparison id: Int64) async throws(StorageError) -> [DivergenceRecord] {
        try await lifecycle.perform {
            try await writer.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM divergences WHERE comparison_id = ? ORDER BY id", arguments: [id])
                    .map(Self.divergence)
            }
        }
    }

    /// Divergence counts per path since `date`, most frequent first.
    public func divergenceCountsByPath(since date: Date) async throws(StorageError) -> [DivergenceCount] {
        try await divergenceCounts(keySQL: "d.path", since: date)
    }

    /// Divergence counts per event name since `date` (through the divergence's
    /// sequence; `(unknown)` when that event is not stored), most frequent first.
    public func divergenceCountsByEvent(since date: Date) async throws(StorageError) -> [DivergenceCount] {
        try await divergenceCounts(keySQL: "COALESCE(e.event, '(unknown)')", since: date)
    }

    private func divergenceCounts(keySQL: String, since date: Date) async throws(StorageError) -> [DivergenceCount] {
        try await lifecycle.perform {
            try await writer.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(keySQL) AS key,
                               SUM(d.class = 'unexpected') AS unexpected,
                               SUM(d.class = 'accepted') AS accepted
                        FROM divergences d
                        JOIN comparisons c ON c.id = d.comparison_id
                        LEFT JOIN events e ON e.sequence = d.sequence
                        WHERE c.time >= ?
                        GROUP BY key ORDER BY COUNT(*) DESC, key
                        """,
                    arguments: [date.storageSeconds])
                return try rows.map { row in
                    let reader = RowReader(row, table: "divergences", key: "(grouped)")
                    return DivergenceCount(
                        key: try reader.string("key"), unexpected: try reader.int("unexpected"),
                        accepted: try reader.int("accepted"))
                }
            }
        }
    }

    private static func divergence(_ row: Row) throws -> DivergenceRecord {
        let reader = RowReader(row, table: "divergences", key: key(row, "id"))
        return DivergenceRecord(
            id: try reader.int64("id"), comparisonID: try reader.int64("comparison_id"),
            sequence: try reader.int64("sequence"), path: try reader.string("path"), kind: try reader.string("kind"),
            primaryValue: try reader.optionalJSON("primary_value"), shadowValue: try reader.optionalJSON("shadow_value"),
            classification: try reader.enumeration("class", as: DivergenceClass.self),
            knownID: try reader.optionalString("known_id"), reason: try reader.optionalString("reason"),
            source: try reader.string("source"), sessionID: try reader.optionalString("session_id"),
            blame: try reader.string("blame"), detail: try reader.optionalString("detail"))
    }
}

// MARK: - Roles

extension ProxyStore {
    /// The durable roles; ``Roles/initial`` (legacy primary) when never set.
    public func roles() async throws(StorageError) -> Roles {
        try await lifecycle.perform {
            try await writer.read { db in try Self.currentRoles(db) }
        }
    }

    /// Persists new roles and appends the change to the role history, in one
    /// transaction that is fsynced before this returns.
    /// - Returns: the recorded change (its `previous` is what was in force).
    @discardableResult
    public func setRoles(_ roles: Roles, reason: String, at time: Date = Date()) async throws(StorageError) -> RoleChange {
        try await lifecycle.perform {
            try await writer.write { db in
                let previous = try Self.currentRoles(db)
                try db.execute(
                    sql: "INSERT OR REPLACE INTO roles (id, primary_backend, updated_at, reason) VALUES (1, ?, ?, ?)",
                    arguments: [roles.primary.rawValue, time.storageSeconds, reason])
                try db.execute(
                    sql: "INSERT INTO role_changes (time, previous_backend, primary_backend, reason) VALUES (?, ?, ?, ?)",
                    arguments: [time.storageSeconds, previous.primary.rawValue, roles.primary.rawValue, reason])
                return RoleChange(
                    id: db.lastInsertedRowID, time: time, previous: previous.primary, primary: roles.primary, reason: reason)
            }
        }
    }

    /// Role changes, newest first, at most `limit`.
    public func roleHistory(limit: Int = 100) async throws(StorageError) -> [RoleChange] {
        try await lifecycle.perform {
            try await writer.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM role_changes ORDER BY id DESC LIMIT ?", arguments: [max(0, limit)])
                    .map { row in
                        let reader = RowReader(row, table: "role_changes", key: Self.key(row, "id"))
                        return RoleChange(
                            id: try reader.int64("id"), time: try reader.date("time"),
                            previous: try reader.enumeration("previous_backend", as: Backend.self),
                            primary: try reader.enumeration("primary_backend", as: Backend.self),
                            reason: try reader.string("reason"))
                    }
            }
        }
    }

    private static func currentRoles(_ db: Database) throws -> Roles {
        guard let row = try Row.fetchOne(db, sql: "SELECT primary_backend FROM roles WHERE id = 1") else { return .initial }
        return Roles(primary: try RowReader(row, table: "roles", key: "1").enumeration("primary_backend", as: Backend.self))
    }
}

// MARK: - Admin log and gaps

extension ProxyStore {
    /// Appends an operator action. - Returns: its id.
    @discardableResult
    public func logAdmin(_ entry: AdminLogRecord) async throws(StorageError) -> Int64 {
        try await lifecycle.perform {
            try await writer.write { db in
                try db.execute(
                    sql: "INSERT INTO admin_log (time, action, actor, outcome, detail) VALUES (?, ?, ?, ?, ?)",
                    arguments: [entry.time.storageSeconds, entry.action, entry.actor, entry.outcome, entry.detail])
                return db.lastInsertedRowID
            }
        }
    }

    /// Admin actions at or after `date`, oldest first, at most `limit`.
    public func adminLog(since date: Date, limit: Int = 1000) async throws(StorageError) -> [AdminLogRecord] {
        try await lifecycle.perform {
            try await writer.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM admin_log WHERE time >= ? ORDER BY id LIMIT ?",
                    arguments: [date.storageSeconds, max(0, limit)]
                ).map { row in
                    let reader = RowReader(row, table: "admin_log", key: Self.key(row, "id"))
                    return AdminLogRecord(
                        id: try reader.int64("id"), time: try reader.date("time"), action: try reader.string("action"),
                        actor: try reader.string("actor"), outcome: try reader.string("outcome"),
                        detail: try reader.optionalString("detail"))
                }
            }
        }
    }

    /// Records a mirror-queue overflow. - Returns: its id.
    @discardableResult
    public func recordGap(_ gap: GapRecord) async throws(StorageError) -> Int64 {
        try await lifecycle.perform {
            try await writer.write { db in
                try db.execute(
                    sql: "INSERT INTO gaps (time, from_sequence, to_sequence, count) VALUES (?, ?, ?, ?)",
                    arguments: [gap.time.storageSeconds, gap.fromSequence, gap.toSequence, gap.count])
                return db.lastInsertedRowID
            }
        }
    }

    /// Gaps recorded at or after `date`, oldest first.
    public func gaps(since date: Date, limit: Int = 1000) async throws(StorageError) -> [GapRecord] {
        try await lifecycle.perform {
            try await writer.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM gaps WHERE time >= ? ORDER BY id LIMIT ?",
                    arguments: [date.storageSeconds, max(0, limit)]
                ).map { row in
                    let reader = RowReader(row, table: "gaps", key: Self.key(row, "id"))
                    return GapRecord(
                        id: try reader.int64("id"), time: try reader.date("time"),
                        fromSequence: try reader.int64("from_sequence"), toSequence: try reader.int64("to_sequence"),
                        count: try reader.int("count"))
                }
            }
        }
    }
}

// MARK: - Reports and maintenance

extension ProxyStore {
    /// Totals since `date` (events by receive time, the rest by record time).
    public func summary(since date: Date) async throws(StorageError) -> ProxySummary {
        let since = date.storageSeconds
        return try await lifecycle.perform {
            try await writer.read { db in
                var s = ProxySummary()
                if let row = try Row.fetchOne(
                    db, sql: "SELECT COUNT(*) AS n, MIN(sequence) AS first, MAX(sequence) AS last FROM events WHERE received_at >= ?",
                    arguments: [since])
                {
                    let r = RowReader(row, table: "events", key: "(summary)")
                    s.events = try r.int("n")
                    s.firstSequence = try r.optionalInt64("first")
                    s.lastSequence = try r.optionalInt64("last")
                }
                if let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) AS n, TOTAL(clean_count) AS clean, TOTAL(unexpected_count) AS unexpected,
                               TOTAL(accepted_count) AS accepted, SUM(unexpected_count > 0) AS divergent, MAX(time) AS last
                        FROM comparisons WHERE time >= ?
                        """,
                    arguments: [since])
                {
                    let r = RowReader(row, table: "comparisons", key: "(summary)")
                    s.comparisons = try r.int("n")
                    s.cleanCount = Int(try r.double("clean"))
                    s.unexpectedCount = Int(try r.double("unexpected"))
                    s.acceptedCount = Int(try r.double("accepted"))
                    s.divergentComparisons = Int(try r.optionalInt64("divergent") ?? 0)
                    s.lastComparisonAt = try r.optionalDate("last")
                }
                for row in try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.class AS class, COUNT(*) AS n FROM divergences d
                        JOIN comparisons c ON c.id = d.comparison_id WHERE c.time >= ? GROUP BY d.class
                        """,
                    arguments: [since])
                {
                    let r = RowReader(row, table: "divergences", key: "(summary)")
                    switch try r.enumeration("class", as: DivergenceClass.self) {
                    case .unexpected: s.unexpectedDivergences = try r.int("n")
                    case .accepted: s.acceptedDivergences = try r.int("n")
                    }
                }
                if let row = try Row.fetchOne(
                    db, sql: "SELECT COUNT(*) AS n, TOTAL(count) AS dropped FROM gaps WHERE time >= ?", arguments: [since])
                {
                    let r = RowReader(row, table: "gaps", key: "(summary)")
                    s.gaps = try r.int("n")
                    s.droppedEvents = Int(try r.double("dropped"))
                }
                s.roles = try Self.currentRoles(db)
                return s
            }
        }
    }

    /// Deletes events, comparisons (with their divergences), admin log
    /// entries and gaps older than `date`. Roles and their history are kept.
    @discardableResult
    public func prune(olderThan date: Date) async throws(StorageError) -> PruneResult {
        try await lifecycle.perform {
            try await writer.write { db in
                let cutoff = date.storageSeconds
                var result = PruneResult()
                try db.execute(
                    sql: "DELETE FROM divergences WHERE comparison_id IN (SELECT id FROM comparisons WHERE time < ?)",
                    arguments: [cutoff])
                result.deleted["divergences"] = db.changesCount
                for (table, column) in [("events", "received_at"), ("comparisons", "time"), ("admin_log", "time"), ("gaps", "time")] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE \(column) < ?", arguments: [cutoff])
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

    /// Copies the WAL into the database file and truncates it (`PRAGMA wal_checkpoint(TRUNCATE)`).
    public func checkpoint() async throws(StorageError) {
        try await SQLiteFile.checkpoint(writer, lifecycle)
    }

    /// Checkpoints and closes the connections; later calls fail. Calling it twice is harmless.
    public func close() async throws(StorageError) {
        try await SQLiteFile.close(writer, lifecycle)
    }

    private static func key(_ row: Row, _ column: String) -> String {
        let value: DatabaseValue? = row[column]
        return value.map { "\($0)" } ?? "?"
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}
