import Foundation
import JSONValue
import StateTeeTesting
import Testing

@testable import Tee

@Suite(.timeLimit(.minutes(1))) struct ShutdownTests {
    /// A graceful shutdown with clients connected ends promptly: sessions and legs closed.
    @Test func shutdownWithConnectedClientsEndsPromptly() async throws {
        try await Harness.withLegacy { _, legacyURL in
            let clock = ContinuousClock()
            var clients: [TestProcess] = []
            let shutdown: Duration
            do {
                let (started, bodyEnded) = try await Harness.withProxy(
                    Harness.configuration(legacy: legacyURL, engine: .embedded)
                ) { proxy in
                    var started: [TestProcess] = []
                    for transport in ["websocket", "polling"] {
                        let client = try Harness.startClient(
                            url: proxy.url, script: [["emit": "request_game_state"], ["wait_stdin": true]],
                            transport: transport, standardInput: true)
                        started.append(client)
                        _ = try await client.waitForLine(prefix: "CONNECTED", timeout: .seconds(10))
                    }
                    _ = try await Harness.waitForStatus(proxy, "two sessions") { $0["sessions"] == 2 }
                    return (started, clock.now)
                }
                shutdown = clock.now - bodyEnded
                clients = started
            } catch {
                for client in clients { await client.terminate() }
                throw error
            }
            // The whole group (engine, comparator-less proxy, client and admin servers) stopped promptly.
            #expect(shutdown < .seconds(5), "shutdown took \(shutdown)")
            for client in clients {
                _ = try await client.waitForLine(prefix: "DISCONNECTED", timeout: .seconds(10))
                await client.terminate()
            }
        }
    }
}
