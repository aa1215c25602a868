import JSONValue

/// Why an Engine.IO or Socket.IO input was refused.
///
/// A struct over a private enum so that cases can be added without breaking
/// callers; compare with the static members (`error == .emptyPacket`).
public struct ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Reason: Equatable, Sendable {
        case emptyPacket
        case unknownPacketType(UInt8)
        case invalidBase64
        case invalidUTF8
        case invalidJSON(JSONParseError)
        case invalidNamespace
        case invalidAckID
        case invalidAttachmentCount
        case unexpectedAttachment
        case missingAttachments
        case invalidEventData
        case invalidPacketData
        case payloadTooLarge(limit: Int)
        case tooManyPackets(limit: Int)
        case invalidHandshake
    }

    let reason: Reason

    init(_ reason: Reason) { self.reason = reason }

    /// An empty Engine.IO packet, Socket.IO packet or payload segment.
    public static let emptyPacket = Self(.emptyPacket)
    /// The packet type byte is not a known Engine.IO / Socket.IO type.
    public static func unknownPacketType(_ byte: UInt8) -> Self { Self(.unknownPacketType(byte)) }
    /// A `b`-prefixed polling packet whose base64 is malformed.
    public static let invalidBase64 = Self(.invalidBase64)
    /// A polling body that is not valid UTF-8.
    public static let invalidUTF8 = Self(.invalidUTF8)
    /// The JSON part of a packet does not parse.
    public static func invalidJSON(_ error: JSONParseError) -> Self { Self(.invalidJSON(error)) }
    /// The namespace part of a Socket.IO packet is malformed.
    public static let invalidNamespace = Self(.invalidNamespace)
    /// The ack id is missing where required or too large.
    public static let invalidAckID = Self(.invalidAckID)
    /// The attachment count of a binary packet is missing, malformed, over the
    /// limit, or a placeholder refers to an attachment that does not exist.
    public static let invalidAttachmentCount = Self(.invalidAttachmentCount)
    /// A binary payload arrived while no binary packet was waiting for attachments.
    public static let unexpectedAttachment = Self(.unexpectedAttachment)
    /// A text payload arrived while a binary packet still waited for attachments.
    public static let missingAttachments = Self(.missingAttachments)
    /// Event data is not a non-empty array starting with a string (the event name).
    public static let invalidEventData = Self(.invalidEventData)
    /// Packet data has the wrong shape for its type (connect not an object,
    /// disconnect with data, ack without an array, connect error neither object nor string).
    public static let invalidPacketData = Self(.invalidPacketData)
    /// An input is larger than the allowed number of bytes.
    public static func payloadTooLarge(limit: Int) -> Self { Self(.payloadTooLarge(limit: limit)) }
    /// A polling payload holds more packets than allowed.
    public static func tooManyPackets(limit: Int) -> Self { Self(.tooManyPackets(limit: limit)) }
    /// An Engine.IO open packet whose handshake JSON lacks or mistypes a field.
    public static let invalidHandshake = Self(.invalidHandshake)

    /// A short, label-safe name for metrics.
    public var shortDescription: String {
        switch reason {
        case .emptyPacket: "empty_packet"
        case .unknownPacketType: "unknown_packet_type"
        case .invalidBase64: "invalid_base64"
        case .invalidUTF8: "invalid_utf8"
        case .invalidJSON: "invalid_json"
        case .invalidNamespace: "invalid_namespace"
        case .invalidAckID: "invalid_ack_id"
        case .invalidAttachmentCount: "invalid_attachment_count"
        case .unexpectedAttachment: "unexpected_attachment"
        case .missingAttachments: "missing_attachments"
        case .invalidEventData: "invalid_event_data"
        case .invalidPacketData: "invalid_packet_data"
        case .payloadTooLarge: "payload_too_large"
        case .tooManyPackets: "too_many_packets"
        case .invalidHandshake: "invalid_handshake"
        }
    }

    public var description: String {
        switch reason {
        case .emptyPacket: return "empty packet"
        case .unknownPacketType(let byte):
            let shown = (0x20..<0x7f).contains(byte)
                ? "'\(Character(Unicode.Scalar(byte)))'" : "0x\(String(byte, radix: 16))"
            return "unknown packet type \(shown)"
        case .invalidBase64: return "invalid base64 in binary packet"
        case .invalidUTF8: return "payload is not valid UTF-8"
        case .invalidJSON(let error): return "invalid packet data: \(error)"
        case .invalidNamespace: return "invalid namespace"
        case .invalidAckID: return "invalid ack id"
        case .invalidAttachmentCount: return "invalid binary attachment count"
        case .unexpectedAttachment: return "binary payload received while no attachment was expected"
        case .missingAttachments: return "text payload received while binary attachments were still expected"
        case .invalidEventData: return "event data must be a non-empty array starting with the event name"
        case .invalidPacketData: return "packet data has the wrong shape for its type"
        case .payloadTooLarge(let limit): return "payload larger than \(limit) bytes"
        case .tooManyPackets(let limit): return "payload holds more than \(limit) packets"
        case .invalidHandshake: return "invalid Engine.IO handshake"
        }
    }
}
