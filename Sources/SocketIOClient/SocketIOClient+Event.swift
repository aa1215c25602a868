import JSONValue
import SocketIOProtocol

extension SocketIOClient {
    /// What the client reports on ``SocketIOClient/events``.
    public enum Event: Sendable, Equatable {
        /// The namespace is connected (after every successful (re)connect), with the Socket.IO sid.
        case connected(sid: String)
        /// A server event. Args hold placeholders where attachments belong. When
        /// `ackID` is set the server waits for ``SocketIOClient/ack(_:_:attachments:)``.
        case event(name: String, args: [JSONValue], attachments: [[UInt8]], ackID: Int?)
        /// With ``Configuration/rawPackets``: every received event or binary event,
        /// and every ack that answers no ``SocketIOClient/emitWithAck(_:_:attachments:timeout:)``;
        /// `text` is the Engine.IO message it was decoded from when that was all of it (no
        /// attachments), for a relay to forward the same bytes.
        case packet(SocketIOPacket, text: String?)
        /// The connection ended; a reconnect follows unless the reason is
        /// ``DisconnectReason/serverDisconnect`` or ``DisconnectReason/clientDisconnect``
        /// or the reconnect policy says no.
        case disconnected(DisconnectReason)
        /// Reconnect attempt `attempt` (1-based) starts after its backoff delay.
        case reconnecting(attempt: Int)
        /// The server refused the namespace (`44{...}`); ``SocketIOClient/run()`` then throws.
        case connectError(JSONValue)
    }

    /// Why a connection ended (socket.io-client's reason strings).
    public enum DisconnectReason: String, Sendable, Equatable {
        case serverDisconnect = "io server disconnect"
        case clientDisconnect = "io client disconnect"
        case pingTimeout = "ping timeout"
        case transportClose = "transport close"
        case transportError = "transport error"
        case parseError = "parse error"

        /// Whether the client reconnects after this reason.
        public var reconnects: Bool { self != .serverDisconnect && self != .clientDisconnect }
    }
}
