import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// The primary's dice go into the shadow before the shadow gets the next event
/// (`adoptBeforeNext`), taken from the state the primary sent with its answer.
@Suite struct AdoptionBeforeNextTests {
    static let dice = ComparisonRules(adopt: [
        try! PathPattern("/player*/deployment_roll"), try! PathPattern("/deployment_initiative_winner_id"),
    ])

    @Test func theAdoptionEventsAreTheOnesThatCanWriteAnAdoptedPath() {
        let events = EventEffects.scorer.events(writingAnyOf: Self.dice.adopt)
        #expect(events == ["deployment_roll", "start_deployment_phase"])
        #expect(EventEffects.scorer.events(writingAnyOf: []).isEmpty)
        // A template covering a whole subtree counts; the reset of the whole document does not.
        let timer = EventEffects.scorer.events(writingAnyOf: [try! PathPattern("/game_timer/start_time")])
        #expect(timer == ["start_game", "pi_concede", "end_turn"])
    }

    @Test func thePrimarysOutcomeIsPatchedInOnceBothSidesAnswered() async throws {
        let h = Harness(rules: Self.dice)
        #expect(h.comparator.adoptionEvents.contains("deployment_roll"))
        let roll = h.event(1, "deployment_roll", ["player_id": 1])
        await h.send(.mirrored(roll))
        // The primary rolled 5 and says so (state, then ack); the shadow rolled 2.
        h.primary.change(set("/player1/deployment_roll", 5))
        h.shadow.change(set("/player1/deployment_roll", 2))
        await h.send(.output(SideOutput(side: .primary, sessionID: "pi", name: "game_state_update", payload: h.primary.document)))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        // The proxy holds the shadow and asks; the shadow's answer comes while it waits.
        let comparator = h.comparator
        async let held: Bool = comparator.holdForAdoption(1)
        await h.send(.output(SideOutput(side: .shadow, sessionID: "pi", name: "game_state_update", payload: h.shadow.document)))
        await h.send(.output(.ack(side: .shadow, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        #expect(await held)
        #expect(h.shadow.document["player1"]?["deployment_roll"] == 5)
        #expect(h.shadow.patches.count == 1)
        // The checkpoint then finds nothing to adopt and nothing unexpected.
        #expect(h.store.allComparisons.map(\.outcome) == [.clean])
    }

    @Test func anOutcomeSentBeforeTheHoldIsUsedAtOnce() async throws {
        let h = Harness(rules: Self.dice)
        let roll = h.event(1, "deployment_roll", ["player_id": 2])
        await h.send(.mirrored(roll))
        var answer = h.primary.document
        _ = answer.set(4, at: JSONPointer("/player2/deployment_roll")!)
        // The primary's state moves on afterwards (a newer event): its answer is what counts.
        h.primary.change(set("/player2/deployment_roll", 6))
        await h.send(.output(SideOutput(side: .primary, sessionID: "pi", name: "game_state_update", payload: answer)))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        await h.send(.mirrored(h.event(2, "request_game_state", nil)))
        await h.send(.output(.ack(side: .shadow, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        #expect(await h.comparator.holdForAdoption(1))
        #expect(h.shadow.document["player2"]?["deployment_roll"] == 4)
    }

    @Test func theHoldRunsOutWhenTheShadowNeverAnswers() async throws {
        var configuration = ComparatorConfiguration(reconciliationInterval: nil)
        configuration.adoptionHold = .milliseconds(50)
        let h = Harness(rules: Self.dice, configuration: configuration)
        await h.send(.mirrored(h.event(1, "deployment_roll", ["player_id": 1])))
        await h.send(.output(.ack(side: .primary, sessionID: "pi", sequence: 1, payload: ["ok": true])))
        let adopted = try await withTimeout(10) { await h.comparator.holdForAdoption(1) }
        #expect(!adopted)
        #expect(h.shadow.patches.isEmpty)
    }

    @Test func anEventAlreadyComparedIsNotHeld() async throws {
        let h = Harness(rules: Self.dice)
        await h.play(h.event(1, "deployment_roll", ["player_id": 1]), primary: set("/player1/deployment_roll", 3),
                      shadow: set("/player1/deployment_roll", 1))
        #expect(h.store.allComparisons.count == 1)
        #expect(await h.comparator.holdForAdoption(1))
    }
}
