import JSONValue
import SocketIOProtocol
import Synchronization

/// Errors of the Socket.IO server API.
public struct SocketIOError: Error, Hashable, Sendable, CustomStringConvertible {
    enum Base: Hashable, Sendable {
        case ackTimeout, disconnected
    }

    let base: Base

    /// The client did not acknowledge within the timeout.
    public static let ackTimeout = Self(base: .ackTimeout)
    /// The socket disconnected before the client acknowledged (or was already disconnected).
    public static let disconnected = Self(base: .disconnected)

    public var description: String {
        switch base {
        case .ackTimeout: "acknowledgement timed out"
        case .disconnected: "socket disconnected"
        }
    }
}

/// What a client acknowledged with.
public struct SocketIOAckResponse: Hashable, Sendable {
    /// The ack arguments (binary ones are placeholders pointing into `attachments`).
    public var args: [JSONValue]
    public var attachments: [[UInt8]]

    public init(args: [JSONValue], attachments: [[UInt8]] = []) {
        self.args = args
        self.attachments = attachments
    }
}

/// Acknowledges one client event; call it once.
public struct SocketIOAck: Sendable {
    let socket: SocketIOSocket
    /// The client's ack id.
    public let id: Int

    /// Send the ACK (BINARY_ACK when there are attachments).
    public func callAsFunction(_ args: [JSONValue] = [], attachments: [[UInt8]] = []) {
        socket.send(.ack(args, id: id, namespace: socket.namespace, attachments: attachments))
    }
}

/// One client connected to one namespace.
///
/// Sending never waits: packets are queued on the Engine.IO session in call order (per socket
/// ordering holds for calls made one after the other). Emits made by the connect handler are
/// held until the CONNECT packet has been sent.
public final class SocketIOSocket: Sendable, Hashable, Identifiable, CustomStringConvertible {
    enum Phase: Equatable, Sendable {
        case connecting(held: [[EngineIOPacket.Payload]])
        case connected
        case disconnected
    }

    private struct State: ~Copyable {
        var phase: Phase = .connecting(held: [])
        var nextAckID = 0
        var acks: [Int: CheckedContinuation<SocketIOAckResponse, any Error>] = [:]
        var finalized = false
    }

    /// The Socket.IO session id of this socket (per namespace, sent in the CONNECT packet).
    public let id: String
    /// The namespace, e.g. `/` or `/custom`.
    public let namespace: String
    /// The CONNECT payload the client sent (nil when none).
    public let auth: JSONValue?
    /// The underlying Engine.IO connection (its `id` is the Engine.IO sid, `request` the opening request).
    public let connection: EngineIOConnection
    let jobs: AsyncStream<SocketIOClientJob>.Continuation
    private let state = Mutex(State())

    init(id: String, namespace: String, auth: JSONValue?, connection: EngineIOConnection, jobs: AsyncStream<SocketIOClientJob>.Continuation) {
        self.id = id
        self.namespace = namespace
        self.auth = auth
        self.connection = connection
        self.jobs = jobs
    }

    public var description: String { "SocketIOSocket(\(namespace) \(id))" }

    /// Whether the socket is connected (false while its connect handler runs and after disconnect).
    public var isConnected: Bool { state.withLock { $0.phase == .connected } }

    // MARK: sending

    /// Emit an event to this client.
    public func emit(_ event: String, _ args: [JSONValue] = [], attachments: [[UInt8]] = []) {
        send(.event(event, args, namespace: namespace, attachments: attachments))
    }

    /// Emit an event and wait for the client's acknowledgement.
    ///
    /// - Throws: ``SocketIOError/ackTimeout``, ``SocketIOError/disconnected``, `CancellationError`.
    public func emitWithAck(
        _ event: String,
        _ args: [JSONValue] = [],
        attachments: [[UInt8]] = [],
        timeout: Duration = .seconds(10)
    ) async throws -> SocketIOAckResponse {
        let id = state.withLock { state -> Int in
            defer { state.nextAckID += 1 }
            return state.nextAckID
        }
        let packet = SocketIOPacket.event(event, args, namespace: namespace, id: id, attachments: attachments)
        return try await withThrowingTaskGroup(of: SocketIOAckResponse.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SocketIOAckResponse, any Error>) in
                        let refusal = self.state.withLock { state -> (any Error)? in
                            if Task.isCancelled { return CancellationError() }
                            if state.phase == .disconnected { return SocketIOError.disconnected }
                            state.acks[id] = continuation
                            return nil
                        }
                        if let refusal {
                            continuation.resume(throwing: refusal)
                        } else {
                            self.send(packet)
                        }
                    }
                } onCancel: {
                    self.state.withLock { $0.acks.removeValue(forKey: id) }?.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SocketIOError.ackTimeout
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Send a packet to this client as is, except that its namespace is this socket's.
    public func send(_ packet: SocketIOPacket) {
        var packet = packet
        packet.namespace = namespace
        sendPayloads(SocketIOCodec.encode(packet))
    }

    /// Send payloads already encoded for this socket's namespace.
    func sendPayloads(_ payloads: [EngineIOPacket.Payload]) {
        state.withLock { state in
            switch state.phase {
            case .connecting(var held):
                held.append(payloads)
                state.phase = .connecting(held: held)
            case .connected:
                connection.send(payloads)
            case .disconnected:
                break
            }
        }
    }

    /// Disconnect this socket from its namespace: the client gets a DISCONNECT packet and the
    /// disconnect handler runs with ``DisconnectReason/serverDisconnect``.
    ///
    /// - Parameter closeConnection: also close the whole Engine.IO connection (every namespace).
    public func disconnect(closeConnection: Bool = false) {
        let wasConnected = state.withLock { state -> Bool in
            let was = state.phase == .connected
            if was { connection.send(SocketIOCodec.encode(.disconnect(namespace: namespace))) }
            return was
        }
        if wasConnected {
            markDisconnected()
            jobs.yield(.disconnected(self, .serverDisconnect))
        }
        if closeConnection { connection.close(reason: .serverDisconnect) }
    }

    // MARK: lifecycle (driven by the client connection)

    /// Send the CONNECT packet, then what the connect handler emitted, and open the socket.
    func markConnected() {
        state.withLock { state in
            guard case .connecting(let held) = state.phase else { return }
            var payloads = SocketIOCodec.encode(.connect(namespace: namespace, data: ["sid": .string(id)]))
            for batch in held { payloads += batch }
            connection.send(payloads)
            state.phase = .connected
        }
    }

    /// Stop sending and fail the pending acks.
    func markDisconnected() {
        let pending = state.withLock { state -> [CheckedContinuation<SocketIOAckResponse, any Error>] in
            state.phase = .disconnected
            defer { state.acks = [:] }
            return Array(state.acks.values)
        }
        for continuation in pending { continuation.resume(throwing: SocketIOError.disconnected) }
    }

    /// True exactly once: the caller runs the disconnect handler.
    func claimFinalization() -> Bool {
        state.withLock { state in
            defer { state.finalized = true }
            return !state.finalized
        }
    }

    /// The client acknowledged one of our events.
    func receivedAck(_ packet: SocketIOPacket) {
        guard let id = packet.id else { return }
        let continuation = state.withLock { $0.acks.removeValue(forKey: id) }
        continuation?.resume(returning: SocketIOAckResponse(args: packet.eventArguments, attachments: packet.attachments))
    }

    public static func == (lhs: SocketIOSocket, rhs: SocketIOSocket) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
