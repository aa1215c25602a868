import JSONValue

/// A message one side sent, or would have sent, to one client session: an
/// event (`game_state_update`, ...) or an ack of a mirrored event.
///
/// Report what the upstream actually emitted on that client's leg, in the
/// order it arrived; never report messages caused by the proxy's own control
/// traffic (state reads, resyncs), which no client event caused.
public struct SideOutput: Sendable, Equatable {
    public var side: Side
    public var sessionID: String
    /// The Socket.IO event name; ``ackName`` for an ack.
    public var name: String
    /// The first argument (`nil` when there was none).
    public var payload: JSONValue?
    /// For an ack: the sequence of the mirrored event it answers. An ack also
    /// tells the comparator that this side has processed that event.
    public var ackFor: Int64?

    /// The name given to acks.
    public static let ackName = "ack"

    /// An event sent to a client.
    public init(side: Side, sessionID: String, name: String, payload: JSONValue? = nil) {
        self.side = side
        self.sessionID = sessionID
        self.name = name
        self.payload = payload
        self.ackFor = nil
    }

    /// An ack of the mirrored event `sequence`.
    public static func ack(side: Side, sessionID: String, sequence: Int64, payload: JSONValue? = nil) -> SideOutput {
        var output = SideOutput(side: side, sessionID: sessionID, name: ackName, payload: payload)
        output.ackFor = sequence
        return output
    }

    public var isAck: Bool { ackFor != nil }
}
