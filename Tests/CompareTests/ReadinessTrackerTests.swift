import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

@Suite struct ReadinessTrackerTests {
    private func comparison(
        _ kind: ComparisonEntry.Kind = .event, unexpected: Int = 0, accepted: Int = 0, starts: Bool = false,
        phase: String = "game_play", error: String? = nil
    ) -> ComparisonEntry {
        ComparisonEntry(
            kind: kind, firstSequence: 1, lastSequence: 1, time: epoch, unexpectedCount: unexpected,
            acceptedCount: accepted, startsGame: starts, phase: phase, error: error)
    }

    @Test func cleanComparisonsInARowOpenTheGateWithoutAGameWhenNoneIsRequired() {
        var tracker = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 3, requireFullGame: false))
        tracker.record(comparison())
        tracker.record(comparison(accepted: 2))
        #expect(!tracker.readiness.ready)
        #expect(tracker.readiness.reasons == ["2 of 3 consecutive clean comparisons"])
        tracker.record(comparison(.range))
        #expect(tracker.readiness.ready)
        #expect(tracker.readiness.description == "ready: 3/3 consecutive clean comparisons, 0 full games compared clean")
    }

    @Test func anythingUnjudgedOrDivergentResetsTheStreak() {
        for setback in [comparison(unexpected: 1), comparison(error: "read failed"), comparison(.resync),
                        comparison(.reconciliation, unexpected: 1)] {
            var tracker = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: false))
            tracker.record(comparison())
            #expect(tracker.readiness.ready)
            tracker.record(setback)
            #expect(!tracker.readiness.ready, "\(setback.kind) \(setback.outcome)")
            #expect(tracker.consecutiveClean == 0)
        }
        var tracker = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: false))
        tracker.record(comparison())
        tracker.recordGap()
        #expect(tracker.consecutiveClean == 0)
    }

    @Test func aCleanReconciliationNeitherCountsNorResets() {
        var tracker = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 2, requireFullGame: false))
        tracker.record(comparison())
        tracker.record(comparison(.reconciliation))
        #expect(tracker.consecutiveClean == 1)
    }

    @Test func aFullGameCountsWhenEveryComparisonFromStartToEndIsClean() {
        var tracker = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: true))
        tracker.record(comparison(phase: "game_over"))  // an end without a start
        #expect(tracker.fullGamesObserved == 0)
        tracker.record(comparison(starts: true, phase: "name_entry"))
        #expect(tracker.gameInProgress)
        #expect(tracker.readiness.reasons == ["no full game compared clean yet (one in progress)"])
        tracker.record(comparison(accepted: 1))
        tracker.record(comparison(phase: "game_over"))
        #expect(tracker.fullGamesObserved == 1)
        #expect(tracker.readiness.ready)
        tracker.record(comparison(phase: "game_over"))  // still over: not a second game
        #expect(tracker.fullGamesObserved == 1)

        // A divergence inside a game voids it
        tracker.record(comparison(starts: true, phase: "name_entry"))
        tracker.record(comparison(unexpected: 1))
        tracker.record(comparison(phase: "game_over"))
        #expect(tracker.fullGamesObserved == 1)
    }

    @Test func replayGivesTheLiveVerdict() {
        let history = [comparison(starts: true, phase: "name_entry"), comparison(), comparison(phase: "game_over"),
                       comparison(unexpected: 1), comparison()]
        var live = ReadinessTracker(settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: true))
        for c in history { live.record(c) }
        let replayed = ReadinessTracker.replay(history, settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: true))
        #expect(replayed == live)
        #expect(replayed.readiness.ready && replayed.fullGamesObserved == 1 && replayed.consecutiveClean == 1)
        #expect(replayed.readiness.json["full_games_observed"] == 1)
    }
}
