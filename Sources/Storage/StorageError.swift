internal import GRDB

/// Why a store operation failed.
///
/// Equality compares the kind of failure and where it happened (table,
/// column, row), not the human-readable detail, so tests and callers can
/// match on `StorageError.corruptValue(table:column:key:)` without knowing
/// the parser's wording.
public struct StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Base: Equatable, Sendable {
        case corruptValue(table: String, column: String, key: String)
        case stateHashMismatch(sequence: Int64)
        case database(code: Int32)
        case fileSystem(path: String)
        case cancelled
        case closed
    }

    private let base: Base
    /// Extra human-readable detail (the parse error, SQLite's message); not part of equality.
    public let detail: String

    private init(_ base: Base, detail: String = "") {
        self.base = base
        self.detail = detail
    }

    public static func == (lhs: StorageError, rhs: StorageError) -> Bool { lhs.base == rhs.base }

    /// A stored value could not be decoded (malformed JSON, wrong SQLite type,
    /// unknown enumeration text). `key` identifies the row (its primary key).
    public static func corruptValue(table: String, column: String, key: String) -> StorageError {
        .init(.corruptValue(table: table, column: column, key: key))
    }

    /// The current state document no longer matches the hash stored with it.
    public static func stateHashMismatch(sequence: Int64) -> StorageError {
        .init(.stateHashMismatch(sequence: sequence))
    }

    /// SQLite refused the operation; `code` is the primary result code (`SQLITE_BUSY` = 5, `SQLITE_FULL` = 13, ...).
    public static func database(code: Int32) -> StorageError { .init(.database(code: code)) }

    /// The data directory or file could not be created or synced.
    public static func fileSystem(path: String) -> StorageError { .init(.fileSystem(path: path)) }

    /// The task was cancelled before the database was reached.
    public static var cancelled: StorageError { .init(.cancelled) }

    /// The store was closed.
    public static var closed: StorageError { .init(.closed) }

    /// A short, label-safe name for metrics.
    public var shortDescription: String {
        switch base {
        case .corruptValue: "corrupt_value"
        case .stateHashMismatch: "state_hash_mismatch"
        case .database: "database"
        case .fileSystem: "file_system"
        case .cancelled: "cancelled"
        case .closed: "closed"
        }
    }

    public var description: String {
        let what: String
        switch base {
        case .corruptValue(let table, let column, let key):
            what = "corrupt value in \(table).\(column) (row \(key))"
        case .stateHashMismatch(let sequence):
            what = "stored state (sequence \(sequence)) does not match its hash"
        case .database(let code):
            what = "SQLite error \(code)"
        case .fileSystem(let path):
            what = "file system error at \(path)"
        case .cancelled:
            what = "cancelled"
        case .closed:
            what = "the store is closed"
        }
        return detail.isEmpty ? "Storage error: \(what)" : "Storage error: \(what): \(detail)"
    }

    // MARK: internal constructors with detail

    static func corruptValue(table: String, column: String, key: String, detail: String) -> StorageError {
        .init(.corruptValue(table: table, column: column, key: key), detail: detail)
    }

    static func fileSystem(path: String, detail: String) -> StorageError {
        .init(.fileSystem(path: path), detail: detail)
    }

    static func stateHashMismatch(sequence: Int64, detail: String) -> StorageError {
        .init(.stateHashMismatch(sequence: sequence), detail: detail)
    }

    /// Maps whatever GRDB or a store closure threw into a `StorageError`.
    static func wrapping(_ error: any Error) -> StorageError {
        switch error {
        case let error as StorageError:
            return error
        case let error as DatabaseError:
            return .init(.database(code: error.resultCode.primaryResultCode.rawValue), detail: error.message ?? "")
        case is CancellationError:
            return .cancelled
        default:
            return .init(.database(code: 1), detail: String(describing: error))
        }
    }
}
