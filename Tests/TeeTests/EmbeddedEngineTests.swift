import Compare
import Engine
import Foundation
import JSONDiff
import JSONValue
import NIOHTTP1
import StateTeeTesting
import Storage
import Testing

@testable import Tee

/// The default deployment: the Swift engine embedded in the proxy as the shadow.
@Suite(.timeLimit(.minutes(1))) struct EmbeddedEngineTests {
    @Test(arguments: ["websocket", "polling"])
    func suppressionWithTheEmbeddedEngine(transport: String) async throws {
        let script = SuppressionTests.phoneSession
        let rules = Harness.configuration(legacy: "", engine: "").rules
        let direct = try await Harness.withLegacy { _, url in
            try await Harness.runClient(url: url, script: script, transport: transport)
        }
        try await Harness.withLegacy { _, primaryURL in
            try await Harness.withProxy(Harness.configuration(legacy: primaryURL, engine: .embedded)) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                let proxied = try await Harness.runClient(url: proxy.url, script: script, transport: transport)
                SuppressionTests.expectSameStream(direct, proxied, rules: rules)
                // The engine answered every client too (never delivered) and its state follows.
                let expected = proxied.events.count
                _ = try await Harness.waitForStatus(proxy, "the engine's answers") {
                    ($0["suppressed"]?.intValue ?? 0) >= expected
                }
                let (comparison, _, shadow) = try await Harness.shadowComparison(proxy, rules: rules)
                #expect(comparison.isClean, "the engine diverged: \(comparison.unexpected)")
                #expect(shadow["player1"]?["primary_score"] == 5)
            }
        }
    }

    @Test func switchoverToTheEmbeddedEngineAndBackMidGame() async throws {
        try await Harness.withLegacy(ordered: false) { _, legacyURL in
            let store = MemoryRoleStore()
            try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: .embedded), roleStore: store) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                // A shadow's commits do not wait for the disk; the primary's do.
                let engine = try #require(proxy.engine)
                #expect(try await engine.durabilitySettings().synchronous == "normal")
                try await SwitchoverTests.switchMidGame(proxy, path: "/switchover", expectPrimary: .engine, startGame: true)
                #expect(try await store.primary() == .engine)
                #expect(try await engine.durabilitySettings().synchronous == "full")
                // Pages come from the engine now.
                let page = try await PassThroughTests.get(proxy.url + "/player/2")
                #expect(page.0 == 200)
                try await SwitchoverTests.switchMidGame(proxy, path: "/rollback", expectPrimary: .legacy, startGame: false)
                #expect(try await store.primary() == .legacy)
                #expect(try await engine.durabilitySettings().synchronous == "normal")
                #expect(store.adminLog.map(\.outcome) == ["ok", "ok"])
            }
        }
    }

    @Test func theComparatorSeesTheTrafficAndGatesTheSwitchover() async throws {
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: .embedded), comparator: true) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                let run = try await Harness.runClient(url: proxy.url, script: SuppressionTests.phoneSession)
                #expect(!run.failed)
                let comparator = try #require(proxy.comparator)
                let status = try await poll("comparisons") {
                    let status = await comparator.currentStatus()
                    return status.comparisons > 0 && status.pendingEvents == 0 && status.eventsMirrored >= 20 ? status : nil
                }
                #expect(status.eventsMirrored >= 20)
                // Far from the rules' readiness (50 clean comparisons and a full game): refused,
                // unless forced.
                let refused = try await Harness.admin(proxy, .POST, "/switchover")
                #expect(refused.status == 409)
                #expect(refused.json?["refusal"] == "not_ready")
                let readiness = try await Harness.admin(proxy, .GET, "/status").json?["readiness"]
                #expect(readiness?["ready"] == false)
                #expect(readiness?["details"]?["consecutive_clean"] != nil)
                let forced = try await Harness.admin(proxy, .POST, "/switchover", body: ["force": true])
                #expect(forced.status == 200, "\(String(describing: forced.json))")
                #expect(proxy.proxy.primary == .engine)
            }
        }
    }

    @Test func anExternalEngineIsLoadedThroughItsControlAPI() async throws {
        try await Harness.withLegacy { _, legacyURL in
            let engineConfiguration = Harness.engineConfiguration(directory: Harness.temporaryDirectory())
                .with(controlToken: "control-token")
            let engine = try await ScorerEngine.open(configuration: engineConfiguration, logger: Harness.logger)
            let server = await EngineServer(engine: engine, logger: Harness.logger)
            try await server.withRunning { port in
                var configuration = Harness.configuration(legacy: legacyURL, engine: "http://127.0.0.1:\(port)")
                configuration.engineControlToken = "control-token"
                try await Harness.withProxy(configuration) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "both healthy") {
                        $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                    }
                    let direct = try await Harness.runClient(
                        url: legacyURL,
                        script: [["call": "start_new_game"], ["call": "set_player_name", "args": [["player_id": 2, "name": "Yves"]]]])
                    #expect(!direct.failed)
                    let answer = try await Harness.admin(proxy, .POST, "/switchover")
                    #expect(answer.status == 200, "\(String(describing: answer.json))")
                    #expect(answer.json?["loaded_state"] == true)
                    let state = try await pollUntil { try await proxy.proxy.monitor(.engine).readState() } done: { _ in true }
                    #expect(state["player2"]?["name"] == "Yves")
                }
            }
        }
    }

    @Test func aDifferentEngineStateIsLoadedAtHandoff() async throws {
        try await Harness.withLegacy { _, legacyURL in
            let engineDirectory = Harness.temporaryDirectory()
            try await Harness.withProxy(
                Harness.configuration(legacy: legacyURL, engine: .embedded), engineDirectory: engineDirectory
            ) { proxy in
                _ = try await Harness.waitForStatus(proxy, "both healthy") {
                    $0["shadow_health"] == "healthy" && $0["upstreams"]?["legacy"]?["health"] == "healthy"
                }
                // The legacy moves on behind the proxy's back: the engine no longer matches.
                let direct = try await Harness.runClient(
                    url: legacyURL, script: [["call": "start_new_game"], ["call": "set_player_name", "args": [["player_id": 1, "name": "Zed"]]]])
                #expect(!direct.failed)
                let answer = try await Harness.admin(proxy, .POST, "/switchover")
                #expect(answer.status == 200, "\(String(describing: answer.json))")
                #expect(answer.json?["loaded_state"] == true)
                let engineState = try await proxy.proxy.monitor(.engine).readState()
                #expect(engineState["player1"]?["name"] == "Zed")
                #expect(engineState["game_phase"] == "name_entry")
            }
        }
    }
}
