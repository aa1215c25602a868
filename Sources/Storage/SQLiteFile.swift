import Foundation
import Synchronization
import JSONValue
internal import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening SQLite files the way both stores need them.
enum SQLiteFile {
    /// Opens (creating when absent) a WAL database pool with `synchronous = FULL`.
    ///
    /// GRDB's `DatabasePool` switches the writer connection to WAL and sets
    /// `synchronous = NORMAL` *after* the `prepareDatabase` hooks run, so the
    /// durability pragmas are applied here on the writer once the pool exists.
    /// The writer connection lives as long as the pool, so they stick.
    static func openPool(path: String, configuration: StorageConfiguration) throws(StorageError) -> DatabasePool {
        let directory = (path as NSString).deletingLastPathComponent
        let existed = FileManager.default.fileExists(atPath: path)
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .fileSystem(path: directory, detail: String(describing: error))
            }
        }
        do {
            let pool = try DatabasePool(path: path, configuration: makeConfiguration(configuration))
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "PRAGMA journal_size_limit = \(max(0, configuration.walSizeLimit))")
            }
            if !existed && !directory.isEmpty {
                // A new file's directory entry is not durable until the directory is synced.
                try syncDirectory(directory)
            }
            return pool
        } catch {
            throw StorageError.wrapping(error)
        }
    }

    /// An in-memory database (tests, previews): no file, nothing durable.
    static func openInMemory(configuration: StorageConfiguration) throws(StorageError) -> DatabaseQueue {
        do {
            return try DatabaseQueue(configuration: makeConfiguration(configuration))
        } catch {
            throw StorageError.wrapping(error)
        }
    }

    static func makeConfiguration(_ storage: StorageConfiguration) -> Configuration {
        var config = Configuration()
        let (seconds, attoseconds) = storage.busyTimeout.components
        config.busyMode = .timeout(Double(seconds) + Double(attoseconds) / 1e18)
        config.foreignKeysEnabled = true
        return config
    }

    static func syncDirectory(_ directory: String) throws(StorageError) {
        #if canImport(Glibc)
        let fd = Glibc.open(directory, O_RDONLY)
        #elseif canImport(Musl)
        let fd = Musl.open(directory, O_RDONLY)
        #else
        let fd = Darwin.open(directory, O_RDONLY)
        #endif
        guard fd >= 0 else { throw .fileSystem(path: directory, detail: "open: errno \(errno)") }
        defer {
            #if canImport(Glibc)
            _ = Glibc.close(fd)
            #elseif canImport(Musl)
            _ = Musl.close(fd)
            #else
            _ = Darwin.close(fd)
            #endif
        }
        guard fsync(fd) == 0 else { throw .fileSystem(path: directory, detail: "fsync: errno \(errno)") }
    }
}

/// Checked decoding of row values: a wrong type or malformed JSON becomes a
/// `StorageError.corruptValue`, never a trap.
struct RowReader {
    let row: Row
    let table: String
    let key: String

    init(_ row: Row, table: String, key: String) {
        self.row = row
        self.table = table
        self.key = key
    }

    private func value(_ column: String) -> DatabaseValue {
        let value: DatabaseValue? = row[column]
        return value ?? .null
    }

    private func corrupt(_ column: String, _ detail: String) -> StorageError {
        .corruptValue(table: table, column: column, key: key, detail: detail)
    }

    func int64(_ column: String) throws(StorageError) -> Int64 {
        guard let v = Int64.fromDatabaseValue(value(column)) else {
            throw corrupt(column, "expected an integer, found \(value(column))")
        }
        return v
    }

    func optionalInt64(_ column: String) throws(StorageError) -> Int64? {
        let v = value(column)
        if v.isNull { return nil }
        return try int64(column)
    }

    func int(_ column: String) throws(StorageError) -> Int {
        let v = try int64(column)
        guard let i = Int(exactly: v) else { throw corrupt(column, "integer out of range") }
        return i
    }

    func double(_ column: String) throws(StorageError) -> Double {
        guard let v = Double.fromDatabaseValue(value(column)) else {
            throw corrupt(column, "expected a number, found \(value(column))")
        }
        return v
    }

    func bool(_ column: String) throws(StorageError) -> Bool {
        try int64(column) != 0
    }

    func date(_ column: String) throws(StorageError) -> Date {
        Date(timeIntervalSince1970: try double(column))
    }

    func optionalDate(_ column: String) throws(StorageError) -> Date? {
        let v = value(column)
        if v.isNull { return nil }
        return try date(column)
    }

    func string(_ column: String) throws(StorageError) -> String {
        let v = value(column)
        guard case .string(let s) = v.storage else {
            throw corrupt(column, "expected text, found \(v)")
        }
        return s
    }

    func optionalString(_ column: String) throws(StorageError) -> String? {
        let v = value(column)
        if v.isNull { return nil }
        return try string(column)
    }

    func json(_ column: String) throws(StorageError) -> JSONValue {
        let text = try string(column)
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw corrupt(column, error.description)
        }
    }

    func optionalJSON(_ column: String) throws(StorageError) -> JSONValue? {
        let v = value(column)
        if v.isNull { return nil }
        return try json(column)
    }

    /// A JSON array column (event arguments).
    func jsonArray(_ column: String) throws(StorageError) -> [JSONValue] {
        guard case .array(let elements) = try json(column) else {
            throw corrupt(column, "expected a JSON array")
        }
        return elements
    }

    func enumeration<E: RawRepresentable>(_ column: String, as type: E.Type) throws(StorageError) -> E
    where E.RawValue == String {
        let text = try string(column)
        guard let e = E(rawValue: text) else { throw corrupt(column, "unknown value '\(text)'") }
        return e
    }
}

extension Date {
    /// What the stores write in `time` columns: Unix seconds as a float.
    var storageSeconds: Double { timeIntervalSince1970 }
}

extension JSONValue {
    /// Compact text for a JSON column, keys in document order.
    var storageText: String { serialized() }

    /// Canonical text (sorted keys) for change detection.
    var canonicalText: String { serialized(.sorted) }
}

/// Runs a store operation, mapping every failure into `StorageError`.
func storageOperation<T>(_ body: () async throws -> T) async throws(StorageError) -> T {
    do {
        return try await body()
    } catch {
        throw StorageError.wrapping(error)
    }
}

/// The synchronous twin of ``storageOperation(_:)``.
func storageOperationSync<T>(_ body: () throws -> T) throws(StorageError) -> T {
    do {
        return try body()
    } catch {
        throw StorageError.wrapping(error)
    }
}

/// The pragmas in force on a store's writing connection.
public struct DurabilitySettings: Sendable, Equatable {
    /// `wal` for file stores, `memory` for in-memory ones.
    public var journalMode: String
    /// `off`, `normal`, `full` or `extra`.
    public var synchronous: String
    public var busyTimeout: Duration
    public var foreignKeys: Bool

    public init(journalMode: String, synchronous: String, busyTimeout: Duration, foreignKeys: Bool) {
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.busyTimeout = busyTimeout
        self.foreignKeys = foreignKeys
    }
}

/// Whether a store was closed. Checked on the writer's queue before a
/// checkpoint: SQLite's checkpoint call does not guard against a closed
/// connection the way statement preparation does.
final class StoreLifecycle: Sendable {
    private let closed = Mutex(false)

    var isClosed: Bool { closed.withLock { $0 } }

    /// Marks the store closed; returns false when it already was.
    func markClosed() -> Bool {
        closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
    }

    /// Runs a store operation on an open store, mapping every failure into `StorageError`.
    func perform<T>(_ body: () async throws -> T) async throws(StorageError) -> T {
        guard !isClosed else { throw .closed }
        return try await storageOperation(body)
    }
}

extension SQLiteFile {
    static func durabilitySettings(_ writer: any DatabaseWriter, _ lifecycle: StoreLifecycle) async throws(StorageError)
        -> DurabilitySettings
    {
        try await lifecycle.perform {
            try await writer.writeWithoutTransaction { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"
                let sync = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                let busy = try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0
                let fk = try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false
                let names = [0: "off", 1: "normal", 2: "full", 3: "extra"]
                return DurabilitySettings(
                    journalMode: mode, synchronous: names[sync] ?? String(sync),
                    busyTimeout: .milliseconds(busy), foreignKeys: fk)
            }
        }
    }

    /// Sets `PRAGMA synchronous` on the writing connection (`FULL` or `NORMAL`). In WAL mode a
    /// commit under `FULL` syncs the WAL, so it also makes every earlier `NORMAL` commit durable.
    static func setSynchronous(full: Bool, _ writer: any DatabaseWriter, _ lifecycle: StoreLifecycle)
        async throws(StorageError)
    {
        try await lifecycle.perform {
            try await writer.writeWithoutTransaction { db in
                guard !lifecycle.isClosed else { throw StorageError.closed }
                try db.execute(sql: full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            }
        }
    }

    static func checkpoint(_ writer: any DatabaseWriter, _ lifecycle: StoreLifecycle) async throws(StorageError) {
        try await lifecycle.perform {
            try await writer.writeWithoutTransaction { db in
                // Serialized with close(): once it has run, the connection may be gone.
                guard !lifecycle.isClosed else { throw StorageError.closed }
                _ = try db.checkpoint(.truncate)
            }
        }
    }

    /// Checkpoint (TRUNCATE) then close. A second call returns at once.
    static func close(_ writer: any DatabaseWriter, _ lifecycle: StoreLifecycle) async throws(StorageError) {
        let first = try await storageOperation {
            try await writer.writeWithoutTransaction { db -> Bool in
                guard lifecycle.markClosed() else { return false }
                _ = try db.checkpoint(.truncate)
                return true
            }
        }
        if first {
            try storageOperationSync { try writer.close() }
        }
    }
}
