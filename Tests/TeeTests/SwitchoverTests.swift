import AsyncHTTPClient
import Foundation
import JSONValue
import NIOHTTP1
import StateTeeTesting
import Storage
import Testing

@testable import Tee

/// Live switchover and rollback while four clients keep sending.
@Suite(.timeLimit(.minutes(1))) struct SwitchoverTests {
    /// `increments` × `increment_cp add` for player 1, paced. (All four clients raise the same
    /// player's CP: two legacies then reach the same state whatever order their threads apply
    /// the events in; `status_message` would otherwise depend on which event came last.)
    static func sender(increments: Int, every: Double) -> JSONValue {
        [
            [
                "repeat": .int(increments), "every": .double(every),
                "steps": [["emit": "increment_cp", "args": [["player_id": 1, "action": "add"]]]],
            ],
            // A Pi call as a barrier: its ack follows the effect of everything this client sent.
            ["call": "set_player_name", "args": [["player_id": 1, "name": "Ada"]]],
            // Connected until the test has seen the switchover's answer.
            ["wait_stdin": true],
        ]
    }

    static func cp(_ state: JSONValue) -> Int {
        (state["player1"]?["cp"]?.intValue ?? 0) + (state["player2"]?["cp"]?.intValue ?? 0)
    }

    /// The upstream's state once its CP total reached `cp` (or after 5 s).
    static func settledState(_ proxy: Harness.Proxy, _ upstream: UpstreamID, cp expected: Int) async throws -> JSONValue {
        try await pollUntil { try await proxy.proxy.monitor(upstream).readState() } done: { cp($0) >= expected }
    }

    /// Starts a game, runs four senders (on `transports`, one each), switches `to` target
    /// mid-way, checks nothing was lost.
    static func switchMidGame(
        _ proxy: Harness.Proxy, path: String, expectPrimary: UpstreamID, startGame: Bool,
        transports: [String] = Array(repeating: "websocket", count: 4)
    ) async throws {
        if startGame {
            let setup = try await Harness.runClient(url: proxy.url, script: .array(Harness.startGame))
            #expect(!setup.failed, "\(setup.lines)")
        }
        let before = try await pollUntil { try await proxy.proxy.monitor(proxy.proxy.primary).readState() } done: { _ in true }
        #expect(before["game_phase"] == "game_play")
        // 4 × 25 events a second: an engine committing every event with fsync on a busy
        // 2-core machine keeps up with that (a shadow that cannot is refused by the catch-up).
        let increments = 60
        let senders = try transports.map { transport in
            try Harness.startClient(
                url: proxy.url, script: sender(increments: increments, every: 0.04), transport: transport,
                standardInput: true)
        }
        do {
            // Mid-game: once every sender is connected and has sent a few events.
            for sender in senders { _ = try await sender.waitForLine(prefix: "CONNECTED", timeout: .seconds(10)) }
            _ = try await Harness.waitForStatus(proxy, "some traffic") { ($0["mirrored"]?.intValue ?? 0) >= 20 }
            let relayedBefore = await proxy.proxy.status()["upstreams"]?[expectPrimary.rawValue]?["relayed"]?.intValue ?? 0

            let answer = try await Harness.admin(proxy, .POST, path, body: ["force": false])
            #expect(answer.status == 200, "\(String(describing: answer.json))")
            #expect(answer.json?["ok"] == true)
            // Mid-game: the senders, connected until released, were refreshed from the new primary.
            #expect((answer.json?["refreshed_sessions"]?.intValue ?? 0) >= senders.count, "\(String(describing: answer.json))")
            for sender in senders { try sender.writeLine("go") }
            #expect(answer.json?["primary"] == JSONValue.string(expectPrimary.rawValue))
            #expect(proxy.proxy.primary == expectPrimary)

            var runs: [Harness.ClientRun] = []
            for sender in senders {
                let status = try await sender.waitForExit(timeout: .seconds(30))
                _ = try? await sender.waitForLine(prefix: "DONE", timeout: .seconds(2))
                runs.append(Harness.ClientRun(lines: sender.stdoutLines, exitStatus: status, stderr: sender.stderr))
            }
            for run in runs {
                #expect(!run.failed, "\(run.lines.suffix(5))")
                #expect(
                    run.disconnects == 0,
                    "a client was disconnected: \(run.lines.filter { !$0.hasPrefix("EVENT") }) \(run.stderr.suffix(3000))")
                // Every client got a fresh game_state_update after the flip (the refresh) among its events.
                #expect(run.events.contains { $0.name == "game_state_update" })
            }
            // Zero lost events: every increment is in the new primary's final state. (The legacy
            // applies events in threads, so its last ack may overtake an increment by a few ms:
            // read until the count is reached or stops changing.)
            let expected = cp(before) + senders.count * increments
            let after = try await Self.settledState(proxy, expectPrimary, cp: expected)
            #expect(cp(after) == expected, "before \(cp(before)), after \(cp(after))")
            // The old primary, now the shadow, followed as well.
            let shadow = try await Self.settledState(proxy, expectPrimary.other, cp: expected)
            #expect(cp(shadow) == expected)
            // Subsequent broadcasts came from the new primary.
            let status = await proxy.proxy.status()
            let relayedAfter = status["upstreams"]?[expectPrimary.rawValue]?["relayed"]?.intValue ?? 0
            #expect(relayedAfter > relayedBefore)
            #expect(status["primary"] == JSONValue.string(expectPrimary.rawValue))
        } catch {
            for sender in senders { await sender.terminate() }
            throw error
        }
    }

    @Test func switchoverThenRollbackMidGameLoseNothing() async throws {
        try await Harness.withLegacy(ordered: false) { _, legacyURL in
            try await Harness.withLegacy(ordered: false) { _, engineURL in
                let store = MemoryRoleStore()
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    try await Self.switchMidGame(proxy, path: "/switchover", expectPrimary: .engine, startGame: true)
                    #expect(try await store.primary() == .engine)
                    try await Self.switchMidGame(proxy, path: "/rollback", expectPrimary: .legacy, startGame: false)
                    #expect(try await store.primary() == .legacy)
                    #expect(store.adminLog.map(\.outcome) == ["ok", "ok"])
                    #expect(store.adminLog.map(\.action) == ["switchover", "rollback"])
                }
            }
        }
    }

    /// The same with two of the four clients on long-polling (a poll reply carries at most 16
    /// packets, the rest waits for the next poll): zero lost events, zero disconnects, both ways.
    @Test func switchoverThenRollbackMidGameWithPollingClientsLoseNothing() async throws {
        let transports = ["polling", "websocket", "polling", "websocket"]
        try await Harness.withLegacy(ordered: false) { _, legacyURL in
            try await Harness.withLegacy(ordered: false) { _, engineURL in
                let store = MemoryRoleStore()
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    try await Self.switchMidGame(
                        proxy, path: "/switchover", expectPrimary: .engine, startGame: true, transports: transports)
                    #expect(try await store.primary() == .engine)
                    try await Self.switchMidGame(
                        proxy, path: "/rollback", expectPrimary: .legacy, startGame: false, transports: transports)
                    #expect(try await store.primary() == .legacy)
                    #expect(store.adminLog.map(\.outcome) == ["ok", "ok"])
                    #expect(store.adminLog.map(\.action) == ["switchover", "rollback"])
                }
            }
        }
    }

    /// The target has not yet applied the client's last events but answers reads at once (a
    /// threaded legacy starved of CPU): the drain waits for the two servers to agree instead
    /// of taking its old state, read twice alike, for a settled one.
    @Test func theDrainWaitsForATargetThatHasNotAppliedItsLastEvents() async throws {
        let script: JSONValue = .array(
            Harness.startGame + [
                ["repeat": 5, "steps": [["emit": "increment_cp", "args": [["player_id": 1, "action": "add"]]]]],
                ["call": "set_player_name", "args": [["player_id": 2, "name": "Bea"]]],
                ["wait_stdin": true],
            ])
        try await Harness.withLegacy { _, legacyURL in
            // Under the drain's one second for events without an ack id.
            try await Harness.withLegacy(lag: 0.7) { _, engineURL in
                let store = MemoryRoleStore()
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    let client = try Harness.startClient(url: proxy.url, script: script, standardInput: true)
                    do {
                        // The primary applied the five increments; the target does 0.7 s after they arrived.
                        _ = try await client.waitForLine(prefix: "WAITING", timeout: .seconds(15))
                        let answer = try await Harness.admin(proxy, .POST, "/switchover", body: ["force": false])
                        #expect(answer.status == 200, "\(String(describing: answer.json))")
                        #expect(answer.json?["loaded_state"] == false)
                        #expect(proxy.proxy.primary == .engine)
                        let (comparison, primary, shadow) = try await Harness.shadowComparison(
                            proxy, rules: Harness.configuration(legacy: "", engine: "").rules)
                        #expect(comparison.isClean, "\(comparison.unexpected)")
                        #expect(primary["player1"]?["cp"] == shadow["player1"]?["cp"])
                        try await Harness.release(client)
                    } catch {
                        await client.terminate()
                        throw error
                    }
                }
            }
        }
    }

    @Test func refusedWhenTheLegacyDiffersAndSaysSo() async throws {
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withLegacy { _, engineURL in
                let store = MemoryRoleStore(primary: .engine)
                try await Harness.withProxy(Harness.configuration(legacy: legacyURL, engine: engineURL), roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "both healthy") {
                        $0["upstreams"]?["legacy"]?["health"] == "healthy" && $0["shadow_health"] == "healthy"
                    }
                    // Change the legacy (the shadow) behind the proxy's back.
                    let direct = try await Harness.runClient(url: legacyURL, script: [["call": "start_new_game"]])
                    #expect(!direct.failed)
                    let answer = try await Harness.admin(proxy, .POST, "/rollback")
                    #expect(answer.status == 409)
                    #expect(answer.json?["refusal"] == "state_differs")
                    #expect(answer.json?["message"]?.stringValue?.contains("no load API") == true)
                    #expect(proxy.proxy.primary == .engine)
                    #expect(try await store.primary() == .engine)
                    #expect(store.adminLog.last?.outcome == "refused")
                    // Forced, it goes through.
                    let forced = try await Harness.admin(proxy, .POST, "/rollback", body: ["force": true])
                    #expect(forced.status == 200)
                    #expect(proxy.proxy.primary == .legacy)
                }
            }
        }
    }

    @Test func restartKeepsTheSwitchedMode() async throws {
        let directory = Harness.temporaryDirectory()
        try await Harness.withLegacy { _, legacyURL in
            try await Harness.withLegacy { _, engineURL in
                let configuration = Harness.configuration(legacy: legacyURL, engine: engineURL)
                let store = try ProxyStore.open(inDirectory: directory)
                try await Harness.withProxy(configuration, roleStore: store) { proxy in
                    _ = try await Harness.waitForStatus(proxy, "shadow healthy") { $0["shadow_health"] == "healthy" }
                    let answer = try await Harness.admin(proxy, .POST, "/switchover")
                    #expect(answer.status == 200, "\(String(describing: answer.json))")
                }
                try await store.close()

                let reopened = try ProxyStore.open(inDirectory: directory)
                try await Harness.withProxy(configuration, roleStore: reopened) { proxy in
                    #expect(proxy.proxy.primary == .engine)
                    let status = try await Harness.admin(proxy, .GET, "/status")
                    #expect(status.json?["mode"] == "engine-primary")
                    // A client is served by the engine from its first packet.
                    let run = try await Harness.runClient(
                        url: proxy.url,
                        script: [["emit": "request_game_state"], ["call": "set_player_name", "args": [["player_id": 1, "name": "Ada"]]]])
                    #expect(!run.failed)
                    let relayed = await proxy.proxy.status()["upstreams"]?["engine"]?["relayed"]?.intValue
                    #expect((relayed ?? 0) >= 2)
                    #expect(await proxy.proxy.status()["upstreams"]?["legacy"]?["relayed"] == 0)
                }
                let history = try await reopened.roleHistory()
                #expect(history.first?.primary == .engine)
                #expect(try await reopened.adminLog(since: .distantPast).map(\.action) == ["switchover"])
                try await reopened.close()
            }
        }
    }
}

/// Tests use the SQLite store as the executable does.
extension ProxyStore: RoleStore {
    public func primary() async throws -> UpstreamID {
        try await roles().primary == .engine ? .engine : .legacy
    }

    public func setPrimary(_ primary: UpstreamID, reason: String, at time: Date) async throws {
        try await setRoles(Roles(primary: primary == .engine ? .engine : .legacy), reason: reason, at: time)
    }

    public func logAdmin(_ entry: AdminLogEntry) async throws {
        try await logAdmin(
            AdminLogRecord(time: entry.time, action: entry.action, actor: entry.actor, outcome: entry.outcome, detail: entry.detail))
    }
}
