import JSONValue
import Testing

@testable import SocketIOProtocol

@Suite struct SocketIOCodecTests {
    static let ph0 = SocketIOPacket.placeholder(0)
    static let ph1 = SocketIOPacket.placeholder(1)

    /// Packets and their exact text, both ways (examples from codec-api.md and the v5 spec).
    static let wireExamples: [(SocketIOPacket, String)] = [
        (.event("hello", [1]), #"2["hello",1]"#),
        (.event("x", [], namespace: "/admin"), #"2/admin,["x"]"#),
        (.event("ev", [], id: 12), #"212["ev"]"#),
        (.event("ev", ["a", ["b": true]], namespace: "/admin", id: 7), #"2/admin,7["ev","a",{"b":true}]"#),
        (.ack(["ok"], id: 1), #"31["ok"]"#),
        (.ack([], id: 13, namespace: "/admin"), #"3/admin,13[]"#),
        (.connect(data: ["sid": "abc"]), #"0{"sid":"abc"}"#),
        (.connect(), "0"),
        (.connect(namespace: "/admin"), "0/admin,"),
        (.connect(namespace: "/admin", data: ["token": "123"]), #"0/admin,{"token":"123"}"#),
        (.disconnect(), "1"),
        (.disconnect(namespace: "/admin"), "1/admin,"),
        (.connectError(message: "Not authorized"), #"4{"message":"Not authorized"}"#),
        (.connectError(namespace: "/admin", message: "x"), #"4/admin,{"message":"x"}"#),
        (SocketIOPacket(kind: .connectError, data: "plain"), #"4"plain""#),
        (.event("bin", [ph0], attachments: [[1, 2, 3]]), #"51-["bin",{"_placeholder":true,"num":0}]"#),
        (
            .event("bin", [["a": ph1, "b": ph0]], namespace: "/admin", id: 9, attachments: [[1], [2]]),
            #"52-/admin,9["bin",{"a":{"_placeholder":true,"num":1},"b":{"_placeholder":true,"num":0}}]"#
        ),
        (.ack([ph0], id: 456, namespace: "/admin", attachments: [[0xFF]]), #"61-/admin,456[{"_placeholder":true,"num":0}]"#),
        (.event("ünïcødé ☃", ["𝄞"]), "2[\"ünïcødé ☃\",\"𝄞\"]"),
    ]

    @Test func encodesExactWireText() {
        for (packet, wire) in Self.wireExamples {
            #expect(SocketIOCodec.encodeText(packet) == wire)
        }
    }

    @Test func decodesExactWireText() throws {
        for (packet, wire) in Self.wireExamples {
            let (decoded, count) = try SocketIOCodec.decodeText(wire)
            #expect(count == packet.attachments.count)
            var expected = packet
            expected.attachments = []
            #expect(decoded == expected, "\(wire)")
        }
    }

    @Test func encodeGivesTextThenOneBinaryPayloadPerAttachment() {
        let packet = SocketIOPacket.event("bin", [Self.ph0, Self.ph1], attachments: [[1, 2], [3]])
        #expect(
            SocketIOCodec.encode(packet) == [
                .text(#"52-["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#), .binary([1, 2]),
                .binary([3]),
            ])
        #expect(SocketIOCodec.encode(.event("a", [])) == [.text(#"2["a"]"#)])
        // Over Engine.IO on a WebSocket: "4" + text, then raw binary frames.
        let frames = SocketIOCodec.encode(packet).map { EngineIOCodec.encodeWebSocket(.init(kind: .message, payload: $0)) }
        #expect(frames.first == .text(#"452-["bin",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        #expect(frames.dropFirst() == [.binary([1, 2]), .binary([3])])
        #expect(EngineIOCodec.encodeWebSocket(.message(SocketIOCodec.encodeText(.connect()))) == .text("40"))
    }

    @Test func factoriesPickKinds() {
        #expect(SocketIOPacket.event("a", []).kind == .event)
        #expect(SocketIOPacket.event("a", [Self.ph0], attachments: [[]]).kind == .binaryEvent)
        #expect(SocketIOPacket.ack([], id: 1).kind == .ack)
        #expect(SocketIOPacket.ack([Self.ph0], id: 1, attachments: [[]]).kind == .binaryAck)
        let event = SocketIOPacket.event("name", [1, "two"])
        #expect(event.eventName == "name")
        #expect(event.eventArguments == [1, "two"])
        #expect(SocketIOPacket.ack([1, 2], id: 3).eventArguments == [1, 2])
        #expect(SocketIOPacket.ack([1], id: 3).eventName == nil)
        #expect(SocketIOPacket.connect().eventArguments == [])
        #expect(SocketIOPacket.placeholderIndex(Self.ph1) == 1)
        #expect(SocketIOPacket.placeholderIndex(["num": 1]) == nil)
    }

    @Test func binaryKindsAlwaysCarryTheirCountAndAttachmentsPromoteTheKind() throws {
        let zero = SocketIOPacket(kind: .binaryEvent, data: ["a"])
        #expect(SocketIOCodec.encodeText(zero) == #"50-["a"]"#)
        #expect(try SocketIOCodec.decodeText(#"50-["a"]"#) == (zero, 0))
        let promoted = SocketIOPacket(kind: .event, data: ["a", Self.ph0], attachments: [[7]])
        #expect(SocketIOCodec.encodeText(promoted) == #"51-["a",{"_placeholder":true,"num":0}]"#)
    }

    @Test func asciiOnlyOptionWritesWhatPythonWrites() {
        let packet = SocketIOPacket.event("é", ["☃"])
        #expect(SocketIOCodec.encodeText(packet, jsonOptions: .init(asciiOnly: true)) == #"2["\u00e9","\u2603"]"#)
    }

    // MARK: python-socketio's leniencies that we keep

    @Test func namespaceWithoutCommaRunsToTheEnd() throws {
        #expect(try SocketIOCodec.decodeText("1/admin").packet == .disconnect(namespace: "/admin"))
        #expect(try SocketIOCodec.decodeText("0/admin").packet == .connect(namespace: "/admin"))
    }

    @Test func namespaceQueryIsDropped() throws {
        #expect(try SocketIOCodec.decodeText(#"0/admin?token=1,{"a":1}"#).packet == .connect(namespace: "/admin", data: ["a": 1]))
    }

    @Test func whitespaceAroundJSONIsAccepted() throws {
        #expect(try SocketIOCodec.decodeText("2 [\"a\"] \n").packet == .event("a", []))
    }

    @Test func largestAckIDFits() throws {
        #expect(try SocketIOCodec.decodeText("3\(Int.max)[]").packet == .ack([], id: Int.max))
        #expect(try SocketIOCodec.decodeText("3007[]").packet == .ack([], id: 7))
    }

    // MARK: malformed input

    @Test(arguments: [
        ("", ProtocolError.emptyPacket),
        ("7", .unknownPacketType(UInt8(ascii: "7"))),
        ("a[]", .unknownPacketType(UInt8(ascii: "a"))),
        ("/", .unknownPacketType(UInt8(ascii: "/"))),
        ("2", .invalidEventData),
        ("2[]", .invalidEventData),
        ("2[1]", .invalidEventData),
        ("2{}", .invalidEventData),
        (#"2"a""#, .invalidEventData),
        ("2/admin,", .invalidEventData),
        (#"2/admin["x"]"#, .invalidNamespace),
        (#"0/admin{"a":1}"#, .invalidNamespace),
        ("0/ad\u{1}min,", .invalidNamespace),
        ("3[]", .invalidAckID),
        (#"3/admin,["x"]"#, .invalidAckID),
        ("39223372036854775808[]", .invalidAckID),
        ("3" + String(repeating: "9", count: 500) + "[]", .invalidAckID),
        ("31", .invalidPacketData),
        ("31{}", .invalidPacketData),
        ("0[]", .invalidPacketData),
        (#"0"x""#, .invalidPacketData),
        ("1{}", .invalidPacketData),
        ("1/admin,[]", .invalidPacketData),
        ("4", .invalidPacketData),
        ("4[]", .invalidPacketData),
        ("5", .invalidAttachmentCount),
        (#"5["a"]"#, .invalidAttachmentCount),
        (#"5-["a"]"#, .invalidAttachmentCount),
        (#"51["a"]"#, .invalidAttachmentCount),
        (#"5x-["a"]"#, .invalidAttachmentCount),
        (#"511-["a"]"#, .invalidAttachmentCount),
        (#"51234567890-["a"]"#, .invalidAttachmentCount),
        (#"51-["a",{"_placeholder":true,"num":1}]"#, .invalidAttachmentCount),
        (#"51-["a",{"_placeholder":true,"num":-1}]"#, .invalidAttachmentCount),
        (#"51-["a",{"_placeholder":true,"num":"0"}]"#, .invalidAttachmentCount),
        (#"61-1[{"_placeholder":true}]"#, .invalidAttachmentCount),
        (#"61-[]"#, .invalidAckID),
    ])
    func malformedPacketsAreRefused(wire: String, error: ProtocolError) {
        #expect(throws: error) { try SocketIOCodec.decodeText(wire) }
    }

    @Test func badJSONIsRefusedWithItsParseError() {
        #expect(throws: ProtocolError.invalidJSON(.unexpectedEnd(at: 5))) { try SocketIOCodec.decodeText(#"2["a""#) }
        #expect(throws: ProtocolError.invalidJSON(.trailingData(at: 6))) { try SocketIOCodec.decodeText(#"2["a"]x"#) }
        #expect(throws: ProtocolError.invalidJSON(.trailingData(at: 6))) { try SocketIOCodec.decodeText(#"2["a"]["b"]"#) }
        let deep = "2" + String(repeating: "[", count: 100_000)
        #expect(throws: ProtocolError.self) { try SocketIOCodec.decodeText(deep) }
    }

    @Test func maxAttachmentsIsConfigurable() throws {
        #expect(try SocketIOCodec.decodeText(#"520-["a"]"#, maxAttachments: 20).attachmentCount == 20)
        #expect(throws: ProtocolError.invalidAttachmentCount) { try SocketIOCodec.decodeText(#"521-["a"]"#, maxAttachments: 20) }
    }

    @Test func errorsDescribeThemselves() {
        #expect(ProtocolError.unknownPacketType(0x37).description == "unknown packet type '7'")
        #expect(ProtocolError.unknownPacketType(0x01).description == "unknown packet type 0x1")
        #expect(ProtocolError.payloadTooLarge(limit: 5).shortDescription == "payload_too_large")
        #expect(ProtocolError.invalidJSON(.unexpectedEnd(at: 1)).shortDescription == "invalid_json")
        #expect(ProtocolError.invalidJSON(.unexpectedEnd(at: 1)) != .invalidJSON(.unexpectedEnd(at: 2)))
        #expect(SocketIOPacket.event("a", [1]).description == #"2["a",1]"#)
    }
}
