import HTTPTypes
import SocketIOProtocol

/// What an application runs for each Engine.IO session (see
/// ``EngineIOServer/init(configuration:logger:accept:)``).
///
/// The client's messages come to ``received(_:)`` from the task of the transport that read
/// them (a WebSocket's reader, a POST's request handler): in order, one call at a time, and
/// without a task hop, so the call should not block (hand slow work to ``run()``). After the
/// last message, ``closed()`` is called once, when the session closes for any reason.
/// ``run()`` is the session's own task: the server closes the session when it returns, and
/// waits for it before it lets the session go.
public protocol EngineIOSessionHandler: AnyObject, Sendable {
    /// A message from the client.
    func received(_ payload: EngineIOPacket.Payload)
    /// The session closed (client close, ping timeout, transport error, `close()`): no more messages.
    func closed()
    /// The session's task, started once the session is open.
    func run() async
}

/// The application's handle on one Engine.IO session.
///
/// `messages` (for a server made with a connection handler) yields the client's message
/// payloads in order and ends when the session closes (for any reason: client close, ping
/// timeout, transport error, `close()`).
/// `send` never waits: packets are queued on the session and written by its transport in order.
public struct EngineIOConnection: Sendable, Hashable {
    let session: EngineIOSession
    private let inbound: AsyncStream<EngineIOPacket.Payload>?

    init(session: EngineIOSession, messages: AsyncStream<EngineIOPacket.Payload>? = nil) {
        self.session = session
        self.inbound = messages
    }

    /// The Engine.IO session id (`sid`).
    public var id: String { session.id }

    /// The HTTP request that opened the session (path with query, headers).
    public var request: HTTPRequest { session.request }

    /// The client's messages, in order; finishes when the session closes. (Empty and
    /// finished for a session with an ``EngineIOSessionHandler``: its handler gets them.)
    public var messages: AsyncStream<EngineIOPacket.Payload> {
        inbound ?? AsyncStream { $0.finish() }
    }

    /// Queue message payloads for the client, kept together and in order.
    public func send(_ payloads: [EngineIOPacket.Payload]) {
        session.send(payloads.map { EngineIOOutboundPacket(EngineIOPacket(kind: .message, payload: $0)) })
    }

    /// Queue message packets for the client, kept together and in order (their WebSocket frames
    /// may be encoded already, shared with other connections).
    func send(outbound packets: [EngineIOOutboundPacket]) {
        session.send(packets)
    }

    /// Queue a message encoded ahead for the client (its frame shared with every connection
    /// it is sent to).
    public func send(_ message: EngineIOEncodedMessage) {
        session.send([message.outbound])
    }

    /// Queue one message payload for the client.
    public func send(_ payload: EngineIOPacket.Payload) {
        send([payload])
    }

    /// Close the session: the client gets a `close` packet where the transport still can carry it.
    public func close(reason: DisconnectReason = .serverDisconnect) {
        session.close(reason: reason)
    }

    /// Whether the session is still open.
    public var isOpen: Bool { session.isOpen }

    /// Why the session closed, once it has.
    public var disconnectReason: DisconnectReason? { session.disconnectReason }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.session === rhs.session }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(session)) }
}

/// A connection handler as an ``EngineIOSessionHandler``: messages go through an `AsyncStream`
/// (``EngineIOConnection/messages``) to the handler's task.
final class StreamSessionHandler: EngineIOSessionHandler {
    private let connection: EngineIOConnection
    private let body: EngineIOConnectionHandler
    private let continuation: AsyncStream<EngineIOPacket.Payload>.Continuation

    init(session: EngineIOSession, body: @escaping EngineIOConnectionHandler) {
        let (messages, continuation) = AsyncStream<EngineIOPacket.Payload>.makeStream()
        self.connection = EngineIOConnection(session: session, messages: messages)
        self.body = body
        self.continuation = continuation
    }

    func received(_ payload: EngineIOPacket.Payload) { continuation.yield(payload) }
    func closed() { continuation.finish() }
    func run() async { await body(connection) }
}

extension HTTPRequest {
    /// The decoded query parameters of the request path (the last value wins).
    var queryItems: [String: String] {
        guard let path, let mark = path.firstIndex(of: "?") else { return [:] }
        var items: [String: String] = [:]
        for pair in path[path.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecoded(parts[0])
            items[key] = parts.count > 1 ? percentDecoded(parts[1]) : ""
        }
        return items
    }

    /// The path without its query.
    var pathWithoutQuery: Substring {
        guard let path else { return "/" }
        return path[..<(path.firstIndex(of: "?") ?? path.endIndex)]
    }
}

private func percentDecoded(_ text: Substring) -> String {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(text) }
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    while let byte = iterator.next() {
        if byte == UInt8(ascii: "+") {
            bytes.append(UInt8(ascii: " "))
        } else if byte == UInt8(ascii: "%") {
            let high = iterator.next()
            let low = iterator.next()
            if let high, let low, let h = hexValue(high), let l = hexValue(low) {
                bytes.append(h << 4 | l)
            } else {
                bytes.append(byte)
                if let high { bytes.append(high) }
                if let low { bytes.append(low) }
            }
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
