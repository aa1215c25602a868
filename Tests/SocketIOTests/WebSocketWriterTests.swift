import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOWebSocket
import SocketIOProtocol
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
}
