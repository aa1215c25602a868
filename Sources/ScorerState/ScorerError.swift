import JSONValue

/// Why an event was not (fully) applied.
///
/// The legacy never tells a client: it ignores input that does not match and
/// lets a raising handler die. The engine may send ``errorEventPayload(timestamp:)``
/// to the sender alone (no legacy client listens for `error`); the state is
/// left exactly as the legacy leaves it either way.
public struct ScorerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `code` of the protocol's `error` event.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The request does not fit: a missing or malformed payload, a value
        /// Python's `int()` refuses, a player id that names no player.
        public static let invalidState = Code(rawValue: "INVALID_STATE")
        /// A game rule ignores the request (wrong phase, not your turn, a roll
        /// already decided, a falsy id, an unknown event...).
        public static let actionDenied = Code(rawValue: "ACTION_DENIED")
        /// The stored state itself made the handler fail (only possible after
        /// a hand-off loaded values of unexpected types).
        public static let serverError = Code(rawValue: "SERVER_ERROR")

        public var description: String { rawValue }
    }

    private enum Base: Equatable, Sendable {
        /// The legacy ignores the event silently (its handler returns early).
        case ignored(reason: String)
        /// `start_game` without a first-turn player: the Pi is told (ack error).
        case refused(reason: String)
        /// The legacy's handler raises this Python exception.
        case raised(type: String, message: String, blameInput: Bool)
    }

    private let base: Base
    /// The Socket.IO event name the error is about (`connect` for a connection).
    public let event: String

    private init(_ base: Base, event: String) {
        self.base = base
        self.event = event
    }

    static func ignored(_ event: String, _ reason: String) -> ScorerError {
        ScorerError(.ignored(reason: reason), event: event)
    }

    static func refused(_ event: String, _ reason: String) -> ScorerError {
        ScorerError(.refused(reason: reason), event: event)
    }

    static func raised(_ event: String, _ exception: PythonException) -> ScorerError {
        ScorerError(
            .raised(type: exception.type, message: exception.message, blameInput: exception.blame == .input),
            event: event)
    }

    public var code: Code {
        switch base {
        case .ignored, .refused: .actionDenied
        case .raised(_, _, let blameInput): blameInput ? .invalidState : .serverError
        }
    }

    /// Human-readable reason.
    public var message: String {
        switch base {
        case .ignored(let reason), .refused(let reason): reason
        case .raised(let type, let message, _): "\(type): \(message)"
        }
    }

    /// True when the legacy's handler raises here (nothing is broadcast after
    /// that point, a phone client gets no ack); false when it returns early.
    public var legacyRaised: Bool {
        if case .raised = base { return true }
        return false
    }

    /// The exception as the legacy fixture reports it in a Pi ack
    /// (`"KeyError: 'player3'"`), when the legacy raises.
    public var pythonException: String? {
        if case .raised(let type, let message, _) = base { return "\(type): \(message)" }
        return nil
    }

    /// A label-safe summary for metrics.
    public var shortDescription: String {
        switch base {
        case .ignored: "ignored"
        case .refused: "refused"
        case .raised(let type, _, let blameInput): blameInput ? "bad_input_\(type)" : "bad_state_\(type)"
        }
    }

    public var description: String { "\(code.rawValue) on \(event): \(message)" }

    /// The protocol's `error` event payload `{code, message, details, timestamp}`
    /// (the caller supplies the ISO 8601 timestamp: this target reads no clock).
    public func errorEventPayload(timestamp: String) -> JSONValue {
        var details: JSONObject = ["event": .string(event)]
        if let pythonException { details["exception"] = .string(pythonException) }
        return [
            "code": .string(code.rawValue),
            "message": .string(message),
            "details": .object(details),
            "timestamp": .string(timestamp),
        ]
    }
}
