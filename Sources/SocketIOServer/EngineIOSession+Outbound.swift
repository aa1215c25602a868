import NIOCore
import SocketIOProtocol

/// One Engine.IO packet on its way to a client, with its WebSocket frame data when that was
/// encoded ahead of time: a broadcast encodes its packets once and every recipient's writer
/// sends the same bytes (see ``SocketIOEncodedPacket``).
struct EngineIOOutboundPacket: Hashable, Sendable {
    /// The packet (long-polling encodes it into the poll reply).
    var packet: EngineIOPacket
    /// Its WebSocket frame, encoded once; nil when the writer encodes it.
    var frame: WebSocketWireFrame?

    /// A packet the writer encodes.
    init(_ packet: EngineIOPacket) {
        self.packet = packet
        self.frame = nil
    }

    /// A packet with its WebSocket frame encoded now (``EngineIOCodec/encodeWebSocket(_:)``).
    init(encoding packet: EngineIOPacket) {
        self.packet = packet
        self.frame = WebSocketWireFrame(packet)
    }

    /// Its WebSocket frame: the one encoded ahead, else encoded now.
    var wireFrame: WebSocketWireFrame { frame ?? WebSocketWireFrame(packet) }

    static let ping = Self(.ping)
    static let close = Self(.close)
    static let noop = Self(.noop)
    static func pong(_ text: String) -> Self { Self(.pong(text)) }
    static func message(_ text: String) -> Self { Self(.message(text)) }
    static func binaryMessage(_ bytes: [UInt8]) -> Self { Self(.binaryMessage(bytes)) }
}
