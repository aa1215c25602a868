import SocketIOClient
import SocketIOServer
import StateTeeTesting
import Testing

/// The project's own client (the proxy's legs) against the server (the engine's endpoint).
@Suite(.timeLimit(.minutes(1)))
struct SwiftClientInteropTests {
    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func eventsAndAcks(transport: SocketIOClient.Configuration.Transport) async throws {
        let serverLog = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: serverLog)]) { _, port in
            var configuration = SocketIOClient.Configuration(url: "http://127.0.0.1:\(port)", transport: transport)
            configuration.auth = ["token": "swift"]
            let client = SocketIOClient(configuration: configuration)
            let log = AsyncEventLog<SocketIOClient.Event>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await log.collect(client.events) }
                group.addTask { try await client.run() }
                let welcome = try await log.next("welcome") { $0.name == "welcome" }
                guard case .event(_, let welcomeArgs, _, _) = welcome else { Issue.record("not an event"); return }
                #expect(welcomeArgs.first?["auth"] == ["token": "swift"])
                let args: [JSONValue] = [1, "two", ["3": [true]]]
                try await client.emit("echo", args)
                let echo = try await log.next("echo-back") { $0.name == "echo-back" }
                #expect(echo == .event(name: "echo-back", args: args, attachments: [], ackID: nil))
                let ack = try await client.emitWithAck("ack-me", ["a", 2], timeout: .seconds(5))
                #expect(ack == ["a", 2])
                await client.disconnect()
                try await group.waitForAll()
            }
            let gone = try await serverLog.next("the disconnect") { if case .disconnected = $0 { true } else { false } }
            #expect(gone.reason == .clientDisconnect || gone.reason == .transportClose)
        }
    }
}

extension SocketIOClient.Event {
    fileprivate var name: String? {
        if case .event(let name, _, _, _) = self { name } else { nil }
    }
}
