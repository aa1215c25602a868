/// Engine.IO v4 framing for the WebSocket and long-polling transports.
public enum EngineIOCodec {
    /// The record separator between packets of a polling payload.
    public static let separator: UInt8 = 0x1E

    // MARK: WebSocket

    /// One packet per frame: text packets are `<type digit><text>`; binary
    /// messages are raw binary frames (no type byte in v4).
    public static func encodeWebSocket(_ packet: EngineIOPacket) -> WebSocketContent {
        switch packet.payload {
        case .binary(let bytes): return .binary(bytes)
        case .text(let text): return .text(typeDigit(packet.kind) + text)
        }
    }

    /// Decodes one WebSocket frame. A binary frame is a binary `message`.
    public static func decodeWebSocket(_ frame: WebSocketContent) throws(ProtocolError) -> EngineIOPacket {
        switch frame {
        case .binary(let bytes): return .binaryMessage(bytes)
        case .text(let text): return try decodeTextPacket(text)
        }
    }

    /// Decodes `<type digit><text>` (the WebSocket text form).
    public static func decodeTextPacket(_ text: String) throws(ProtocolError) -> EngineIOPacket {
        let utf8 = text.utf8
        guard let first = utf8.first else { throw .emptyPacket }
        let kind = try kind(of: first)
        let rest = text.utf8.dropFirst()
        return EngineIOPacket(kind: kind, payload: .text(rest.isEmpty ? "" : String(Substring(rest))))
    }

    // MARK: Long-polling

    /// Packets joined with 0x1E; a binary message is `b` + base64 (no type digit).
    public static func encodePayload(_ packets: [EngineIOPacket]) -> String {
        var out: [UInt8] = []
        for (index, packet) in packets.enumerated() {
            if index > 0 { out.append(separator) }
            switch packet.payload {
            case .binary(let bytes):
                out.append(UInt8(ascii: "b"))
                Base64.encode(bytes, into: &out)
            case .text(let text):
                out.append(UInt8(ascii: "0") + packet.kind.rawValue)
                out.append(contentsOf: text.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a polling payload. An empty body holds no packets (as in
    /// python-engineio); an empty segment between separators is refused.
    /// - Parameters:
    ///   - maxPackets: refuse bodies with more packets (``ProtocolError/tooManyPackets(limit:)``).
    ///   - maxBytes: refuse bodies longer than this many UTF-8 bytes (``ProtocolError/payloadTooLarge(limit:)``).
    public static func decodePayload(_ body: String, maxPackets: Int? = nil, maxBytes: Int? = nil)
        throws(ProtocolError) -> [EngineIOPacket]
    {
        var body = body
        let result: Result<[EngineIOPacket], ProtocolError> = body.withUTF8 { buffer in
            do throws(ProtocolError) {
                return .success(try decodePayload(buffer: buffer, maxPackets: maxPackets, maxBytes: maxBytes))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Decodes a polling payload from its UTF-8 bytes (``ProtocolError/invalidUTF8`` if they are not).
    public static func decodePayload(_ body: [UInt8], maxPackets: Int? = nil, maxBytes: Int? = nil)
        throws(ProtocolError) -> [EngineIOPacket]
    {
        if let maxBytes, body.count > maxBytes { throw .payloadTooLarge(limit: maxBytes) }
        guard let text = String(validating: body, as: UTF8.self) else { throw .invalidUTF8 }
        return try decodePayload(text, maxPackets: maxPackets, maxBytes: maxBytes)
    }

    static func decodePayload(buffer: UnsafeBufferPointer<UInt8>, maxPackets: Int?, maxBytes: Int?)
        throws(ProtocolError) -> [EngineIOPacket]
    {
        if let maxBytes, buffer.count > maxBytes { throw .payloadTooLarge(limit: maxBytes) }
        if buffer.isEmpty { return [] }
        if let maxPackets {
            var count = 1
            for byte in buffer where byte == separator {
                count += 1
                if count > maxPackets { throw .tooManyPackets(limit: maxPackets) }
            }
        }
        var packets: [EngineIOPacket] = []
        var start = 0
        while start <= buffer.count {
            var end = start
            while end < buffer.count, buffer[end] != separator { end += 1 }
            packets.append(try decodePollingSegment(UnsafeBufferPointer(rebasing: buffer[start..<end])))
            start = end + 1
        }
        return packets
    }

    /// One segment of a polling payload: `b<base64>` or `<type digit><text>`.
    static func decodePollingSegment(_ segment: UnsafeBufferPointer<UInt8>) throws(ProtocolError) -> EngineIOPacket {
        guard let first = segment.first else { throw .emptyPacket }
        let rest = UnsafeBufferPointer(rebasing: segment[1...])
        if first == UInt8(ascii: "b") {
            return .binaryMessage(try Base64.decode(rest))
        }
        let kind = try kind(of: first)
        return EngineIOPacket(kind: kind, payload: .text(String(decoding: rest, as: UTF8.self)))
    }

    // MARK: helpers

    @inline(__always)
    static func kind(of byte: UInt8) throws(ProtocolError) -> EngineIOPacket.Kind {
        guard byte >= UInt8(ascii: "0"), let kind = EngineIOPacket.Kind(rawValue: byte &- UInt8(ascii: "0")) else {
            throw .unknownPacketType(byte)
        }
        return kind
    }

    /// The type digit of `kind` as a byte (`"4"` for `message`): what precedes a text packet.
    public static func typeByte(_ kind: EngineIOPacket.Kind) -> UInt8 {
        UInt8(ascii: "0") + kind.rawValue
    }

    static func typeDigit(_ kind: EngineIOPacket.Kind) -> String {
        switch kind {
        case .open: "0"
        case .close: "1"
        case .ping: "2"
        case .pong: "3"
        case .message: "4"
        case .upgrade: "5"
        case .noop: "6"
        }
    }
}
