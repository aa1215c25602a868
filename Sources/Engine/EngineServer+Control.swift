import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore

/// The control API, for the tee proxy and operators, under `/statetee/v1/`.
/// Every request needs `Authorization: Bearer <token>`; without it (or with
/// another token) the answer is 401 and nothing changes.
///
/// | request | body | answer |
/// |---|---|---|
/// | `GET health` | | `{"status","shadow","sequence","game_phase",...}` |
/// | `GET state[?view=stored\|served]` | | `{"state":{...},"sequence":N}` |
/// | `PUT state` | `{"state":{...},"reason":"...","broadcast":false}` | `{"sequence":N}` |
/// | `PATCH state` | `{"patches":[{"path":"/player1/deployment_roll","value":4}],"reason":"adopt","broadcast":false}` | `{"sequence":N}` |
/// | `GET shadow` / `PUT shadow` | `{"shadow":true}` | `{"shadow":true}` |
///
/// Errors are `{"error":{"code","message"}}`: 400 for a malformed body,
/// 401 `AUTH_FAILED`, 422 `INVALID_STATE` / `INVALID_PATCH`, 500 `SERVER_ERROR`.
extension EngineServer {
    public static let controlPrefix = "/statetee/v1"

    func addControlRoutes(to router: Router<BasicRequestContext>) {
        let engine = self.engine
        let maxBody = configuration.maxControlBody
        let group = router.group(RouterPath(Self.controlPrefix))
            .add(middleware: BearerTokenMiddleware(token: configuration.controlToken, logger: logger))

        group.get("health") { _, _ in
            ControlResponse.json(await engine.health().json)
        }
        group.get("state") { request, _ in
            let viewName = request.uri.queryParameters.get("view") ?? EngineStateView.stored.rawValue
            guard let view = EngineStateView(rawValue: viewName) else {
                return ControlResponse.error(.badRequest, "BAD_REQUEST", "view must be 'stored' or 'served'")
            }
            let snapshot = await engine.state(view: view)
            return ControlResponse.json(["state": snapshot.state, "sequence": .int(Int(snapshot.sequence))])
        }
        group.put("state") { request, _ in
            let body: JSONObject
            switch await ControlResponse.body(request, limit: maxBody) {
            case .value(let object): body = object
            case .refused(let response): return response
            }
            guard let state = body["state"] else {
                return ControlResponse.error(.badRequest, "BAD_REQUEST", "the body needs a 'state'")
            }
            let options: (reason: String, broadcast: Bool)
            switch ControlResponse.options(body, defaultReason: "control load") {
            case .value(let value): options = value
            case .refused(let response): return response
            }
            do throws(EngineError) {
                let sequence = try await engine.loadState(state, reason: options.reason, broadcast: options.broadcast)
                return ControlResponse.json(["sequence": .int(Int(sequence))])
            } catch {
                return ControlResponse.engineError(error)
            }
        }
        group.patch("state") { request, _ in
            let body: JSONObject
            switch await ControlResponse.body(request, limit: maxBody) {
            case .value(let object): body = object
            case .refused(let response): return response
            }
            guard case .array(let items)? = body["patches"], !items.isEmpty else {
                return ControlResponse.error(.badRequest, "BAD_REQUEST", "the body needs a non-empty 'patches' array")
            }
            var patches: [EnginePatch] = []
            for item in items {
                guard case .object(let patch) = item, case .string(let path)? = patch["path"], let value = patch["value"]
                else {
                    return ControlResponse.error(
                        .badRequest, "BAD_REQUEST", "each patch is {\"path\": \"/a/b\", \"value\": ...}")
                }
                patches.append(EnginePatch(path: path, value: value))
            }
            let options: (reason: String, broadcast: Bool)
            switch ControlResponse.options(body, defaultReason: "control patch") {
            case .value(let value): options = value
            case .refused(let response): return response
            }
            do throws(EngineError) {
                let sequence = try await engine.patchState(patches, reason: options.reason, broadcast: options.broadcast)
                return ControlResponse.json(["sequence": .int(Int(sequence))])
            } catch {
                return ControlResponse.engineError(error)
            }
        }
        group.get("shadow") { _, _ in
            ControlResponse.json(["shadow": .bool(await engine.isShadow)])
        }
        group.put("shadow") { request, _ in
            let body: JSONObject
            switch await ControlResponse.body(request, limit: maxBody) {
            case .value(let object): body = object
            case .refused(let response): return response
            }
            guard case .bool(let on)? = body["shadow"] else {
                return ControlResponse.error(.badRequest, "BAD_REQUEST", "the body needs a boolean 'shadow'")
            }
            await engine.setShadow(on)
            return ControlResponse.json(["shadow": .bool(await engine.isShadow)])
        }
    }
}

/// Answers 401 unless the request carries the bearer token.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let token, ControlToken.authorizes(request.headers[.authorization], token: token) else {
            logger.notice(
                "Engine control request refused: bad or missing token",
                metadata: ["statetee.path": .string(request.uri.path), "statetee.method": .string(request.method.rawValue)])
            var response = ControlResponse.error(
                .unauthorized, "AUTH_FAILED",
                token == nil ? "the control API has no token configured" : "missing or wrong bearer token")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}

/// JSON responses and body parsing of the control API.
enum ControlResponse {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes = value.serializedBytes()
        bytes.append(UInt8(ascii: "\n"))
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(["error": ["code": .string(code), "message": .string(message)]], status: status)
    }

    static func engineError(_ error: EngineError) -> Response {
        if error.isClientError {
            return self.error(.unprocessableContent, error.shortDescription.uppercased(), error.description)
        }
        return self.error(.internalServerError, "SERVER_ERROR", error.description)
    }

    /// The request body as a JSON object, or the 400/413 response to send.
    static func body(_ request: Request, limit: Int) async -> ControlParse<JSONObject> {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            return .refused(self.error(.contentTooLarge, "BAD_REQUEST", "the body is over \(limit) bytes"))
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: buffer.readableBytesView)
        } catch {
            return .refused(self.error(.badRequest, "BAD_REQUEST", "the body is not JSON: \(error)"))
        }
        guard case .object(let object) = value else {
            return .refused(self.error(.badRequest, "BAD_REQUEST", "the body must be a JSON object"))
        }
        return .value(object)
    }

    /// `reason` (a string) and `broadcast` (a boolean), both optional.
    static func options(_ body: JSONObject, defaultReason: String) -> ControlParse<(reason: String, broadcast: Bool)> {
        var reason = defaultReason
        switch body["reason"] {
        case nil, .null?: break
        case .string(let text)?: reason = text
        default: return .refused(error(.badRequest, "BAD_REQUEST", "'reason' must be a string"))
        }
        var broadcast = false
        switch body["broadcast"] {
        case nil, .null?: break
        case .bool(let flag)?: broadcast = flag
        default: return .refused(error(.badRequest, "BAD_REQUEST", "'broadcast' must be a boolean"))
        }
        return .value((reason, broadcast))
    }
}

/// A parsed part of a control request, or the response refusing it.
enum ControlParse<Value> {
    case value(Value)
    case refused(Response)
}
