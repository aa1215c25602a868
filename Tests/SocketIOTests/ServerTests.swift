import AsyncHTTPClient
import Hummingbird
import NIOCore
import NIOHTTP1
import SocketIOServer
import StateTeeTesting
import Synchronization
import Testing

/// The server's HTTP surface, byte for byte, over raw long-polling requests.
@Suite(.timeLimit(.minutes(1)))
struct ServerTests {
    @Test func handshakePostAndPollMountedNextToOtherRoutes() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(
            namespaces: [interopNamespace(log: log)],
            extraRoutes: { router in router.get("/hello") { _, _ in "world" } }
        ) { _, port in
            let http = PollingClient(port: port)
            #expect(try await http.request("/hello").body == "world")
            let handshake = try await http.request("/socket.io/?EIO=4&transport=polling")
            #expect(handshake.status == 200)
            #expect(handshake.headers["Content-Type"] == "text/plain; charset=UTF-8")
            #expect(handshake.body.hasPrefix(#"0{"sid":""#))
            #expect(handshake.body.hasSuffix(#"","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#))
            let sid = try #require(handshake.sid)

            let post = try await http.request("/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .POST, body: "40")
            #expect(post.status == 200)
            #expect(post.body == "ok")
            let poll = try await http.request("/socket.io/?EIO=4&transport=polling&sid=\(sid)")
            let packets = poll.body.split(separator: "\u{1e}").map(String.init)
            // CONNECT first, then what the connect handler emitted.
            #expect(packets.count == 2)
            #expect(packets.first?.hasPrefix(#"40{"sid":""#) == true)
            #expect(packets.last?.hasPrefix(#"42["welcome",{"sid":""#) == true)

            _ = try await http.request(
                "/socket.io/?EIO=4&transport=polling&sid=\(sid)", method: .POST, body: "42[\"echo\",1]\u{1e}421[\"ack-me\",\"a\"]")
            var seen = ""
            while !seen.contains("431[") {
                seen += try await http.request("/socket.io/?EIO=4&transport=polling&sid=\(sid)").body + "|"
            }
            #expect(seen == "42[\"echo-back\",1]\u{1e}431[\"a\"]|")
        }
    }

    @Test func httpErrorsAndCORS() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { _, port in
            let http = PollingClient(port: port)
            let badVersion = try await http.request("/socket.io/?EIO=3&transport=polling")
            #expect(badVersion.status == 400)
            #expect(badVersion.body == #"{"code":5,"message":"Unsupported protocol version"}"#)
            #expect(try await http.request("/socket.io/?EIO=4&transport=carrier-pigeon").body == #"{"code":0,"message":"Transport unknown"}"#)
            #expect(try await http.request("/socket.io/?EIO=4&transport=polling", method: .POST, body: "x").body
                == #"{"code":2,"message":"Bad handshake method"}"#)
            let unknown = try await http.request("/socket.io/?EIO=4&transport=polling&sid=nope")
            #expect(unknown.status == 400)
            #expect(unknown.body == #"{"code":1,"message":"Session ID unknown"}"#)
            #expect(unknown.headers["Content-Type"] == "application/json")

            let cors = try await http.request("/socket.io/?EIO=4&transport=polling", headers: ["Origin": "http://example.test"])
            #expect(cors.headers["Access-Control-Allow-Origin"] == "http://example.test")
            #expect(cors.headers["Access-Control-Allow-Credentials"] == "true")
            let preflight = try await http.request(
                "/socket.io/?EIO=4&transport=polling", method: .OPTIONS,
                headers: ["Origin": "http://example.test", "Access-Control-Request-Headers": "content-type"])
            #expect(preflight.status == 200)
            #expect(preflight.headers["Access-Control-Allow-Methods"] == "OPTIONS, GET, POST")
            #expect(preflight.headers["Access-Control-Allow-Headers"] == "content-type")
            #expect(try await http.request("/elsewhere").status == 404)
        }
    }

    @Test func unknownNamespaceAndRefusedConnection() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log)]) { _, port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/socket.io/?EIO=4&transport=polling").sid)
            let path = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
            _ = try await http.request(path, method: .POST, body: "40/nope,")
            #expect(try await http.request(path).body == #"44/nope,{"message":"Invalid namespace"}"#)
            _ = try await http.request(path, method: .POST, body: #"40{"refuse":true}"#)
            #expect(try await http.request(path).body == #"44{"message":"Not authorized","data":{"why":"refuse"}}"#)
            // The session survives refusals: a plain CONNECT still works.
            _ = try await http.request(path, method: .POST, body: "40")
            #expect(try await http.request(path).body.hasPrefix(#"40{"sid":""#))
        }
    }

    @Test func serverDisconnectBroadcastExceptAndObserver() async throws {
        let log = AsyncEventLog<ServerEvent>()
        let observed = AsyncEventLog<String>()
        try await withLiveSocketIOServer(
            namespaces: [interopNamespace(log: log)],
            packetObserver: { connection, packet in observed.append(SocketIOCodec.encodeText(packet)) }
        ) { server, port in
            let http = PollingClient(port: port)
            var paths: [String] = []
            var socketIDs: [String] = []
            for _ in 0..<2 {
                let sid = try #require(try await http.request("/socket.io/?EIO=4&transport=polling").sid)
                let path = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
                _ = try await http.request(path, method: .POST, body: "40")
                _ = try await http.request(path)
                paths.append(path)
                guard case .connected(_, let socket) = try await log.next("a connection") else { Issue.record(); return }
                socketIDs.append(socket)
            }
            server.broadcast("news", ["hi"], except: socketIDs[0])
            server.broadcast("news", ["all"])
            #expect(try await http.request(paths[0]).body == #"42["news","all"]"#)
            #expect(try await http.request(paths[1]).body == "42[\"news\",\"hi\"]\u{1e}42[\"news\",\"all\"]")

            _ = try await http.request(paths[0], method: .POST, body: #"42["disconnect-me"]"#)
            #expect(try await http.request(paths[0]).body == "41")
            let gone = try await log.next("the server disconnect") { if case .disconnected = $0 { true } else { false } }
            #expect(gone == .disconnected(namespace: "/", socket: socketIDs[0], reason: .serverDisconnect))
            #expect(server.sockets().map(\.id) == [socketIDs[1]])
            #expect(Array(observed.all.prefix(3)) == ["0", "0", #"2["disconnect-me"]"#])
        }
    }

    @Test func broadcastDuringTheConnectHandlerReachesTheNewClient() async throws {
        let connecting = AsyncEventLog<String>()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        var namespace = SocketIONamespace("/")
        namespace.onConnect { socket, _ in
            connecting.append(socket.id)
            for await _ in release { break }  // hold the handler until the test has broadcast
        }
        try await withLiveSocketIOServer(namespaces: [namespace]) { server, port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/socket.io/?EIO=4&transport=polling").sid)
            let path = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
            _ = try await http.request(path, method: .POST, body: "40")
            let socketID = try await connecting.next("the connect handler to start")
            server.broadcast("news", ["early"])
            releaseContinuation.yield()
            let body = try await http.request(path).body
            #expect(body == "40{\"sid\":\"\(socketID)\"}\u{1e}42[\"news\",\"early\"]")
        }
    }

    @Test func silentClientsHitTheConnectTimeout() async throws {
        let log = AsyncEventLog<ServerEvent>()
        let configuration = SocketIOConfiguration(connectTimeout: .milliseconds(200))
        try await withLiveSocketIOServer(configuration: configuration, namespaces: [interopNamespace(log: log)]) { server, port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/socket.io/?EIO=4&transport=polling").sid)
            // The long poll is answered by the close packet, long before the first ping.
            #expect(try await http.request("/socket.io/?EIO=4&transport=polling&sid=\(sid)").body == "1")
            #expect(try await http.request("/socket.io/?EIO=4&transport=polling&sid=\(sid)").status == 400)
            #expect(server.engine.sessionCount == 0)
        }
    }

    /// A session's handler gets the messages of a POST in order, from the request's own task,
    /// then its end once and last, even when it closes the session while handling one (the
    /// close comes back to it, queued behind the messages, instead of deadlocking).
    @Test func aSessionHandlerGetsMessagesInOrderThenItsEndOnce() async throws {
        final class Recorder: EngineIOSessionHandler {
            let connection: EngineIOConnection
            let log: AsyncEventLog<String>
            private let done: AsyncStream<Void>
            private let finish: AsyncStream<Void>.Continuation

            init(_ connection: EngineIOConnection, log: AsyncEventLog<String>) {
                self.connection = connection
                self.log = log
                (done, finish) = AsyncStream.makeStream()
            }

            func received(_ payload: EngineIOPacket.Payload) {
                guard case .text(let text) = payload else { return log.append("binary") }
                log.append(text)
                if text == "stop" { connection.close() }
            }

            func closed() {
                log.append("closed")
                finish.finish()
            }

            func run() async {
                for await _ in done {}
            }
        }
        let log = AsyncEventLog<String>()
        let server = EngineIOServer(configuration: .init(path: "/engine.io/")) { Recorder($0, log: log) }
        try await withRunningEndpoint(server) { port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/engine.io/?EIO=4&transport=polling").sid)
            let path = "/engine.io/?EIO=4&transport=polling&sid=\(sid)"
            _ = try await http.request(path, method: .POST, body: "4a\u{1e}4b\u{1e}4stop\u{1e}4c")
            var seen: [String] = []
            for _ in 0..<5 { seen.append(try await log.next(timeout: .seconds(10))) }
            #expect(seen == ["a", "b", "stop", "c", "closed"])
            // Nothing after the end: the session is gone.
            #expect(try await http.request(path, method: .POST, body: "4late").status == 400)
            #expect(log.all.count == 5)
        }
    }

    @Test func rawEngineIOEchoNextToSocketIO() async throws {
        let echo = EngineIOServer(configuration: .init(path: "/engine.io/")) { connection in
            for await payload in connection.messages { connection.send(payload) }
        }
        try await withRunningEndpoint(echo) { port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/engine.io/?EIO=4&transport=polling").sid)
            let path = "/engine.io/?EIO=4&transport=polling&sid=\(sid)"
            _ = try await http.request(path, method: .POST, body: "4hello\u{1e}bAQIDBA==")
            #expect(try await http.request(path).body == "4hello\u{1e}bAQIDBA==")
            _ = try await http.request(path, method: .POST, body: "1")
            #expect(try await http.request(path).body == "6")
            #expect(try await http.request(path).status == 400)
        }
    }
}

/// Runs a lone Engine.IO endpoint (next to an empty Socket.IO server) on a free port.
private func withRunningEndpoint(_ endpoint: EngineIOServer, _ body: (Int) async throws -> Void) async throws {
    let io = SocketIOServer(namespaces: [SocketIONamespace()])
    let ports = AsyncEventLog<Int>()
    let app = io.application(
        configuration: .init(address: .hostname("127.0.0.1", port: 0)), additionalEndpoints: [endpoint],
        onServerRunning: { ports.append($0.localAddress?.port ?? -1) })
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        defer { group.cancelAll() }
        try await body(try await ports.next(timeout: .seconds(30)))
    }
}

/// Plain HTTP requests to the live server.
struct PollingClient {
    let port: Int

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String

        /// The sid of an Engine.IO handshake reply.
        var sid: String? {
            guard body.hasPrefix("0"), case .object(let object)? = try? JSONParser.parse(String(body.dropFirst())),
                  case .string(let sid)? = object["sid"]
            else { return nil }
            return sid
        }
    }

    func request(
        _ path: String, method: HTTPMethod = .GET, body: String? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "text/plain;charset=UTF-8")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name] = header.value }
        return Reply(status: Int(response.status.code), headers: fields, body: String(buffer: bytes))
    }
}
