import Engine
import HTTPTypes
import Hummingbird
import JSONValue
import NIOCore
import ScorerState
import SocketIOProtocol
import Storage
import Synchronization
import Testing

/// The engine embedded in another process: Socket.IO sessions as packets.
@Suite struct EmbeddedEngineTests {
    final class Inbox: Sendable {
        private let packets = Mutex<[SocketIOPacket]>([])
        var all: [SocketIOPacket] { packets.withLock { $0 } }
        var deliver: @Sendable (SocketIOPacket) -> Void { { packet in self.packets.withLock { $0.append(packet) } } }
        var events: [String] { all.compactMap(\.eventName) }
    }

    func makeEmbedded(_ configuration: EngineConfiguration = EngineConfiguration(rateLimit: 0)) async throws
        -> EmbeddedEngine
    {
        let engine = try await ScorerEngine(
            configuration: configuration.with(dice: .scripted(setUpDice)), store: EngineStore.inMemory(),
            clock: ManualClock().engineClock)
        return await EmbeddedEngine(engine: engine)
    }

    @Test func sessionsGetTheLegacyEmissionsAsPackets() async throws {
        let embedded = try await makeEmbedded()
        let pi = Inbox(), phone = Inbox()
        let piSession = await embedded.openSession(auth: nil, deliver: pi.deliver)
        let phoneSession = await embedded.openSession(auth: ["token": "x"], deliver: phone.deliver)
        #expect(embedded.sessionCount == 2)

        // CONNECT answer with the sid, then the connect-time state, to that session only.
        #expect(pi.all.first?.kind == .connect)
        #expect(pi.all.first?.data?["sid"] == .string(piSession.id))
        #expect(pi.events == ["game_state_update"])
        #expect(phone.events == ["game_state_update"])

        // A Pi event with an ack id: broadcast to both, then the ack to the sender.
        await piSession.receive(.event("start_new_game", [], namespace: "/", id: 7))
        #expect(pi.events == ["game_state_update", "game_state_update"])
        #expect(phone.events == ["game_state_update", "game_state_update"])
        let ack = try #require(pi.all.last)
        #expect(ack.kind == .ack && ack.id == 7 && ack.data == [["ok": true]])

        // A reply goes to the requester only; bad input gets an error to the sender only.
        await phoneSession.receive(.event("request_game_state", [], namespace: "/"))
        await phoneSession.receive(.event("update_score", ["nope"], namespace: "/"))
        #expect(phone.events.suffix(2) == ["game_state_update", "error"])
        #expect(pi.events.count == 2)

        #expect(await embedded.currentState()["game_phase"] == "name_entry")
        try await embedded.loadState(ScorerGame.defaultDocument.settingPhase("game_over"))
        #expect(await embedded.currentState()["game_phase"] == "game_over")

        // DISCONNECT closes the session: no more deliveries.
        await phoneSession.receive(.disconnect(namespace: "/"))
        #expect(embedded.sessionCount == 1)
        let delivered = phone.all.count
        await piSession.receive(.event("start_new_game", [], namespace: "/", id: 8))
        #expect(phone.all.count == delivered)
        await phoneSession.close()  // idempotent
        await piSession.close()
        #expect(embedded.sessionCount == 0)
    }

    @Test func pagesAreAnsweredWithoutARouter() async throws {
        let embedded = try await makeEmbedded(
            EngineConfiguration(staticDirectory: Processes.root + "/fixtures/legacy-server/static", rateLimit: 0))
        func get(_ path: String, method: HTTPRequest.Method = .get) async -> (Int, String) {
            let request = Request(
                head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path),
                body: RequestBody(buffer: ByteBuffer()))
            var response = await embedded.respond(to: request)
            var text = ""
            _ = try? await response.body.write(CollectingWriter { text += String(buffer: $0) })
            response.body = ResponseBody()
            return (response.status.code, text)
        }
        var (status, body) = await get("/player/2")
        #expect(status == 200 && body.contains(#"data-player-id="2""#))
        (status, body) = await get("/player/7")
        #expect(status == 404 && body == "Invalid Player ID")
        (status, body) = await get("/")
        #expect(status == 200 && body.contains("<html"))
        (status, _) = await get("/app.css")
        #expect(status == 200)
        (status, _) = await get("/vendor/../../server.py")
        #expect(status == 404)
        (status, _) = await get("/%2e%2e/server.py")
        #expect(status == 404)
        (status, _) = await get("/", method: .post)
        #expect(status == 405)
    }
}

/// Collects a response body.
struct CollectingWriter: ResponseBodyWriter {
    let collect: (ByteBuffer) -> Void

    init(_ collect: @escaping (ByteBuffer) -> Void) { self.collect = collect }

    mutating func write(_ buffer: ByteBuffer) async throws { collect(buffer) }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
