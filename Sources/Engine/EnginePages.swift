import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The legacy's HTTP routes: `GET /` serves `index.html` from the static
/// directory, `GET /player/1` and `/player/2` render `player.html` from the
/// template directory with that player id, `GET /player/<other integer>`
/// answers 404 `Invalid Player ID`; other paths are static files (the
/// `FileMiddleware`, which refuses `..`).
extension EngineServer {
    func addPageRoutes(to router: Router<BasicRequestContext>) {
        let staticDirectory = configuration.staticDirectory
        let templateDirectory = configuration.resolvedTemplateDirectory
        router.get("/") { _, _ in
            guard let staticDirectory,
                let data = FileManager.default.contents(atPath: staticDirectory + "/index.html")
            else { throw HTTPError(.notFound) }
            return Self.html(Array(data))
        }
        router.get("/player/:id") { _, context in
            // Flask's <int:...> converter: digits only; anything else is another (static) path.
            guard let text = context.parameters.get("id"), !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) })
            else { throw HTTPError(.notFound) }
            let digits = text.drop(while: { $0 == "0" })  // int("01") == 1
            let id = digits.count <= 2 ? Int(digits) ?? 0 : -1
            guard id == 1 || id == 2 else {
                return Self.html(Array("Invalid Player ID".utf8), status: .notFound)
            }
            guard let templateDirectory,
                let data = FileManager.default.contents(atPath: templateDirectory + "/player.html")
            else { throw HTTPError(.notFound) }
            let page = PlayerPageTemplate.render(String(decoding: data, as: UTF8.self), playerID: id)
            return Self.html(Array(page.utf8))
        }
    }

    static func html(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
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
