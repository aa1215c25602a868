/// Stateful decoder: feed every Engine.IO message payload of one connection in order.
///
/// A text payload starts a packet; a binary packet (`5`/`6`) then waits for
/// its attachments, each a binary payload. After an error the decoder is
/// reset, so it can go on with the next packet (callers usually close).
public struct SocketIODecoder: Sendable {
    /// Largest attachment count accepted in a binary packet header.
    public let maxAttachments: Int
    private var pending: SocketIOPacket?
    private var expected = 0

    public init(maxAttachments: Int = 10) {
        self.maxAttachments = maxAttachments
    }

    /// Returns a packet when complete; nil while binary attachments are still expected.
    public mutating func decode(_ payload: EngineIOPacket.Payload) throws(ProtocolError) -> SocketIOPacket? {
        switch payload {
        case .text(let text):
            guard pending == nil else {
                reset()
                throw .missingAttachments
            }
            let (packet, count) = try SocketIOCodec.decodeText(text, maxAttachments: maxAttachments)
            if count == 0 { return packet }
            pending = packet
            pending!.attachments.reserveCapacity(count)
            expected = count
            return nil
        case .binary(let bytes):
            guard pending != nil else { throw .unexpectedAttachment }
            pending!.attachments.append(bytes)
            guard pending!.attachments.count == expected else { return nil }
            let complete = pending
            reset()
            return complete
        }
    }

    /// Whether a binary packet is waiting for more attachments.
    public var isAwaitingAttachments: Bool { pending != nil }

    /// Drops a partially received binary packet.
    public mutating func reset() {
        pending = nil
        expected = 0
    }
}
