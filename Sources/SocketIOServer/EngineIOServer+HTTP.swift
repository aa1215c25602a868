import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SocketIOProtocol

/// engine.io's HTTP error bodies: `{"code":N,"message":"..."}`.
enum EngineIOHTTPError: Int {
    case unknownTransport = 0
    case unknownSession = 1
    case badHandshakeMethod = 2
    case badRequest = 3
    case unsupportedProtocolVersion = 5

    var message: String {
        switch self {
        case .unknownTransport: "Transport unknown"
        case .unknownSession: "Session ID unknown"
        case .badHandshakeMethod: "Bad handshake method"
        case .badRequest: "Bad request"
        case .unsupportedProtocolVersion: "Unsupported protocol version"
        }
    }

    init(_ rejection: EngineIOSession.Rejection) {
        switch rejection {
        case .unknownSession: self = .unknownSession
        case .badRequest: self = .badRequest
        }
    }
}

extension EngineIOServer {
    /// Answer an HTTP (non-upgrade) request addressed to this endpoint.
    ///
    /// Handshake `GET ?EIO=4&transport=polling`, long-poll `GET …&sid=`, `POST …&sid=` and
    /// `OPTIONS` preflights. Never throws: every failure is an HTTP error response.
    public func respond(to request: Request) async -> Response {
        var response = await handle(request)
        if configuration.cors { addCORSHeaders(for: request.head, to: &response.headers) }
        if let connection = request.headers[.connection], connection.lowercased().contains("close") {
            // Hummingbird closes such a connection after the response; say so, or a keep-alive
            // client pool (Node's) may reuse the socket and see it hang up.
            response.headers[.connection] = "close"
        }
        return response
    }

    private func handle(_ request: Request) async -> Response {
        if request.method == .options { return Response(status: .ok) }
        let query = request.head.queryItems
        guard query["EIO"] == "4" else { return errorResponse(.unsupportedProtocolVersion) }
        guard let transport = query["transport"], transport == "polling" || transport == "websocket" else {
            return errorResponse(.unknownTransport)
        }
        guard transport == "polling" else { return errorResponse(.badRequest) }
        guard let sid = query["sid"] else {
            guard request.method == .get else { return errorResponse(.badHandshakeMethod) }
            return openPollingSession(request.head)
        }
        guard let session = session(id: sid) else {
            logger.debug("Engine.IO request for an unknown session", metadata: ["statetee.sid": .string(sid)])
            return errorResponse(.unknownSession)
        }
        switch request.method {
        case .get: return await poll(session)
        case .post: return await post(request, to: session)
        default: return errorResponse(.badRequest)
        }
    }

    private func openPollingSession(_ head: HTTPRequest) -> Response {
        guard let session = openSession(request: head, transport: .polling) else {
            return Response(status: .serviceUnavailable)
        }
        let upgrades = configuration.allowUpgrades ? ["websocket"] : []
        return payloadResponse([handshake(for: session, upgrades: upgrades)])
    }

    private func poll(_ session: EngineIOSession) async -> Response {
        switch await session.poll() {
        case .packets(let packets):
            return payloadResponse(packets)
        case .rejected(let rejection):
            if rejection == .badRequest {
                logger.debug("Engine.IO poll refused", metadata: ["statetee.sid": .string(session.id)])
            }
            return errorResponse(EngineIOHTTPError(rejection))
        case .finished:
            return errorResponse(.badRequest)
        }
    }

    private func post(_ request: Request, to session: EngineIOSession) async -> Response {
        if case let result = session.postStarted(), result != .ok {
            if result == .reject(.badRequest) {
                logger.error("Engine.IO concurrent POST", metadata: ["statetee.sid": .string(session.id)])
            }
            return postResponse(result)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxPayload)
        } catch {
            logger.error(
                "Engine.IO POST body refused",
                metadata: [
                    "statetee.sid": .string(session.id),
                    "statetee.error": .string(error is NIOTooManyBytesError ? "payload_too_large" : "\(error)"),
                ])
            return postResponse(session.postFailed(error is NIOTooManyBytesError ? .tooLarge : .malformed))
        }
        let packets: [EngineIOPacket]
        do {
            packets = try EngineIOCodec.decodePayload(Array(body.readableBytesView))
        } catch {
            logger.error(
                "Engine.IO malformed payload",
                metadata: .malformed(error, sid: session.id))
            return postResponse(session.postFailed(.malformed))
        }
        return postResponse(session.postReceived(packets))
    }

    private func postResponse(_ result: EngineIOSession.PostResult) -> Response {
        switch result {
        case .ok:
            return textResponse("ok")
        case .reject(let rejection):
            return errorResponse(EngineIOHTTPError(rejection))
        case .payloadTooLarge:
            return Response(status: .contentTooLarge)
        }
    }

    private func payloadResponse(_ packets: [EngineIOPacket]) -> Response {
        textResponse(EngineIOCodec.encodePayload(packets))
    }

    private func textResponse(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    func errorResponse(_ error: EngineIOHTTPError) -> Response {
        Response(
            status: .badRequest,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"code":\#(error.rawValue),"message":"\#(error.message)"}"#))
        )
    }

    /// python-engineio's CORS headers for "any origin": echo `Origin`, allow credentials,
    /// and for preflights the methods and the requested headers.
    private func addCORSHeaders(for head: HTTPRequest, to headers: inout HTTPFields) {
        if let origin = head.headerFields[.origin] {
            headers[.accessControlAllowOrigin] = origin
        }
        if head.method == .options {
            headers[.accessControlAllowMethods] = "OPTIONS, GET, POST"
            if let requested = head.headerFields[.accessControlRequestHeaders] {
                headers[.accessControlAllowHeaders] = requested
            }
        }
        headers[.accessControlAllowCredentials] = "true"
    }
}
