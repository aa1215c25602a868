import AsyncHTTPClient
import Foundation
import NIOHTTP1
import JSONValue
import StateTeeTesting
import Testing

@testable import Tee

@Suite(.timeLimit(.minutes(1))) struct AdminTests {
    @Test func callsWithoutOrWithAWrongTokenChangeNothing() async throws {
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withLegacy { _, engineURL in
                let store = MemoryRoleStore()
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    for token in [nil, "wrong", Harness.token + "x", "", String(Harness.token.dropLast())] as [String?] {
                        for (method, path) in [(HTTPMethod.POST, "/switchover"), (.POST, "/rollback"), (.GET, "/status"), (.GET, "/metrics"), (.GET, "/")] {
                            let answer = try await Harness.admin(proxy, method, path, token: token, body: ["force": true])
                            #expect(answer.status == 401, "\(method) \(path) with \(token ?? "no token")")
                        }
                    }
                    #expect(proxy.proxy.primary == .legacy)
                    #expect(try await store.primary() == .legacy)
                    #expect(store.adminLog.isEmpty)

                    let status = try await Harness.admin(proxy, .GET, "/status")
                    #expect(status.status == 200)
                    #expect(status.json?["mode"] == "legacy-primary")
                    #expect(status.json?["queue"]?["depth"] == 0)
                    #expect(status.json?["readiness"]?["ready"] == true)
                    let page = try await Harness.admin(proxy, .GET, "/")
                    #expect(page.status == 200)
                }
            }
        }
    }

    @Test func refusedAttemptsAreLogged() async throws {
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withLegacy { _, engineURL in
                let store = MemoryRoleStore()
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    let answer = try await Harness.admin(proxy, .POST, "/rollback")
                    #expect(answer.status == 409)
                    #expect(answer.json?["refusal"] == "already_primary")
                    #expect(store.adminLog.count == 1)
                    #expect(store.adminLog.first?.outcome == "refused")
                    #expect(store.adminLog.first?.action == "rollback")
                    let bad = try await Harness.admin(proxy, .POST, "/switchover", body: "nope")
                    #expect(bad.status == 400)
                    #expect(proxy.proxy.primary == .legacy)
                }
            }
        }
    }

    @Test func tokenFileIsGeneratedOnceWithMode0600() throws {
        let directory = Harness.temporaryDirectory() + "/data"
        let token = try AdminToken.loadOrCreate(inDirectory: directory)
        #expect(token.count == 64)
        #expect(try AdminToken.loadOrCreate(inDirectory: directory) == token)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/admin-token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
