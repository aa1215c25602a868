import NIOCore
import NIOWebSocket
import SocketIOProtocol

/// One WebSocket data frame as a server sends it, whole: FIN and opcode, the unmasked length
/// (RFC 6455 §5.2) and the payload, in one buffer.
///
/// A broadcast's frame is built once and its buffer shared by every recipient's channel,
/// which writes it below NIO's `WebSocketFrameEncoder` (``WebSocketWire``): no header buffer
/// per recipient, one `iovec` per frame in `writev` instead of two.
struct WebSocketWireFrame: Hashable, Sendable {
    /// A text frame (else binary).
    let isText: Bool
    /// The frame's bytes, header included.
    let bytes: ByteBuffer
    /// How many of `bytes` are the header (2, 4 or 10).
    let headerLength: Int

    init(text: String) {
        self.init(isText: true, payloadLength: text.utf8.count) { $0.writeString(text) }
    }

    init(binary: [UInt8]) {
        self.init(isText: false, payloadLength: binary.count) { $0.writeBytes(binary) }
    }

    /// The frame of one Engine.IO packet (``EngineIOCodec/encodeWebSocket(_:)``), written
    /// straight into the frame's buffer (no `<digit><text>` string built first).
    init(_ packet: EngineIOPacket) {
        switch packet.payload {
        case .binary(let bytes):
            self.init(binary: bytes)
        case .text(let text):
            self.init(isText: true, payloadLength: 1 + text.utf8.count) { buffer in
                buffer.writeInteger(EngineIOCodec.typeByte(packet.kind)) + buffer.writeString(text)
            }
        }
    }

    private init(isText: Bool, payloadLength: Int, payload: (inout ByteBuffer) -> Int) {
        let header: Int = payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10
        var buffer = ByteBufferAllocator().buffer(capacity: header + payloadLength)
        buffer.writeInteger(UInt8(0x80) | (isText ? 0x1 : 0x2))  // FIN, opcode
        switch header {
        case 2:
            buffer.writeInteger(UInt8(payloadLength))
        case 4:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payloadLength))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payloadLength))
        }
        let written = payload(&buffer)
        assert(written == payloadLength, "a frame's payload is as long as its header says")
        self.isText = isText
        self.bytes = buffer
        self.headerLength = header
    }

    /// The payload alone (sharing the frame's storage).
    var payload: ByteBuffer {
        bytes.getSlice(at: bytes.readerIndex + headerLength, length: bytes.readableBytes - headerLength)!
    }

    /// The frame for a writer that encodes frames itself.
    var webSocketFrame: WebSocketFrame {
        WebSocketFrame(fin: true, opcode: isText ? .text : .binary, data: payload)
    }
}

/// Writing ``WebSocketWireFrame``s to a WebSocket channel, on its event loop.
enum WebSocketWire {
    /// The context of the channel's `WebSocketFrameEncoder`: what is written through it goes
    /// to the handlers below the encoder, as bytes. Nil when the pipeline has no encoder
    /// (being torn down, or a test channel).
    static func encoder(of channel: any Channel) -> ChannelHandlerContext? {
        channel.eventLoop.assertInEventLoop()
        return try? channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
    }

    /// Writes `frames` in order (not flushed): as bytes below `encoder` when given, else as
    /// `WebSocketFrame`s through the whole pipeline. `promise` completes with the last one.
    static func write(
        _ frames: [WebSocketWireFrame], to channel: any Channel, below encoder: ChannelHandlerContext?,
        promise: EventLoopPromise<Void>? = nil
    ) {
        channel.eventLoop.assertInEventLoop()
        for (index, frame) in frames.enumerated() {
            let last = index == frames.count - 1 ? promise : nil
            if let encoder {
                encoder.write(NIOAny(frame.bytes), promise: last)
            } else {
                channel.write(frame.webSocketFrame, promise: last)
            }
        }
    }
}
