import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Every request that is not Engine.IO goes to the current primary, streamed
/// both ways, headers intact except the hop-by-hop ones.
struct PassThroughMiddleware<Context: RequestContext>: RouterMiddleware {
    let proxy: TeeProxy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        await proxy.passThrough(request)
    }
}

extension TeeProxy {
    /// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authenticate", "proxy-authorization", "host",
    ]

    func passThrough(_ request: Request) async -> Response {
        let primary = self.primary
        switch configuration.endpoint(of: primary) {
        case .embedded:
            guard let engine else { return Response(status: .badGateway) }
            return await engine.respond(to: request)
        case .url(let base):
            var upstream = HTTPClientRequest(url: Self.join(base, request.uri.description))
            upstream.method = HTTPMethod(rawValue: request.method.rawValue)
            var connectionTokens = Set<String>()
            for value in request.headers[values: .connection] {
                for token in value.split(separator: ",") {
                    connectionTokens.insert(token.trimmingCharacters(in: .whitespaces).lowercased())
                }
            }
            for field in request.headers {
                let name = field.name.canonicalName
                if Self.hopByHop.contains(name) || connectionTokens.contains(name) { continue }
                upstream.headers.add(name: field.name.rawName, value: field.value)
            }
            if let authority = request.head.authority {
                upstream.headers.add(name: "X-Forwarded-Host", value: authority)
            }
            if request.method != .get, request.method != .head {
                let length = request.headers[.contentLength].flatMap { Int64($0) }
                upstream.body = .stream(request.body, length: length.map { .known($0) } ?? .unknown)
            }
            do {
                let response = try await httpClient.execute(upstream, timeout: .seconds(30), logger: logger)
                var headers = HTTPFields()
                for (name, value) in response.headers {
                    if Self.hopByHop.contains(name.lowercased()) { continue }
                    if let fieldName = HTTPField.Name(name) { headers.append(HTTPField(name: fieldName, value: value)) }
                }
                return Response(
                    status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                    headers: headers,
                    body: ResponseBody(asyncSequence: response.body))
            } catch {
                logger.debug(
                    "Pass-through request failed",
                    metadata: ["statetee.upstream": .string(primary.rawValue), "statetee.error": .string(String(describing: error))])
                return Response(status: .badGateway)
            }
        }
    }

    static func join(_ base: String, _ target: String) -> String {
        var base = Substring(base)
        while base.hasSuffix("/") { base = base.dropLast() }
        return String(base) + (target.hasPrefix("/") ? target : "/" + target)
    }
}
