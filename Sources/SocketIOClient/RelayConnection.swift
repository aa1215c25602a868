import JSONValue
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SocketIOProtocol
import Synchronization

// The pieces of one SocketIORelayClient connection: where it goes (RelayTarget), the NIO
// pipeline that opens it (RelayPipeline: TCP, HTTP upgrade, WebSocket), the handler that
// speaks Engine.IO and Socket.IO on the event loop (RelayChannelHandler), and the link
// between the event loop and the task that runs the client (RelayLink).

/// Host, port and request of a plain `ws://` / `http://` Socket.IO URL.
struct RelayTarget: Sendable {
    let host: String
    let port: Int
    /// The `Host` header: the URL's authority.
    let authority: String
    let requestTarget: String
    let headers: [(name: String, value: String)]

    init(_ configuration: SocketIOClient.Configuration) throws(SocketIOClientError) {
        let endpoint = try configuration.endpoint()
        guard !endpoint.secure else { throw .invalidURL(configuration.url) }
        let authority = endpoint.authority
        var host = Substring(authority)
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(configuration.url) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") { port = rest.dropFirst() } else if !rest.isEmpty { throw .invalidURL(configuration.url) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        let number = port.map { Int($0) } ?? 80
        guard let number, (1...65535).contains(number), !host.isEmpty else { throw .invalidURL(configuration.url) }
        self.host = String(host)
        self.port = number
        self.authority = authority
        self.requestTarget = configuration.requestTarget(transport: .websocket)
        self.headers = configuration.headers
    }
}

/// One connection's state shared by its event loop (which fills it) and the client's task
/// (which takes the events): the events not yet handed on, how the connection ended.
final class RelayLink: Sendable {
    private struct State {
        var events: [SocketIOClient.Event] = []
        var waiter: CheckedContinuation<Void, Never>?
        var end: SessionEnd?
        var finished = false
        var channel: (any Channel)?
        var upgraded = false
        var connected = false
        var wasConnected = false
        var closeRequested = false
        var paused = false
        /// Events and acks go to the client's `onPacket` on the event loop, not through the queue.
        var direct = false
    }

    /// Events queued before the connection stops reading (until the task takes them).
    static let pauseAt = 256

    private let state = Mutex(State())

    /// How the connection ended (the first reason given wins); meaningful once ``next()`` returned nil.
    var end: SessionEnd { state.withLock { $0.end ?? .lost(.transportClose, nil) } }
    var wasConnected: Bool { state.withLock { $0.wasConnected } }
    var isConnected: Bool { state.withLock { $0.connected } }
    var closeRequested: Bool { state.withLock { $0.closeRequested } }

    /// The channel to write to while the namespace is connected and no disconnect was asked for.
    func connectedChannel() -> (any Channel)? {
        state.withLock { $0.connected && !$0.closeRequested ? $0.channel : nil }
    }

    /// Whether events and acks now go to `onPacket` on the event loop.
    var isDirect: Bool { state.withLock { $0.direct } }

    /// From the task, once it handled everything it took: packets go to `onPacket` from now on,
    /// unless more events queued meanwhile (those are handed on first: the task tries again).
    func enableDirect() {
        state.withLock { state in
            if state.connected, state.events.isEmpty { state.direct = true }
        }
    }

    // MARK: From the event loop

    /// Queues an event; true when the connection should stop reading until the task catches up.
    func push(_ event: SocketIOClient.Event) -> Bool {
        let (waiter, pause) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Bool) in
            state.events.append(event)
            defer { state.waiter = nil }
            let pause = !state.paused && state.events.count >= Self.pauseAt
            if pause { state.paused = true }
            return (state.waiter, pause)
        }
        waiter?.resume()
        return pause
    }

    /// Records why the connection ends, unless a reason was recorded already.
    func ending(_ end: SessionEnd) {
        state.withLock { if $0.end == nil { $0.end = end } }
    }

    func markUpgraded() {
        state.withLock { $0.upgraded = true }
    }

    func markConnected() {
        state.withLock {
            $0.connected = true
            $0.wasConnected = true
        }
    }

    /// The channel closed: nothing more comes.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            state.connected = false
            if state.end == nil { state.end = .lost(.transportClose, nil) }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    // MARK: From the client's task

    /// The events queued since the last call, waiting for one; nil once the connection closed and all were taken.
    func next() async -> [SocketIOClient.Event]? {
        while true {
            enum Take { case events([SocketIOClient.Event], resume: (any Channel)?), finished, wait }
            let take = state.withLock { state -> Take in
                if !state.events.isEmpty {
                    defer { state.events = [] }
                    let resume = state.paused ? state.channel : nil
                    state.paused = false
                    return .events(state.events, resume: resume)
                }
                return state.finished ? .finished : .wait
            }
            switch take {
            case .events(let events, let resume):
                resume?.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                return events
            case .finished:
                return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { state -> Bool in
                        guard state.events.isEmpty, !state.finished else { return true }
                        state.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
        }
    }

    /// The connected channel; closed at once when a disconnect was asked for meanwhile.
    func attach(_ channel: any Channel, namespace: String, closeTimeout: Duration) {
        let close = state.withLock { state -> Bool in
            state.channel = channel
            return state.closeRequested
        }
        if close { closeChannel(channel, namespace: namespace, closeTimeout: closeTimeout) }
    }

    /// The client's disconnect: a Socket.IO DISCONNECT when connected, a WebSocket close, and the
    /// channel closed when the server answers (or after `closeTimeout`).
    func disconnect(namespace: String, closeTimeout: Duration) {
        let channel = state.withLock { state -> (any Channel)? in
            state.closeRequested = true
            if state.end == nil { state.end = .clientDisconnect }
            return state.channel
        }
        if let channel { closeChannel(channel, namespace: namespace, closeTimeout: closeTimeout) }
    }

    private func closeChannel(_ channel: any Channel, namespace: String, closeTimeout: Duration) {
        channel.eventLoop.execute {
            let (upgraded, connected) = self.state.withLock { ($0.upgraded, $0.connected) }
            guard upgraded, channel.isActive else { return channel.close(promise: nil) }
            if connected {
                let disconnect = EngineIOPacket.message(SocketIOCodec.encodeText(.disconnect(namespace: namespace)))
                channel.write(RelayFrames.frame(disconnect, allocator: channel.allocator), promise: nil)
            }
            channel.writeAndFlush(RelayFrames.close(allocator: channel.allocator), promise: nil)
            let timeout = channel.eventLoop.scheduleTask(in: TimeAmount(closeTimeout)) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in timeout.cancel() }
        }
    }
}

/// Client WebSocket frames (masked, as RFC 6455 requires of a client).
enum RelayFrames {
    static func frame(_ packet: EngineIOPacket, allocator: ByteBufferAllocator) -> WebSocketFrame {
        switch EngineIOCodec.encodeWebSocket(packet) {
        case .text(let text):
            WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: allocator.buffer(string: text))
        case .binary(let bytes):
            WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: allocator.buffer(bytes: bytes))
        }
    }

    /// A close frame with status 1000 (normal closure).
    static func close(allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2)
        data.writeInteger(UInt16(1000))
        return WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
    }

    static func pong(_ data: ByteBuffer) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: data)
    }
}

/// Opens a relay connection: TCP, the HTTP upgrade, then Engine.IO and Socket.IO on
/// ``RelayChannelHandler``. The Socket.IO CONNECT must be answered within the connect timeout.
enum RelayPipeline {
    static let requestHandlerName = "statetee.relay-upgrade-request"

    static func connect(
        target: RelayTarget, configuration: SocketIOClient.Configuration, link: RelayLink,
        onPacket: (@Sendable (SocketIOPacket, String?) -> Void)?, group: any EventLoopGroup, logger: Logger
    ) async throws -> any Channel {
        let frameSize = max(configuration.maxPayload, 1 << 14)
        let maxPayload = configuration.maxPayload
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        if let size = configuration.sendBufferSize {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(size))
        }
        return try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: frameSize, automaticErrorHandling: true) {
                        channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            link.markUpgraded()
                            let pipeline = channel.pipeline.syncOperations
                            pipeline.removeHandler(name: requestHandlerName, promise: nil)
                            try pipeline.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 12,
                                    maxAccumulatedFrameSize: maxPayload))
                            try pipeline.addHandler(
                                RelayChannelHandler(
                                    link: link, wire: ClientWire(configuration), onPacket: onPacket, logger: logger))
                        }
                    }
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try pipeline.addHandler(UpgradeRequestHandler(target: target, link: link), name: requestHandlerName)
                    let deadline = channel.eventLoop.scheduleTask(in: connectTimeout) {
                        guard !link.isConnected else { return }
                        link.ending(.lost(.transportError, SocketIOClientError.connectTimeout))
                        channel.close(promise: nil)
                    }
                    channel.closeFuture.whenComplete { _ in
                        deadline.cancel()
                        link.finish()
                    }
                }
            }
            .connect(host: target.host, port: target.port).get()
    }
}

/// Sends the upgrade request once connected; sees the response only when the upgrade was refused.
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let target: RelayTarget
    private let link: RelayLink

    init(target: RelayTarget, link: RelayLink) {
        self.target = target
        self.link = link
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.authority)
        for (name, value) in target.headers { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.requestTarget, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            link.ending(.lost(.transportError, SocketIOClientError.httpStatus(Int(head.status.code))))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        link.ending(.lost(.transportError, error))
        context.close(promise: nil)
    }
}

/// Engine.IO and Socket.IO on the event loop (``ClientWire``'s decisions): answers pings,
/// watches the heartbeat, connects the namespace, decodes packets (through the shared event
/// cache) and queues them on the link, or hands them to `onPacket` once the link is direct.
final class RelayChannelHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let link: RelayLink
    private var wire: ClientWire
    /// Takes events and acks on the event loop once the link is direct.
    private let onPacket: (@Sendable (SocketIOPacket, String?) -> Void)?
    private let logger: Logger
    private var lastPing = NIODeadline.now()
    private var watchdog: Scheduled<Void>?

    init(link: RelayLink, wire: ClientWire, onPacket: (@Sendable (SocketIOPacket, String?) -> Void)?, logger: Logger) {
        self.link = link
        self.wire = wire
        self.onPacket = onPacket
        self.logger = logger
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        watchdog = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.cancel()
        watchdog = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(.lost(.transportError, error), context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let packet: EngineIOPacket
        switch frame.opcode {
        case .text:
            do { packet = try EngineIOCodec.decodeTextPacket(String(buffer: frame.unmaskedData)) } catch {
                return end(.lost(.parseError, SocketIOClientError.protocolError(error)), context)
            }
        case .binary:
            packet = .binaryMessage(Array(frame.unmaskedData.readableBytesView))
        case .ping:
            context.writeAndFlush(wrapOutboundOut(RelayFrames.pong(frame.unmaskedData)), promise: nil)
            return
        case .connectionClose:
            link.ending(.lost(.transportClose, nil))
            if !link.closeRequested {
                context.write(wrapOutboundOut(RelayFrames.close(allocator: context.channel.allocator)), promise: nil)
            }
            context.flush()
            context.close(promise: nil)
            return
        default:
            return
        }
        switch wire.receive(packet) {
        case .none:
            break
        case .reply(let reply):
            lastPing = .now()
            context.writeAndFlush(wrapOutboundOut(RelayFrames.frame(reply, allocator: context.channel.allocator)), promise: nil)
            if packet.kind == .open {
                logger.debug("Engine.IO open", metadata: ["statetee.eio-sid": "\(wire.handshake?.sid ?? "")"])
                armWatchdog(context)
            }
        case .connected(let sid):
            lastPing = .now()
            logger.debug("Connected", metadata: ["statetee.sid": "\(sid)"])
            link.markConnected()
            push(.connected(sid: sid), context)
        case .packet(let packet, let text):
            if let onPacket, link.isDirect {
                onPacket(packet, text)
            } else {
                push(.packet(packet, text: text), context)
            }
        case .end(let end):
            self.end(end, context)
        }
    }

    private func push(_ event: SocketIOClient.Event, _ context: ChannelHandlerContext) {
        if link.push(event) {
            // The task is behind: stop reading until it takes the queued events.
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        }
    }

    private func end(_ end: SessionEnd, _ context: ChannelHandlerContext) {
        link.ending(end)
        context.close(promise: nil)
    }

    /// Ends the connection when no ping came for pingInterval + pingTimeout.
    private func armWatchdog(_ context: ChannelHandlerContext) {
        guard let handshake = wire.handshake else { return }
        let limit = TimeAmount.milliseconds(Int64(handshake.pingInterval + handshake.pingTimeout))
        watchdog = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastPing + limit) {
            if NIODeadline.now() >= self.lastPing + limit {
                self.end(.lost(.pingTimeout, nil), context)
            } else {
                self.armWatchdog(context)
            }
        }
    }
}
