import Foundation
import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore

/// The operator API on `127.0.0.1` (bearer token): `GET /status`,
/// `POST /switchover {"force":false}`, `POST /rollback`, `GET /metrics`, `GET /`.
/// Without the right token every route answers 401 and changes nothing.
public enum AdminAPI {
    /// The default admin port.
    public static let defaultPort = 6971

    /// - Parameters:
    ///   - proxy: the proxy it operates
    ///   - token: the bearer token every request must carry
    ///   - host: bind address (default loopback only)
    ///   - port: 0 picks a free one
    ///   - metrics: the Prometheus text exposition for `GET /metrics`
    ///   - page: the HTML of `GET /` (given the status JSON); default a small live status page
    ///   - onListening: called with the bound port
    public static func application(
        proxy: TeeProxy,
        token: String,
        host: String = "127.0.0.1",
        port: Int = defaultPort,
        metrics: @escaping @Sendable () async -> String = { "" },
        page: @escaping @Sendable (JSONValue) async -> String = { statusPage($0) },
        logger: Logger = Logger(label: "statetee.admin"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: BearerMiddleware(token: token, logger: logger))
        router.get("/status") { _, _ in
            jsonResponse(await proxy.status())
        }
        router.post("/switchover") { request, _ in
            await switchover(proxy, to: .engine, request: request)
        }
        router.post("/rollback") { request, _ in
            await switchover(proxy, to: .legacy, request: request)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: await metrics())))
        }
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: await page(await proxy.status()))))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    private static func switchover(_ proxy: TeeProxy, to target: UpstreamID, request: Request) async -> Response {
        var request = request
        var force = false
        if let body = try? await request.collectBody(upTo: 64 * 1024), body.readableBytes > 0 {
            guard let json = try? JSONParser.parse(body.readableBytesView), case .object(let object) = json else {
                return jsonResponse(["ok": false, "message": "the body must be a JSON object like {\"force\": false}"], status: .badRequest)
            }
            force = object["force"]?.boolValue ?? false
        }
        let actor = "admin-api" + (request.headers[HTTPField.Name("X-StateTee-Actor")!].map { " (\($0))" } ?? "")
        let outcome = await proxy.switchover(to: target, force: force, actor: actor)
        return jsonResponse(outcome.json, status: outcome.ok ? .ok : .conflict)
    }

    static func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.serializedBytes())))
    }

    /// A minimal page that reloads `/status` every second (the token is asked once and kept in the page).
    public static func statusPage(_ status: JSONValue) -> String {
        """
        <!doctype html><html><head><meta charset="utf-8"><title>statetee proxy</title>
        <style>body{font:14px system-ui,sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}</style></head>
        <body><h1>statetee proxy</h1><pre id="s">\(htmlEscaped(status.serialized()))</pre>
        <script>
        const t=sessionStorage.getItem('t')||prompt('admin token');sessionStorage.setItem('t',t);
        setInterval(async()=>{const r=await fetch('/status',{headers:{Authorization:'Bearer '+t}});
        if(r.ok){document.getElementById('s').textContent=JSON.stringify(await r.json(),null,2)}},1000);
        </script></body></html>
        """
    }

    static func htmlEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// 401 unless `Authorization: Bearer <token>` matches (compared in constant time).
struct BearerMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]
    let logger: Logger

    init(token: String, logger: Logger) {
        self.token = Array(token.utf8)
        self.logger = logger
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let presented = request.headers[.authorization].flatMap { value -> [UInt8]? in
            guard value.lowercased().hasPrefix("bearer ") else { return nil }
            return Array(value.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        }
        guard let presented, Self.constantTimeEqual(presented, token) else {
            logger.info(
                "Admin request refused: bad or missing token",
                metadata: ["statetee.method": .string(request.method.rawValue), "statetee.path": .string(request.uri.path)])
            return Response(
                status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"ok":false,"message":"missing or wrong bearer token"}"#)))
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0 && a.count == b.count
    }
}

/// The admin token file `D/admin-token`: read, or generated on first start (mode 0600).
public enum AdminToken {
    public static let fileName = "admin-token"

    public static func loadOrCreate(inDirectory directory: String) throws(TeeError) -> String {
        let path = (directory as NSString).appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: path) {
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw .adminToken("\(path) is empty") }
            return token
        }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .adminToken("cannot create \(directory): \(error)")
        }
        guard FileManager.default.createFile(
            atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw .adminToken("cannot write \(path)") }
        return token
    }
}
