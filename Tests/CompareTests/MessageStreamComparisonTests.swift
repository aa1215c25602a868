import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// What each client received from the primary against what the shadow would
/// have sent it: compared per session at each checkpoint.
@Suite struct MessageStreamComparisonTests {
    private func output(_ side: Side, _ session: String, _ name: String, _ payload: JSONValue? = nil) -> ComparatorInput {
        .output(SideOutput(side: side, sessionID: session, name: name, payload: payload))
    }

    /// One event whose messages differ; the states agree.
    private func check(
        primary: [(String, JSONValue?)], shadow: [(String, JSONValue?)], rules: ComparisonRules = .none
    ) async throws -> (Harness, [DivergenceEntry]) {
        let h = Harness(rules: rules)
        await h.send(.mirrored(h.event(1, "update_round", ["round": 2], session: "phone", role: "phone")))
        for (name, payload) in primary { await h.send(output(.primary, "observer", name, payload)) }
        for (name, payload) in shadow { await h.send(output(.shadow, "observer", name, payload)) }
        // A side that sent fewer messages may only be slow: judged at the longest delay.
        await h.settle(ComparatorConfiguration().maxCheckpointDelay)
        #expect(h.store.allComparisons.count == 1)
        return (h, h.store.allDivergences)
    }

    @Test func aMissingBroadcastDivergesEvenWhenTheStatesAgree() async throws {
        let (h, divergences) = try await check(
            primary: [("round_update", ["round": 2]), ("game_state_update", ["current_round": 1])],
            shadow: [("game_state_update", ["current_round": 1])])
        let d = try #require(divergences.first)
        #expect(divergences.count == 1)
        #expect(d.source == .stream && d.sessionID == "observer" && d.path == "stream:round_update")
        #expect(d.kind == "missing" && d.primaryValue == ["round": 2] && d.shadowValue == nil)
        #expect(d.sequence == 1 && d.blame == .event && d.classification == .unexpected)
        #expect(d.detail == "primary message #1 of 2; the shadow sent 1")
        #expect(h.store.allComparisons.first?.outcome == .unexpected)
    }

    @Test func aSideThatOwesMessagesIsWaitedForPastTheSettleWindow() async throws {
        // Given an event the primary answered and the (slow) shadow not yet
        let h = Harness()
        await h.send(.mirrored(h.event(1, "update_round", ["round": 2], session: "phone", role: "phone")))
        await h.send(output(.primary, "observer", "round_update", ["round": 2]))
        // When the settle window passes: nothing is judged, the shadow still owes a message
        await h.settle()
        #expect(h.store.allComparisons.isEmpty)
        // Then its message comes and the next quiet spell compares it, clean
        await h.send(output(.shadow, "observer", "round_update", ["round": 2]))
        await h.settle()
        #expect(h.store.allComparisons.map(\.outcome) == [.clean])
    }

    @Test func anEventWhoseAckIsOwedIsWaitedForPastTheSettleWindow() async throws {
        let h = Harness()
        var event = h.event(1, "start_game", nil)
        event.expectsAck = true
        await h.send(.mirrored(event))
        await h.send(.output(.ack(side: .primary, sessionID: event.sessionID, sequence: 1, payload: ["ok": true])))
        await h.settle()
        #expect(h.store.allComparisons.isEmpty)
        await h.send(.output(.ack(side: .shadow, sessionID: event.sessionID, sequence: 1, payload: ["ok": true])))
        #expect(h.store.allComparisons.map(\.outcome) == [.clean])
    }

    @Test func anExtraMessageDiverges() async throws {
        let (_, divergences) = try await check(
            primary: [("game_state_update", ["a": 1])],
            shadow: [("game_state_update", ["a": 1]), ("timer_update", ["status": "running"])])
        #expect(divergences.map(\.kind) == ["extra"])
        #expect(divergences.first?.path == "stream:timer_update")
        #expect(divergences.first?.shadowValue == ["status": "running"])
    }

    @Test func reorderedMessagesDiverge() async throws {
        let (_, divergences) = try await check(
            primary: [("round_update", ["round": 2]), ("game_phase_update", ["phase": "x"])],
            shadow: [("game_phase_update", ["phase": "x"]), ("round_update", ["round": 2])])
        #expect(divergences.map(\.kind) == ["reordered"])
    }

    @Test func aPayloadDifferenceIsListedByPointer() async throws {
        let (_, divergences) = try await check(
            primary: [("timer_update", ["status": "running", "seconds": 3])],
            shadow: [("timer_update", ["status": "paused", "seconds": 3])])
        #expect(divergences.map(\.path) == ["stream:timer_update/status"])
        #expect(divergences.first?.primaryValue == "running" && divergences.first?.shadowValue == "paused")
    }

    @Test func ignoredEventsAreCountedNotReported() async throws {
        // The engine answers bad input with an `error` event the legacy never sends.
        let (h, divergences) = try await check(
            primary: [], shadow: [("error", ["code": "INVALID_STATE"])], rules: ComparisonRules(ignoreEvents: ["error"]))
        #expect(divergences.isEmpty)
        #expect(h.store.allComparisons.first?.ignoredCount == 1)
        #expect(h.store.allComparisons.first?.outcome == .clean)
        // Without the rule it is an extra message.
        let (_, strict) = try await check(primary: [], shadow: [("error", ["code": "INVALID_STATE"])])
        #expect(strict.map(\.kind) == ["extra"])
    }

    @Test func theSameDifferenceOnSeveralSessionsIsListedOnce() async throws {
        let h = Harness()
        await h.send(.mirrored(h.event(1, "update_round", ["round": 2], session: "phone", role: "phone")))
        for session in ["a", "b", "c"] {
            await h.send(output(.primary, session, "round_update", ["round": 2]))
        }
        await h.settle(ComparatorConfiguration().maxCheckpointDelay)
        let divergences = h.store.allDivergences
        #expect(divergences.count == 1)
        #expect(divergences.first?.detail?.hasSuffix("on 3 sessions (a, b, c)") == true)
    }

    @Test func aBroadcastRepeatingAStateDifferenceIsNotListedTwice() async throws {
        // Given a shadow that gets cp wrong and broadcasts its state
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2),
                     shadow: set("/player1/cp", 3), broadcastTo: ["pi", "phone1"])
        // Then the state difference is listed once, not again for each broadcast
        #expect(h.store.allDivergences.map(\.path) == ["/player1/cp"])
    }

    @Test func acksAreComparedByEvent() async throws {
        let h = Harness()
        let event = h.event(1, "start_game")
        await h.send(.mirrored(event))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        await h.send(.output(.ack(side: .shadow, sessionID: "pi", sequence: 1, payload: ["ok": false, "error": "no first player"])))
        let paths = h.store.allDivergences.map(\.path)
        #expect(paths == ["ack:start_game/ok", "ack:start_game/error"])
        #expect(h.store.allDivergences.allSatisfy { $0.source == .ack && $0.sequence == 1 })

        // A missing ack shows once the settle window passed without it
        await h.send(.mirrored(h.event(2, "start_game")))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 2, payload: ["ok": true])))
        await h.settle()
        #expect(h.store.allDivergences.last?.path == "ack:start_game")
        #expect(h.store.allDivergences.last?.kind == "missing")
    }

    @Test func aCheckpointWaitsForTheOtherSidesMessages() async throws {
        // Both sides acked, but only the primary's broadcast to another client arrived yet
        let h = Harness()
        await h.send(.mirrored(h.event(1, "start_game")))
        await h.send(output(.primary, "phone", "game_state_update", ["x": 1]))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 1)))
        await h.send(.output(.ack(side: .shadow, sessionID: "pi", sequence: 1)))
        #expect(h.store.allComparisons.isEmpty)
        // When the shadow's arrives, the checkpoint happens at once, clean
        await h.send(output(.shadow, "phone", "game_state_update", ["x": 1]))
        #expect(h.store.allComparisons.map(\.outcome) == [.clean])
    }

    @Test func aLateBroadcastOfADivergentEventIsBlamedOnThatEvent() async throws {
        // Given an event the shadow gets wrong, judged as soon as its sender's copies and acks
        // are in: the observer's copy of the broadcast has not come yet
        let h = Harness()
        let defect = h.event(1, "increment_cp", ["player_id": 1, "action": "add"], session: "phone", role: "phone")
        await h.play(defect, primary: set("/player1/cp", 2), shadow: set("/player1/cp", 3), broadcastTo: ["phone"])
        #expect(h.store.allComparisons.map(\.outcome) == [.unexpected])
        #expect(h.shadow.loads.count == 1)  // resynced: the next event is judged on its own
        var staleShadow = h.primary.document  // what the shadow broadcast before the resync
        _ = staleShadow.set(3, at: JSONPointer("/player1/cp")!)
        let stale = (primary: h.primary.document, shadow: staleShadow)
        // When the observer's late copies arrive with the next event, which cannot write the cp
        await h.send(output(.primary, "observer", "game_state_update", stale.primary))
        await h.send(output(.shadow, "observer", "game_state_update", stale.shadow))
        await h.play(h.event(2, "end_turn", ["player_id": 1], session: "phone", role: "phone"), primary: nothing,
                     broadcastTo: ["phone", "observer"])
        // Then the repeated difference is recorded against event 1, and event 2 is clean
        #expect(h.store.allComparisons.map(\.outcome) == [.unexpected, .clean])
        let late = try #require(h.store.allDivergences.first { $0.source == .stream })
        #expect(Set(h.store.allDivergences.map(\.sequence)) == [1])
        #expect(late.path == "stream:game_state_update/player1/cp" && late.sessionID == "observer")
        #expect(late.primaryValue == 2 && late.shadowValue == 3 && late.classification == .unexpected)
        #expect(late.detail?.contains("a late message of event 1") == true)
        #expect(h.shadow.loads.count == 1)  // no second resync for it
    }

    @Test func aLateLookingDifferenceWithOtherValuesIsTheNewEventsOwn() async throws {
        let h = Harness()
        let defect = h.event(1, "increment_cp", ["player_id": 1, "action": "add"], session: "phone", role: "phone")
        await h.play(defect, primary: set("/player1/cp", 2), shadow: set("/player1/cp", 3), broadcastTo: ["phone"])
        // The next event's broadcast differs at the same path, with other values: its own divergence
        await h.send(.mirrored(h.event(2, "end_turn", ["player_id": 1], session: "phone", role: "phone")))
        var wrong = h.shadow.document
        _ = wrong.set(5, at: JSONPointer("/player1/cp")!)
        await h.send(output(.primary, "phone", "game_state_update", h.primary.document))
        await h.send(output(.shadow, "phone", "game_state_update", wrong))
        await h.settle()
        #expect(h.store.allComparisons.map(\.outcome) == [.unexpected, .unexpected])
        let own = try #require(h.store.allDivergences.first { $0.source == .stream })
        #expect(own.sequence == 2 && own.primaryValue == 2 && own.shadowValue == 5)
    }

    /// Under continuous traffic (never a quiet spell, events without acks, as in a busy game
    /// or a benchmark) the comparator still compares every few events, at moments when every
    /// session got as many messages from each side: each event's broadcast is then judged
    /// whole, and a side that sends its broadcast later (here the shadow, 21 ms after the
    /// primary, while the next events keep coming) never shifts one session's messages
    /// against the other's. (Comparing only at the longest delay, whatever was received by
    /// then, cut a broadcast in two: the rest of it paired with the next event's messages in
    /// every later checkpoint, each a false divergence.)
    @Test func continuousTrafficIsComparedBetweenBroadcastsAndNeverShiftsTheStreams() async throws {
        var configuration = ComparatorConfiguration(reconciliationInterval: nil)
        configuration.minCheckpointInterval = .milliseconds(50)
        let h = Harness(configuration: configuration)
        let sessions = ["a", "b", "c"]
        for k in 1...120 {  // one event every 30 ms for 3.6 s: never a 150 ms quiet spell
            await h.send(.mirrored(h.event(Int64(k), "update_score",
                ["player_id": 1, "score_type": "primary", "value": .int(k)], session: "a", role: "phone")))
            h.primary.change(set("/player1/primary_score", .int(k)))
            h.shadow.change(set("/player1/primary_score", .int(k)))
            h.clock.advance(by: .milliseconds(5))
            for session in sessions {
                await h.send(output(.primary, session, "game_state_update", h.primary.document))
            }
            h.clock.advance(by: .milliseconds(16))
            for session in sessions {
                await h.send(output(.shadow, session, "game_state_update", h.shadow.document))
            }
            h.clock.advance(by: .milliseconds(9))
        }
        await h.settle()

        let comparisons = h.store.allComparisons
        #expect(h.store.allDivergences.isEmpty)
        #expect(comparisons.allSatisfy { $0.outcome == .clean && !$0.resynced })
        // Every event compared, in ranges of a few events (not one range per 2 s).
        #expect(comparisons.last?.lastSequence == 120)
        #expect(comparisons.count >= 20)
        #expect(h.shadow.loads.isEmpty)
    }

    /// A resync drops the messages of its stretch only once every session got as many from
    /// each side: a message still on its way from one side would otherwise land in the next
    /// stretch without its pair, and be judged against the next event's.
    @Test func aResyncWaitsForTheSidesMessagesToBalanceBeforeDroppingThem() async throws {
        let h = Harness()
        // The primary told session "a" something; the shadow's copy is still on its way when
        // a gap calls for a resync.
        await h.send(output(.primary, "a", "game_state_update", h.primary.document))
        await h.send(.gap(MirrorGap(fromSequence: 1, toSequence: 1, count: 1, time: epoch)))
        await h.settle()
        #expect(h.shadow.loads.isEmpty, "the resync waits for the shadow's message")
        await h.send(output(.shadow, "a", "game_state_update", h.shadow.document))
        await h.settle()
        #expect(h.shadow.loads.count == 1)

        // Then the next event's messages pair with each other, and it is compared clean.
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2),
                     broadcastTo: ["a"])
        await h.settle(ComparatorConfiguration().maxCheckpointDelay)
        #expect(h.store.allDivergences.isEmpty)
        #expect(h.store.allComparisons.map(\.kind) == [.resync, .event])
        #expect(h.store.allComparisons.last?.outcome == .clean)
    }
}
