import Foundation
import JSONValue
import SocketIOClient
import SocketIOProtocol
import SocketIOServer
import StateTeeTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SocketIORelayClient (the proxy's legs to a plain `http://` upstream) against a real
/// Flask-SocketIO server (Tests/interop/flask_echo_server.py) and against our own server.
@Suite(.timeLimit(.minutes(1)))
struct RelayClientTests {
    typealias Event = SocketIOClient.Event

    @Test func connectsWithAuthAndRelaysEventsAndAcksAsSent() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.auth = ["token": "relay"]
            try await withRelayClient(configuration) { client, log in
                let connected = try await log.next("connected") { $0.connectedSID != nil }
                #expect(client.isConnected)
                // The relay's own ack id comes back on a raw ack.
                try client.send(.event("whoami", [], id: 41))
                let whoami = try await log.next("whoami ack") { $0.packet?.isAck == true }
                #expect(whoami.packet?.id == 41)
                #expect(whoami.packet?.eventArguments.first?["auth"] == ["token": "relay"])
                #expect(whoami.packet?.eventArguments.first?["transport"] == "websocket")
                #expect(whoami.packet?.eventArguments.first?["sid"] == connected.connectedSID.map(JSONValue.string))
                // An event comes with the bytes the server sent: python-socketio escapes "ë".
                try client.send(.event("echo", ["Zoë"]))
                let echo = try await log.next("echo") { $0.packet?.eventName == "echo" }
                guard case .packet(let packet, let text) = echo else { return }
                #expect(packet == .event("echo", ["Zoë"]))
                #expect(text == #"2["echo","Zo\u00eb"]"#)
            }
        }
    }

    /// Answers numbered as they leave the server reach the handler in that order, also when
    /// the handler is slow and hundreds queue up behind it (the connection stops reading
    /// while they wait, and nothing is lost).
    @Test func aSlowHandlerGetsEveryEventInOrder() async throws {
        try await withEchoServer { _, port in
            let log = AsyncEventLog<Event>()
            let gate = Gate()
            let client = SocketIORelayClient(configuration: clientConfiguration(port: port))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.run { event in
                        if case .packet(let packet, _) = event, packet.eventArguments == [0] { await gate.wait() }
                        log.append(event)
                    }
                }
                try await log.next("connected") { $0.connectedSID != nil }
                let count = 600
                for _ in 0..<count { try client.send(.event("sequenced", [])) }
                try client.send(.event("ack", ["last"], id: 9))
                // The first answer holds the handler until every answer has left the server.
                _ = try await poll("the server has answered \(count)", timeout: .seconds(20)) { () -> Bool? in
                    guard await echoServerSequence(client: client) >= count else { return nil }
                    return true
                }
                gate.open()
                var received = 0
                while received < count {
                    try await log.next("answer \(received)") { $0.packet?.eventName == "sequenced" }
                    received += 1
                }
                client.disconnect()
                try await group.waitForAll()
            }
            let numbers = log.all.compactMap { $0.packet?.eventName == "sequenced" ? $0.packet?.eventArguments.first : nil }
            #expect(numbers == (0..<600).map { JSONValue.int($0) })
            #expect(log.all.last == .disconnected(.clientDisconnect))
        }
    }

    @Test func binaryAttachmentsBothWays() async throws {
        try await withEchoServer { _, port in
            try await withRelayClient(clientConfiguration(port: port)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                let blob = (0..<3000).map { UInt8($0 % 251) }
                try client.send(
                    .event("binary", [SocketIOPacket.placeholder(0), "x", ["nested": SocketIOPacket.placeholder(1)]],
                           attachments: [[1, 2, 3], blob]))
                let echoed = try await log.next("binary echo") { $0.packet?.eventName == "binary" }
                guard case .packet(let packet, let text) = echoed else { return }
                #expect(text == nil)  // not one message: nothing to relay as it came
                #expect(packet.eventArguments.last == ["sizes": [3, 3000]])
                let first = try #require(SocketIOPacket.placeholderIndex(packet.eventArguments[0]))
                #expect(packet.attachments[first] == [1, 2, 3])
                let nested = try #require(packet.eventArguments[2]["nested"].flatMap(SocketIOPacket.placeholderIndex))
                #expect(packet.attachments[nested] == blob, "the 3000-byte attachment came back changed")
            }
        }
    }

    @Test func serverDisconnectEndsRunWithoutReconnecting() async throws {
        try await withEchoServer { _, port in
            let client = SocketIORelayClient(configuration: clientConfiguration(port: port))
            let log = AsyncEventLog<Event>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run { log.append($0) } }
                try await log.next("connected") { $0.connectedSID != nil }
                try client.send(.event("disconnect_me", []))
                try await group.waitForAll()  // run() returned by itself
            }
            #expect(log.all.last == .disconnected(.serverDisconnect))
            #expect(!log.all.contains { if case .reconnecting = $0 { true } else { false } })
            #expect(!client.isConnected)
            #expect(throws: SocketIOClientError.notConnected) { try client.send(.event("echo", [])) }
        }
    }

    @Test func reconnectsAfterTheServerDropsTheConnection() async throws {
        try await withEchoServer { _, port in
            try await withRelayClient(clientConfiguration(port: port)) { client, log in
                let first = try await log.next("connected") { $0.connectedSID != nil }.connectedSID
                try client.send(.event("drop_me", []))
                try await log.next("transport close") { $0 == .disconnected(.transportClose) }
                try await log.next("reconnecting") { $0 == .reconnecting(attempt: 1) }
                let second = try await log.next("reconnected") { $0.connectedSID != nil }.connectedSID
                #expect(second != first)
                try client.send(.event("ack", ["after"], id: 3))
                let ack = try await log.next("ack after the reconnect") { $0.packet?.isAck == true }
                #expect(ack.packet == .ack(["after"], id: 3))
            }
        }
    }

    @Test func answersPingsAndDetectsAFrozenServer() async throws {
        // python-engineio advertises whole seconds.
        try await withEchoServer(pingInterval: 1, pingTimeout: 2) { server, port in
            try await withRelayClient(clientConfiguration(port: port)) { client, log in
                try await log.next("connected") { $0.connectedSID != nil }
                // Several ping periods of traffic: the server drops a client that does not pong.
                let clock = ContinuousClock()
                let start = clock.now
                var roundTrips = 0
                while clock.now - start < .seconds(2.5) {
                    try client.send(.event("ack", [.int(roundTrips)], id: roundTrips))
                    let ack = try await log.next("ack \(roundTrips)") { $0.packet?.isAck == true }
                    #expect(ack.packet?.id == roundTrips)
                    roundTrips += 1
                }
                #expect(!log.all.contains { if case .disconnected = $0 { true } else { false } })
                // A frozen server sends no pings: the client notices after pingInterval + pingTimeout.
                server.send(signal: SIGSTOP)
                try await log.next("ping timeout", timeout: .seconds(10)) { $0 == .disconnected(.pingTimeout) }
                server.send(signal: SIGCONT)
                try await log.next("reconnected", timeout: .seconds(15)) { $0.connectedSID != nil }
            }
        }
    }

    @Test func aRefusedNamespaceIsReportedAndThrown() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.auth = ["reject": true]
            let client = SocketIORelayClient(configuration: configuration)
            let log = AsyncEventLog<Event>()
            await #expect(throws: SocketIOClientError.connectError(["message": "Not authorized"])) {
                try await client.run { log.append($0) }
            }
            #expect(log.all == [.connectError(["message": "Not authorized"])])
        }
    }

    @Test func aFailedFirstConnectIsThrownPromptlyAndTLSIsNotTaken() async throws {
        try await ClientTests.withRefusingPort { port in
            let client = SocketIORelayClient(configuration: clientConfiguration(port: port))
            await #expect(throws: (any Error).self) {
                try await withTimeout(.seconds(10), "a refused connect") { try await client.run { _ in } }
            }
        }
        #expect(SocketIORelayClient.supports(url: "http://127.0.0.1:6969"))
        #expect(SocketIORelayClient.supports(url: "ws://[::1]:80/"))
        #expect(!SocketIORelayClient.supports(url: "https://example.org"))
        let secure = SocketIORelayClient(configuration: .init(url: "https://example.org"))
        await #expect(throws: SocketIOClientError.invalidURL("https://example.org")) { try await secure.run { _ in } }
    }

    /// A server that answers the upgrade request with an HTTP error: the status is thrown.
    @Test func aRefusedUpgradeThrowsTheHTTPStatus() async throws {
        try await withEchoServer { _, port in
            var configuration = clientConfiguration(port: port)
            configuration.path = "/not-socket.io/"
            let client = SocketIORelayClient(configuration: configuration)
            await #expect(throws: SocketIOClientError.httpStatus(404)) { try await client.run { _ in } }
        }
    }

    /// A server that accepts the TCP connection but never answers the upgrade: the connect
    /// times out instead of hanging, and a disconnect meanwhile ends `run()` at once.
    @Test func aSilentServerTimesOutTheConnect() async throws {
        try await withSilentListener { port, accepted in
            var configuration = clientConfiguration(port: port)
            configuration.connectTimeout = .milliseconds(300)
            configuration.reconnect = .disabled
            let client = SocketIORelayClient(configuration: configuration)
            await #expect(throws: SocketIOClientError.connectTimeout) { try await client.run { _ in } }

            configuration.connectTimeout = .seconds(30)
            let patient = SocketIORelayClient(configuration: configuration)
            async let run: Void = patient.run { _ in }
            try await accepted()  // the first client's connection
            try await accepted()  // the patient client's: now waiting for the upgrade
            patient.disconnect()
            try await run  // returns (within the suite's time limit) instead of waiting 30 s
        }
    }

    /// With `onPacket`, packets go to it on the event loop once the handler has returned from
    /// `.connected`; what arrived before that (our server's `welcome`, sent right after the
    /// CONNECT answer, while the handler is held) still goes to the handler, first.
    @Test func packetsGoToOnPacketOnceTheConnectWasHandled() async throws {
        let serverLog = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: serverLog)]) { _, port in
            let client = SocketIORelayClient(configuration: clientConfiguration(port: port))
            let log = AsyncEventLog<String>()
            let gate = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.run(onPacket: { packet, text in
                        log.append("onPacket \(packet.eventName ?? "ack") \(text ?? "-")")
                    }) { event in
                        if case .connected = event { await gate.wait() }
                        switch event {
                        case .connected: log.append("handler connected")
                        case .packet(let packet, _): log.append("handler \(packet.eventName ?? "ack")")
                        default: log.append("handler \(event)")
                        }
                    }
                }
                try await serverLog.next("the server connected") { if case .connected = $0 { true } else { false } }
                gate.open()
                try await log.next("the welcome") { $0 == "handler welcome" }
                // The welcome was handed on: the next packets go straight to onPacket.
                _ = try await poll("packets go direct") { () -> Bool? in
                    try client.send(.event("ack-me", ["x"], id: 1))
                    return log.all.contains { $0.hasPrefix("onPacket") } ? true : nil
                }
                try client.send(.event("echo", ["é"]))
                try await log.next("the echo") { $0.hasPrefix("onPacket echo-back") }
                client.disconnect()
                try await group.waitForAll()
            }
            let all = log.all
            #expect(all.prefix(2) == ["handler connected", "handler welcome"])
            #expect(all.contains(#"onPacket echo-back 2["echo-back","é"]"#))
            #expect(all.last == "handler disconnected(SocketIOClient.SocketIOClient.DisconnectReason.clientDisconnect)")
            #expect(!all.dropFirst(2).dropLast().contains { $0.hasPrefix("handler") })
        }
    }

    /// Against our own server: the client's disconnect reaches it as a Socket.IO DISCONNECT.
    @Test func ourServerSeesTheClientDisconnect() async throws {
        let serverLog = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: serverLog)]) { _, port in
            try await withRelayClient(clientConfiguration(port: port)) { client, log in
                let welcome = try await log.next("welcome") { $0.packet?.eventName == "welcome" }
                #expect(welcome.packet?.eventArguments.first?["auth"] == .null)
                try client.send(.event("echo", [1, "two"]))
                let echo = try await log.next("echo-back") { $0.packet?.eventName == "echo-back" }
                #expect(echo.packet?.eventArguments == [1, "two"])
                try client.send(.event("send-binary", []))
                let binary = try await log.next("binary-back") { $0.packet?.eventName == "binary-back" }
                #expect(binary.packet?.attachments == [[1, 2, 3], [0xAA]])
            }
            let gone = try await serverLog.next("the disconnect") { if case .disconnected = $0 { true } else { false } }
            #expect(gone.reason == .clientDisconnect)
        }
    }
}

// MARK: - helpers

/// Opens once: every waiter (before or after) goes on.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// How many `sequenced` answers the echo server has sent (asked on a connection of its own).
private func echoServerSequence(client: SocketIORelayClient) async -> Int {
    let configuration = SocketIOClient.Configuration(url: client.configuration.url, reconnect: .disabled)
    let count = try? await SocketIOClient.withConnection(configuration: configuration) { probe in
        try await probe.emitWithAck("sequence_count", [], timeout: .seconds(5)).first?.intValue
    }
    return (count ?? nil) ?? 0
}

private func withRelayClient<Result>(
    _ configuration: SocketIOClient.Configuration,
    _ body: (SocketIORelayClient, AsyncEventLog<SocketIOClient.Event>) async throws -> Result
) async throws -> Result {
    let client = SocketIORelayClient(configuration: configuration)
    let log = AsyncEventLog<SocketIOClient.Event>()
    return try await withRunningClient(run: { try await client.run { log.append($0) } }, stop: { client.disconnect() }) {
        try await body(client, log)
    }
}

/// Runs `body` with a 127.0.0.1 port that accepts TCP connections and never answers, and a
/// function that waits for the next connection to be accepted.
private func withSilentListener(_ body: (Int, @Sendable () async throws -> Void) async throws -> Void) async throws {
    let (fd, port) = try loopbackSocket(listening: true)
    defer { close(fd) }
    let accepted = Mutex<[Int32]>([])
    defer { for connection in accepted.withLock({ $0 }) { close(connection) } }
    try await body(port) {
        // accept(2) blocks: on a thread of its own, not the cooperative pool's.
        let connection = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread { continuation.resume(returning: accept(fd, nil, nil)) }
        }
        guard connection >= 0 else { throw AcceptFailed() }
        accepted.withLock { $0.append(connection) }
    }
}

private struct AcceptFailed: Error {}

extension SocketIOClient.Event {
    fileprivate var connectedSID: String? { if case .connected(let sid) = self { sid } else { nil } }
    fileprivate var packet: SocketIOPacket? { if case .packet(let packet, _) = self { packet } else { nil } }
}
