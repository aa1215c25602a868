import JSONValue
import SocketIOClient
import SocketIOProtocol
import StateTeeTesting
import Testing

@testable import Tee

/// The primary's events reach each client as the bytes the primary sent, and a broadcast
/// is parsed once for all the proxy's clients.
@Suite(.timeLimit(.minutes(1))) struct RelayTests {
    /// A client receiving raw packets, with its event log.
    struct Client: Sendable {
        let client: SocketIOClient
        let log: AsyncEventLog<SocketIOClient.Event>

        /// The text of the next `game_state_update` whose first player is called `name`.
        func stateText(naming name: String) async throws -> String {
            let event = try await log.next("a game_state_update naming \(name)") { event in
                guard case .packet(let packet, _) = event, packet.eventName == "game_state_update" else { return false }
                return packet.eventArguments.first?["player1"]?["name"]?.stringValue == name
            }
            guard case .packet(_, let text?) = event else {
                Issue.record("the event came without its text: \(event)")
                return ""
            }
            return text
        }
    }

    /// Runs raw-packet clients of `urls`, connected, around `body`.
    static func withClients<R: Sendable>(
        _ urls: [String], _ body: @Sendable ([Client]) async throws -> R
    ) async throws -> R {
        let clients = urls.map { url in
            var configuration = SocketIOClient.Configuration(url: url, transport: .websocket, connectTimeout: .seconds(5))
            configuration.rawPackets = true
            return Client(client: SocketIOClient(configuration: configuration), log: AsyncEventLog())
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { await client.log.collect(client.client.events) }
                group.addTask { try await client.client.run() }
            }
            do {
                for client in clients {
                    // The legacy sends each client the state when it connects.
                    try await client.log.next("the state on connect") { event in
                        guard case .packet(let packet, _) = event else { return false }
                        return packet.eventName == "game_state_update"
                    }
                }
                let result = try await body(clients)
                for client in clients { await client.client.disconnect() }
                try await group.waitForAll()
                return result
            } catch {
                for client in clients { await client.client.disconnect() }
                group.cancelAll()
                throw error
            }
        }
    }

    @Test func aBroadcastIsRelayedAsTheLegacySentItAndParsedOnce() async throws {
        try await Harness.withLegacy { _, legacy in
            try await Harness.withProxy(Harness.configuration(legacy: legacy, engine: .embedded)) { proxy in
                try await Self.withClients([legacy, proxy.url, proxy.url, proxy.url]) { clients in
                    let cache = proxy.proxy.eventCache(.legacy)
                    let before = cache.statistics
                    // python-socketio writes JSON with `ensure_ascii`: "Zoë" is "Zo\u00eb" on the
                    // wire, where our encoder would write the UTF-8 bytes.
                    try await clients[1].client.emit("set_player_name", [["player_id": 1, "name": "Zoë"]])
                    let direct = try await clients[0].stateText(naming: "Zoë")
                    #expect(direct.contains(#""Zo\u00eb""#))
                    for client in clients.dropFirst() {
                        let relayed = try await client.stateText(naming: "Zoë")
                        #expect(relayed.utf8.elementsEqual(direct.utf8), "relayed \(relayed)\ndirect  \(direct)")
                    }
                    // Three legs got the same frame: decoded by the first, taken from the cache by the others.
                    let after = cache.statistics
                    #expect(after.misses - before.misses <= 1)
                    #expect(after.hits - before.hits >= 2)
                }
            }
        }
    }
}
