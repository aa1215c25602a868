import Testing

@testable import Tee

@Suite struct AckMapTests {
    @Test func mapsLegIDsBackToClientIDs() {
        var map = AckMap()
        let a = map.outbound(clientID: 7)
        let b = map.outbound(clientID: 7)  // a client may reuse an id: each send gets its own leg id
        let c = map.outbound(clientID: 0)
        #expect(Set([a, b, c]).count == 3)
        #expect(map.pendingCount == 3)
        #expect(map.inbound(legID: b) == 7)
        #expect(map.inbound(legID: b) == nil)  // a duplicate ack is dropped
        #expect(map.inbound(legID: c) == 0)
        #expect(map.inbound(legID: a) == 7)
        #expect(map.pendingCount == 0)
    }

    @Test func unknownAckIDsMapToNothing() {
        var map = AckMap()
        #expect(map.inbound(legID: 0) == nil)
        _ = map.outbound(clientID: 3)
        #expect(map.inbound(legID: 12345) == nil)
        #expect(map.pendingCount == 1)
    }

    @Test func eachLegRemapsIndependently() {
        var primary = AckMap()
        var shadow = AckMap()
        _ = primary.outbound(clientID: 1)
        let primaryID = primary.outbound(clientID: 2)
        let shadowID = shadow.outbound(clientID: 2)
        #expect(primaryID != shadowID)
        #expect(shadow.inbound(legID: shadowID) == 2)
        #expect(primary.inbound(legID: primaryID) == 2)
    }

    @Test func remembersTheSequenceOfTheEventAnAckAnswers() {
        var map = AckMap()
        let early = map.outbound(clientID: 4, sequence: 17)
        let late = map.outbound(clientID: 5)  // the primary's: the sequence is known after the send
        map.setSequence(18, forLegID: late)
        map.setSequence(99, forLegID: 12345)  // unknown ids are ignored
        #expect(map.inboundEntry(legID: late) == AckMap.Entry(clientID: 5, sequence: 18))
        #expect(map.inboundEntry(legID: early) == AckMap.Entry(clientID: 4, sequence: 17))
        #expect(map.pendingCount == 0)
    }

    @Test func resetReturnsTheUnansweredClientIDsInSendOrder() {
        var map = AckMap()
        _ = map.outbound(clientID: 5)
        let answered = map.outbound(clientID: 6)
        _ = map.outbound(clientID: 9)
        _ = map.inbound(legID: answered)
        #expect(map.reset() == [5, 9])
        #expect(map.pendingCount == 0)
    }
}
