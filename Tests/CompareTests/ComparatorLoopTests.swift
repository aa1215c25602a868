import Compare
import Foundation
import JSONDiff
import JSONValue
import Metrics
import MetricsTestKit
import Testing

/// The comparator's own loop: inputs through `submit`, time through the injected clock.
@Suite struct ComparatorLoopTests {
    @Test func runComparesWhenTheSettleWindowPassesOnTheInjectedClock() async throws {
        let h = Harness()
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await h.comparator.run() }

                // An event nobody answers visibly
                h.comparator.mirrored(h.event(1, "update_round", ["round": 2], session: "phone", role: "phone"))
                h.clock.advance(by: .milliseconds(149))
                #expect(h.store.allComparisons.isEmpty)
                h.clock.advance(by: .milliseconds(1))
                let first = try await h.store.waitForComparisons(1)
                #expect(first.map(\.kind) == [.event])

                // An acked event: compared without waiting for the clock
                h.comparator.mirrored(h.event(2, "start_game"))
                h.comparator.emitted(.ack(side: .primary, sessionID: "pi", sequence: 2))
                h.comparator.emitted(.ack(side: .shadow, sessionID: "pi", sequence: 2))
                let second = try await h.store.waitForComparisons(2)
                #expect(second.last?.firstSequence == 2)

                // Finishing compares what is pending and ends the loop
                h.comparator.mirrored(h.event(3, "update_round", ["round": 3]))
                h.comparator.finish()
                try await group.next()
                #expect(h.store.allComparisons.map(\.firstSequence) == [1, 2, 3])
            }
        }
    }

    @Test func metricsCountEventsComparisonsAndDivergencesByClass() async throws {
        let metrics = TestMetrics()
        let h = Harness(metrics: metrics)
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 3),
                     shadow: set("/player1/cp", 4))
        #expect(try metrics.expectCounter(MetricNames.eventsMirrored).totalValue == 2)
        #expect(try metrics.expectCounter(MetricNames.comparisons, [(MetricNames.kindDimension, "event")]).totalValue == 2)
        #expect(try metrics.expectCounter(MetricNames.divergences, [(MetricNames.classDimension, "unexpected")]).totalValue == 1)
        #expect(try metrics.expectCounter(MetricNames.divergences, [(MetricNames.classDimension, "accepted")]).totalValue == 0)
        #expect(try metrics.expectCounter(MetricNames.resyncs).totalValue == 1)
        #expect(try metrics.expectGauge(MetricNames.ready).lastValue == 0)
    }

    @Test func statusShowsTheLatestDivergencesWithTheirEvents() async throws {
        let h = Harness()
        let event = h.event(1, "increment_cp", ["player_id": 1, "action": "add"], session: "p1", role: "phone")
        await h.play(event, primary: set("/player1/cp", 2), shadow: set("/player1/cp", 9), broadcastTo: [])
        let status = await h.comparator.currentStatus()
        #expect(status.eventsMirrored == 1 && status.comparisons == 1 && status.divergentComparisons == 1)
        #expect(status.unexpectedDivergences == 1 && status.resyncs == 1)
        let latest = try #require(status.latestDivergences.first)
        #expect(latest.event == event && latest.divergence.path == "/player1/cp" && latest.divergence.comparisonID == 1)
        #expect(status.json["latest_divergences"]?[0]?["event"]?["event"] == "increment_cp")
        let page = StatusPage.render(status: status, mode: "legacy primary, engine shadow", generatedAt: epoch)
        #expect(page.contains("<code>/player1/cp</code>"))
        #expect(page.contains("#1 increment_cp (phone p1)"))
        #expect(page.contains("Not ready for switchover"))
    }

    @Test func retentionDeletesOldRecords() async throws {
        let h = Harness(configuration: ComparatorConfiguration(reconciliationInterval: nil, retention: .seconds(60)))
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.settle()  // pruned once at start: nothing is old yet
        #expect(h.store.allComparisons.count == 1)
        await h.settle(.seconds(3600))  // the next pruning, an hour later
        #expect(h.store.allComparisons.isEmpty && h.store.allEvents.isEmpty)
    }

    @Test func waitingForComparisonsEndsWhenCancelled() async throws {
        let store = MemoryComparisonStore()
        await #expect(throws: CancellationError.self) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await store.waitForComparisons(1) }
                group.cancelAll()
                try await group.next()
            }
        }
    }
}
