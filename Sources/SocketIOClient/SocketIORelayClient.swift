import JSONValue
import Logging
import NIOCore
import NIOPosix
import SocketIOProtocol
import Synchronization

/// A Socket.IO v5 client for relays: one namespace over a plain WebSocket (`http://` or
/// `ws://`), raw packets, no buffering while disconnected, reconnects per the policy.
///
/// It is ``SocketIOClient`` without tasks of its own: frames are read and decoded, pings
/// answered and the heartbeat watched on the connection's NIO event loop, and
/// ``send(_:)`` writes to the channel from the caller's thread. Events reach the handler
/// given to ``run(_:)``, in order, from the task that calls it. A relay with thousands of
/// sessions keeps one task per connection instead of four, and a frame takes one hop
/// from the socket to the handler.
///
/// The configuration's `transport` (always WebSocket), `bufferWhileDisconnected` (never)
/// and `rawPackets` (always: events and acks arrive as ``SocketIOClient/Event/packet(_:text:)``)
/// are not consulted. TLS is not supported: use ``SocketIOClient`` for `https://` servers.
public final class SocketIORelayClient: Sendable {
    public let configuration: SocketIOClient.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var running = false
        var stopRequested = false
        /// The current connection (also while it connects).
        var link: RelayLink?
        /// The backoff wait, woken by ``disconnect()``; the id tells a stale timer from the current wait.
        var stopWaiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var waitCounter = 0
    }

    public init(
        configuration: SocketIOClient.Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "statetee.socketio-relay-client")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: "statetee.url"] = .string(configuration.url)
        self.logger = logger
    }

    /// Whether `url` is one this client can connect to (plain HTTP or WebSocket).
    public static func supports(url: String) -> Bool {
        (try? SocketIOClient.Configuration(url: url).endpoint().secure) == false
    }

    /// Whether the namespace is connected now.
    public var isConnected: Bool { state.withLock { $0.link }?.connectedChannel() != nil }

    // MARK: - Running

    /// Connects and keeps connected (reconnecting per the policy) until ``disconnect()``, a
    /// server disconnect, a connect error, giving up, or cancellation, handing every event to
    /// `handler` in order; the connection reads on while the handler runs, up to a bound.
    /// Throws as ``SocketIOClient/run()`` does, and ``SocketIOClientError/invalidURL(_:)``
    /// for a TLS URL.
    ///
    /// With `onPacket`, once the handler has returned from a connection's `.connected` (and
    /// from everything that arrived before the next packet), that connection's events and acks
    /// go to `onPacket` instead, on the event loop as they are read, with the text of a
    /// one-message packet (no task hop): it must not block. Everything else (disconnects,
    /// reconnects) still goes to `handler`, after the packets before it.
    public func run(
        onPacket: (@Sendable (SocketIOPacket, String?) -> Void)? = nil,
        _ handler: @Sendable (SocketIOClient.Event) async -> Void
    ) async throws {
        let started = state.withLock { state -> Bool in
            defer { state.running = true }
            return !state.running
        }
        guard started else { throw SocketIOClientError.alreadyRunning }
        let target = try RelayTarget(configuration)
        // Cancelling the task disconnects (the waits below are for the connection, not the task).
        try await withTaskCancellationHandler {
            try await runConnections(target, onPacket, handler)
        } onCancel: {
            disconnect()
        }
    }

    private func runConnections(
        _ target: RelayTarget, _ onPacket: (@Sendable (SocketIOPacket, String?) -> Void)?,
        _ handler: @Sendable (SocketIOClient.Event) async -> Void
    ) async throws {
        var attempt = 0
        var everConnected = false
        while !state.withLock({ $0.stopRequested }), !Task.isCancelled {
            if attempt > 0 {
                try Reconnection.checkAttempt(attempt, policy: configuration.reconnect, logger: logger)
                await handler(.reconnecting(attempt: attempt))
                if await waitForStop(upTo: configuration.reconnect.delay(attempt: attempt)) { break }
            }
            let (end, wasConnected) = await connectOnce(target, onPacket, handler)
            if wasConnected { everConnected = true }
            let stopping = state.withLock { $0.stopRequested } || Task.isCancelled
            let (event, next) = Reconnection.conclude(
                end, wasConnected: wasConnected, everConnected: everConnected, stopping: stopping,
                policy: configuration.reconnect, logger: logger)
            if let event { await handler(event) }
            switch next {
            case .stop: return
            case .fail(let error): throw error
            case .retry(let reset): attempt = reset ? 1 : attempt + 1
            }
        }
    }

    /// Sends a Socket.IO DISCONNECT (when connected) and a WebSocket close, then closes the
    /// connection; ``run(_:)`` returns. Safe to call at any time, more than once.
    public func disconnect() {
        let (link, waiter) = state.withLock { state in
            state.stopRequested = true
            defer { state.stopWaiter = nil }
            return (state.link, state.stopWaiter?.continuation)
        }
        link?.disconnect(namespace: configuration.namespace, closeTimeout: configuration.closeTimeout)
        waiter?.resume()
    }

    // MARK: - Sending

    /// Writes a packet to the connection (ack ids as given); throws
    /// ``SocketIOClientError/notConnected`` when the namespace is not connected. Never waits:
    /// packets sent from one thread leave in order.
    public func send(_ packet: SocketIOPacket) throws(SocketIOClientError) {
        guard let channel = state.withLock({ $0.link })?.connectedChannel() else { throw .notConnected }
        write(packet, to: channel)
    }

    /// Like ``send(_:)``, unless the connection already holds more than its write buffer's
    /// high-water mark unwritten (the server stopped reading and the kernel's buffers are
    /// full): then nothing is written and the answer is false. A relay that must not grow
    /// without bound for a server that does not read (a mirror) sends with this.
    public func sendUnlessBackedUp(_ packet: SocketIOPacket) throws(SocketIOClientError) -> Bool {
        guard let channel = state.withLock({ $0.link })?.connectedChannel() else { throw .notConnected }
        guard channel.isWritable else { return false }
        write(packet, to: channel)
        return true
    }

    private func write(_ packet: SocketIOPacket, to channel: any Channel) {
        let frames = SocketIOCodec.encode(packet).map {
            RelayFrames.frame(EngineIOPacket(kind: .message, payload: $0), allocator: channel.allocator)
        }
        if frames.count == 1 {
            channel.writeAndFlush(frames[0], promise: nil)
        } else {
            channel.eventLoop.execute {
                for frame in frames { channel.write(frame, promise: nil) }
                channel.flush()
            }
        }
    }

    // MARK: - One connection

    /// Opens one connection and hands its events on until it closes.
    private func connectOnce(
        _ target: RelayTarget, _ onPacket: (@Sendable (SocketIOPacket, String?) -> Void)?,
        _ handler: @Sendable (SocketIOClient.Event) async -> Void
    ) async -> (SessionEnd, wasConnected: Bool) {
        let link = RelayLink()
        let registered = state.withLock { state -> Bool in
            guard !state.stopRequested else { return false }
            state.link = link
            return true
        }
        guard registered else { return (.clientDisconnect, false) }
        defer { state.withLock { if $0.link === link { $0.link = nil } } }
        logger.debug("Connecting")
        do {
            let channel = try await RelayPipeline.connect(
                target: target, configuration: configuration, link: link, onPacket: onPacket, group: eventLoopGroup,
                logger: logger)
            link.attach(channel, namespace: configuration.namespace, closeTimeout: configuration.closeTimeout)
        } catch {
            return (.lost(.transportError, error), false)
        }
        while let batch = await link.next() {
            for event in batch { await handler(event) }
            if onPacket != nil { link.enableDirect() }
        }
        return (link.end, link.wasConnected)
    }

    /// Sleeps for `delay` unless ``disconnect()`` (or cancellation) comes first; true when it did.
    private func waitForStop(upTo delay: Duration) async -> Bool {
        let eventLoop = eventLoopGroup.next()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let id = state.withLock { state -> Int? in
                    if state.stopRequested || Task.isCancelled { return nil }
                    state.waitCounter += 1
                    state.stopWaiter = (state.waitCounter, continuation)
                    return state.waitCounter
                }
                guard let id else { return continuation.resume() }
                eventLoop.scheduleTask(in: TimeAmount(delay)) { self.wakeStopWaiter(id: id) }
            }
        } onCancel: {
            wakeStopWaiter(id: nil)
        }
        return state.withLock { $0.stopRequested }
    }

    /// Resumes the backoff wait (only wait `id` when given).
    private func wakeStopWaiter(id: Int?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let current = state.stopWaiter, id == nil || current.id == id else { return nil }
            state.stopWaiter = nil
            return current.continuation
        }
        waiter?.resume()
    }
}
