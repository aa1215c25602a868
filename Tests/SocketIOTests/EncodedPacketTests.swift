import JSONValue
import NIOHTTP1
import SocketIOProtocol
import SocketIOServer
import StateTeeTesting
import Testing

/// ``SocketIOEncodedPacket``: encoded once, sent as the bytes a per-socket encode would give.
@Suite(.timeLimit(.minutes(1)))
struct EncodedPacketTests {
    static let packets: [SocketIOPacket] = [
        .event("game_state_update", [["player1": ["name": "é ✓ \u{1F600}", "score": 12, "time": 1.5], "round": .null]]),
        .event("news", ["a \"quoted\" \\ line\nbreak"], namespace: "/custom"),
        .event("empty", []),
        .event("big", [.bigInt("123456789012345678901234567890"), -0.0, 1e300]),
        .event("binary", [SocketIOPacket.placeholder(0), ["x": SocketIOPacket.placeholder(1)]], attachments: [[1, 2, 3], [0xAA]]),
        .ack([["ok": true]], id: 7),
    ]

    @Test(arguments: packets)
    func bytesAreThoseOfAPerSocketEncode(packet: SocketIOPacket) {
        let encoded = SocketIOEncodedPacket(packet)
        let payloads = SocketIOCodec.encode(packet)
        #expect(encoded.payloads == payloads)
        #expect(encoded.webSocketMessages == payloads.map { EngineIOCodec.encodeWebSocket(EngineIOPacket(kind: .message, payload: $0)) })
        #expect(encoded.namespace == packet.namespace)
        #expect(encoded.packet == packet)
    }

    @Test func eventIsTheEventPacketEncoded() {
        let encoded = SocketIOEncodedPacket.event("news", ["hi", 1], namespace: "/custom")
        #expect(encoded == SocketIOEncodedPacket(.event("news", ["hi", 1], namespace: "/custom")))
        #expect(encoded.webSocketMessages == [.text(#"42/custom,["news","hi",1]"#)])
    }

    /// Long-polling replies carry the encoded payloads; a packet encoded for another namespace is
    /// encoded again for the socket's own.
    @Test func pollingClientsGetEncodedPacketsInTheirNamespace() async throws {
        let log = AsyncEventLog<ServerEvent>()
        try await withLiveSocketIOServer(namespaces: [interopNamespace(log: log), interopNamespace("/custom", log: log)]) {
            server, port in
            let http = PollingClient(port: port)
            let sid = try #require(try await http.request("/socket.io/?EIO=4&transport=polling").sid)
            let path = "/socket.io/?EIO=4&transport=polling&sid=\(sid)"
            _ = try await http.request(path, method: .POST, body: "40/custom,")
            _ = try await http.request(path)  // CONNECT answer and welcome
            _ = try await log.next("the connection") { if case .connected = $0 { true } else { false } }
            let socket = try #require(server.sockets(in: "/custom").first)

            socket.send(SocketIOEncodedPacket.event("news", ["for /"]))
            socket.send(SocketIOEncodedPacket.event("news", ["for /custom"], namespace: "/custom"))
            server.broadcast(.event("news", ["broadcast"], namespace: "/custom"))
            server.broadcast(.event("news", ["not for /custom"]))
            #expect(
                try await http.request(path).body
                    == "42/custom,[\"news\",\"for /\"]\u{1e}42/custom,[\"news\",\"for /custom\"]\u{1e}42/custom,[\"news\",\"broadcast\"]")
        }
    }
}
