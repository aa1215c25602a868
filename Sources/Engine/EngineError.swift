import Storage

/// Why an engine operation (control API or start-up) failed.
///
/// Equality compares the kind of failure and its subject, not the detail.
public struct EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    private enum Base: Equatable, Sendable {
        /// A document offered as the game state is not a JSON object.
        case invalidState
        /// A patch path is not an RFC 6901 pointer, or names a location the
        /// state does not have.
        case invalidPatch(path: String)
        /// The store refused to commit or load.
        case storage(StorageError)
        /// The control token file could not be read or created.
        case controlToken(path: String)
        /// The server stopped before it was listening.
        case serverStopped
    }

    private let base: Base
    /// Human-readable detail; not part of equality.
    public let detail: String

    private init(_ base: Base, detail: String = "") {
        self.base = base
        self.detail = detail
    }

    public static func == (lhs: EngineError, rhs: EngineError) -> Bool { lhs.base == rhs.base }

    /// A document offered as the game state is not a JSON object.
    public static var invalidState: EngineError { .init(.invalidState) }
    /// A patch path is invalid or names a location the state does not have.
    public static func invalidPatch(path: String) -> EngineError { .init(.invalidPatch(path: path)) }
    /// The store failed.
    public static func storage(_ error: StorageError) -> EngineError { .init(.storage(error), detail: error.description) }
    /// The control token file could not be read or created.
    public static func controlToken(path: String) -> EngineError { .init(.controlToken(path: path)) }

    /// The server stopped before it was listening.
    public static var serverStopped: EngineError { .init(.serverStopped) }

    static func invalidState(detail: String) -> EngineError { .init(.invalidState, detail: detail) }
    static func invalidPatch(path: String, detail: String) -> EngineError { .init(.invalidPatch(path: path), detail: detail) }
    static func controlToken(path: String, detail: String) -> EngineError { .init(.controlToken(path: path), detail: detail) }

    /// True for errors caused by the request (HTTP 422), false for server failures.
    public var isClientError: Bool {
        switch base {
        case .invalidState, .invalidPatch: true
        case .storage, .controlToken, .serverStopped: false
        }
    }

    /// A short, label-safe name for metrics and JSON error codes.
    public var shortDescription: String {
        switch base {
        case .invalidState: "invalid_state"
        case .invalidPatch: "invalid_patch"
        case .storage: "storage"
        case .controlToken: "control_token"
        case .serverStopped: "server_stopped"
        }
    }

    public var description: String {
        let what: String
        switch base {
        case .invalidState: what = "a game state must be a JSON object"
        case .invalidPatch(let path): what = "invalid patch path '\(path)'"
        case .storage: what = "storage failure"
        case .controlToken(let path): what = "cannot read or create the control token file \(path)"
        case .serverStopped: what = "the server stopped before it was listening"
        }
        return detail.isEmpty ? what : "\(what): \(detail)"
    }
}
