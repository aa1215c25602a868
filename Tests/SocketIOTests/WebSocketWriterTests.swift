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
}
