import JSONValue

/// Socket.IO v5 packet text: `<type>[<attachments>-][<nsp>,][<id>][<json>]`.
public enum SocketIOCodec {
    /// The Engine.IO message payloads for one Socket.IO packet: first the text header+JSON,
    /// then one binary payload per attachment.
    public static func encode(_ packet: SocketIOPacket) -> [EngineIOPacket.Payload] {
        var payloads: [EngineIOPacket.Payload] = [.text(encodeText(packet))]
        if !packet.attachments.isEmpty {
            payloads.reserveCapacity(1 + packet.attachments.count)
            for attachment in packet.attachments { payloads.append(.binary(attachment)) }
        }
        return payloads
    }

    /// The packet's text (without its attachments). JSON is compact and keeps
    /// non-ASCII characters as they are (as socket.io's `JSON.stringify`).
    public static func encodeText(_ packet: SocketIOPacket) -> String {
        encodeText(packet, jsonOptions: .compact)
    }

    /// The packet's text with JSON options, e.g. `asciiOnly: true` to write
    /// exactly what python-socketio (`json.dumps` with `ensure_ascii`) writes.
    ///
    /// A packet of kind `event`/`ack` that has attachments is written as
    /// `binaryEvent`/`binaryAck`, so no attachment is ever lost; binary kinds
    /// always carry their count, `0-` included.
    public static func encodeText(_ packet: SocketIOPacket, jsonOptions: JSONValue.SerializationOptions) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        var kind = packet.kind
        if !packet.attachments.isEmpty {
            if kind == .event { kind = .binaryEvent }
            if kind == .ack { kind = .binaryAck }
        }
        out.append(UInt8(ascii: "0") + kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck {
            appendDecimal(packet.attachments.count, to: &out)
            out.append(UInt8(ascii: "-"))
        }
        if packet.namespace != "/", !packet.namespace.isEmpty {
            out.append(contentsOf: packet.namespace.utf8)
            out.append(UInt8(ascii: ","))
        }
        if let id = packet.id {
            appendDecimal(id, to: &out)
        }
        if let data = packet.data {
            data.write(into: &out, jsonOptions)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a packet's text. The returned packet has no attachments yet;
    /// `attachmentCount` says how many binary payloads must follow (use
    /// ``SocketIODecoder`` to collect them).
    ///
    /// Follows python-socketio where the specification is silent: a namespace
    /// runs to the first `,` (or the end of the text) and loses a `?query`
    /// suffix. Stricter than python-socketio: data must have the shape of its
    /// packet type (see ``ProtocolError``), binary packets must carry their
    /// count, placeholders must refer to existing attachments, and ack ids
    /// must fit in `Int`.
    public static func decodeText(_ text: String, maxAttachments: Int = 10)
        throws(ProtocolError) -> (packet: SocketIOPacket, attachmentCount: Int)
    {
        var text = text
        let result: Result<(packet: SocketIOPacket, attachmentCount: Int), ProtocolError> = text.withUTF8 { buffer in
            do throws(ProtocolError) {
                return .success(try decode(buffer, maxAttachments: maxAttachments))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func decode(_ buffer: UnsafeBufferPointer<UInt8>, maxAttachments: Int)
        throws(ProtocolError) -> (packet: SocketIOPacket, attachmentCount: Int)
    {
        guard let first = buffer.first else { throw .emptyPacket }
        guard first >= UInt8(ascii: "0"), let kind = SocketIOPacket.Kind(rawValue: first &- UInt8(ascii: "0")) else {
            throw .unknownPacketType(first)
        }
        var index = 1
        let end = buffer.count

        // Attachment count (binary kinds only): digits then "-".
        var attachmentCount = 0
        if kind == .binaryEvent || kind == .binaryAck {
            let start = index
            while index < end, isDigit(buffer[index]) {
                guard index - start < 9 else { throw .invalidAttachmentCount }
                attachmentCount = attachmentCount * 10 + Int(buffer[index] &- UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < end, buffer[index] == UInt8(ascii: "-") else { throw .invalidAttachmentCount }
            index += 1
            guard attachmentCount <= maxAttachments else { throw .invalidAttachmentCount }
        }

        // Namespace: "/..." up to "," or the end.
        var namespace = "/"
        if index < end, buffer[index] == UInt8(ascii: "/") {
            let start = index
            var queryStart: Int? = nil
            while index < end, buffer[index] != UInt8(ascii: ",") {
                let byte = buffer[index]
                switch byte {
                case 0..<0x20, 0x7F, UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "{"):
                    throw .invalidNamespace
                case UInt8(ascii: "?"):
                    if queryStart == nil { queryStart = index }
                default: break
                }
                index += 1
            }
            namespace = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<(queryStart ?? index)]), as: UTF8.self)
            if index < end { index += 1 }  // the ","
        }

        // Ack id.
        var id: Int? = nil
        if index < end, isDigit(buffer[index]) {
            var value = 0
            while index < end, isDigit(buffer[index]) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(buffer[index] &- UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw .invalidAckID }
                value = sum
                index += 1
            }
            id = value
        }

        // Data.
        var data: JSONValue? = nil
        if index < end {
            do throws(JSONParseError) {
                let (value, after) = try JSONParser.parsePrefix(buffer, from: index)
                var rest = after
                while rest < end, isWhitespace(buffer[rest]) { rest += 1 }
                guard rest == end else { throw JSONParseError.trailingData(at: rest) }
                data = value
            } catch {
                throw .invalidJSON(error)
            }
        }

        try validate(kind: kind, id: id, data: data, attachmentCount: attachmentCount)
        return (SocketIOPacket(kind: kind, namespace: namespace, id: id, data: data), attachmentCount)
    }

    private static func validate(kind: SocketIOPacket.Kind, id: Int?, data: JSONValue?, attachmentCount: Int)
        throws(ProtocolError)
    {
        switch kind {
        case .connect:
            switch data {
            case nil, .object?: break
            default: throw .invalidPacketData
            }
        case .disconnect:
            guard data == nil else { throw .invalidPacketData }
        case .event, .binaryEvent:
            guard case .array(let items)? = data, case .string? = items.first else { throw .invalidEventData }
        case .ack, .binaryAck:
            guard id != nil else { throw .invalidAckID }
            guard case .array? = data else { throw .invalidPacketData }
        case .connectError:
            switch data {
            case .object?, .string?: break
            default: throw .invalidPacketData
            }
        }
        if kind == .binaryEvent || kind == .binaryAck, let data {
            guard placeholdersAreValid(data, count: attachmentCount) else { throw .invalidAttachmentCount }
        }
    }

    /// Every placeholder refers to an attachment in `0..<count`.
    static func placeholdersAreValid(_ value: JSONValue, count: Int) -> Bool {
        switch value {
        case .array(let items):
            for item in items where !placeholdersAreValid(item, count: count) { return false }
            return true
        case .object(let object):
            if case .bool(true)? = object["_placeholder"] {
                guard case .int(let num)? = object["num"] else { return false }
                return num >= 0 && num < count
            }
            for (_, item) in object where !placeholdersAreValid(item, count: count) { return false }
            return true
        default:
            return true
        }
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }
}
