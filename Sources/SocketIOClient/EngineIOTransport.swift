import AsyncHTTPClient
import JSONValue
import Logging
import NIOCore
import NIOHTTP1
import SocketIOProtocol
import WSClient

/// How a session ended.
enum SessionEnd: Sendable {
    /// ``SocketIOClient/disconnect()``: the outbound queue was drained and closed.
    case clientDisconnect
    /// The server sent a Socket.IO DISCONNECT for our namespace.
    case serverDisconnect
    /// The server refused the namespace.
    case connectError(JSONValue)
    /// The transport or heartbeat failed; `error` when there was one.
    case lost(SocketIOClient.DisconnectReason, (any Error)?)
}

/// What the reader does after a packet.
enum ReadDecision: Sendable {
    case `continue`
    case stop(SessionEnd)
}

/// One Engine.IO connection's I/O, the same for WebSocket and polling.
protocol EngineIOTransport: Sendable {
    /// Reads packets until the transport closes or `handle` says stop.
    func readLoop(_ handle: @Sendable (EngineIOPacket) async -> ReadDecision) async -> SessionEnd
    /// Writes packets in order (one Socket.IO packet's frames together).
    func write(_ packets: [EngineIOPacket]) async throws
    /// After a client disconnect was written: tell the server the transport closes.
    func closeByClient() async
}

// MARK: WebSocket

struct WebSocketTransport: EngineIOTransport {
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter
    let maxMessageSize: Int

    func readLoop(_ handle: @Sendable (EngineIOPacket) async -> ReadDecision) async -> SessionEnd {
        do {
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                let packet: EngineIOPacket
                switch Self.decode(message) {
                case .success(let decoded): packet = decoded
                case .failure(let error): return .lost(.parseError, SocketIOClientError.protocolError(error))
                }
                if case .stop(let end) = await handle(packet) { return end }
            }
            return .lost(.transportClose, nil)
        } catch {
            return .lost(.transportError, error)
        }
    }

    /// (Synchronous: the reader's async frame stays in its task's allocator for the connection's life.)
    @inline(never)
    static func decode(_ message: WebSocketMessage) -> Result<EngineIOPacket, ProtocolError> {
        switch message {
        case .text(let text):
            do throws(ProtocolError) { return .success(try EngineIOCodec.decodeWebSocket(.text(text))) } catch {
                return .failure(error)
            }
        case .binary(let buffer):
            return .success(.binaryMessage(Array(buffer.readableBytesView)))
        }
    }

    func write(_ packets: [EngineIOPacket]) async throws {
        for packet in packets {
            switch EngineIOCodec.encodeWebSocket(packet) {
            case .text(let text): try await outbound.writeTextMessage(text)
            case .binary(let bytes): try await outbound.writeBinaryMessage(ByteBuffer(bytes: bytes))
            }
        }
    }

    func closeByClient() async {
        // Returning from the WebSocket handler closes the socket with a close frame.
    }
}

// MARK: Long-polling

struct PollingTransport: EngineIOTransport {
    let http: HTTPClient
    let url: String  // with sid
    let headers: HTTPHeaders
    let handshake: EngineIOHandshake
    let initialPackets: [EngineIOPacket]
    let maxPayload: Int
    let logger: Logger

    /// python-engineio drops whole payloads of more than 16 packets.
    static let maxPacketsPerPost = 16

    /// The handshake request: `GET ...transport=polling` answered by `0{...}`.
    static func open(
        configuration: SocketIOClient.Configuration, http: HTTPClient, logger: Logger
    ) async throws -> PollingTransport {
        var headers = HTTPHeaders()
        for (name, value) in configuration.headers { headers.add(name: name, value: value) }
        let body = try await get(
            http: http, url: try configuration.pollingURL(sid: nil), headers: headers,
            timeout: configuration.connectTimeout, maxPayload: configuration.maxPayload)
        let packets: [EngineIOPacket]
        do { packets = try EngineIOCodec.decodePayload(body) } catch { throw SocketIOClientError.protocolError(error) }
        guard let open = packets.first, open.kind == .open, let handshake = try? open.handshake() else {
            throw SocketIOClientError.invalidHandshake
        }
        return PollingTransport(
            http: http, url: try configuration.pollingURL(sid: handshake.sid), headers: headers, handshake: handshake,
            initialPackets: packets, maxPayload: configuration.maxPayload, logger: logger)
    }

    static func get(http: HTTPClient, url: String, headers: HTTPHeaders, timeout: Duration, maxPayload: Int)
        async throws -> [UInt8]
    {
        var request = HTTPClientRequest(url: url + "&t=" + String(UInt64.random(in: 0 ... .max), radix: 36))
        request.method = .GET
        request.headers = headers
        let response = try await http.execute(request, timeout: TimeAmount(timeout))
        let body = try await response.body.collect(upTo: maxPayload + 1024)
        guard response.status == .ok else { throw SocketIOClientError.httpStatus(Int(response.status.code)) }
        return Array(body.readableBytesView)
    }

    var pollTimeout: Duration {
        .milliseconds(handshake.pingInterval + handshake.pingTimeout) + .seconds(5)
    }

    func readLoop(_ handle: @Sendable (EngineIOPacket) async -> ReadDecision) async -> SessionEnd {
        for packet in initialPackets {
            if case .stop(let end) = await handle(packet) { return end }
        }
        while !Task.isCancelled {
            let packets: [EngineIOPacket]
            do {
                let body = try await Self.get(http: http, url: url, headers: headers, timeout: pollTimeout, maxPayload: maxPayload)
                do { packets = try EngineIOCodec.decodePayload(body) } catch {
                    return .lost(.parseError, SocketIOClientError.protocolError(error))
                }
            } catch {
                return .lost(.transportError, error)
            }
            for packet in packets {
                if case .stop(let end) = await handle(packet) { return end }
            }
        }
        return .lost(.transportClose, CancellationError())
    }

    func write(_ packets: [EngineIOPacket]) async throws {
        var start = 0
        while start < packets.count {
            let end = min(packets.count, start + Self.maxPacketsPerPost)
            try await post(EngineIOCodec.encodePayload(Array(packets[start..<end])))
            start = end
        }
    }

    func post(_ body: String) async throws {
        var request = HTTPClientRequest(url: url + "&t=" + String(UInt64.random(in: 0 ... .max), radix: 36))
        request.method = .POST
        request.headers = headers
        request.headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=UTF-8")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok else { throw SocketIOClientError.httpStatus(Int(response.status.code)) }
    }

    func closeByClient() async {
        do { try await post(EngineIOCodec.encodePayload([.close])) } catch {
            logger.debug("Polling close request failed", metadata: ["statetee.error": "\(error)"])
        }
    }
}
