import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

@Suite struct ComparatorTests {
    @Test func aCleanRunComparesEachEventOnceBothSidesProcessedIt() async throws {
        // Given a comparator and two sides that agree
        let h = Harness()

        // When three events are played, each acked by both sides
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.play(h.event(2, "update_score", ["player_id": 2, "score_type": "primary", "value": 5]),
                     primary: set("/player2/primary_score", 5))
        await h.play(h.event(3, "end_turn", ["player_id": 1]), primary: set("/current_round", 2))

        // Then each event was compared on its own, at once (no time passed), and found clean
        let comparisons = h.store.allComparisons
        #expect(comparisons.map(\.kind) == [.event, .event, .event])
        #expect(comparisons.map(\.firstSequence) == [1, 2, 3])
        #expect(comparisons.allSatisfy { $0.outcome == .clean && !$0.resynced })
        #expect(comparisons.allSatisfy { $0.cleanCount == 3 })  // the state, one aligned message, one ack
        #expect(h.store.allDivergences.isEmpty)
        #expect(h.store.allEvents.map(\.sequence) == [1, 2, 3])
        #expect(h.shadow.loads.isEmpty)
        let readiness = await h.comparator.readiness()
        #expect(readiness.consecutiveClean == 3)
        #expect(!readiness.ready)  // 50 needed by default, and a full game
    }

    @Test func underHeavyTrafficCheckpointsStartAtMostOncePerInterval() async throws {
        // Given a comparator that starts checkpoints at most every 50 ms
        var configuration = ComparatorConfiguration(reconciliationInterval: nil)
        configuration.minCheckpointInterval = .milliseconds(50)
        let h = Harness(configuration: configuration)

        // When three events are answered at once, one after the other
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.play(h.event(2, "update_score", ["player_id": 2, "score_type": "primary", "value": 5]),
                     primary: set("/player2/primary_score", 5))
        await h.play(h.event(3, "end_turn", ["player_id": 1]), primary: set("/current_round", 2))

        // Then the first is compared at once, the next two together once the interval passed
        #expect(h.store.allComparisons.map(\.kind) == [.event])
        #expect(await h.comparator.nextDeadline() == h.now.advanced(by: .milliseconds(50)))
        h.clock.advance(by: .milliseconds(50))
        await h.comparator.tick(at: h.clock.now)
        #expect(h.store.allComparisons.map(\.kind) == [.event, .range])
        #expect(h.store.allComparisons.last?.firstSequence == 2 && h.store.allComparisons.last?.lastSequence == 3)
        #expect(h.store.allComparisons.allSatisfy { $0.outcome == .clean })
    }

    @Test func aDivergenceIsTiedToItsEventAndTheShadowIsResynced() async throws {
        // Given a clean first event
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))

        // When the shadow gets the second event wrong
        let second = h.event(2, "increment_cp", ["player_id": 2, "action": "add"], session: "phone2", role: "phone")
        await h.play(second, primary: set("/player2/cp", 2), shadow: set("/player2/cp", 3), broadcastTo: [])

        // Then exactly that event carries the divergence, with both values
        let divergences = h.store.allDivergences
        #expect(divergences.count == 1)
        let d = try #require(divergences.first)
        #expect(d.sequence == 2 && d.blame == .event && d.source == .state)
        #expect(d.path == "/player2/cp" && d.kind == "changed")
        #expect(d.primaryValue == 2 && d.shadowValue == 3 && d.classification == .unexpected)
        let comparison = try #require(h.store.allComparisons.last)
        #expect(comparison.kind == .event && comparison.firstSequence == 2 && comparison.unexpectedCount == 1)
        #expect(comparison.resynced)
        // and the shadow holds the primary's state again
        #expect(h.shadow.loads.count == 1)
        #expect(h.shadow.document == h.primary.document)
        #expect(h.shadow.loadReasons.first?.contains("event 2") == true)
        #expect(await h.comparator.readiness().consecutiveClean == 0)

        // When the next event is handled alike by both
        await h.play(h.event(3, "increment_cp", ["player_id": 2, "action": "add"]), primary: set("/player2/cp", 3))

        // Then it is judged on its own: clean
        #expect(h.store.allComparisons.last?.outcome == .clean)
        #expect(h.store.allDivergences.count == 1)
        #expect(await h.comparator.readiness().consecutiveClean == 1)
    }

    @Test func eventsWithinTheSettleWindowAreOneRangeAndEachDifferenceIsBlamed() async throws {
        // Given events without any visible answer (no ack, no broadcast), 50 ms apart
        let h = Harness()
        await h.send(.mirrored(h.event(1, "update_score", ["player_id": 2, "score_type": "primary", "value": 4],
                                       session: "p2", role: "phone")))
        h.primary.change(set("/player2/primary_score", 4))
        h.shadow.change(set("/player2/primary_score", 4))
        h.clock.advance(by: .milliseconds(50))
        await h.send(.mirrored(h.event(2, "increment_cp", ["player_id": 1, "action": "add"], session: "p1", role: "phone")))
        h.primary.change(set("/player1/cp", 2))
        h.shadow.change(set("/player1/cp", 5))  // the shadow's bug
        h.shadow.change(set("/current_round", 7))  // no event writes this
        h.clock.advance(by: .milliseconds(100))
        await h.comparator.tick(at: h.now)
        #expect(h.store.allComparisons.isEmpty, "the window restarts with each event")

        // When the settle window passes after the last event
        await h.settle(.milliseconds(50))

        // Then both events were compared as one range
        let comparison = try #require(h.store.allComparisons.first)
        #expect(h.store.allComparisons.count == 1)
        #expect(comparison.kind == .range && comparison.firstSequence == 1 && comparison.lastSequence == 2)
        // the cp divergence is blamed on the event that can write it, the other on the range
        let byPath = Dictionary(uniqueKeysWithValues: h.store.allDivergences.map { ($0.path, $0) })
        #expect(byPath["/player1/cp"]?.sequence == 2)
        #expect(byPath["/player1/cp"]?.blame == .event)
        #expect(byPath["/current_round"]?.sequence == 1)
        #expect(byPath["/current_round"]?.blame == .range)
        #expect(comparison.resynced)
    }

    @Test func theEarliestEventThatCanWriteThePathIsBlamed() async throws {
        let h = Harness()
        await h.send(.mirrored(h.event(1, "increment_cp", ["player_id": 2, "action": "add"])))
        await h.send(.mirrored(h.event(2, "increment_cp", ["player_id": 1, "action": "add"])))
        await h.send(.mirrored(h.event(3, "increment_cp", ["player_id": 1, "action": "add"])))
        h.primary.change(set("/player1/cp", 3))
        h.shadow.change(set("/player1/cp", 4))
        await h.settle()
        // Event 1 names player 2, so it cannot write /player1/cp; event 2 is the earliest that can.
        #expect(h.store.allDivergences.map(\.sequence) == [2])
        #expect(h.store.allDivergences.first?.blame == .event)
    }

    @Test func diceAreAdoptedIntoTheShadow() async throws {
        // Given the default rules (which adopt the deployment rolls)
        let rules = try RulesFile.load(path: rulesPath(RulesFile.defaultPath))
        let h = Harness(rules: rules, state: scorerState(phase: "deployment_setup"))

        // When each side rolls its own die
        await h.play(h.event(1, "deployment_roll", ["player_id": 1]), primary: set("/player1/deployment_roll", 5),
                     shadow: set("/player1/deployment_roll", 2))
        await h.play(h.event(2, "deployment_roll", ["player_id": 2]),
                     primary: { set("/player2/deployment_roll", 3)(&$0); set("/deployment_initiative_winner_id", 1)(&$0) },
                     shadow: { set("/player2/deployment_roll", 6)(&$0); set("/deployment_initiative_winner_id", 2)(&$0) })

        // Then nothing diverges: the primary's outcomes were adopted, and the
        // shadow was patched so that it continues from them
        #expect(h.store.allDivergences.isEmpty)
        #expect(h.store.allComparisons.map(\.outcome) == [.clean, .clean])
        #expect(h.store.allComparisons.map(\.adoptedCount) == [1, 2])
        #expect(h.shadow.patches.count == 2)
        #expect(h.shadow.patches.first == [StatePatch(path: JSONPointer("/player1/deployment_roll")!, value: 5)])
        #expect(h.shadow.document["player2"]?["deployment_roll"] == 3)
        #expect(h.shadow.document["deployment_initiative_winner_id"] == 1)
        #expect(h.shadow.loads.isEmpty)
        // The broadcasts carried each side's own dice: adopted in the messages too.
        #expect(h.store.allComparisons.allSatisfy { $0.cleanCount == 3 })
    }

    @Test func aKnownDivergenceIsAcceptedAndReadinessIsStillReachable() async throws {
        // Given the Q1 example rules, a small gate, and a game
        var rules = try RulesFile.load(path: rulesPath("fixtures/rules/examples/q1-fixed.yaml"))
        rules.readiness = ReadinessSettings(minConsecutiveClean: 3, requireFullGame: true)
        let h = Harness(rules: rules, state: scorerState(phase: "setup"))

        // When a game is played in which a secondary score diverges as Q1 says
        await playShortGame(h)

        // Then the divergence is recorded as accepted, with its id and reason
        let accepted = h.store.allDivergences.filter { $0.classification == .accepted }
        #expect(accepted.map(\.path).sorted() == ["/player1/primary_score", "/player1/secondary_score"])
        #expect(accepted.allSatisfy { $0.knownID == "q1-fixed" && $0.reason?.contains("Q1") == true && $0.sequence == 2 })
        #expect(!h.store.allDivergences.contains { $0.classification == .unexpected })
        #expect(h.store.allComparisons.map(\.outcome) == [.clean, .accepted, .clean])
        // and the shadow took the primary's state, so the concede is judged on its own
        #expect(h.shadow.loads.count == 1)
        #expect(h.store.allComparisons[1].resynced)
        // and the gate opens: three clean comparisons in a row and a whole game
        let readiness = await h.comparator.readiness()
        #expect(readiness.ready, "\(readiness)")
        #expect(readiness.fullGamesObserved == 1)
        #expect(readiness.consecutiveClean == 3)
    }

    @Test func withoutTheKnownDeclarationTheSameGameIsNotReady() async throws {
        var rules = try RulesFile.load(path: rulesPath(RulesFile.defaultPath))
        rules.readiness = ReadinessSettings(minConsecutiveClean: 3, requireFullGame: true)
        let h = Harness(rules: rules, state: scorerState(phase: "setup"))
        await playShortGame(h)
        let unexpected = h.store.allDivergences.filter { $0.classification == .unexpected }
        #expect(unexpected.map(\.path).sorted() == ["/player1/primary_score", "/player1/secondary_score"])
        let readiness = await h.comparator.readiness()
        #expect(!readiness.ready)
        #expect(readiness.fullGamesObserved == 0)
        #expect(readiness.consecutiveClean == 1)
        #expect(readiness.reasons.contains("1 of 3 consecutive clean comparisons"))
        #expect(readiness.reasons.contains { $0.hasPrefix("no full game") })
    }

    /// start_new_game, a secondary update that the engine files under
    /// secondary_score (Q1 fixed), then a concede.
    private func playShortGame(_ h: Harness) async {
        await h.play(h.event(1, "start_new_game"), primary: set("/game_phase", "name_entry"))
        await h.play(
            h.event(2, "update_score", ["player_id": 1, "score_type": "secondary", "value": 7], session: "p1", role: "phone"),
            primary: { set("/player1/primary_score", 7)(&$0); set("/player1/total_score", 7)(&$0) },
            shadow: { set("/player1/secondary_score", 7)(&$0); set("/player1/total_score", 7)(&$0) },
            broadcastTo: [], ack: false)
        await h.settle()
        await h.play(h.event(3, "concede_game", ["player_id": 2], session: "p2", role: "phone"),
                     primary: set("/game_phase", "game_over"), broadcastTo: [], ack: false)
        await h.settle()
    }

    @Test func aGapResyncsTheShadowAndTheNextCheckpointIsNotJudged() async throws {
        // Given a clean event
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))

        // When events 2 and 3 are dropped from the mirror queue, then 4 arrives
        await h.send(.mirrored(h.event(2, "increment_cp", ["player_id": 1, "action": "add"], mirrored: false)))
        await h.send(.mirrored(h.event(3, "increment_cp", ["player_id": 1, "action": "add"], mirrored: false)))
        await h.send(.gap(MirrorGap(fromSequence: 2, toSequence: 3, count: 2, time: epoch)))
        h.primary.change(set("/player1/cp", 4))
        await h.play(h.event(4, "end_turn", ["player_id": 1]), primary: set("/current_round", 2))
        await h.settle()

        // Then the gap is stored, and the checkpoint reloaded the shadow without judging
        #expect(h.store.allGaps.map(\.count) == [2])
        let resync = try #require(h.store.allComparisons.last)
        #expect(resync.kind == .resync && resync.afterGap && resync.resynced)
        #expect(resync.firstSequence == 2 && resync.lastSequence == 4)
        #expect(resync.outcome == .unverified)
        #expect(h.store.allDivergences.isEmpty)
        #expect(h.shadow.document == h.primary.document)
        #expect(await h.comparator.readiness().consecutiveClean == 0)
        #expect(h.store.allEvents.map(\.sequence) == [1, 2, 3, 4])

        // When the next event comes, it is judged as usual
        await h.play(h.event(5, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 5))
        #expect(h.store.allComparisons.last?.kind == .event)
        #expect(h.store.allComparisons.last?.outcome == .clean)
        #expect(!(h.store.allComparisons.last?.afterGap ?? true))
    }

    @Test func aShadowThatCannotBeLoadedIsRetriedWithBackoffNotInALoop() async throws {
        // Given a shadow that refuses loads (a legacy shadow has no load API) and a gap to resync
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        h.shadow.failLoads("legacy has no load API")
        await h.send(.gap(MirrorGap(fromSequence: 2, toSequence: 2, count: 1, time: epoch)))
        await h.settle()
        #expect(h.shadow.loadAttempts == 1)

        // When time passes in small steps, the retries wait 1 s, then 2 s
        for _ in 0..<9 { await h.settle(.milliseconds(100)) }
        #expect(h.shadow.loadAttempts == 1)
        await h.settle(.milliseconds(100))
        #expect(h.shadow.loadAttempts == 2)
        for _ in 0..<19 { await h.settle(.milliseconds(100)) }
        #expect(h.shadow.loadAttempts == 2)
        await h.settle(.milliseconds(100))
        #expect(h.shadow.loadAttempts == 3)
        #expect(h.store.allComparisons.filter { $0.kind == .resync }.count == 3)

        // Then once the shadow accepts loads again, the next retry resyncs it and stops retrying
        h.shadow.failLoads(nil)
        await h.settle(.seconds(4))
        #expect(h.shadow.loadAttempts == 4)
        #expect(h.shadow.document == h.primary.document)
        await h.settle(.seconds(10))
        #expect(h.shadow.loadAttempts == 4)
    }

    @Test func aSkippedSequenceIsAGapToo() async throws {
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.play(h.event(4, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 3))
        #expect(h.store.allGaps.map { [$0.fromSequence, $0.toSequence] } == [[2, 3]])
        #expect(h.store.allComparisons.last?.kind == .resync)
    }

    @Test func aReadFailureIsRecordedAndFollowedByAResync() async throws {
        let h = Harness()
        h.shadow.failReads("connection refused")
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        let failed = try #require(h.store.allComparisons.last)
        #expect(failed.error?.contains("reading the shadow's state failed: connection refused") == true)
        #expect(failed.outcome == .unverified)
        h.shadow.failReads(nil)
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 3))
        #expect(h.store.allComparisons.last?.kind == .resync)
        #expect(h.shadow.loads.count == 1)
        await h.play(h.event(3, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 4))
        #expect(h.store.allComparisons.last?.outcome == .clean)
        #expect(await h.comparator.currentStatus().failures == 1)
    }

    @Test func aReconciliationCatchesDriftThatNoEventExplains() async throws {
        // Given reconciliations every 10 s and a clean event
        let h = Harness(configuration: ComparatorConfiguration(reconciliationInterval: .seconds(10)))
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))

        // When the shadow drifts on its own and 9 s pass, nothing is compared yet
        h.shadow.change(set("/status_message", "drifted"))
        await h.settle(.seconds(9))
        #expect(h.store.allComparisons.count == 1)

        // When the interval has passed since the last checkpoint
        await h.settle(.seconds(1))

        // Then a reconciliation found the drift, blamed on no event, and resynced
        let reconciliation = try #require(h.store.allComparisons.last)
        #expect(reconciliation.kind == .reconciliation && reconciliation.lastSequence == 1)
        #expect(reconciliation.resynced)
        let d = try #require(h.store.allDivergences.first)
        #expect(d.path == "/status_message" && d.blame == .none && d.sequence == 1)
        #expect(h.shadow.document == h.primary.document)

        // A clean reconciliation neither adds to nor breaks the streak
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 3))
        await h.settle(.seconds(10))
        #expect(h.store.allComparisons.map(\.kind) == [.event, .reconciliation, .event, .reconciliation])
        #expect(await h.comparator.readiness().consecutiveClean == 1)
    }

    @Test func aDivergenceSeenWhileNewerEventsArrivedIsPutOffAndJudgedAsARange() async throws {
        // Given a primary that has already applied event 2 when it is read for event 1
        let h = Harness()
        let second = h.event(2, "increment_cp", ["player_id": 1, "action": "add"])
        let comparator = h.comparator
        h.primary.onRead { [primary = h.primary] in
            comparator.submit(.mirrored(second))  // the proxy mirrors event 2 meanwhile
            primary.change(set("/player1/cp", 3))
            primary.onRead(nil)
        }
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        #expect(h.store.allComparisons.isEmpty, "put off: cp 3 against 2 may be event 2's")

        // When event 2 reaches the comparator and the shadow applies it
        await h.send(.mirrored(second))
        h.shadow.change(set("/player1/cp", 3))
        await h.settle()

        // Then both are judged together, clean
        #expect(h.store.allComparisons.map(\.kind) == [.range])
        #expect(h.store.allComparisons.first?.outcome == .clean)
        #expect(h.shadow.loads.isEmpty)
    }

    @Test func theShadowGoingDownBlocksReadinessAndItsReturnResyncs() async throws {
        var rules = ComparisonRules()
        rules.readiness = ReadinessSettings(minConsecutiveClean: 1, requireFullGame: false)
        let h = Harness(rules: rules)
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        #expect(await h.comparator.readiness().ready)
        await h.send(.shadowHealth(healthy: false, reason: "connection lost"))
        let down = await h.comparator.readiness()
        #expect(!down.ready && down.reasons.contains("the shadow is unavailable: connection lost"))
        await h.send(.shadowHealth(healthy: true, reason: "reconnected"))
        await h.settle()
        #expect(h.store.allComparisons.last?.kind == .resync)
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 3))
        #expect(await h.comparator.readiness().ready)
    }

    @Test func aRoleFlipStartsAfresh() async throws {
        var rules = ComparisonRules()
        rules.readiness = ReadinessSettings(minConsecutiveClean: 1, requireFullGame: false)
        let h = Harness(rules: rules)
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.send(.mirrored(h.event(2, "increment_cp", ["player_id": 1, "action": "add"])))
        await h.send(.rolesChanged(reason: "switchover"))
        #expect(!(await h.comparator.readiness().ready))
        #expect(h.store.allEvents.map(\.sequence) == [1, 2], "pending events are still recorded")
        #expect(await h.comparator.currentStatus().pendingEvents == 0)
    }
}
