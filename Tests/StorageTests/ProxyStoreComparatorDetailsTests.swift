import Foundation
import GRDB
import JSONValue
import Testing

@testable import Storage

/// The comparator's details (migration "proxy v2") and the paging queries.
struct ProxyStoreComparatorDetailsTests {
    @Test func comparatorDetailsRoundTrip() async throws {
        // Given an empty store
        let store = try ProxyStore.inMemory()

        // When a range comparison with every detail and a stream divergence are recorded
        let comparison = ComparisonRecord(
            firstSequence: 3, lastSequence: 5, time: at(20), cleanCount: 4, unexpectedCount: 1, acceptedCount: 0,
            duration: .milliseconds(7), resynced: true, kind: "range", afterGap: true, adoptedCount: 2,
            ignoredCount: 3, toleratedCount: 5, startsGame: true, gamePhase: "name_entry", error: nil)
        let divergence = DivergenceRecord(
            sequence: 4, path: "stream:game_state_update", kind: "missing", primaryValue: ["cp": 2], shadowValue: nil,
            classification: .unexpected, source: "stream", sessionID: "s9", blame: "range", detail: "primary #1")
        let id = try await store.recordComparison(comparison, divergences: [divergence])

        // Then both read back with every field
        var expected = comparison
        expected.id = id
        #expect(try await store.comparisons(since: t0) == [expected])
        let read = try #require(try await store.divergences(ofComparison: id).first)
        #expect(read.source == "stream" && read.sessionID == "s9" && read.blame == "range" && read.detail == "primary #1")
        #expect(read.primaryValue == ["cp": 2] && read.shadowValue == nil)
    }

    @Test func defaultsMatchARecordWithoutDetails() async throws {
        // Given a comparison and divergence recorded without the v2 fields
        let store = try ProxyStore.inMemory()
        let id = try await store.recordComparison(
            ComparisonRecord(sequence: 1, time: at(1), unexpectedCount: 1),
            divergences: [
                DivergenceRecord(
                    sequence: 1, path: "/cp", kind: "changed", primaryValue: 1, shadowValue: 2, classification: .unexpected)
            ])

        // Then the defaults read back
        let c = try #require(try await store.comparisons(since: t0).first)
        #expect(c.kind == "event" && !c.afterGap && c.adoptedCount == 0 && c.gamePhase == nil && c.error == nil)
        let d = try #require(try await store.divergences(ofComparison: id).first)
        #expect(d.source == "state" && d.blame == "event" && d.sessionID == nil && d.detail == nil)
    }

    @Test func aVersion1FileIsMigratedWithDefaults() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file with only the first migration and one comparison in it
            let path = (dir as NSString).appendingPathComponent(ProxyStore.fileName)
            let queue = try DatabaseQueue(path: path)
            try ProxyStore.migrator.migrate(queue, upTo: "proxy v1: events, comparisons, divergences, roles, admin_log, gaps")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO comparisons (first_sequence, last_sequence, time, clean_count, unexpected_count,
                                                 accepted_count, duration, resynced)
                        VALUES (1, 1, ?, 1, 0, 0, 0.5, 0)
                        """, arguments: [at(3).timeIntervalSince1970])
            }
            try queue.close()

            // When the store opens it
            let store = try ProxyStore(path: path)

            // Then the old row reads back with the defaults
            let rows = try await store.comparisons(since: t0)
            #expect(rows.count == 1)
            #expect(rows.first?.kind == "event" && rows.first?.startsGame == false)
            try await store.close()
        }
    }

    @Test func pagingByID() async throws {
        // Given five comparisons, the last two with a divergence each
        let store = try ProxyStore.inMemory()
        var ids: [Int64] = []
        for i in 1...5 {
            let divergences = i > 3
                ? [DivergenceRecord(sequence: Int64(i), path: "/x", kind: "changed", primaryValue: 1, shadowValue: .int(i),
                                    classification: .unexpected)]
                : []
            ids.append(try await store.recordComparison(ComparisonRecord(sequence: Int64(i), time: at(Double(i))),
                                                        divergences: divergences))
        }

        // When paging two at a time
        let first = try await store.comparisons(since: t0, afterID: nil, limit: 2)
        let second = try await store.comparisons(since: t0, afterID: first.last?.id, limit: 2)
        let third = try await store.comparisons(since: t0, afterID: second.last?.id, limit: 2)

        // Then every comparison comes once, in order; `since` still applies
        #expect((first + second + third).map(\.id) == ids)
        #expect(try await store.comparisons(since: at(4), afterID: nil, limit: 10).map(\.id) == Array(ids[3...]))
        let d1 = try await store.divergences(since: t0, afterID: nil, limit: 1)
        let d2 = try await store.divergences(since: t0, afterID: d1.last?.id, limit: 1)
        #expect((d1 + d2).map(\.shadowValue) == [4, 5])
        #expect(try await store.divergences(since: t0, afterID: d2.last?.id, limit: 1).isEmpty)
    }
}
