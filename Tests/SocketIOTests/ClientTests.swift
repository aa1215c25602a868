import JSONValue
import SocketIOClient
import SocketIOProtocol
import StateTeeTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SocketIOClient against a real Flask-SocketIO server (Tests/interop/flask_echo_server.py).
@Suite(.timeLimit(.minutes(1)))
struct ClientTests {
    typealias Event = SocketIOClient.Event

    // MARK: connecting and events

    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func connectsAndExchangesEvents(transport: SocketIOClient.Configuration.Transport) async throws {
        try await withEchoServer { _, port in
            let auth: JSONValue = ["token": "t-1", "n": 2]
            var configuration = clientConfiguration(port: port, transport: transport)
            configuration.auth = auth
            try await withClient(configuration) { client, log in
                let connected = try await log.next("connected") { $0.connectedSID != nil }
                #expect(await client.sid == connected.connectedSID)
                #expect(await client.isConnected)

                let args: [JSONValue] = ["a", 1, ["x": [true, .null, 2.5]], "ünïcødé ☃"]
                try await client.emit("echo", args)
                let echo = try await log.next("echo") { $0.eventName == "echo" }
                #expect(echo == .event(name: "echo", args: args, attachments: [], ackID: nil))

                let whoami = try await client.emitWithAck("whoami", [], timeout: .seconds(5))
                #expect(whoami.first?["transport"] == .string(transport.rawValue))
                #expect(whoami.first?["auth"] == auth)
                #expect(whoami.first?["sid"] == connected.connectedSID.map(JSONValue.string))
            }
        }
    }

    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func acksBothWays(transport: SocketIOClient.Configuration.Transport) async throws {
        try await withEchoServer { _, port in
            try await withClient(clientConfiguration(port: port, transport: transport)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                // Client asks, server acks.
                #expect(try await client.emitWithAck("ack", ["z", 2, ["k": "v"]], timeout: .seconds(5)) == ["z", 2, ["k": "v"]])
                #expect(try await client.emitWithAck("ack", [], timeout: .seconds(5)) == [])
                // Several in flight at once are matched by id.
                async let first = client.emitWithAck("ack", [1], timeout: .seconds(5))
                async let second = client.emitWithAck("ack", [2], timeout: .seconds(5))
                #expect(try await [first, second] == [[1], [2]])
                // Server asks, client acks.
                try await client.emit("ask", ["q?"])
                let question = try await log.next("question") { $0.eventName == "question" }
                guard case .event(_, let args, _, let ackID?) = question else {
                    Issue.record("question without ack id: \(question)")
                    return
                }
                #expect(args == ["q?"])
                try await client.ack(ackID, ["yes", 42])
                let answer = try await log.next("answer") { $0.eventName == "answer" }
                #expect(answer.eventArgs == ["yes", 42])
            }
        }
    }

    @Test func ackTimesOutWhenTheServerIsFrozen() async throws {
        try await withEchoServer { server, port in
            try await withClient(clientConfiguration(port: port)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                server.send(signal: SIGSTOP)
                await #expect(throws: SocketIOClientError.ackTimeout) {
                    try await client.emitWithAck("ack", [1], timeout: .milliseconds(300))
                }
                server.send(signal: SIGCONT)
                #expect(try await client.emitWithAck("ack", [2], timeout: .seconds(5)) == [2])
            }
        }
    }

    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func binaryAttachmentsBothWays(transport: SocketIOClient.Configuration.Transport) async throws {
        try await withEchoServer { _, port in
            try await withClient(clientConfiguration(port: port, transport: transport)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                let blob = (0..<3000).map { UInt8($0 % 251) }
                try await client.emit(
                    "binary", [SocketIOPacket.placeholder(0), "x", ["nested": SocketIOPacket.placeholder(1)]],
                    attachments: [[1, 2, 3], blob])
                let echoed = try await log.next("binary echo") { $0.eventName == "binary" }
                guard case .event(_, let args, let attachments, _) = echoed else { return }
                #expect(args.count == 4)
                #expect(args.last == ["sizes": [3, 3000]])
                #expect(args[1] == "x")
                // python-socketio renumbers placeholders in the order it meets the bytes.
                let first = try #require(SocketIOPacket.placeholderIndex(args[0]))
                let nested = try #require(args[2]["nested"].flatMap(SocketIOPacket.placeholderIndex))
                #expect(attachments[first] == [1, 2, 3])
                #expect(attachments[nested] == blob)

                let ack = try await client.emitWithAckPacket(
                    "ack", [SocketIOPacket.placeholder(0)], attachments: [[0xFF, 0x00]], timeout: .seconds(5))
                #expect(ack.kind == .binaryAck)
                #expect(ack.eventArguments == [SocketIOPacket.placeholder(0)])
                #expect(ack.attachments == [[0xFF, 0x00]])
            }
        }
    }

    @Test func broadcastReachesEveryClient() async throws {
        try await withEchoServer { _, port in
            try await withClient(clientConfiguration(port: port)) { first, firstLog in
                try await withClient(clientConfiguration(port: port, transport: .polling)) { _, secondLog in
                    try await firstLog.next("first connected") { $0.connectedSID != nil }
                    try await secondLog.next("second connected") { $0.connectedSID != nil }
                    try await first.emit("broadcast", ["hello all"])
                    let got1 = try await firstLog.next("broadcast 1") { $0.eventName == "broadcast" }
                    let got2 = try await secondLog.next("broadcast 2") { $0.eventName == "broadcast" }
                    #expect(got1.eventArgs == ["hello all"])
                    #expect(got2.eventArgs == ["hello all"])
                }
            }
        }
    }

    @Test func rawPacketsForRelays() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.rawPackets = true
            try await withClient(configuration) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                try await client.send(.event("echo", ["raw"]))
                let echo = try await log.next("raw echo") { $0.packet?.eventName == "echo" }
                #expect(echo.packet == .event("echo", ["raw"]))
                // An ack id chosen by the relay comes back as a raw ack packet.
                try await client.send(.event("ack", ["q"], id: 77))
                let ack = try await log.next("raw ack") { $0.packet?.isAck == true }
                #expect(ack.packet == .ack(["q"], id: 77))
                #expect(!log.all.contains { $0.eventName != nil })
            }
        }
    }

    /// With an `onEvent` handler the events go to it, in order, from the task reading the
    /// connection; the `events` stream gets nothing and finishes with `run()`.
    @Test func eventsGoToTheHandlerInOrder() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.rawPackets = true
            let log = AsyncEventLog<Event>()
            let client = SocketIOClient(configuration: configuration) { event in log.append(event) }
            let stream = AsyncEventLog<Event>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await stream.collect(client.events) }
                group.addTask { try await client.run() }
                try await log.next("connected") { $0.connectedSID != nil }
                // The server handles events on concurrent threads; it numbers its answers in
                // the order they leave it, so they must reach the handler in that order.
                for _ in 0..<20 { try await client.send(.event("sequenced", [])) }
                try await client.send(.event("ack", ["q"], id: 5))
                // The ack's thread may finish before the last answers' threads: wait for all 21.
                var (answers, acked) = (0, false)
                while answers < 20 || !acked {
                    let event = try await log.next("20 answers and the raw ack") {
                        $0.packet?.eventName == "sequenced" || $0.packet?.isAck == true
                    }
                    if event.packet?.isAck == true { acked = true } else { answers += 1 }
                }
                await client.disconnect()
                try await group.waitForAll()
            }
            log.finish()
            let numbers = log.all.compactMap { $0.packet?.eventName == "sequenced" ? $0.packet?.eventArguments.first : nil }
            #expect(numbers == (0..<20).map { JSONValue.int($0) })
            #expect(log.all.first?.connectedSID != nil)
            #expect(log.all.last == .disconnected(.clientDisconnect))
            #expect(stream.all.isEmpty)
        }
    }

    @Test func anEventFilterDropsEventsBeforeTheyAreDecoded() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            // Sees the Socket.IO packet as received: drops the answer numbered 1.
            configuration.eventFilter = { !($0.hasPrefix("2[\"sequenced\"") && $0.hasSuffix(",1]")) }
            try await SocketIOClient.withConnection(configuration: configuration) { client in
                for _ in 0..<3 { try await client.emit("sequenced", []) }
                var numbers: [JSONValue] = []
                for await event in client.events {
                    guard case .event("sequenced", let args, _, _) = event else { continue }
                    numbers += args
                    if args == [2] { break }  // answers leave the server in order: 2 is the last
                }
                #expect(numbers == [0, 2])
                // Acks and other events are untouched.
                #expect(try await client.emitWithAck("ack", ["x"], timeout: .seconds(5)) == ["x"])
            }
        }
    }

    // MARK: disconnects and reconnects

    @Test func serverDisconnectEndsTheClientWithoutReconnecting() async throws {
        try await withEchoServer { _, port in
            let client = SocketIOClient(configuration: clientConfiguration(port: port))
            let log = AsyncEventLog<Event>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await log.collect(client.events) }
                group.addTask { try await client.run() }
                try await log.next("connected") { $0.connectedSID != nil }
                try await client.emit("disconnect_me", [])
                try await log.next("server disconnect") { $0 == .disconnected(.serverDisconnect) }
                try await group.waitForAll()  // run() returned by itself; the event stream finished
            }
            #expect(!log.all.contains { if case .reconnecting = $0 { true } else { false } })
            #expect(!(await client.isConnected))
        }
    }

    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func reconnectsAfterTheServerDropsTheConnection(transport: SocketIOClient.Configuration.Transport) async throws {
        try await withEchoServer { _, port in
            try await withClient(clientConfiguration(port: port, transport: transport)) { client, log in
                let firstSID = try await log.next("connected") { $0.connectedSID != nil }.connectedSID
                try await client.emit("drop_me", [])
                try await log.next("transport close") { $0 == .disconnected(.transportClose) }
                try await log.next("reconnecting") { $0 == .reconnecting(attempt: 1) }
                let secondSID = try await log.next("reconnected") { $0.connectedSID != nil }.connectedSID
                #expect(secondSID != firstSID)
                // The same client keeps working.
                #expect(try await client.emitWithAck("ack", ["after"], timeout: .seconds(5)) == ["after"])
                try await client.emit("echo", ["again"])
                let echo = try await log.next("echo") { $0.eventName == "echo" }
                #expect(echo.eventArgs == ["again"])
            }
        }
    }

    @Test func reconnectsAfterAServerRestartOnTheSamePortAndFlushesBufferedEmits() async throws {
        let root = TestEnvironment.repositoryRoot()
        let first = try TestProcess(TestEnvironment.python(repositoryRoot: root), echoServerArguments(root: root, port: 0))
        var second: TestProcess? = nil
        do {
            let port = try await first.listeningPort()
            try await withClient(clientConfiguration(port: port)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                await first.terminate()
                #expect(!first.isRunning)
                try await log.next("connection lost") {
                    $0 == .disconnected(.transportClose) || $0 == .disconnected(.transportError)
                }
                // Sent while the server is down: buffered, delivered after the reconnect.
                try await client.emit("echo", ["buffered"])
                try await log.next("reconnecting") { $0 == .reconnecting(attempt: 1) }
                second = try TestProcess(TestEnvironment.python(repositoryRoot: root), echoServerArguments(root: root, port: port))
                #expect(try await second?.listeningPort() == port)
                try await log.next("reconnected", timeout: .seconds(20)) { $0.connectedSID != nil }
                let echo = try await log.next("buffered echo") { $0.eventName == "echo" }
                #expect(echo.eventArgs == ["buffered"])
            }
        } catch {
            await first.terminate()
            await second?.terminate()
            throw error
        }
        await second?.terminate()
        #expect(second?.isRunning == false)
    }

    @Test func answersPingsAndDetectsAFrozenServer() async throws {
        // python-engineio advertises whole seconds (0.2 would be announced as 0).
        try await withEchoServer(pingInterval: 1, pingTimeout: 2) { server, port in
            try await withClient(clientConfiguration(port: port)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                #expect(await client.handshake?.pingInterval == 1000)
                // Several ping periods of traffic: the server would drop a client that did not pong.
                let clock = ContinuousClock()
                let start = clock.now
                var roundTrips = 0
                while clock.now - start < .seconds(2.5) {
                    #expect(try await client.emitWithAck("ack", [.int(roundTrips)], timeout: .seconds(5)) == [.int(roundTrips)])
                    roundTrips += 1
                }
                #expect(!log.all.contains { if case .disconnected = $0 { true } else { false } })
                // A frozen server sends no pings: the client notices after pingInterval + pingTimeout.
                server.send(signal: SIGSTOP)
                try await log.next("ping timeout", timeout: .seconds(10)) { $0 == .disconnected(.pingTimeout) }
                server.send(signal: SIGCONT)
                try await log.next("reconnected", timeout: .seconds(15)) { $0.connectedSID != nil }
                #expect(try await client.emitWithAck("ack", ["alive"], timeout: .seconds(5)) == ["alive"])
            }
        }
    }

    @Test func connectErrorIsReportedAndThrown() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.auth = ["reject": true]
            let client = SocketIOClient(configuration: configuration)
            let log = AsyncEventLog<Event>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await log.collect(client.events) }
                await #expect(throws: SocketIOClientError.connectError(["message": "Not authorized"])) {
                    try await client.run()
                }
                try await group.waitForAll()
            }
            #expect(log.all == [.connectError(["message": "Not authorized"])])
            // withConnection throws the same error.
            await #expect(throws: SocketIOClientError.connectError(["message": "Not authorized"])) {
                try await SocketIOClient.withConnection(configuration: configuration) { _ in }
            }
        }
    }

    @Test(arguments: [SocketIOClient.Configuration.Transport.websocket, .polling])
    func firstConnectFailureIsThrownPromptly(transport: SocketIOClient.Configuration.Transport) async throws {
        // A port bound but not listening: connecting is refused, and no other test's server can
        // take it meanwhile (a port just freed could be handed to one).
        try await Self.withRefusingPort { port in
            await #expect(throws: (any Error).self) {
                try await withTimeout(.seconds(10), "a refused connect") {
                    try await SocketIOClient.withConnection(configuration: clientConfiguration(port: port, transport: transport)) { _ in }
                }
            }
        }
        #expect(throws: SocketIOClientError.invalidURL("127.0.0.1:1")) {
            try SocketIOClient.Configuration(url: "127.0.0.1:1").validate()
        }
    }

    /// Runs `body` with a 127.0.0.1 port that a socket holds without listening.
    static func withRefusingPort(_ body: (Int) async throws -> Void) async throws {
        let (fd, port) = try loopbackSocket(listening: false)
        defer { close(fd) }
        try await body(port)
    }

    @Test func withConnectionRunsTheBodyAndDisconnects() async throws {
        try await withEchoServer { _, port in
            let client = try await SocketIOClient.withConnection(configuration: clientConfiguration(port: port)) { client throws in
                #expect(await client.isConnected)
                #expect(try await client.emitWithAck("ack", ["in body"], timeout: .seconds(5)) == ["in body"])
                return client
            }
            #expect(!(await client.isConnected))
            await #expect(throws: SocketIOClientError.notConnected) { try await client.emit("echo", []) }
            var events: [Event] = []
            for await event in client.events { events.append(event) }  // finished: ends at once
            #expect(events.first?.connectedSID != nil)
            #expect(events.last == .disconnected(.clientDisconnect))
        }
    }

    @Test func reconnectPolicyBackoff() {
        let policy = SocketIOClient.ReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: 0.5)
        #expect(policy.delay(attempt: 1, random: 0) == .milliseconds(100))
        #expect(policy.delay(attempt: 2, random: 0) == .milliseconds(200))
        #expect(policy.delay(attempt: 3, random: 1) == .milliseconds(600))
        #expect(policy.delay(attempt: 30, random: 0) == .seconds(1))
        #expect(policy.delay(attempt: 1, random: -1) == .milliseconds(50))
    }
}

// MARK: - helpers

private extension SocketIOClient.Event {
    var connectedSID: String? { if case .connected(let sid) = self { sid } else { nil } }
    var eventName: String? { if case .event(let name, _, _, _) = self { name } else { nil } }
    var eventArgs: [JSONValue]? { if case .event(_, let args, _, _) = self { args } else { nil } }
    var packet: SocketIOPacket? { if case .packet(let packet, _) = self { packet } else { nil } }
}

func clientConfiguration(
    port: Int, transport: SocketIOClient.Configuration.Transport = .websocket
) -> SocketIOClient.Configuration {
    SocketIOClient.Configuration(
        url: "http://127.0.0.1:\(port)",
        transport: transport,
        reconnect: .init(initialDelay: .milliseconds(100), maxDelay: .milliseconds(500)),
        connectTimeout: .seconds(5)
    )
}

func echoServerArguments(root: String, port: Int, pingInterval: Double? = nil, pingTimeout: Double? = nil) -> [String] {
    var arguments = [root + "/Tests/interop/flask_echo_server.py", "--port", String(port)]
    if let pingInterval { arguments += ["--ping-interval", String(pingInterval)] }
    if let pingTimeout { arguments += ["--ping-timeout", String(pingTimeout)] }
    return arguments
}

/// Runs the Flask-SocketIO echo server on a free port around `body`, then stops it.
func withEchoServer<Result>(
    pingInterval: Double? = nil, pingTimeout: Double? = nil,
    _ body: (TestProcess, Int) async throws -> Result
) async throws -> Result {
    let root = TestEnvironment.repositoryRoot()
    return try await withTestProcess(
        TestEnvironment.python(repositoryRoot: root),
        echoServerArguments(root: root, port: 0, pingInterval: pingInterval, pingTimeout: pingTimeout)
    ) { server in
        let port = try await server.listeningPort()
        return try await body(server, port)
    }
}

/// Runs a client and an event log around `body`; disconnects and waits for `run()` to end.
private func withClient<Result>(
    _ configuration: SocketIOClient.Configuration,
    _ body: (SocketIOClient, AsyncEventLog<SocketIOClient.Event>) async throws -> Result
) async throws -> Result {
    let client = SocketIOClient(configuration: configuration)
    let log = AsyncEventLog<SocketIOClient.Event>()
    return try await withRunningClient(
        run: {
            async let collected: Void = log.collect(client.events)
            try await client.run()
            await collected
        },
        stop: { await client.disconnect() }
    ) { try await body(client, log) }
}
