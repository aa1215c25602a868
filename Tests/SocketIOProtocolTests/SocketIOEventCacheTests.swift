import JSONValue
import Testing

@testable import SocketIOProtocol

@Suite struct SocketIOEventCacheTests {
    @Test func theSameTextIsDecodedOnceForEveryDecoderSharingTheCache() throws {
        let cache = SocketIOEventCache()
        let text = #"2["game_state_update",{"round":3,"names":["Ada","Zo\u00eb"]}]"#
        var first = SocketIODecoder()
        var second = SocketIODecoder()
        let decoded = try first.decode(.text(text), cache: cache)
        #expect(decoded == .event("game_state_update", [["round": 3, "names": ["Ada", "Zoë"]]]))
        #expect(try second.decode(.text(text), cache: cache) == decoded)
        #expect(try first.decode(.text(text), cache: cache) == decoded)
        #expect(cache.statistics == (hits: 2, misses: 1))
    }

    @Test func onlyTheSameBytesHit() throws {
        let cache = SocketIOEventCache()
        var decoder = SocketIODecoder()
        // Canonically equivalent (é precomposed, then e + combining acute) but other bytes:
        // `String ==` calls them equal, the cache must not.
        let composed = "2[\"n\",\"caf\u{E9}\"]"
        let decomposed = "2[\"n\",\"cafe\u{301}\"]"
        #expect(composed == decomposed)
        _ = try decoder.decode(.text(composed), cache: cache)
        let other = try decoder.decode(.text(decomposed), cache: cache)
        #expect(other?.eventArguments == [.string("cafe\u{301}")])
        #expect(other?.eventArguments.first?.stringValue?.utf8.count == 6)
        #expect(cache.statistics == (hits: 0, misses: 2))
        // Another event of the same length.
        _ = try decoder.decode(.text(#"2["n",1]"#), cache: cache)
        #expect(try decoder.decode(.text(#"2["n",2]"#), cache: cache) == .event("n", [2]))
    }

    @Test func acksBinaryPacketsAndOtherKindsAreNotKept() throws {
        let cache = SocketIOEventCache()
        var decoder = SocketIODecoder()
        #expect(try decoder.decode(.text(#"31["ok"]"#), cache: cache) == .ack(["ok"], id: 1))
        #expect(try decoder.decode(.text(#"31["ok"]"#), cache: cache) == .ack(["ok"], id: 1))
        #expect(try decoder.decode(.text("0"), cache: cache) == .connect())
        #expect(try decoder.decode(.text(#"51-["up",{"_placeholder":true,"num":0}]"#), cache: cache) == nil)
        #expect(try decoder.decode(.binary([7]), cache: cache)?.attachments == [[7]])
        #expect(cache.statistics == (hits: 0, misses: 0))
    }

    @Test func aTextEventWhileAttachmentsAreAwaitedIsStillAnError() throws {
        let cache = SocketIOEventCache()
        var decoder = SocketIODecoder()
        let text = #"2["a",1]"#
        _ = try decoder.decode(.text(text), cache: cache)
        #expect(try decoder.decode(.text(#"51-["up",{"_placeholder":true,"num":0}]"#), cache: cache) == nil)
        #expect(throws: ProtocolError.missingAttachments) { try decoder.decode(.text(text), cache: cache) }
    }

    @Test func malformedTextIsNotKept() throws {
        let cache = SocketIOEventCache()
        var decoder = SocketIODecoder()
        for _ in 0..<2 {
            #expect(throws: ProtocolError.self) { try decoder.decode(.text(#"2["a","#), cache: cache) }
        }
        #expect(cache.statistics == (hits: 0, misses: 2))
    }

    @Test func theOldestTextMakesRoomOnceFull() throws {
        let cache = SocketIOEventCache(capacity: 2)
        var decoder = SocketIODecoder()
        for n in 1...3 { _ = try decoder.decode(.text("2[\"n\",\(n)]"), cache: cache) }
        #expect(cache.packet(for: #"2["n",1]"#) == nil)
        #expect(cache.packet(for: #"2["n",2]"#) == .event("n", [2]))
        #expect(cache.packet(for: #"2["n",3]"#) == .event("n", [3]))
    }
}
