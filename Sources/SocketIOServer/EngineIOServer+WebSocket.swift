import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SocketIOProtocol

extension EngineIOServer {
    /// The WebSocket upgrade decision for an upgrade request.
    ///
    /// - Returns: nil when the path is not this endpoint's; `.dontUpgrade` (Hummingbird answers
    ///   400 and closes) for a bad `EIO`/`transport` or an unknown `sid`; otherwise the handler
    ///   running the Engine.IO WebSocket transport (a new session, or an upgrade of a polling one).
    public func webSocketUpgrade<Context: WebSocketContext>(
        for head: HTTPRequest, channel: (any Channel)? = nil
    ) -> ShouldUpgradeResult<WebSocketDataHandler<Context>>? {
        guard matches(path: head.pathWithoutQuery) else { return nil }
        let query = head.queryItems
        guard query["EIO"] == "4", query["transport"] == "websocket" else {
            logger.debug("Engine.IO WebSocket upgrade refused: bad query")
            return .dontUpgrade
        }
        var headers: HTTPFields = [:]
        if configuration.cors, let origin = head.headerFields[.origin] {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowCredentials] = "true"
        }
        if let sid = query["sid"] {
            guard let session = session(id: sid) else {
                logger.debug("Engine.IO WebSocket upgrade refused: unknown session", metadata: ["statetee.sid": .string(sid)])
                return .dontUpgrade
            }
            return .upgrade(headers) { inbound, outbound, _ in
                await self.runUpgrade(of: session, inbound: inbound, outbound: Writer(outbound, channel: channel))
            }
        }
        return .upgrade(headers) { inbound, outbound, _ in
            await self.runWebSocketSession(request: head, inbound: inbound, outbound: Writer(outbound, channel: channel))
        }
    }

    private func runWebSocketSession(request: HTTPRequest, inbound: WebSocketInboundStream, outbound: Writer) async {
        let socket = makeSocketID()
        guard let session = openSession(request: request, transport: .webSocket(socket)) else { return }
        do {
            try await Self.write([EngineIOOutboundPacket(handshake(for: session, upgrades: []))], to: outbound)
        } catch {
            session.webSocketClosed(socket)
            return
        }
        await runTransport(session: session, socket: socket, inbound: inbound, outbound: outbound)
    }

    private func runUpgrade(of session: EngineIOSession, inbound: WebSocketInboundStream, outbound: Writer) async {
        let socket = makeSocketID()
        guard session.webSocketOpened(socket) else {
            logger.debug("Engine.IO WebSocket refused: session cannot upgrade", metadata: ["statetee.sid": .string(session.id)])
            return
        }
        await runTransport(session: session, socket: socket, inbound: inbound, outbound: outbound)
    }

    /// Reader and writer of one WebSocket of a session. Returns (closing the socket) when either
    /// the client closes it or the session no longer needs it.
    private func runTransport(
        session: EngineIOSession,
        socket: EngineIOSession.WebSocketID,
        inbound: WebSocketInboundStream,
        outbound: Writer
    ) async {
        let maxPayload = configuration.maxPayload
        let logger = self.logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Reader: every message is one Engine.IO packet. (What does not wait is done in
                // a synchronous helper: this frame stays in the task's allocator for its life.)
                do {
                    for try await message in inbound.messages(maxSize: maxPayload) {
                        guard Self.received(message, session: session, socket: socket, maxPayload: maxPayload, logger: logger) else {
                            return
                        }
                    }
                } catch {
                    Self.readFailed(error, session: session, logger: logger)
                }
                session.webSocketClosed(socket)
            }
            // Writer, in this task (one task less per socket): whatever the session hands this
            // socket, in order.
            let direct = outbound.channel.map { DirectWriter(socket: socket, channel: $0) }
            writing: while true {
                switch await session.pull(socket: socket, direct: direct) {
                case .packets(let packets):
                    do {
                        try await Self.write(packets, to: outbound)
                    } catch {
                        break writing
                    }
                case .finished, .rejected:
                    break writing
                }
            }
            // The writer ends once the session lets go of this socket: then stop reading. The
            // reader ends when the client closed the socket or broke the protocol: the session
            // then releases the writer, which still writes a final `close` packet if it can.
            // Returning from the handler sends the close frame.
            group.cancelAll()
        }
        session.webSocketClosed(socket)
    }

    /// Hands one message to the session; false when the socket failed (too large, malformed).
    @inline(never)
    private static func received(
        _ message: WebSocketMessage, session: EngineIOSession, socket: EngineIOSession.WebSocketID, maxPayload: Int, logger: Logger
    ) -> Bool {
        let content: WebSocketContent
        switch message {
        case .text(let text):
            guard text.utf8.count <= maxPayload else { return tooLarge(session: session, socket: socket, logger: logger) }
            content = .text(text)
        case .binary(let buffer):
            guard buffer.readableBytes <= maxPayload else { return tooLarge(session: session, socket: socket, logger: logger) }
            content = .binary(Array(buffer.readableBytesView))
        }
        let packet: EngineIOPacket
        do throws(ProtocolError) {
            packet = try EngineIOCodec.decodeWebSocket(content)
        } catch {
            logger.error(
                "Engine.IO malformed packet",
                metadata: .malformed(error, sid: session.id))
            session.webSocketFailed(socket)
            return false
        }
        session.webSocketReceived(packet, from: socket)
        return true
    }

    private static func tooLarge(session: EngineIOSession, socket: EngineIOSession.WebSocketID, logger: Logger) -> Bool {
        logger.error(
            "Engine.IO WebSocket message too large",
            metadata: ["statetee.sid": .string(session.id), "statetee.error.kind": "payload_too_large"])
        session.webSocketFailed(socket)
        return false
    }

    @inline(never)
    private static func readFailed(_ error: any Error, session: EngineIOSession, logger: Logger) {
        logger.debug(
            "Engine.IO WebSocket read failed",
            metadata: ["statetee.sid": .string(session.id), "statetee.error": .string("\(error)")])
    }

    /// Where a WebSocket's messages go: the connection's channel when known (a batch is one
    /// event-loop hop and one flush, so one `writev` for all its frames), else WSCore's writer
    /// (one flush a frame).
    enum Writer: Sendable {
        case channel(any Channel)
        case frames(WebSocketOutboundWriter)

        init(_ outbound: WebSocketOutboundWriter, channel: (any Channel)?) {
            self = channel.map(Self.channel) ?? .frames(outbound)
        }

        /// The channel, when frames can be written to it directly.
        var channel: (any Channel)? {
            if case .channel(let channel) = self { channel } else { nil }
        }
    }

    /// Writes each packet as one WebSocket message: its frame encoded ahead when it has one
    /// (the same bytes for every recipient of a broadcast), else encoded here; on a channel,
    /// whole frames below NIO's frame encoder (``WebSocketWire``).
    static func write(_ packets: [EngineIOOutboundPacket], to writer: Writer) async throws {
        guard case .channel(let channel) = writer else {
            if case .frames(let outbound) = writer {
                for packet in packets { try await outbound.write(.custom(packet.wireFrame.webSocketFrame)) }
            }
            return
        }
        let frames = packets.map(\.wireFrame)
        guard !frames.isEmpty else { return }
        try await channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            WebSocketWire.write(frames, to: channel, below: WebSocketWire.encoder(of: channel), promise: promise)
            channel.flush()
            return promise.futureResult
        }.get()
    }
}
