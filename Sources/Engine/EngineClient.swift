import JSONValue
import ScorerState
import SocketIOServer

/// Sends one event to one client: the event name and its arguments.
public typealias EngineEmitter = @Sendable (_ event: String, _ arguments: [JSONValue]) -> Void

/// Sends one event already encoded as a Socket.IO packet of namespace `/` (its bytes are
/// shared by every recipient and by later sends of the same state).
public typealias EngineEncodedEmitter = @Sendable (_ packet: SocketIOEncodedPacket) -> Void

/// A client as the engine sees it: who sent an event, and how to answer it.
///
/// The Socket.IO layer passes a socket's id and its `emit`; an in-process
/// caller (the tee proxy embedding the engine) passes its own id and either
/// an emitter or nothing, and reads the answers from ``EngineEventResult``.
public struct EngineClient: Sendable {
    /// Identifies the client for rate limiting and the journal (a Socket.IO
    /// socket id, a proxy session id).
    public var id: String
    /// A free-form label kept in the journal (`pi`, `phone`, an address).
    public var label: String?
    /// Called, inside the engine and in order with its broadcasts, for each
    /// event sent to this client alone; nil when the caller only reads the result.
    public var emit: EngineEmitter?
    /// Like ``emit``, for a Socket.IO client: the engine encodes each packet once (the served
    /// state once per state) and calls this instead of ``emit`` when it is set.
    public var emitEncoded: EngineEncodedEmitter?

    public init(id: String, label: String? = nil, emit: EngineEmitter? = nil, emitEncoded: EngineEncodedEmitter? = nil) {
        self.id = id
        self.label = label
        self.emit = emit
        self.emitEncoded = emitEncoded
    }
}

/// One emitted event: its name and arguments (the legacy's events carry one).
public struct EngineEmission: Sendable, Equatable, CustomStringConvertible {
    public var event: String
    public var arguments: [JSONValue]

    public init(event: String, arguments: [JSONValue]) {
        self.event = event
        self.arguments = arguments
    }

    /// The first argument (the payload of every legacy event), or null.
    public var payload: JSONValue { arguments.first ?? .null }

    public var description: String { "\(event) \(JSONValue.array(arguments).serialized())" }
}

/// What the engine did with one client event (or a connection).
public struct EngineEventResult: Sendable, Equatable {
    /// The game machine's outcome (its actions, ack, error). Nil when the
    /// event never reached the game (rate limited, or the store failed).
    public var outcome: ScorerOutcome?
    /// Events sent to the sender alone, in order (the served state for a
    /// connect or `request_game_state`, an `error` event).
    public var replies: [EngineEmission]
    /// Events emitted to every client, in order. Empty in shadow mode:
    /// see ``suppressedBroadcasts``.
    public var broadcasts: [EngineEmission]
    /// What would have been broadcast, when shadow mode suppressed it.
    public var suppressedBroadcasts: [EngineEmission]
    /// The arguments of the Socket.IO ACK to send when the client asked for
    /// one, or nil to send none (a Pi event is always answered).
    public var ackArguments: [JSONValue]?
    /// The journal sequence of the commit, when the event changed the state.
    public var sequence: Int64?
    /// The `error` event code when the input was refused or ignored
    /// (sent to the sender only when error events are enabled).
    public var errorCode: String?

    public init(
        outcome: ScorerOutcome? = nil, replies: [EngineEmission] = [], broadcasts: [EngineEmission] = [],
        suppressedBroadcasts: [EngineEmission] = [], ackArguments: [JSONValue]? = nil, sequence: Int64? = nil,
        errorCode: String? = nil
    ) {
        self.outcome = outcome
        self.replies = replies
        self.broadcasts = broadcasts
        self.suppressedBroadcasts = suppressedBroadcasts
        self.ackArguments = ackArguments
        self.sequence = sequence
        self.errorCode = errorCode
    }

    /// Whether the event was refused by the rate limit.
    public var rateLimited: Bool { errorCode == EngineErrorCode.rateLimited }
}

/// The `code` values of the `error` event (the contract's list).
public enum EngineErrorCode {
    public static let invalidState = "INVALID_STATE"
    public static let actionDenied = "ACTION_DENIED"
    public static let authFailed = "AUTH_FAILED"
    public static let rateLimited = "RATE_LIMITED"
    public static let serverError = "SERVER_ERROR"
}
