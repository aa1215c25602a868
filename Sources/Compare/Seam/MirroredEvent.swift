import Foundation
import JSONDiff
import JSONValue

/// One client event as the proxy mirrored it: forwarded to the primary and
/// queued for the shadow (or dropped from the mirror queue: see
/// ``mirroredToShadow``).
public struct MirroredEvent: Sendable, Equatable {
    /// The proxy's global sequence number, assigned in the order frames are
    /// forwarded to the primary, gap-free over every event (dropped ones included).
    public var sequence: Int64
    /// The client's session id at the proxy (its Engine.IO sid).
    public var sessionID: String
    /// The kind of client (`pi`, `phone`, `observer`, `unknown`, ...).
    public var clientRole: String
    /// The Socket.IO event name.
    public var name: String
    /// The event's arguments exactly as received (`[]` for none; an ack
    /// callback is not an argument).
    public var arguments: [JSONValue]
    /// When the proxy received the frame from the client (wall clock, for reports).
    public var receivedAt: Date
    /// `false` when the mirror queue dropped it: the shadow never gets it, and
    /// the comparator resyncs the shadow at the next checkpoint.
    public var mirroredToShadow: Bool
    /// Whether the client asked for an acknowledgement: both sides will answer it, and the
    /// comparator waits for both answers (up to ``ComparatorConfiguration/maxCheckpointDelay``).
    public var expectsAck: Bool

    public init(
        sequence: Int64, sessionID: String, clientRole: String, name: String, arguments: [JSONValue] = [],
        receivedAt: Date, mirroredToShadow: Bool = true, expectsAck: Bool = false
    ) {
        self.sequence = sequence
        self.sessionID = sessionID
        self.clientRole = clientRole
        self.name = name
        self.arguments = arguments
        self.receivedAt = receivedAt
        self.mirroredToShadow = mirroredToShadow
        self.expectsAck = expectsAck
    }

    /// The first argument, which is the payload in this protocol.
    public var payload: JSONValue? { arguments.first }

    /// The event as the rules see it (for known-divergence conditions).
    public var context: EventContext { EventContext(name: name, payload: payload) }
}
