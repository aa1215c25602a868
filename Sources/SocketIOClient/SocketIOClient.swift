import AsyncHTTPClient
import HTTPTypes
import JSONValue
import Logging
import NIOCore
import SocketIOProtocol
import WSClient

/// A Socket.IO v5 client (Engine.IO v4 over WebSocket or long-polling) with
/// heartbeats, automatic reconnect with backoff, acks, binary attachments and
/// raw packet access for relays.
///
/// Lifetime is structured: ``run()`` connects and keeps the connection (and
/// its reconnects) going until ``disconnect()``, a final error, or task
/// cancellation. Run it in a task group, or use
/// ``withConnection(configuration:httpClient:logger:_:)`` which runs it
/// around a closure:
///
/// ```swift
/// try await SocketIOClient.withConnection(configuration: .init(url: "http://127.0.0.1:6969")) { client in
///     try await client.emit("request_game_state", [])
///     for await event in client.events { ... }
/// }
/// ```
///
/// Sending (``emit(_:_:attachments:)``, ``send(_:)``) only queues: packets are
/// written in order by the connection's writer. While not connected they wait
/// in a buffer that is flushed after the next Socket.IO CONNECT (unless
/// ``Configuration/bufferWhileDisconnected`` is off). Ack ids are allocated
/// from 0 per client; a relay that sends its own ids with ``send(_:)`` should
/// not also use ``emitWithAck(_:_:attachments:timeout:)``.
public actor SocketIOClient {
    public nonisolated let configuration: Configuration
    /// Everything that happens, in order. Single consumer; unbounded; finishes when ``run()`` ends.
    /// Empty for a client made with an `onEvent` handler.
    public nonisolated let events: AsyncStream<Event>
    private nonisolated let eventSink: AsyncStream<Event>.Continuation
    private nonisolated let handler: (@Sendable (Event) async -> Void)?
    private nonisolated let http: HTTPClient
    private nonisolated let logger: Logger

    /// One Engine.IO connection attempt and, once connected, its session.
    private struct Connection {
        let id: Int
        let outbound: AsyncStream<[EngineIOPacket]>.Continuation
        let started: ContinuousClock.Instant
        var lastPing: ContinuousClock.Instant
        var wire: ClientWire
        var end: SessionEnd?

        var handshake: EngineIOHandshake? { wire.handshake }
        var sid: String? { wire.sid }
    }

    private enum RunState { case idle, running, finished }

    private var runState = RunState.idle
    private var stopRequested = false
    private var connection: Connection?
    private var connectionCounter = 0
    private var sendBuffer: [SocketIOPacket] = []
    private var pendingAcks: [Int: CheckedContinuation<SocketIOPacket, any Error>] = [:]
    private var nextAckID = 0
    private var connectWaiters: [CheckedContinuation<String, any Error>] = []
    private var stopWaiter: CheckedContinuation<Void, Never>?

    /// The Socket.IO session id while connected.
    public private(set) var sid: String?
    /// The Engine.IO handshake of the current connection.
    public var handshake: EngineIOHandshake? { connection?.handshake }
    /// Whether the namespace is connected now.
    public var isConnected: Bool { sid != nil }

    public init(configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "statetee.socketio-client")) {
        self.init(configuration: configuration, httpClient: httpClient, logger: logger, handler: nil)
    }

    /// A client whose events go to `onEvent` instead of ``events``, awaited in order by the task
    /// that reads the connection (or by ``run()``): no task hop per packet, and the connection
    /// reads nothing more until the handler returns.
    public init(
        configuration: Configuration, httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "statetee.socketio-client"),
        onEvent: @escaping @Sendable (Event) async -> Void
    ) {
        self.init(configuration: configuration, httpClient: httpClient, logger: logger, handler: onEvent)
    }

    private init(
        configuration: Configuration, httpClient: HTTPClient, logger: Logger, handler: (@Sendable (Event) async -> Void)?
    ) {
        self.configuration = configuration
        self.handler = handler
        (self.events, self.eventSink) = AsyncStream.makeStream(of: Event.self)
        self.http = httpClient
        var logger = logger
        logger[metadataKey: "statetee.url"] = .string(configuration.url)
        logger[metadataKey: "statetee.transport"] = .string(configuration.transport.rawValue)
        self.logger = logger
    }

    /// Creates a client, runs it, waits for the first connect, runs `body`, then
    /// disconnects and waits for ``run()`` to end. Throws the connect failure if
    /// the first connection fails.
    public static func withConnection<Result>(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "statetee.socketio-client"),
        _ body: (SocketIOClient) async throws -> Result
    ) async throws -> Result {
        let client = SocketIOClient(configuration: configuration, httpClient: httpClient, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                _ = try await client.waitUntilConnected()
                let result = try await body(client)
                await client.disconnect()
                try await group.waitForAll()
                return result
            } catch {
                await client.disconnect()
                group.cancelAll()
                // Prefer run()'s own failure (e.g. a connect error) over the waiter's `.stopped`.
                if (error as? SocketIOClientError) == .stopped, let runError = await Self.firstError(of: &group) {
                    throw runError
                }
                throw error
            }
        }
    }

    private static func firstError(of group: inout ThrowingTaskGroup<Void, any Error>) async -> (any Error)? {
        do { try await group.waitForAll() } catch { return error }
        return nil
    }

    // MARK: - Running

    /// Connects and keeps connected (reconnecting per the policy) until
    /// ``disconnect()``, a server disconnect, a connect error, giving up, or
    /// cancellation. Returns normally for the first two and for cancellation.
    public func run() async throws {
        guard runState == .idle else { throw SocketIOClientError.alreadyRunning }
        runState = .running
        defer { finishRun() }
        try configuration.validate()
        // Kept small: this frame stays in the task's allocator for the client's whole life
        // (the decisions, with their logging, are made in synchronous helpers).
        var attempt = 0
        var everConnected = false
        while !stopRequested, !Task.isCancelled {
            if attempt > 0 {
                try startReconnect(attempt: attempt)
                await emit(.reconnecting(attempt: attempt))
                if await waitForStop(upTo: configuration.reconnect.delay(attempt: attempt)) { break }
            }
            let (end, wasConnected) = await connectOnce()
            if wasConnected { everConnected = true }
            let (event, next) = conclude(end, wasConnected: wasConnected, everConnected: everConnected)
            if let event { await emit(event) }
            switch next {
            case .stop: return
            case .fail(let error): throw error
            case .retry(let reset): attempt = reset ? 1 : attempt + 1
            }
        }
    }

    /// Throws when the policy allows no further attempt.
    @inline(never)
    private func startReconnect(attempt: Int) throws {
        try Reconnection.checkAttempt(attempt, policy: configuration.reconnect, logger: logger)
    }

    /// What a connection's end means: the event to hand on first, then stop, fail or retry.
    @inline(never)
    private func conclude(_ end: SessionEnd, wasConnected: Bool, everConnected: Bool) -> (Event?, Reconnection.Step) {
        Reconnection.conclude(
            end, wasConnected: wasConnected, everConnected: everConnected, stopping: stopRequested || Task.isCancelled,
            policy: configuration.reconnect, logger: logger)
    }

    /// Sends a Socket.IO DISCONNECT (when connected), closes the transport and
    /// makes ``run()`` return. Safe to call at any time, more than once.
    public func disconnect() {
        stopRequested = true
        if let connection {
            if connection.sid != nil {
                connection.outbound.yield([.message(SocketIOCodec.encodeText(.disconnect(namespace: configuration.namespace)))])
            }
            connection.outbound.finish()
        }
        stopWaiter?.resume()
        stopWaiter = nil
    }

    /// Waits for the namespace to be connected and returns the sid; throws
    /// ``SocketIOClientError/stopped`` if ``run()`` ends first.
    public func waitUntilConnected() async throws -> String {
        if let sid { return sid }
        guard runState != .finished else { throw SocketIOClientError.stopped }
        return try await withCheckedThrowingContinuation { connectWaiters.append($0) }
    }

    // MARK: - Sending

    /// Emits an event to the configured namespace (queued; see the type's notes).
    public func emit(_ event: String, _ args: [JSONValue], attachments: [[UInt8]] = []) throws {
        try send(.event(event, args, namespace: configuration.namespace, attachments: attachments))
    }

    /// Emits an event with an ack id and waits for the ack's arguments.
    public func emitWithAck(_ event: String, _ args: [JSONValue], attachments: [[UInt8]] = [], timeout: Duration)
        async throws -> [JSONValue]
    {
        try await emitWithAckPacket(event, args, attachments: attachments, timeout: timeout).eventArguments
    }

    /// Like ``emitWithAck(_:_:attachments:timeout:)`` but returns the whole ack
    /// packet (with binary attachments, if any).
    public func emitWithAckPacket(_ event: String, _ args: [JSONValue], attachments: [[UInt8]] = [], timeout: Duration)
        async throws -> SocketIOPacket
    {
        let id = nextAckID
        nextAckID += 1
        let packet = SocketIOPacket.event(event, args, namespace: configuration.namespace, id: id, attachments: attachments)
        return try await withThrowingTaskGroup(of: SocketIOPacket?.self) { group in
            group.addTask { try await self.sendAwaitingAck(packet, id: id) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.failAck(id, with: Task.isCancelled ? CancellationError() : SocketIOClientError.ackTimeout)
                return nil
            }
            while let result = try await group.next() {
                if let ack = result {
                    group.cancelAll()
                    return ack
                }
            }
            throw SocketIOClientError.ackTimeout
        }
    }

    /// Answers a server event that carried an ack id.
    public func ack(_ id: Int, _ args: [JSONValue], attachments: [[UInt8]] = []) throws {
        try send(.ack(args, id: id, namespace: configuration.namespace, attachments: attachments))
    }

    /// Sends any Socket.IO packet as it is (for relays); queued like ``emit(_:_:attachments:)``.
    public func send(_ packet: SocketIOPacket) throws {
        if let connection, connection.sid != nil {
            connection.outbound.yield(Self.frames(packet))
        } else if configuration.bufferWhileDisconnected, runState != .finished, !stopRequested {
            sendBuffer.append(packet)
        } else {
            throw SocketIOClientError.notConnected
        }
    }

    private func sendAwaitingAck(_ packet: SocketIOPacket, id: Int) async throws -> SocketIOPacket {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try send(packet)
                pendingAcks[id] = continuation
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    private func failAck(_ id: Int, with error: any Error) {
        pendingAcks.removeValue(forKey: id)?.resume(throwing: error)
    }

    private static func frames(_ packet: SocketIOPacket) -> [EngineIOPacket] {
        SocketIOCodec.encode(packet).map { EngineIOPacket(kind: .message, payload: $0) }
    }

    /// Hands an event to the handler, or to ``events``.
    private nonisolated func emit(_ event: Event) async {
        if let handler {
            await handler(event)
        } else {
            eventSink.yield(event)
        }
    }

    // MARK: - One connection

    /// Opens one Engine.IO connection and runs it to its end.
    private func connectOnce() async -> (SessionEnd, wasConnected: Bool) {
        // Kept small, like run()'s: the set-up and tear-down are synchronous helpers, the
        // polling transport (a large value) lives in its own function's frame.
        let (id, outbound, continuation) = beginConnection()
        let end: SessionEnd
        do {
            switch configuration.transport {
            case .websocket:
                end = try await runWebSocket(id: id, outbound: outbound)
            case .polling:
                end = try await runPolling(id: id, outbound: outbound)
            }
        } catch {
            end = .lost(.transportError, error)
        }
        return (end, endConnection(continuation))
    }

    @inline(never)
    private func beginConnection() -> (Int, AsyncStream<[EngineIOPacket]>, AsyncStream<[EngineIOPacket]>.Continuation) {
        connectionCounter += 1
        let id = connectionCounter
        let (outbound, continuation) = AsyncStream.makeStream(of: [EngineIOPacket].self)
        let now = ContinuousClock.now
        connection = Connection(id: id, outbound: continuation, started: now, lastPing: now, wire: ClientWire(configuration))
        if stopRequested { continuation.finish() }
        logger.debug("Connecting", metadata: ["statetee.connection": "\(id)"])
        return (id, outbound, continuation)
    }

    /// Forgets the connection; whether its namespace was connected.
    @inline(never)
    private func endConnection(_ continuation: AsyncStream<[EngineIOPacket]>.Continuation) -> Bool {
        let wasConnected = connection?.sid != nil
        continuation.finish()
        connection = nil
        sid = nil
        return wasConnected
    }

    @inline(never)
    private nonisolated func runPolling(id: Int, outbound: AsyncStream<[EngineIOPacket]>) async throws -> SessionEnd {
        let transport = try await PollingTransport.open(configuration: configuration, http: http, logger: logger)
        return await runSession(id: id, transport: transport, outbound: outbound)
    }

    private nonisolated func runWebSocket(id: Int, outbound: AsyncStream<[EngineIOPacket]>) async throws -> SessionEnd {
        do {
            // The client made (in a synchronous helper) and run, rather than
            // `WebSocketClient.connect`: that static function's async frame (about 6 KiB) would
            // stay in this task's allocator for the connection's whole life.
            try await makeWebSocketClient(id: id, outbound: outbound).run()
        } catch {
            // An error while closing does not change how the session ended.
            if let end = await takeEnd(id: id) { return end }
            throw error
        }
        return await takeEnd(id: id) ?? .lost(.transportClose, nil)
    }

    @inline(never)
    private nonisolated func makeWebSocketClient(
        id: Int, outbound: AsyncStream<[EngineIOPacket]>
    ) throws -> WebSocketClient {
        var headers = HTTPFields()
        for (name, value) in configuration.headers {
            if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
        }
        let frameSize = max(configuration.maxPayload, 1 << 14)
        let wsConfiguration = WebSocketClientConfiguration(
            maxFrameSize: frameSize, additionalHeaders: headers, closeTimeout: configuration.closeTimeout)
        let maxMessageSize = configuration.maxPayload
        return WebSocketClient(
            url: try configuration.webSocketURL(), configuration: wsConfiguration, logger: logger
        ) { inbound, outboundWriter, _ in
            let transport = WebSocketTransport(inbound: inbound, outbound: outboundWriter, maxMessageSize: maxMessageSize)
            let end = await self.runSession(id: id, transport: transport, outbound: outbound)
            await self.record(end, id: id)
        }
    }

    private func record(_ end: SessionEnd, id: Int) {
        if connection?.id == id { connection?.end = end }
    }

    private func takeEnd(id: Int) -> SessionEnd? {
        guard connection?.id == id else { return nil }
        return connection?.end
    }

    /// Reader, writer and watchdog of one connection; the first to finish ends it.
    private nonisolated func runSession(
        id: Int, transport: some EngineIOTransport, outbound: AsyncStream<[EngineIOPacket]>
    ) async -> SessionEnd {
        await withTaskGroup(of: SessionEnd.self) { group in
            group.addTask {
                await transport.readLoop { packet in
                    let (decision, event) = await self.received(packet, id: id)
                    if let event { await self.emit(event) }
                    return decision
                }
            }
            group.addTask {
                do {
                    for await packets in outbound { try await transport.write(packets) }
                } catch {
                    return .lost(.transportError, error)
                }
                await transport.closeByClient()
                return .clientDisconnect
            }
            group.addTask { await self.watchdog(id: id) }
            let end = await group.next() ?? .lost(.transportClose, nil)
            group.cancelAll()
            return end
        }
    }

    /// Ends the connection when the handshake or a ping is overdue.
    private nonisolated func watchdog(id: Int) async -> SessionEnd {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            guard let (deadline, connected) = await watchdogDeadline(id: id) else { return .lost(.transportClose, nil) }
            if clock.now >= deadline {
                return connected ? .lost(.pingTimeout, nil) : .lost(.transportError, SocketIOClientError.connectTimeout)
            }
            do { try await clock.sleep(until: deadline) } catch { return .lost(.transportClose, nil) }
        }
        return .lost(.transportClose, nil)
    }

    private func watchdogDeadline(id: Int) -> (ContinuousClock.Instant, connected: Bool)? {
        guard let connection, connection.id == id else { return nil }
        if connection.sid != nil, let handshake = connection.handshake {
            return (connection.lastPing + .milliseconds(handshake.pingInterval + handshake.pingTimeout), true)
        }
        return (connection.started + configuration.connectTimeout, false)
    }

    // MARK: - Receiving

    /// What a packet from the server changes, and the event it makes (handed on by the reader, in order).
    private func received(_ packet: EngineIOPacket, id: Int) -> (ReadDecision, Event?) {
        guard var connection, connection.id == id else { return (.stop(.lost(.transportClose, nil)), nil) }
        defer { if self.connection?.id == id { self.connection = connection } }
        switch connection.wire.receive(packet) {
        case .none:
            return (.continue, nil)
        case .reply(let reply):
            connection.lastPing = .now
            if packet.kind == .open {
                logger.debug("Engine.IO open", metadata: ["statetee.eio-sid": "\(connection.handshake?.sid ?? "")"])
            }
            connection.outbound.yield([reply])
            return (.continue, nil)
        case .connected(let sid):
            connection.lastPing = .now
            self.sid = sid
            logger.debug("Connected", metadata: ["statetee.sid": "\(sid)"])
            for waiter in connectWaiters { waiter.resume(returning: sid) }
            connectWaiters = []
            let buffered = sendBuffer
            sendBuffer = []
            for packet in buffered { connection.outbound.yield(Self.frames(packet)) }
            return (.continue, .connected(sid: sid))
        case .packet(let packet, let text):
            return (.continue, received(packet, text: text))
        case .end(let end):
            return (.stop(end), nil)
        }
    }

    /// The event an event or ack makes (none for an ack that answers an ``emitWithAck(_:_:attachments:timeout:)``).
    private func received(_ packet: SocketIOPacket, text: String?) -> Event? {
        logger.trace("Packet received", metadata: ["statetee.packet": "\(packet)"])
        if packet.isAck, let id = packet.id, let waiter = pendingAcks.removeValue(forKey: id) {
            waiter.resume(returning: packet)
            return nil
        }
        if configuration.rawPackets { return .packet(packet, text: text) }
        guard !packet.isAck, let name = packet.eventName else { return nil }
        return .event(name: name, args: packet.eventArguments, attachments: packet.attachments, ackID: packet.id)
    }

    // MARK: - Ending

    /// Sleeps for `delay` unless ``disconnect()`` comes first; true when it did.
    @inline(never)
    private func waitForStop(upTo delay: Duration) async -> Bool {
        if stopRequested { return true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { await self.stopSignal() }
            _ = await group.next()
            group.cancelAll()
            self.stopWaiter?.resume()
            self.stopWaiter = nil
        }
        return stopRequested
    }

    private func stopSignal() async {
        if stopRequested { return }
        await withCheckedContinuation { stopWaiter = $0 }
    }

    private func finishRun() {
        runState = .finished
        sid = nil
        sendBuffer = []
        for waiter in pendingAcks.values { waiter.resume(throwing: SocketIOClientError.stopped) }
        pendingAcks = [:]
        for waiter in connectWaiters { waiter.resume(throwing: SocketIOClientError.stopped) }
        connectWaiters = []
        stopWaiter?.resume()
        stopWaiter = nil
        eventSink.finish()
        logger.debug("Client stopped")
    }
}
