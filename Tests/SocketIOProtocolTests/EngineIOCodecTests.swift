import JSONValue
import Testing

@testable import SocketIOProtocol

@Suite struct EngineIOCodecTests {
    static let handshake = EngineIOHandshake(
        sid: "lv_VI97HAXpY6yYWAAAC", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000,
        maxPayload: 1_000_000)

    @Test(arguments: [
        (EngineIOPacket.message("hello"), "4hello"),
        (.message(""), "4"),
        (.ping, "2"),
        (.pong, "3"),
        (.ping("probe"), "2probe"),
        (.pong("probe"), "3probe"),
        (.close, "1"),
        (.upgrade, "5"),
        (.noop, "6"),
        (.message("2[\"héllo\",\"☃\"]"), "42[\"héllo\",\"☃\"]"),
        (
            .open(handshake),
            #"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        ),
    ])
    func webSocketTextPacketsBothWays(packet: EngineIOPacket, wire: String) throws {
        #expect(EngineIOCodec.encodeWebSocket(packet) == .text(wire))
        #expect(try EngineIOCodec.decodeWebSocket(.text(wire)) == packet)
    }

    @Test func webSocketBinaryFrameIsABinaryMessageWithoutTypeByte() throws {
        let bytes: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0xFF]
        #expect(EngineIOCodec.encodeWebSocket(.binaryMessage(bytes)) == .binary(bytes))
        #expect(try EngineIOCodec.decodeWebSocket(.binary(bytes)) == .binaryMessage(bytes))
        #expect(try EngineIOCodec.decodeWebSocket(.binary([])) == .binaryMessage([]))
    }

    @Test(arguments: ["7", "9hello", "x", "b4hello", "-1", "\u{1e}"])
    func unknownWebSocketPacketTypes(wire: String) {
        #expect(throws: ProtocolError.unknownPacketType(wire.utf8.first!)) {
            try EngineIOCodec.decodeWebSocket(.text(wire))
        }
    }

    @Test func emptyTextFrameIsRefused() {
        #expect(throws: ProtocolError.emptyPacket) { try EngineIOCodec.decodeWebSocket(.text("")) }
    }

    @Test func handshakeJSONBothWays() throws {
        let packet = EngineIOPacket.open(Self.handshake)
        #expect(try packet.handshake() == Self.handshake)
        #expect(Self.handshake.json["maxPayload"] == 1_000_000)
        let minimal = try EngineIOHandshake(json: ["sid": "x", "pingInterval": 1, "pingTimeout": 2])
        #expect(minimal == EngineIOHandshake(sid: "x", upgrades: [], pingInterval: 1, pingTimeout: 2, maxPayload: 1_000_000))
    }

    @Test(arguments: [
        "[]", #"{"pingInterval":1,"pingTimeout":2}"#, #"{"sid":1,"pingInterval":1,"pingTimeout":2}"#,
        #"{"sid":"a","pingInterval":"1","pingTimeout":2}"#, #"{"sid":"a","pingInterval":1}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":2,"upgrades":[1]}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":2,"upgrades":"websocket"}"#,
        #"{"sid":"a","pingInterval":1,"pingTimeout":2,"maxPayload":1.5}"#,
        #"{"sid":"a","pingInterval":-1,"pingTimeout":2}"#,
    ])
    func invalidHandshakes(json: String) throws {
        let value = try JSONValue(parsing: json)
        #expect(throws: ProtocolError.invalidHandshake) { try EngineIOHandshake(json: value) }
        #expect(throws: ProtocolError.invalidHandshake) { try EngineIOPacket(kind: .open, payload: .text(json)).handshake() }
    }

    @Test func handshakeFromNonOpenOrBadJSONIsRefused() {
        #expect(throws: ProtocolError.invalidHandshake) { try EngineIOPacket.message("{}").handshake() }
        #expect(throws: ProtocolError.invalidHandshake) { try EngineIOPacket(kind: .open, payload: .text("{")).handshake() }
    }

    // MARK: polling

    @Test func pollingPayloadWithMixedTextAndBinary() throws {
        let packets: [EngineIOPacket] = [.message("hello"), .binaryMessage([1, 2, 3, 4]), .ping, .message("€")]
        let wire = "4hello\u{1e}bAQIDBA==\u{1e}2\u{1e}4€"
        #expect(EngineIOCodec.encodePayload(packets) == wire)
        #expect(try EngineIOCodec.decodePayload(wire) == packets)
        #expect(try EngineIOCodec.decodePayload(Array(wire.utf8)) == packets)
    }

    @Test func pollingPayloadSinglePacketsAndEmptyBody() throws {
        #expect(EngineIOCodec.encodePayload([]) == "")
        #expect(try EngineIOCodec.decodePayload("") == [])
        #expect(EngineIOCodec.encodePayload([.noop]) == "6")
        #expect(try EngineIOCodec.decodePayload("40") == [.message("0")])
        #expect(try EngineIOCodec.decodePayload("b") == [.binaryMessage([])])
        #expect(try EngineIOCodec.decodePayload("bAQID") == [.binaryMessage([1, 2, 3])])
    }

    @Test(arguments: ["4a\u{1e}\u{1e}4b", "\u{1e}", "4a\u{1e}", "\u{1e}4a"])
    func pollingPayloadEmptySegmentsAreRefused(wire: String) {
        #expect(throws: ProtocolError.emptyPacket) { try EngineIOCodec.decodePayload(wire) }
    }

    @Test func pollingPayloadErrors() {
        #expect(throws: ProtocolError.invalidBase64) { try EngineIOCodec.decodePayload("4a\u{1e}b!!!!") }
        #expect(throws: ProtocolError.unknownPacketType(UInt8(ascii: "8"))) { try EngineIOCodec.decodePayload("4a\u{1e}8") }
        #expect(throws: ProtocolError.invalidUTF8) { try EngineIOCodec.decodePayload([0x34, 0xC3, 0x28]) }
        #expect(throws: ProtocolError.invalidUTF8) { try EngineIOCodec.decodePayload([0x34, 0xFF]) }
    }

    @Test func pollingPayloadLimits() throws {
        let sixteen = Array(repeating: EngineIOPacket.message("x"), count: 16)
        let seventeen = sixteen + [.ping]
        #expect(try EngineIOCodec.decodePayload(EngineIOCodec.encodePayload(sixteen), maxPackets: 16) == sixteen)
        #expect(throws: ProtocolError.tooManyPackets(limit: 16)) {
            try EngineIOCodec.decodePayload(EngineIOCodec.encodePayload(seventeen), maxPackets: 16)
        }
        #expect(throws: ProtocolError.tooManyPackets(limit: 16)) {
            try EngineIOCodec.decodePayload(Array(EngineIOCodec.encodePayload(seventeen).utf8), maxPackets: 16)
        }
        let big = EngineIOCodec.encodePayload([.message(String(repeating: "a", count: 100))])
        #expect(try EngineIOCodec.decodePayload(big, maxBytes: 101).count == 1)
        #expect(throws: ProtocolError.payloadTooLarge(limit: 100)) { try EngineIOCodec.decodePayload(big, maxBytes: 100) }
        #expect(throws: ProtocolError.payloadTooLarge(limit: 100)) {
            try EngineIOCodec.decodePayload(Array(big.utf8), maxBytes: 100)
        }
    }

    @Test func largePayloadsDecodeInLinearTime() throws {
        // 200k packets in one body, and one 4 MB base64 packet: a quadratic
        // split or base64 decoder would take minutes here.
        let many = String(repeating: "4x\u{1e}", count: 200_000) + "2"
        let clock = ContinuousClock()
        let start = clock.now
        let packets = try EngineIOCodec.decodePayload(many)
        #expect(packets.count == 200_001)
        let blob = [UInt8](repeating: 0xAB, count: 3_000_000)
        let body = EngineIOCodec.encodePayload([.binaryMessage(blob)])
        #expect(try EngineIOCodec.decodePayload(body) == [.binaryMessage(blob)])
        #expect(clock.now - start < .seconds(20))
    }
}
