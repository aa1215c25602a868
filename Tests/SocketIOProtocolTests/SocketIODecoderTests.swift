import JSONValue
import Testing

@testable import SocketIOProtocol

@Suite struct SocketIODecoderTests {
    @Test func textPacketsCompleteAtOnce() throws {
        var decoder = SocketIODecoder()
        #expect(try decoder.decode(.text(#"2["a",1]"#)) == .event("a", [1]))
        #expect(!decoder.isAwaitingAttachments)
        #expect(try decoder.decode(.text("0")) == .connect())
        #expect(try decoder.decode(.text("1")) == .disconnect())
    }

    @Test func binaryAttachmentFlow() throws {
        var decoder = SocketIODecoder()
        let header = #"52-/admin,3["upload",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#
        #expect(try decoder.decode(.text(header)) == nil)
        #expect(decoder.isAwaitingAttachments)
        #expect(try decoder.decode(.binary([1, 2, 3])) == nil)
        #expect(decoder.isAwaitingAttachments)
        let packet = try #require(try decoder.decode(.binary([])))
        #expect(!decoder.isAwaitingAttachments)
        #expect(packet.kind == .binaryEvent)
        #expect(packet.namespace == "/admin")
        #expect(packet.id == 3)
        #expect(packet.eventName == "upload")
        #expect(packet.eventArguments == [SocketIOPacket.placeholder(0), ["x": SocketIOPacket.placeholder(1)]])
        #expect(packet.attachments == [[1, 2, 3], []])
        // The decoder goes on with the next packet.
        #expect(try decoder.decode(.text(#"31["ok"]"#)) == .ack(["ok"], id: 1))
    }

    @Test func binaryAckFlowAndZeroAttachments() throws {
        var decoder = SocketIODecoder()
        #expect(try decoder.decode(.text(#"61-7[{"_placeholder":true,"num":0}]"#)) == nil)
        #expect(try decoder.decode(.binary([9])) == .ack([SocketIOPacket.placeholder(0)], id: 7, attachments: [[9]]))
        #expect(try decoder.decode(.text(#"50-["a"]"#)) == SocketIOPacket(kind: .binaryEvent, data: ["a"]))
    }

    @Test func binaryPayloadWhenNoneExpected() throws {
        var decoder = SocketIODecoder()
        #expect(throws: ProtocolError.unexpectedAttachment) { try decoder.decode(.binary([1])) }
        _ = try decoder.decode(.text(#"51-["a",{"_placeholder":true,"num":0}]"#))
        _ = try decoder.decode(.binary([1]))
        #expect(throws: ProtocolError.unexpectedAttachment) { try decoder.decode(.binary([2])) }
    }

    @Test func textPayloadWhileAttachmentsAreExpected() throws {
        var decoder = SocketIODecoder()
        _ = try decoder.decode(.text(#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        _ = try decoder.decode(.binary([1]))
        #expect(throws: ProtocolError.missingAttachments) { try decoder.decode(.text(#"2["b"]"#)) }
        // After the error the decoder starts afresh.
        #expect(!decoder.isAwaitingAttachments)
        #expect(try decoder.decode(.text(#"2["b"]"#)) == .event("b", []))
    }

    @Test func resetDropsAPartialPacket() throws {
        var decoder = SocketIODecoder()
        _ = try decoder.decode(.text(#"51-["a",{"_placeholder":true,"num":0}]"#))
        decoder.reset()
        #expect(!decoder.isAwaitingAttachments)
        #expect(throws: ProtocolError.unexpectedAttachment) { try decoder.decode(.binary([1])) }
    }

    @Test func maxAttachmentsLimit() throws {
        var decoder = SocketIODecoder(maxAttachments: 1)
        #expect(throws: ProtocolError.invalidAttachmentCount) { try decoder.decode(.text(#"52-["a"]"#)) }
        #expect(!decoder.isAwaitingAttachments)
    }

    @Test func decoderErrorsLeaveItUsable() throws {
        var decoder = SocketIODecoder()
        #expect(throws: ProtocolError.invalidEventData) { try decoder.decode(.text("2[]")) }
        #expect(try decoder.decode(.text(#"2["ok"]"#)) == .event("ok", []))
    }
}

@Suite struct CodecBenchmarkTests {
    @Test func benchmarkWorkloadRoundTripsAKilobytePacket() throws {
        let result = try CodecBenchmark.run(iterations: 50)
        #expect(result.encodedPackets == 50)
        #expect(result.decodedPackets == 50)
        #expect((800...1600).contains(result.packetBytes))
        #expect(result.encodedBytes == 50 * result.packetBytes)
        #expect(try CodecBenchmark.run(iterations: 0).decodedPackets == 0)
        let encoded = CodecBenchmark.encode(iterations: 20)
        #expect(encoded.encodedPackets == 20 && encoded.encodedBytes == 20 * result.packetBytes)
        let decoded = try CodecBenchmark.decode(iterations: 20)
        #expect(decoded.decodedPackets == 20 && decoded.packetBytes == result.packetBytes)
        #expect(try SocketIOCodec.decodeText(SocketIOCodec.encodeText(CodecBenchmark.samplePacket)).packet == CodecBenchmark.samplePacket)
    }
}
