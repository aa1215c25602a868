import Foundation
import GRDB
import JSONValue
import Testing

@testable import Storage

struct ProxyStoreTests {
    private func event(_ sequence: Int64, _ name: String = "update_score", session: String = "s1", at time: Date? = nil)
        -> EventRecord
    {
        EventRecord(
            sequence: sequence, sessionID: session, clientRole: session == "pi" ? "pi" : "phone", event: name,
            args: [["player_id": 1, "value": .int(Int(sequence))]], receivedAt: time ?? at(Double(sequence)),
            sentToPrimaryAt: at(Double(sequence) + 0.001))
    }

    @Test func migrationsCreateTheSchemaOnAnEmptyFile() async throws {
        try await withTemporaryDirectory { dir in
            // Given an empty data directory, when the store is opened
            let store = try ProxyStore.open(inDirectory: (dir as NSString).appendingPathComponent("D"))

            // Then every table exists, and the roles start with the legacy as primary
            let tables = try await store.databaseWriter.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            for table in ["events", "comparisons", "divergences", "roles", "role_changes", "admin_log", "gaps"] {
                #expect(tables.contains(table))
            }
            #expect(try await store.roles() == Roles(primary: .legacy))
            #expect(try await store.roles().shadow == .engine)
            #expect(try await store.lastSequence() == nil)
            #expect(try await store.durabilitySettings().synchronous == "full")
            #expect(try await store.durabilitySettings().journalMode == "wal")
            try await store.close()
        }
    }

    @Test func eventsRoundTripInBatches() async throws {
        // Given an empty store
        let store = try ProxyStore.inMemory()

        // When two batches are appended and the shadow sends are marked
        try await store.appendEvents((1...5).map { event($0) })
        try await store.appendEvents([event(6, "start_new_game", session: "pi")])
        try await store.markSentToShadow([2, 3], at: at(50))

        // Then a range reads back exactly, in order
        let read = try await store.events(in: 2...6)
        var expected = (2...5).map { event($0) } + [event(6, "start_new_game", session: "pi")]
        expected[0].sentToShadowAt = at(50)
        expected[1].sentToShadowAt = at(50)
        #expect(read == expected)
        #expect(try await store.lastSequence() == 6)

        // When a batch repeats a stored sequence, then the whole batch is refused
        await #expect(throws: StorageError.database(code: 19)) {
            try await store.appendEvents([event(7), event(6)])
        }
        #expect(try await store.lastSequence() == 6)
    }

    @Test func comparisonsDivergencesAndReports() async throws {
        // Given mirrored events
        let store = try ProxyStore.inMemory()
        try await store.appendEvents([event(1, "update_score"), event(2, "end_turn"), event(3, "end_turn")])

        // When a clean comparison and two divergent ones are recorded
        try await store.recordComparison(ComparisonRecord(sequence: 1, time: at(10), cleanCount: 12), divergences: [])
        let d1 = DivergenceRecord(
            sequence: 2, path: "/player1/player_elapsed_time_seconds", kind: "changed", primaryValue: 1.5,
            shadowValue: 1.25, classification: .accepted, knownID: "timer-jitter", reason: "clock skew")
        let d2 = DivergenceRecord(
            sequence: 2, path: "/status_message", kind: "removed", primaryValue: "Round 1 - Player 2's Turn",
            shadowValue: nil, classification: .unexpected)
        let id2 = try await store.recordComparison(
            ComparisonRecord(
                firstSequence: 2, lastSequence: 2, time: at(11), cleanCount: 10, unexpectedCount: 1, acceptedCount: 1,
                duration: .milliseconds(15), resynced: true),
            divergences: [d1, d2])
        let d3 = DivergenceRecord(
            sequence: 3, path: "/status_message", kind: "changed", primaryValue: "a", shadowValue: .null,
            classification: .unexpected)
        try await store.recordComparison(
            ComparisonRecord(firstSequence: 3, lastSequence: 4, time: at(12), unexpectedCount: 1), divergences: [d3])

        // Then the divergences read back with their comparison id, absent and null kept apart
        let stored = try await store.divergences(ofComparison: id2)
        #expect(stored.map(\.comparisonID) == [id2, id2])
        var e1 = d1
        e1.id = stored[0].id
        e1.comparisonID = id2
        #expect(stored[0] == e1)
        #expect(stored[1].shadowValue == nil)
        #expect(try await store.divergences(since: t0).map(\.shadowValue) == [1.25, nil, .null])
        #expect(try await store.divergences(since: at(12)).map(\.sequence) == [3])
        #expect(try await store.divergences(since: t0, limit: 1).count == 1)

        // Then the comparisons read back with their durations
        let comparisons = try await store.comparisons(since: t0)
        #expect(comparisons.map(\.lastSequence) == [1, 2, 4])
        #expect(comparisons[1].duration == .milliseconds(15))
        #expect(comparisons[1].resynced)

        // Then the counts group by path and by event
        #expect(try await store.divergenceCountsByPath(since: t0) == [
            DivergenceCount(key: "/status_message", unexpected: 2, accepted: 0),
            DivergenceCount(key: "/player1/player_elapsed_time_seconds", unexpected: 0, accepted: 1),
        ])
        #expect(try await store.divergenceCountsByEvent(since: t0) == [
            DivergenceCount(key: "end_turn", unexpected: 2, accepted: 1)
        ])

        // Then the summary adds it all up
        try await store.recordGap(GapRecord(time: at(13), fromSequence: 5, toSequence: 9, count: 5))
        let summary = try await store.summary(since: t0)
        var expected = ProxySummary()
        expected.events = 3
        expected.firstSequence = 1
        expected.lastSequence = 3
        expected.comparisons = 3
        expected.cleanCount = 22
        expected.unexpectedCount = 2
        expected.acceptedCount = 1
        expected.divergentComparisons = 2
        expected.unexpectedDivergences = 2
        expected.acceptedDivergences = 1
        expected.gaps = 1
        expected.droppedEvents = 5
        expected.lastComparisonAt = at(12)
        expected.roles = .initial
        #expect(summary == expected)
        #expect(try await store.lastSequence() == 9)

        // Then a later window sees only what happened in it
        let later = try await store.summary(since: at(11.5))
        #expect(later.events == 0)
        #expect(later.comparisons == 1)
        #expect(later.unexpectedDivergences == 1)
    }

    @Test func rolesSurviveCloseAndReopen() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store whose roles were flipped to the engine
            let store = try ProxyStore.open(inDirectory: dir)
            let change = try await store.setRoles(Roles(primary: .engine), reason: "switchover", at: at(1))
            #expect(change.previous == .legacy)
            #expect(change.primary == .engine)
            try await store.close()

            // When it is reopened
            let reopened = try ProxyStore.open(inDirectory: dir)

            // Then the engine is still primary, and the history records the flip
            #expect(try await reopened.roles() == Roles(primary: .engine))
            #expect(try await reopened.roleHistory() == [change])

            // When it is rolled back, then the history lists the newest first
            let back = try await reopened.setRoles(.initial, reason: "rollback", at: at(2))
            #expect(try await reopened.roleHistory().map(\.reason) == ["rollback", "switchover"])
            #expect(back.previous == .engine)
            try await reopened.close()
            try await reopened.close()
            await #expect(throws: StorageError.closed) { try await reopened.roles() }
        }
    }

    @Test func aRoleFlipIsOnDiskWithoutClose() async throws {
        try await withTemporaryDirectory { dir in
            // Given a flip that returned, and no close or checkpoint
            let path = (dir as NSString).appendingPathComponent(ProxyStore.fileName)
            let store = try ProxyStore(path: path)
            try await store.setRoles(Roles(primary: .engine), reason: "switchover", at: at(1))

            // When the files are taken as they are on disk
            let crashed = (dir as NSString).appendingPathComponent("crashed.sqlite")
            try copyDatabaseFiles(path, to: crashed)

            // Then a restart reads the new roles
            let restarted = try ProxyStore(path: crashed)
            #expect(try await restarted.roles().primary == .engine)
            try await restarted.close()
            try await store.close()
        }
    }

    @Test func adminLogAndGapsRoundTrip() async throws {
        let store = try ProxyStore.inMemory()
        let entry = AdminLogRecord(time: at(1), action: "switchover", actor: "cli", outcome: "ok", detail: "drained in 120 ms")
        let id = try await store.logAdmin(entry)
        try await store.logAdmin(AdminLogRecord(time: at(2), action: "resync", actor: "auto", outcome: "failed"))
        var expected = entry
        expected.id = id
        #expect(try await store.adminLog(since: t0).first == expected)
        #expect(try await store.adminLog(since: at(2)).map(\.action) == ["resync"])

        let gapID = try await store.recordGap(GapRecord(time: at(3), fromSequence: 10, toSequence: 12, count: 3))
        #expect(try await store.gaps(since: t0) == [GapRecord(id: gapID, time: at(3), fromSequence: 10, toSequence: 12, count: 3)])
    }

    @Test func pruneRemovesOldRowsAndKeepsRoles() async throws {
        // Given old and new rows of every kind
        let store = try ProxyStore.inMemory()
        try await store.appendEvents([event(1, at: at(1)), event(2, at: at(100))])
        let divergence = DivergenceRecord(
            sequence: 1, path: "/x", kind: "changed", primaryValue: 1, shadowValue: 2, classification: .unexpected)
        try await store.recordComparison(ComparisonRecord(sequence: 1, time: at(1), unexpectedCount: 1), divergences: [divergence, divergence])
        try await store.recordComparison(ComparisonRecord(sequence: 2, time: at(100), unexpectedCount: 1), divergences: [divergence])
        try await store.logAdmin(AdminLogRecord(time: at(1), action: "a", actor: "cli", outcome: "ok"))
        try await store.recordGap(GapRecord(time: at(1), fromSequence: 3, toSequence: 3, count: 1))
        try await store.setRoles(Roles(primary: .engine), reason: "switchover", at: at(1))

        // When rows older than t0+50 are pruned
        let result = try await store.prune(olderThan: at(50))

        // Then the old ones are gone, divergences with their comparison, and roles stay
        #expect(result.deleted == ["events": 1, "comparisons": 1, "divergences": 2, "admin_log": 1, "gaps": 1])
        #expect(try await store.events(in: 0...10).map(\.sequence) == [2])
        #expect(try await store.divergences(since: t0).count == 1)
        #expect(try await store.adminLog(since: t0).isEmpty)
        #expect(try await store.roles().primary == .engine)
        #expect(try await store.roleHistory().count == 1)
        let orphans = try await store.databaseWriter.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM divergences WHERE comparison_id NOT IN (SELECT id FROM comparisons)")
        }
        #expect(orphans == 0)
    }

    @Test func corruptRowsAreTypedErrors() async throws {
        // Given stored events, a divergence and roles
        let store = try ProxyStore.inMemory()
        try await store.appendEvents([event(1)])
        let id = try await store.recordComparison(
            ComparisonRecord(sequence: 1, time: at(1)),
            divergences: [DivergenceRecord(sequence: 1, path: "/x", kind: "changed", primaryValue: 1, shadowValue: 2, classification: .unexpected)])
        try await store.setRoles(Roles(primary: .engine), reason: "switchover")

        // When their JSON and enumeration columns are damaged (bypassing the CHECK constraints)
        try await store.databaseWriter.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE events SET args = 'nope' WHERE sequence = 1")
            try db.execute(sql: "UPDATE divergences SET shadow_value = '[1,' WHERE comparison_id = ?", arguments: [id])
            try db.execute(sql: "UPDATE roles SET primary_backend = 'banana'")
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }

        // Then each read throws a typed error naming the table and column
        await #expect(throws: StorageError.corruptValue(table: "events", column: "args", key: "1")) {
            try await store.events(in: 1...1)
        }
        let divergenceError = await #expect(throws: StorageError.self) { try await store.divergences(since: t0) }
        #expect(divergenceError?.shortDescription == "corrupt_value")
        #expect(divergenceError?.description.contains("divergences.shadow_value") == true)
        await #expect(throws: StorageError.corruptValue(table: "roles", column: "primary_backend", key: "1")) {
            try await store.roles()
        }
    }
}
