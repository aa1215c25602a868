import JSONValue
import SocketIOProtocol

/// The client's side of one Engine.IO connection, as decisions: what a packet from the
/// server means and what to write back. ``SocketIOClient`` (an actor) and the relay
/// client's channel handler both keep one per connection, so they speak the protocol the
/// same way; what they do with an outcome (waiters, buffers, queues) is theirs.
struct ClientWire: Sendable {
    let namespace: String
    let auth: JSONValue?
    let eventFilter: (@Sendable (String) -> Bool)?
    let eventCache: SocketIOEventCache?
    private(set) var handshake: EngineIOHandshake?
    /// The Socket.IO sid once the namespace is connected.
    private(set) var sid: String?
    private var decoder = SocketIODecoder()

    init(_ configuration: SocketIOClient.Configuration) {
        namespace = configuration.namespace
        auth = configuration.auth
        eventFilter = configuration.eventFilter
        eventCache = configuration.eventCache
    }

    enum Outcome: Sendable {
        /// Nothing to hand on (a pong, a noop, a filtered event, a packet still waiting for its
        /// attachments, another namespace, a repeated CONNECT).
        case none
        /// Write this back: the Socket.IO CONNECT after the Engine.IO open, the pong for a
        /// ping. Either is a sign of life: the heartbeat deadline starts again.
        case reply(EngineIOPacket)
        /// The namespace is connected (also a sign of life).
        case connected(sid: String)
        /// An event or ack, with the text it was decoded from when that was all of it.
        case packet(SocketIOPacket, text: String?)
        /// The connection ends.
        case end(SessionEnd)
    }

    mutating func receive(_ packet: EngineIOPacket) -> Outcome {
        switch packet.kind {
        case .open:
            do { handshake = try packet.handshake() } catch {
                return .end(.lost(.parseError, SocketIOClientError.invalidHandshake))
            }
            return .reply(.message(SocketIOCodec.encodeText(.connect(namespace: namespace, data: auth))))
        case .ping:
            return .reply(.pong(packet.text ?? ""))
        case .close:
            return .end(.lost(.transportClose, nil))
        case .message:
            if let eventFilter, sid != nil, case .text(let text) = packet.payload, text.utf8.first == UInt8(ascii: "2"),
                !eventFilter(text)
            {
                return .none
            }
            let decoded: SocketIOPacket?
            do { decoded = try decoder.decode(packet.payload, cache: eventCache) } catch {
                return .end(.lost(.parseError, SocketIOClientError.protocolError(error)))
            }
            guard let decoded else { return .none }
            return received(decoded, text: decoded.attachments.isEmpty ? packet.text : nil)
        case .pong, .upgrade, .noop:
            return .none
        }
    }

    private mutating func received(_ packet: SocketIOPacket, text: String?) -> Outcome {
        guard packet.namespace == namespace else { return .none }
        switch packet.kind {
        case .connect:
            guard sid == nil else { return .none }
            let sid = packet.data?["sid"]?.stringValue ?? ""
            self.sid = sid
            return .connected(sid: sid)
        case .connectError:
            return .end(.connectError(packet.data ?? .null))
        case .disconnect:
            return .end(.serverDisconnect)
        case .event, .binaryEvent, .ack, .binaryAck:
            return .packet(packet, text: text)
        }
    }
}
