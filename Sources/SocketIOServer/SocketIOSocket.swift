import JSONValue
import NIOCore
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
        case connecting(held: [[EngineIOOutboundPacket]])
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
        send(outbound: SocketIOCodec.encode(packet).map { EngineIOOutboundPacket(EngineIOPacket(kind: .message, payload: $0)) })
    }

    /// Send a packet encoded once for many sends: its bytes are written as they are, shared
    /// with every other socket it goes to. A packet encoded for another namespace is encoded
    /// again for this socket's (as ``send(_:)-(SocketIOPacket)`` does).
    public func send(_ encoded: SocketIOEncodedPacket) {
        guard encoded.namespace == namespace else { return send(encoded.packet) }
        send(outbound: encoded.outbound)
    }

    /// Send Engine.IO packets already encoded for this socket's namespace.
    func send(outbound packets: [EngineIOOutboundPacket]) {
        state.withLock { state in
            switch state.phase {
            case .connecting(var held):
                held.append(packets)
                state.phase = .connecting(held: held)
            case .connected:
                connection.send(outbound: packets)
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
            var packets = SocketIOCodec.encode(.connect(namespace: namespace, data: ["sid": .string(id)]))
                .map { EngineIOOutboundPacket(EngineIOPacket(kind: .message, payload: $0)) }
            for batch in held { packets += batch }
            connection.send(outbound: packets)
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

/// A Socket.IO packet encoded once, to send to many sockets (or many times) without encoding it
/// again: its Engine.IO message payloads and their WebSocket frames, whose bytes every send
/// shares. Long-polling clients get the same payloads in their poll replies.
///
/// ```swift
/// let update = SocketIOEncodedPacket.event("game_state_update", [state])
/// io.broadcast(update)          // one encode for every client
/// socket.send(update)           // and again for a requester, same bytes
/// ```
public struct SocketIOEncodedPacket: Sendable, Hashable {
    /// The packet as given.
    public let packet: SocketIOPacket
    /// Its Engine.IO message packets (one, plus one per binary attachment), frames encoded.
    let outbound: [EngineIOOutboundPacket]

    /// Encodes `packet` (for its own namespace).
    public init(_ packet: SocketIOPacket) {
        self.packet = packet
        self.outbound = SocketIOCodec.encode(packet).map { EngineIOOutboundPacket(encoding: EngineIOPacket(kind: .message, payload: $0)) }
    }

    /// An EVENT packet (BINARY_EVENT when there are attachments), encoded.
    public static func event(
        _ event: String, _ args: [JSONValue] = [], namespace: String = "/", attachments: [[UInt8]] = []
    ) -> SocketIOEncodedPacket {
        SocketIOEncodedPacket(.event(event, args, namespace: namespace, attachments: attachments))
    }

    /// The namespace it was encoded for.
    public var namespace: String { packet.namespace }

    /// The Engine.IO message payloads, as ``SocketIOCodec/encode(_:)`` gives them.
    public var payloads: [EngineIOPacket.Payload] { outbound.map(\.packet.payload) }

    /// The WebSocket message of each payload (Engine.IO framing included), as the bytes written.
    public var webSocketMessages: [WebSocketContent] {
        outbound.compactMap { packet in
            guard let frame = packet.frame else { return nil }
            let bytes = Array(frame.payload.readableBytesView)
            return frame.isText ? .text(String(decoding: bytes, as: UTF8.self)) : .binary(bytes)
        }
    }
}
