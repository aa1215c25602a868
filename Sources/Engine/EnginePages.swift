import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The legacy's HTTP routes, answered without a router or a request context
/// (so an embedding proxy can call them too): `GET /` serves `index.html`
/// from the static directory, `GET /player/1` and `/player/2` render
/// `player.html` from the template directory with that player id,
/// `GET /player/<other integer>` answers 404 `Invalid Player ID`; any other
/// path is a file of the static directory (404 when absent; a `..` or `.`
/// component is refused with 404, like Flask's `safe_join`).
struct EnginePages: Sendable {
    let staticDirectory: String?
    let templateDirectory: String?
    let logger: Logger

    init(configuration: EngineConfiguration, logger: Logger) {
        staticDirectory = configuration.staticDirectory
        templateDirectory = configuration.resolvedTemplateDirectory
        self.logger = logger
    }

    func respond(to request: Request) async -> Response {
        guard request.method == .get || request.method == .head else {
            return Self.html(Array("Method Not Allowed".utf8), status: .methodNotAllowed, head: false)
        }
        let head = request.method == .head
        guard let path = request.uri.path.removingPercentEncoding else { return Self.notFound(head: head) }
        if path == "/" {
            return file(staticDirectory.map { $0 + "/index.html" }, head: head)
        }
        if path.hasPrefix("/player/") {
            let text = path.dropFirst("/player/".count)
            // Flask's <int:...> converter: digits only; anything else is another (static) path.
            if !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) {
                let digits = text.drop(while: { $0 == "0" })  // int("01") == 1
                let id = digits.count <= 2 ? Int(digits) ?? 0 : -1
                guard id == 1 || id == 2 else {
                    return Self.html(Array("Invalid Player ID".utf8), status: .notFound, head: head)
                }
                guard let templateDirectory,
                    let data = FileManager.default.contents(atPath: templateDirectory + "/player.html")
                else { return Self.notFound(head: head) }
                let page = PlayerPageTemplate.render(String(decoding: data, as: UTF8.self), playerID: id)
                return Self.html(Array(page.utf8), head: head)
            }
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let staticDirectory, !components.isEmpty,
            !components.contains(where: { $0 == ".." || $0 == "." || $0.contains("\0") })
        else { return Self.notFound(head: head) }
        return file(staticDirectory + "/" + components.joined(separator: "/"), head: head)
    }

    private func file(_ path: String?, head: Bool) -> Response {
        var isDirectory: ObjCBool = false
        guard let path, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: path)
        else { return Self.notFound(head: head) }
        let fileExtension = path.split(separator: "/").last.flatMap { name in
            name.contains(".") ? name.split(separator: ".").last.map(String.init) : nil
        }
        let type = fileExtension.flatMap { MediaType.getMediaType(forExtension: $0.lowercased()) }?.description
            ?? "application/octet-stream"
        return Self.response(Array(data), status: .ok, type: type == "text/html" ? "text/html; charset=utf-8" : type, head: head)
    }

    static func notFound(head: Bool) -> Response {
        html(Array("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n".utf8), status: .notFound, head: head)
    }

    static func html(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, head: Bool) -> Response {
        response(bytes, status: status, type: "text/html; charset=utf-8", head: head)
    }

    static func response(_ bytes: [UInt8], status: HTTPResponse.Status, type: String, head: Bool) -> Response {
        var headers: HTTPFields = [.contentType: type, .contentLength: String(bytes.count)]
        headers[.cacheControl] = "no-cache"
        return Response(
            status: status, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Hands every request outside the control API to ``EnginePages``.
struct EnginePagesMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: EnginePages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if request.uri.path == EngineServer.controlPrefix || request.uri.path.hasPrefix(EngineServer.controlPrefix + "/") {
            return try await next(request, context)
        }
        return await pages.respond(to: request)
    }
}

/// Renders the legacy's `player.html` (a Jinja template) the way Flask does
/// for the expressions it uses: `{{ player_id }}` and integer arithmetic on
/// it such as `{{ 3 - player_id }}`. Any other expression renders empty
/// (Jinja's undefined).
enum PlayerPageTemplate {
    static func render(_ template: String, playerID: Int) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let expression = rest[open.upperBound..<close.lowerBound]
            if let value = evaluate(expression, playerID: playerID) { out += String(value) }
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    /// `term (('+' | '-') term)*` where a term is `player_id` or an integer.
    static func evaluate(_ expression: Substring, playerID: Int) -> Int? {
        var tokens: [Substring] = []
        var index = expression.startIndex
        while index < expression.endIndex {
            let character = expression[index]
            if character == " " {
                index = expression.index(after: index)
            } else if character == "+" || character == "-" {
                tokens.append(expression[index...index])
                index = expression.index(after: index)
            } else {
                let start = index
                while index < expression.endIndex, !" +-".contains(expression[index]) {
                    index = expression.index(after: index)
                }
                tokens.append(expression[start..<index])
            }
        }
        func term(_ token: Substring) -> Int? { token == "player_id" ? playerID : Int(token) }
        guard let first = tokens.first, var total = term(first) else { return nil }
        var position = 1
        while position < tokens.count {
            guard position + 1 < tokens.count, let operand = term(tokens[position + 1]) else { return nil }
            switch tokens[position] {
            case "+": total += operand
            case "-": total -= operand
            default: return nil
            }
            position += 2
        }
        return total
    }
}
