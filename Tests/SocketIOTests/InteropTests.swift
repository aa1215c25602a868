import Hummingbird
import JSONValue
import SocketIOServer
import StateTeeTesting
import Testing

/// python-socketio 5.18 clients (Tests/interop/py_client.py, run with the project's .venv)
/// against the Swift server started in-process on port 0.
@Suite(.timeLimit(.minutes(2)))
struct InteropTests {
    @Test(arguments: ["polling-upgrade", "websocket-only", "polling-only"])
    func eventsBothWays(scenario: String) async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { _, port in
            let lines = jsonLines(try await runPythonClient(scenario, port: port))
            let welcome = try #require(lines.first { $0.objectValue?["event"] == "welcome" })
            #expect(welcome.objectValue?["transport"] == (scenario == "polling-only" ? "polling" : "websocket"))
            let echo = try #require(lines.first { $0.objectValue?["event"] == "echo-back" })
            #expect(echo.objectValue?["args"] == [1, "two", ["3": [true, .null, 4.5]], "é ✓"])
            #expect(lines.last == ["ok": true])
            // The server saw the event and, after the client left, the disconnect.
            _ = try await log.next("the echo event") { if case .event("echo", _) = $0 { true } else { false } }
            let disconnect = try await log.next("the disconnect") { if case .disconnected = $0 { true } else { false } }
            // python-socketio queues its DISCONNECT packet and then closes the transport: the
            // packet may be lost with the WebSocket, leaving "transport close".
            #expect(disconnect.reason == .clientDisconnect || disconnect.reason == .transportClose)
        }
    }

    /// python-engineio's polling client drops the packets it queued (its DISCONNECT and CLOSE)
    /// when it disconnects while a POST is unanswered, and the server then hears of it only by
    /// its heartbeat (45 s): py_client.py waits for its packets to be answered before leaving.
    /// Here the answer to the echo's POST comes after the client has read the echo back.
    @Test func pollingClientLeavingBeforeItsLastPostIsAnsweredIsSeen() async throws {
        let log = AsyncEventLog<ServerEvent>()
        let release = AsyncEventLog<Bool>()
        try await withLiveSocketIOServer(
            namespaces: [interopNamespace(log: log)], beforeEngine: { $0.add(middleware: HoldEchoPostAnswer(release: release)) }
        ) { _, port in
            try await withPythonClient("polling-only", port: port) { process in
                // The client is leaving (where it used to disconnect at once) while the POST that
                // carried its echo is still unanswered.
                _ = try await process.waitForLine(prefix: #"{"event": "leaving"}"#)
                release.append(true)
                #expect(try await process.waitForExit(timeout: .seconds(20)) == 0)
            }
            let disconnect = try await log.next("the disconnect") { $0.reason != nil }
            #expect(disconnect.reason == .clientDisconnect)
        }
    }

    /// The same exchanges with the server's packets encoded once (``SocketIOEncodedPacket``):
    /// python-socketio reads them alike over WebSocket and long-polling, binary included.
    @Test(arguments: ["polling-upgrade", "websocket-only", "polling-only", "binary-websocket", "binary-polling"])
    func encodedPacketsReachPythonClients(scenario: String) async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log, encoded: true)]) { _, port in
            let lines = jsonLines(try await runPythonClient(scenario, port: port))
            #expect(lines.last == ["ok": true])
            if scenario.hasPrefix("binary") {
                #expect(lines.contains { $0.objectValue?["event"] == "binary-back" })
            } else {
                let welcome = try #require(lines.first { $0.objectValue?["event"] == "welcome" })
                #expect(welcome.objectValue?["transport"] == (scenario == "polling-only" ? "polling" : "websocket"))
                let echo = try #require(lines.first { $0.objectValue?["event"] == "echo-back" })
                #expect(echo.objectValue?["args"] == [1, "two", ["3": [true, .null, 4.5]], "é ✓"])
            }
        }
    }

    @Test func acksBothWays() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { _, port in
            let lines = jsonLines(try await runPythonClient("acks", port: port))
            let ack = try #require(lines.first { $0.objectValue?["event"] == "ack" })
            #expect(ack.objectValue?["args"] == [["n": 1], [2, 3]])
            let answered = try #require(lines.first { $0.objectValue?["event"] == "client-answered" })
            #expect(answered.objectValue?["args"] == ["answer", "q1", 7])
        }
    }

    @Test(arguments: ["binary-websocket", "binary-polling"])
    func binaryPayloadsBothWays(scenario: String) async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { _, port in
            let lines = jsonLines(try await runPythonClient(scenario, port: port))
            #expect(lines.contains { $0.objectValue?["event"] == "binary-back" })
            #expect(lines.last == ["ok": true])
        }
    }

    @Test func broadcastReachesAHundredClients() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { server, port in
            try await withPythonClient("broadcast", port: port, ["100"]) { process in
                _ = try await process.waitForLine(prefix: "READY", timeout: .seconds(60))
                #expect(server.sockets().count == 100)
                // Encoded once, the same frame bytes written to every client.
                server.broadcast(.event("news", ["headline", ["n": 100]]))
                let status = try await process.waitForExit(timeout: .seconds(60))
                #expect(status == 0, "\(process.stderr)")
                let news = try #require(jsonLines(process.stdoutLines).first { $0.objectValue?["event"] == "news" })
                #expect(news.objectValue?["received"] == 100)
                #expect(news.objectValue?["args"] == ["headline", ["n": 100]])
            }
            // Every client left cleanly.
            for _ in 0..<100 {
                try await log.next("a disconnect") { if case .disconnected = $0 { true } else { false } }
            }
            try await waitUntil("all sockets gone") { server.sockets().isEmpty }
        }
    }

    @Test func malformedClientsAreClosedAndTheServerKeepsServing() async throws {
        let log = AsyncEventLog<ServerEvent>()
        let configuration = SocketIOConfiguration(engine: .init(path: "/socket.io/", maxPayload: 1000))
        try await withLiveSocketIOServer(configuration: configuration, namespaces: [interopNamespace(log: log)]) { server, port in
            let lines = jsonLines(try await runPythonClient("malformed", port: port, ["1000"]))
            let closed = lines.compactMap { $0.objectValue?["event"] == "closed" ? $0.objectValue?["case"] : nil }
            #expect(closed == ["garbage socket.io packet", "garbage engine.io packet", "oversized websocket message"])
            let rejected = lines.compactMap { $0.objectValue?["event"] == "rejected" ? $0.objectValue?["status"] : nil }
            #expect(rejected == [413, 400])
            #expect(lines.contains { $0.objectValue?["event"] == "still-serving" })
            try await waitUntil("all sessions gone") { server.engine.sessionCount == 0 }
        }
    }
}

/// Holds the answer to a POST carrying an `echo` event until `release` gets an element (the
/// echo itself is handed to the server at once: its `echo-back` goes out on the long poll).
struct HoldEchoPostAnswer: RouterMiddleware {
    typealias Context = BasicRequestContext
    let release: AsyncEventLog<Bool>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let response = try await next(request, context)
        if String(buffer: body).contains(#"["echo","#) {
            try await release.next("the release of the echo POST's answer", timeout: .seconds(30))
        }
        return response
    }
}

extension ServerEvent {
    var reason: DisconnectReason? {
        if case .disconnected(_, _, let reason) = self { reason } else { nil }
    }
}

/// Polls a condition until it holds (for state that has no event to wait on), within a timeout.
func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: @Sendable @escaping () -> Bool) async throws {
    _ = try await poll(what, timeout: timeout, every: .milliseconds(10)) { condition() ? true : nil }
}
