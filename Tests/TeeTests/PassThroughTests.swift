import AsyncHTTPClient
import Foundation
import NIOHTTP1
import NIOCore
import StateTeeTesting
import Testing

@testable import Tee

@Suite(.timeLimit(.minutes(1))) struct PassThroughTests {
    static func get(_ url: String) async throws -> (Int, String, [(String, String)]) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers.map { ($0.name.lowercased(), $0.value) })
    }

    @Test func plainHTTPGoesToThePrimaryStreamedWithHeaders() async throws {
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withLegacy { _, engineURL in
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL)) { proxy in
                    for path in ["/", "/player/1", "/player/2", "/player/7", "/no-such-file.js"] {
                        let direct = try await Self.get(legacyURL + path)
                        let proxied = try await Self.get(proxy.url + path)
                        #expect(direct.0 == proxied.0, "\(path)")
                        #expect(direct.1 == proxied.1, "\(path)")
                        let contentType = { (headers: [(String, String)]) in headers.first { $0.0 == "content-type" }?.1 }
                        #expect(contentType(direct.2) == contentType(proxied.2), "\(path)")
                    }
                    #expect(try await Self.get(proxy.url + "/player/7").1 == "Invalid Player ID")
                }
            }
        }
    }

    @Test func anUnreachablePrimaryAnswers502() async throws {
        try await Harness.withLegacy { _, engineURL in
            try await Harness.withProxy(Harness.configuration(legacy: "http://127.0.0.1:9", engine: engineURL)) { proxy in
                let code = try await Self.get(proxy.url + "/").0
                #expect(code == 502)
            }
        }
    }
}
