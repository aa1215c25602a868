import JSONValue
import Logging
import NIOCore
import ServiceLifecycle
import SocketIOProtocol
import Synchronization

/// Sees every inbound Socket.IO packet of a connection, in order, before it is dispatched
/// (called from the transport's task as the packet is read: it must not block).
public typealias SocketIOPacketObserver = @Sendable (_ connection: EngineIOConnection, _ packet: SocketIOPacket) -> Void

/// A Socket.IO v5 server over an Engine.IO v4 endpoint (`/socket.io/` by default).
///
/// ```swift
/// var chat = SocketIONamespace("/")
/// chat.on("message") { socket, args, _, ack in socket.emit("message-back", args) }
/// let io = SocketIOServer(namespaces: [chat])
/// // standalone:   io.application(configuration: .init(address: .hostname("127.0.0.1", port: 0)))
/// // or mounted:   router.add(middleware: EngineIOMiddleware(io.engine)),
/// //               server: .engineIO([io.engine]), services: [io]
/// ```
public final class SocketIOServer: Service, Sendable {
    let core: SocketIOCore
    /// The Engine.IO endpoint to mount (HTTP middleware, WebSocket upgrade).
    public let engine: EngineIOServer

    /// - Parameters:
    ///   - configuration: Engine.IO settings, connect timeout, attachment limit
    ///   - namespaces: every namespace clients may connect to (`/` is only served when listed)
    ///   - logger: lifecycle at debug; malformed packets at error with `statetee.sid` metadata
    ///   - packetObserver: sees every inbound packet before dispatch (e.g. for a relay)
    public init(
        configuration: SocketIOConfiguration = .init(),
        namespaces: [SocketIONamespace],
        logger: Logger = Logger(label: "statetee.socketio"),
        packetObserver: SocketIOPacketObserver? = nil
    ) {
        let core = SocketIOCore(
            configuration: configuration,
            namespaces: namespaces,
            logger: logger,
            packetObserver: packetObserver
        )
        self.core = core
        self.engine = EngineIOServer(configuration: configuration.engine, logger: logger) { connection in
            core.accept(connection)
        }
    }

    public var configuration: SocketIOConfiguration { core.configuration }

    /// Runs the Engine.IO sessions (see ``EngineIOServer/run()``).
    public func run() async throws {
        try await engine.run()
    }

    /// Emit an event to every connected socket of a namespace.
    ///
    /// - Parameter except: the socket id to leave out (typically the sender)
    public func broadcast(
        _ event: String,
        _ args: [JSONValue] = [],
        attachments: [[UInt8]] = [],
        namespace: String = "/",
        except: String? = nil
    ) {
        broadcast(.event(event, args, namespace: namespace, attachments: attachments), except: except)
    }

    /// Send a packet encoded once to every connected socket of its namespace: every recipient
    /// gets the same bytes (see ``SocketIOEncodedPacket``).
    ///
    /// - Parameter except: the socket id to leave out (typically the sender)
    public func broadcast(_ encoded: SocketIOEncodedPacket, except: String? = nil) {
        for socket in sockets(in: encoded.namespace) where socket.id != except {
            socket.send(outbound: encoded.outbound)
        }
    }

    /// The connected sockets of a namespace.
    public func sockets(in namespace: String = "/") -> [SocketIOSocket] {
        core.registry.withLock { Array(($0[namespace] ?? [:]).values) }
    }

    /// A connected socket by namespace and socket id.
    public func socket(id: String, namespace: String = "/") -> SocketIOSocket? {
        core.registry.withLock { $0[namespace]?[id] }
    }
}

/// Work for a connection's dispatcher, run one at a time in order.
enum SocketIOClientJob: Sendable {
    case packet(SocketIOPacket)
    case disconnected(SocketIOSocket, DisconnectReason)
    case connectionClosed(DisconnectReason)
}

/// State shared by all connections of a server.
final class SocketIOCore: Sendable {
    let configuration: SocketIOConfiguration
    let namespaces: [String: SocketIONamespace]
    let logger: Logger
    let packetObserver: SocketIOPacketObserver?
    let registry: Mutex<[String: [String: SocketIOSocket]]> = Mutex([:])

    init(configuration: SocketIOConfiguration, namespaces: [SocketIONamespace], logger: Logger, packetObserver: SocketIOPacketObserver?) {
        self.configuration = configuration
        self.namespaces = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.logger = logger
        self.packetObserver = packetObserver
    }

    /// One Engine.IO connection: its packets are decoded, observed and acks resolved as they
    /// are read (on the transport's task); the rest goes to a dispatcher, the session's task,
    /// which runs the handlers in order. The connect timeout is a callback scheduled on an
    /// event loop (cancelled once the session closes), not a task.
    func accept(_ connection: EngineIOConnection) -> SocketIOClientConnection {
        let client = SocketIOClientConnection(core: self, connection: connection)
        if let timeout = configuration.connectTimeout {
            client.armConnectTimer(timeout)
        }
        return client
    }
}

/// One Engine.IO connection seen by the Socket.IO layer.
final class SocketIOClientConnection: EngineIOSessionHandler {
    let core: SocketIOCore
    let connection: EngineIOConnection
    let jobs: AsyncStream<SocketIOClientJob>.Continuation
    private let jobStream: AsyncStream<SocketIOClientJob>
    /// Sockets by namespace (maintained by the dispatcher only).
    private let sockets: Mutex<[String: SocketIOSocket]> = Mutex([:])
    private let connectSeen = Atomic<Bool>(false)
    private let decoder: InboundPacketDecoder
    private let connectTimer: Mutex<Scheduled<Void>?> = Mutex(nil)

    init(core: SocketIOCore, connection: EngineIOConnection) {
        self.core = core
        self.connection = connection
        (jobStream, jobs) = AsyncStream.makeStream()
        decoder = InboundPacketDecoder(maxAttachments: core.configuration.maxAttachments)
    }

    var receivedConnect: Bool { connectSeen.load(ordering: .acquiring) }

    private var logger: Logger { core.logger }

    /// Closes the connection unless a CONNECT came within `timeout`.
    func armConnectTimer(_ timeout: Duration) {
        let timer = EngineIOSession.timerLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
            guard let self, !self.receivedConnect else { return }
            self.logger.debug("Socket.IO connect timeout", metadata: ["statetee.sid": .string(self.connection.id)])
            self.connection.close(reason: .serverDisconnect)
        }
        connectTimer.withLock { $0 = timer }
    }

    // MARK: reader

    func received(_ payload: EngineIOPacket.Payload) {
        let packet: SocketIOPacket
        do throws(ProtocolError) {
            guard let complete = try decoder.decode(payload) else { return }
            packet = complete
        } catch {
            logger.error("Socket.IO malformed packet", metadata: .malformed(error, sid: connection.id))
            connection.close(reason: .parseError)
            return
        }
        if packet.kind == .connect { connectSeen.store(true, ordering: .releasing) }
        core.packetObserver?(connection, packet)
        if packet.isAck {
            // Resolved at once: a handler may be awaiting it.
            sockets.withLock { $0[packet.namespace] }?.receivedAck(packet)
        } else {
            jobs.yield(.packet(packet))
        }
    }

    func closed() {
        connectTimer.withLock { $0?.cancel() }
        jobs.yield(.connectionClosed(connection.disconnectReason ?? .transportClose))
        jobs.finish()
    }

    /// The dispatcher: runs until the session closed and its jobs are done.
    func run() async {
        for await job in jobStream { await run(job) }
    }

    // MARK: dispatcher

    func run(_ job: SocketIOClientJob) async {
        switch job {
        case .packet(let packet):
            await dispatch(packet)
        case .disconnected(let socket, let reason):
            await finalize(socket, reason: reason)
        case .connectionClosed(let reason):
            for socket in sockets.withLock({ Array($0.values) }) {
                socket.markDisconnected()
                await finalize(socket, reason: reason)
            }
        }
    }

    private func dispatch(_ packet: SocketIOPacket) async {
        let existing = sockets.withLock { $0[packet.namespace] }
        switch packet.kind {
        case .connect:
            if let existing {
                guard !existing.isConnected else { return violation("Socket.IO CONNECT for a connected namespace", packet) }
                await finalize(existing, reason: .serverDisconnect)
            }
            await connect(namespace: packet.namespace, auth: packet.data)
        case .disconnect:
            guard let existing else { return }
            existing.markDisconnected()
            await finalize(existing, reason: .clientDisconnect)
        case .event, .binaryEvent:
            guard let existing, existing.isConnected else { return violation("Socket.IO event for a namespace not connected", packet) }
            await event(packet, on: existing)
        case .ack, .binaryAck:
            break
        case .connectError:
            violation("Socket.IO CONNECT_ERROR from a client", packet)
        }
    }

    private func violation(_ message: Logger.Message, _ packet: SocketIOPacket) {
        logger.error(
            message,
            metadata: [
                "statetee.sid": .string(connection.id),
                "statetee.namespace": .string(packet.namespace),
                "statetee.packet.type": .stringConvertible(packet.kind.rawValue),
            ])
        connection.close(reason: .parseError)
    }

    private func connect(namespace name: String, auth: JSONValue?) async {
        guard let namespace = core.namespaces[name] else {
            logger.debug("Socket.IO CONNECT to an unknown namespace", metadata: ["statetee.sid": .string(connection.id), "statetee.namespace": .string(name)])
            connection.send(SocketIOCodec.encode(.connectError(namespace: name, message: "Invalid namespace")))
            return
        }
        let socket = SocketIOSocket(
            id: EngineIOServer.makeSessionID(), namespace: name, auth: auth, connection: connection, jobs: jobs)
        sockets.withLock { $0[name] = socket }
        // Join the broadcast list before the connect handler runs (as python-socketio does), so
        // a broadcast made meanwhile is not lost to this client: it is held with the socket's
        // other early emits and delivered right after the CONNECT packet.
        core.registry.withLock { $0[name, default: [:]][socket.id] = socket }
        do {
            try await namespace.connectHandler?(socket, auth)
        } catch {
            let refusal = (error as? SocketIOConnectionRefused) ?? SocketIOConnectionRefused(message: "Connection rejected by server")
            socket.markDisconnected()
            _ = socket.claimFinalization()
            sockets.withLock { if $0[name] === socket { $0[name] = nil } }
            core.registry.withLock { _ = $0[name]?.removeValue(forKey: socket.id) }
            logger.debug("Socket.IO connection refused", metadata: ["statetee.sid": .string(connection.id), "statetee.namespace": .string(name)])
            connection.send(SocketIOCodec.encode(SocketIOPacket(kind: .connectError, namespace: name, data: refusal.payload)))
            return
        }
        socket.markConnected()
        logger.debug(
            "Socket.IO socket connected",
            metadata: ["statetee.sid": .string(connection.id), "statetee.namespace": .string(name), "statetee.socket": .string(socket.id)])
    }

    private func event(_ packet: SocketIOPacket, on socket: SocketIOSocket) async {
        guard let namespace = core.namespaces[socket.namespace], let name = packet.eventName else { return }
        let ack = packet.id.map { SocketIOAck(socket: socket, id: $0) }
        if let handler = namespace.eventHandlers[name] {
            await handler(socket, packet.eventArguments, packet.attachments, ack)
        } else if let handler = namespace.anyEventHandler {
            await handler(socket, name, packet.eventArguments, packet.attachments, ack)
        }
    }

    private func finalize(_ socket: SocketIOSocket, reason: DisconnectReason) async {
        guard socket.claimFinalization() else { return }
        sockets.withLock { if $0[socket.namespace] === socket { $0[socket.namespace] = nil } }
        core.registry.withLock { _ = $0[socket.namespace]?.removeValue(forKey: socket.id) }
        logger.debug(
            "Socket.IO socket disconnected",
            metadata: [
                "statetee.sid": .string(connection.id), "statetee.namespace": .string(socket.namespace),
                "statetee.socket": .string(socket.id), "statetee.reason": .string(reason.description),
            ])
        await core.namespaces[socket.namespace]?.disconnectHandler?(socket, reason)
    }
}
