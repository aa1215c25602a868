import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOWebSocket
import SocketIOProtocol
import StateTeeTesting
import Synchronization
import Testing

@testable import SocketIOServer

/// A session's pending packets go to its WebSocket as one batch: one event-loop hop and one
/// flush (so one `writev`), in order.
@Suite struct WebSocketWriterTests {
    final class FlushCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = WebSocketFrame
        private let count = NIOLockedValueBox(0)
        var flushes: Int { count.withLockedValue { $0 } }

        func flush(context: ChannelHandlerContext) {
            count.withLockedValue { $0 += 1 }
            context.flush()
        }
    }

    @Test func aBatchIsWrittenInOrderWithOneFlush() async throws {
        let channel = NIOAsyncTestingChannel()
        let counter = FlushCounter()
        try await channel.pipeline.addHandler(counter)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let broadcast = EngineIOOutboundPacket(encoding: .message(#"2["x",1]"#))
        try await EngineIOServer.write([.message("0"), broadcast, .ping, .binaryMessage([1, 2])], to: .channel(channel))
        #expect(counter.flushes == 1)
        var frames: [WebSocketFrame] = []
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) { frames.append(frame) }
        #expect(frames.map(\.opcode) == [.text, .text, .text, .binary])
        #expect(frames.map(\.fin) == [true, true, true, true])
        #expect(frames.prefix(3).map { String(buffer: $0.data) } == ["40", #"42["x",1]"#, "2"])
        #expect(Array(frames[3].data.readableBytesView) == [1, 2])
        try await EngineIOServer.write([], to: .channel(channel))
        #expect(counter.flushes == 1)
        _ = try await channel.finish()
    }

    /// While a session's WebSocket writer waits with its channel, what the session sends is
    /// written to the channel at once (what queued before the event loop ran, as one batch),
    /// in order, and the writer is not woken; once the channel
    /// is not writable, the writer gets the packets to write itself (and waits for the write).
    @Test func packetsForAWaitingWriterGoStraightToItsWritableChannel() async throws {
        let channel = NIOAsyncTestingChannel()
        let counter = FlushCounter()
        try await channel.pipeline.addHandler(counter)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let session = EngineIOSession(
            id: "s", request: HTTPRequest(method: .get, scheme: "http", authority: "x", path: "/socket.io/"),
            transport: .webSocket(1), configuration: EngineIOConfiguration(), onTerminated: { _ in })
        let woken = Mutex<[EngineIOSession.Handoff]>([])
        let direct = DirectWriter(socket: 1, channel: channel)
        let writer = Task {
            while true {
                let handoff = await session.pull(socket: 1, direct: direct)
                woken.withLock { $0.append(handoff) }
                guard case .packets = handoff else { return }
            }
        }
        _ = try await poll("the writer waits") { session.hasDirectWriter ? true : nil }
        // Both sent from the event loop itself, so its write task cannot run between them.
        try await channel.testingEventLoop.executeInContext {
            session.send([.message("1")])
            session.send([.message("2"), EngineIOOutboundPacket(encoding: .message(#"2["x"]"#))])
        }
        await channel.testingEventLoop.run()
        var frames: [String] = []
        while let frame = try await channel.readOutbound(as: WebSocketFrame.self) { frames.append(String(buffer: frame.data)) }
        #expect(frames == ["41", "42", #"42["x"]"#])
        #expect(counter.flushes == 1)  // queued before the write task ran: one batch
        #expect(woken.withLock { $0.isEmpty })
        #expect(session.hasDirectWriter)

        channel.isWritable = false
        session.send([.message("3")])
        _ = try await poll("the writer is woken with the packet") { woken.withLock { $0.isEmpty } ? nil : true }
        let handoffs = woken.withLock { $0 }
        guard handoffs.count == 1, case .packets(let packets) = handoffs[0] else {
            Issue.record("expected one handoff of packets, got \(handoffs)")
            return
        }
        #expect(packets == [.message("3")])
        session.close(reason: .serverShutdown)
        await writer.value
        _ = try await channel.finish()
    }

    /// A frame built whole is, byte for byte, what NIO's `WebSocketFrameEncoder` writes for the
    /// same frame, in each length class (7-bit, 16-bit, 64-bit length).
    @Test(arguments: [0, 1, 125, 126, 1039, 65535, 65536, 70000])
    func aWholeFrameIsWhatTheEncoderWrites(payloadLength: Int) throws {
        let text = String(repeating: "é", count: payloadLength / 2) + (payloadLength % 2 == 1 ? "x" : "")
        let binary = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for (frame, opcode, payload) in [
            (WebSocketWireFrame(text: text), WebSocketOpcode.text, ByteBuffer(string: text)),
            (WebSocketWireFrame(binary: binary), .binary, ByteBuffer(bytes: binary)),
        ] {
            let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
            try channel.writeAndFlush(WebSocketFrame(fin: true, opcode: opcode, data: payload)).wait()
            var encoded = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { encoded.writeBuffer(&part) }
            #expect(frame.bytes == encoded)
            #expect(frame.payload == payload)
            #expect(frame.webSocketFrame == WebSocketFrame(fin: true, opcode: opcode, data: payload))
            _ = try channel.finish()
        }
    }

    /// A packet's frame carries exactly what ``EngineIOCodec/encodeWebSocket(_:)`` gives, for
    /// every kind of packet.
    @Test func aPacketsFrameIsItsWebSocketEncoding() {
        var packets = EngineIOPacket.Kind.allCases.map { EngineIOPacket(kind: $0, payload: .text("")) }
        packets += [.message(#"2["é ✓ \u{1F600}"]"#), .pong("probe"), .binaryMessage([0, 1, 255])]
        for packet in packets {
            let frame = WebSocketWireFrame(packet)
            switch EngineIOCodec.encodeWebSocket(packet) {
            case .text(let text):
                #expect(frame.isText && frame.payload == ByteBuffer(string: text), "\(packet)")
                #expect(frame.bytes == WebSocketWireFrame(text: text).bytes)
            case .binary(let bytes):
                #expect(!frame.isText && frame.payload == ByteBuffer(bytes: bytes), "\(packet)")
            }
        }
    }

    /// With a frame encoder in the pipeline, a session's packets go below it as whole frames:
    /// one buffer a frame, a broadcast's shared by its recipients, and the encoder still
    /// takes what the rest of the pipeline writes (a close frame) in order after them.
    @Test func framesGoBelowTheEncoderWhole() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(WebSocketFrameEncoder())
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1))
        let broadcast = EngineIOOutboundPacket(encoding: .message(#"2["x",1]"#))
        try await EngineIOServer.write([.message("0"), broadcast, .binaryMessage([1, 2])], to: .channel(channel))
        let direct = DirectWriter(socket: 1, channel: channel)
        direct.write([broadcast])
        await channel.testingEventLoop.run()
        try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer()))
        var buffers: [ByteBuffer] = []
        while let buffer = try await channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        let expected: [[UInt8]] = [
            [0x81, 2] + Array("40".utf8), [0x81, 9] + Array(#"42["x",1]"#.utf8), [0x82, 2, 1, 2],  // Engine.IO 4: a binary message is its bytes alone
            [0x81, 9] + Array(#"42["x",1]"#.utf8),
        ]
        try #require(buffers.count > expected.count)
        #expect(buffers.prefix(expected.count).map { Array($0.readableBytesView) } == expected)
        // The close frame, through the encoder (its header and payload may be two buffers).
        #expect(buffers.dropFirst(expected.count).flatMap { Array($0.readableBytesView) } == [0x88, 0])
        // The broadcast's two writes are its one buffer, not copies.
        let shared = try #require(broadcast.frame?.bytes)
        for index in [1, 3] {
            buffers[index].withUnsafeReadableBytes { written in
                shared.withUnsafeReadableBytes { #expect(written.baseAddress == $0.baseAddress) }
            }
        }
        _ = try await channel.finish()
    }
}

/// ``EngineIOMessageCache``: the same bytes, arriving as strings of their own, are one
/// encoded frame; other bytes (even canonically equal text) are not; the oldest entry goes.
@Suite struct MessageCacheTests {
    @Test func theSameBytesShareOneFrame() throws {
        let cache = EngineIOMessageCache(capacity: 2)
        let text = #"2["game_state_update",{"round":3}]"#
        let copy = String(decoding: Array(text.utf8), as: UTF8.self)  // another string, same bytes
        let first = cache.message(text)
        let second = cache.message(copy)
        #expect(first == second)
        #expect(first.payload == .text(text))
        let frame = try #require(first.outbound.frame)
        #expect(frame.bytes == WebSocketWireFrame(.message(text)).bytes)
        #expect(cache.statistics == (hits: 1, misses: 1))

        // Canonically equivalent, other bytes: a frame of its own.
        let composed = cache.message("2[\"caf\u{E9}\"]").outbound.frame?.bytes
        let decomposed = cache.message("2[\"cafe\u{301}\"]").outbound.frame?.bytes
        #expect(composed != nil && decomposed != nil && composed != decomposed)
        #expect(cache.statistics == (hits: 1, misses: 3))
        // Capacity 2: the first text was replaced, and is encoded again.
        _ = cache.message(text)
        #expect(cache.statistics == (hits: 1, misses: 4))
    }
}
