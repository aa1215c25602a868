import Foundation
import GRDB
import JSONValue
import Testing

@testable import Storage

struct EngineStoreTests {
    @Test func migrationsCreateTheSchemaOnAnEmptyFile() async throws {
        try await withTemporaryDirectory { dir in
            // Given an empty data directory
            let dataDir = (dir as NSString).appendingPathComponent("D")

            // When the store is opened in it
            let store = try EngineStore.open(inDirectory: dataDir)

            // Then the file exists with every table and the migration recorded
            let path = (dataDir as NSString).appendingPathComponent("engine.sqlite")
            #expect(FileManager.default.fileExists(atPath: path))
            let tables = try await store.databaseWriter.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in ["game_state", "journal", "scores", "settings", "timers"] {
                #expect(tables.contains(table))
            }
            let migrations = try await store.databaseWriter.read { db in
                try EngineStore.migrator.appliedIdentifiers(db)
            }
            #expect(migrations == ["engine v1: journal, game_state, history"])

            // Then there is no state and no journal yet
            #expect(try await store.loadCurrent() == nil)
            #expect(try await store.journal(after: 0).isEmpty)
            try await store.close()
        }
    }

    @Test func fileStoresRunWALWithFullSyncAndABusyTimeout() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store with a 2.5 s busy timeout
            let store = try EngineStore.open(
                inDirectory: dir, configuration: .init().with(busyTimeout: .milliseconds(2500)))

            // When its pragmas are read back from the writing connection
            let settings = try await store.durabilitySettings()

            // Then WAL, synchronous FULL (not GRDB's NORMAL), the timeout and foreign keys are in force
            #expect(settings == DurabilitySettings(
                journalMode: "wal", synchronous: "full", busyTimeout: .milliseconds(2500), foreignKeys: true))
            try await store.close()
        }
    }

    @Test func durabilityCanBeRelaxedForAShadowAndRestored() async throws {
        try await withTemporaryDirectory { dir in
            let store = try EngineStore.open(inDirectory: dir)
            try await store.setFullDurability(false)
            #expect(try await store.durabilitySettings().synchronous == "normal")
            let state = defaultState().setting("/game_phase", "name_entry")
            _ = try await store.commit(JournalEntry(time: t0, event: "start_new_game", sessionID: "sid-pi", client: "pi"), resultingState: state)
            try await store.setFullDurability(true)
            #expect(try await store.durabilitySettings().synchronous == "full")
            #expect(try await store.loadCurrent()?.document == state)
            try await store.close()
            await #expect(throws: StorageError.closed) { try await store.setFullDurability(false) }
        }
    }

    @Test func commitThenReload() async throws {
        // Given an empty store
        let store = try EngineStore.inMemory()
        let state = defaultState().setting("/game_phase", "name_entry")

        // When a new game is committed
        let sequence = try await store.commit(
            JournalEntry(time: t0, event: "start_new_game", sessionID: "sid-pi", client: "pi"), resultingState: state)

        // Then it is sequence 1 of game 1, and the state reloads exactly (key order included)
        #expect(sequence == 1)
        let current = try #require(try await store.loadCurrent())
        #expect(current == StoredState(document: state, sequence: 1, gameID: 1, stateHash: StateHash.of(state), updatedAt: t0))
        #expect(current.document.serialized() == state.serialized())
        let columns = try await store.databaseWriter.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT phase, current_player, current_round FROM game_state")!
            return (row["phase"] as String?, row["current_player"] as Int?, row["current_round"] as Int?)
        }
        #expect(columns.0 == "name_entry")
        #expect(columns.1 == nil)
        #expect(columns.2 == 0)
    }

    @Test func gameIDAdvancesOnlyOnStartNewGame() async throws {
        // Given a store with one game started
        let store = try EngineStore.inMemory()
        let state = defaultState()
        try await store.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: state)

        // When other events, a state load and a second new game follow
        try await store.commit(JournalEntry(time: at(1), event: "set_player_name"), resultingState: state)
        try await store.replaceState(state, reason: "resync", at: at(2))
        #expect(try await store.loadCurrent()?.gameID == 1)
        try await store.commit(JournalEntry(time: at(3), event: "start_new_game"), resultingState: state)

        // Then only the second new game moved the id
        #expect(try await store.loadCurrent()?.gameID == 2)
        #expect(try await store.journal(after: 0).map(\.gameID) == [1, 1, 1, 2])
    }

    @Test func historyRowsAreWrittenOnlyWhenAPartChanges() async throws {
        // Given a store holding the default state
        let store = try EngineStore.inMemory()
        let s1 = defaultState()
        try await store.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: s1)
        for part in StatePart.allCases {
            #expect(try await store.history(of: part).count == 1)
        }

        // When only a score changes
        let s2 = s1.setting("/player1/primary_score", 7).setting("/player1/total_score", 7)
        try await store.commit(JournalEntry(time: at(1), event: "update_score"), resultingState: s2)

        // Then only the scores history grows
        #expect(try await store.history(of: .scores).map(\.sequence) == [1, 2])
        #expect(try await store.history(of: .timer).map(\.sequence) == [1])
        #expect(try await store.history(of: .settings).map(\.sequence) == [1])
        let latest = try #require(try await store.history(of: .scores).last)
        #expect(latest.value["player1"]?["primary_score"] == 7)
        #expect(latest.time == at(1))

        // When only derived timer fields, the status message or key order change
        var reordered = JSONObject()
        for (key, value) in s2.objectValue!.reversed() { reordered[key] = value }
        let s3 = JSONValue.object(reordered)
            .setting("/game_timer/elapsed_display", "00:01:00")
            .setting("/player2/player_time_display", "00:00:30")
            .setting("/status_message", "Player 1 Score Updated")
        try await store.commit(JournalEntry(time: at(2), event: "request_game_state"), resultingState: s3)

        // Then no history row is written
        for part in StatePart.allCases {
            #expect(try await store.history(of: part, after: 2).isEmpty)
        }

        // When the timer starts and a name changes
        let s4 = s3.setting("/game_timer/status", "running").setting("/player2/name", "Bob")
        try await store.commit(JournalEntry(time: at(3), event: "start_game"), resultingState: s4)

        // Then the timer and settings histories grow, scores do not
        #expect(try await store.history(of: .timer).map(\.sequence) == [1, 4])
        #expect(try await store.history(of: .settings).map(\.sequence) == [1, 4])
        #expect(try await store.history(of: .scores).map(\.sequence) == [1, 2])
    }

    @Test func journalKeepsOrderArgumentsAndSnapshots() async throws {
        // Given a store that snapshots every 4th entry
        let store = try EngineStore.inMemory(configuration: .init(journalSnapshotInterval: 4))
        let argsList: [[JSONValue]] = [
            [], [nil], [["player_id": 1, "score_type": "primary", "value": .bigInt("100000000000000000000")]],
            [["name": "Zoë ☃"]], [1.5, "x", true], [[]], [[:]], [.double(.infinity)], ["end"], ["last"],
        ]

        // When ten events are committed
        var state = defaultState()
        for (i, args) in argsList.enumerated() {
            state = state.setting("/current_round", .int(i))
            let seq = try await store.commit(
                JournalEntry(time: at(Double(i)), event: "e\(i)", args: args, sessionID: "s\(i % 2)"), resultingState: state)
            #expect(seq == Int64(i + 1))
        }

        // Then the journal returns them in order, arguments exact
        let all = try await store.journal(after: 0)
        #expect(all.map(\.sequence) == (1...10).map { Int64($0) })
        #expect(all.map(\.event) == (0..<10).map { "e\($0)" })
        #expect(all.map(\.args) == argsList)
        #expect(all.map(\.sessionID) == (0..<10).map { "s\($0 % 2)" })
        #expect(all.allSatisfy { $0.kind == .event && $0.stateHash?.count == 64 })

        // Then only multiples of the interval carry the full state
        #expect(all.filter { $0.state != nil }.map(\.sequence) == [4, 8])
        #expect(all[3].state?["current_round"] == 3)
        #expect(all[3].stateHash == all[3].state.map(StateHash.of))

        // Then paging works
        #expect(try await store.journal(after: 4, limit: 3).map(\.sequence) == [5, 6, 7])
        #expect(try await store.journal(after: 10).isEmpty)
    }

    @Test func replaceStateIsJournaledAsAControlEvent() async throws {
        // Given a store in mid-game
        let store = try EngineStore.inMemory()
        try await store.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: defaultState())

        // When the legacy's state is loaded for a handoff
        let legacy = defaultState().setting("/game_phase", "game_play").setting("/player1/cp", 4)
        let seq = try await store.replaceState(legacy, reason: "handoff", at: at(5))

        // Then it is current, and journaled as a control entry with the reason and the full state
        #expect(seq == 2)
        #expect(try await store.loadCurrent()?.document == legacy)
        let entry = try #require(try await store.journal(after: 1).first)
        #expect(entry.kind == .control)
        #expect(entry.event == EngineStore.replaceStateEvent)
        #expect(entry.args == [["reason": "handoff"]])
        #expect(entry.state == legacy)
        #expect(entry.time == at(5))
        #expect(try await store.history(of: .scores).map(\.sequence) == [1, 2])
    }

    @Test func reopeningAFileResumesExactly() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store with five committed events, then closed
            let path = (dir as NSString).appendingPathComponent("engine.sqlite")
            let first = try EngineStore(path: path)
            var state = defaultState()
            try await first.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: state)
            for i in 1...4 {
                state = state.setting("/player2/secondary_score", .int(i))
                try await first.commit(JournalEntry(time: at(Double(i)), event: "update_score"), resultingState: state)
            }
            let before = try await first.journal(after: 0)
            try await first.close()
            try await first.close()  // harmless twice
            #expect(!FileManager.default.fileExists(atPath: path + "-wal") || fileSize(path + "-wal") == 0)

            // When it is reopened
            let second = try EngineStore(path: path)

            // Then state, journal and history are exactly as they were
            let current = try #require(try await second.loadCurrent())
            #expect(current.document == state)
            #expect(current.sequence == 5)
            #expect(current.gameID == 1)
            #expect(try await second.journal(after: 0) == before)

            // Then the next commit continues the sequence, and an unchanged part gets no new row
            let next = try await second.commit(JournalEntry(time: at(9), event: "request_game_state"), resultingState: state)
            #expect(next == 6)
            #expect(try await second.history(of: .scores).count == 5)
            #expect(try await second.history(of: .timer).count == 1)
            try await second.close()
        }
    }

    @Test func committedEventsSurviveWithoutClose() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store with events committed and never closed or checkpointed
            let path = (dir as NSString).appendingPathComponent("engine.sqlite")
            let store = try EngineStore(path: path)
            var state = defaultState()
            for i in 1...20 {
                state = state.setting("/player1/cp", .int(i))
                try await store.commit(JournalEntry(time: at(Double(i)), event: "increment_cp"), resultingState: state)
            }
            #expect(fileSize(path + "-wal") > 0)

            // When the files are copied as they are on disk (what kill -9 leaves)
            let crashed = (dir as NSString).appendingPathComponent("crashed.sqlite")
            try copyDatabaseFiles(path, to: crashed)

            // Then a store opened on the copy recovers every commit from the WAL
            let recovered = try EngineStore(path: crashed)
            let current = try #require(try await recovered.loadCurrent())
            #expect(current.sequence == 20)
            #expect(current.document == state)
            #expect(try await recovered.journal(after: 0).count == 20)
            try await recovered.close()

            // Then a second store on the live file, opened while the first is still open, sees them too
            let other = try EngineStore(path: path)
            #expect(try await other.loadCurrent()?.sequence == 20)

            // Then both can keep writing (busy timeout, IMMEDIATE transactions): sequences stay unique
            try await other.commit(JournalEntry(time: at(30), event: "a"), resultingState: state)
            try await store.commit(JournalEntry(time: at(31), event: "b"), resultingState: state)
            #expect(try await store.journal(after: 20).map(\.sequence) == [21, 22])
            try await other.close()
            try await store.close()
        }
    }

    @Test func concurrentCommitsGetUniqueContiguousSequences() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store
            let store = try EngineStore.open(inDirectory: dir)

            // When 40 commits race from a task group
            let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        try await store.commit(
                            JournalEntry(time: at(Double(i)), event: "e\(i)"),
                            resultingState: defaultState().setting("/player1/cp", .int(i)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }

            // Then each got its own sequence, and the current state is the last committed one
            #expect(sequences.sorted() == (1...40).map { Int64($0) })
            let journal = try await store.journal(after: 0)
            #expect(journal.map(\.sequence) == (1...40).map { Int64($0) })
            let last = try #require(journal.last)
            let current = try #require(try await store.loadCurrent())
            #expect(current.sequence == 40)
            #expect(current.stateHash == last.stateHash)
            try await store.close()
        }
    }

    @Test func aGroupCommitJournalsEachEventInOrderInOneTransaction() async throws {
        try await withTemporaryDirectory { dir in
            // Given a file store holding one state
            let store = try EngineStore.open(inDirectory: dir)
            let s1 = defaultState()
            try await store.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: s1)
            #expect(try await store.commit([]) == [])

            // When three events are committed as one group
            let s2 = s1.setting("/player1/primary_score", 7)
            let s3 = s2.setting("/game_phase", "name_entry")
            let s4 = s3.setting("/player1/primary_score", 9)
            let sequences = try await store.commit([
                (JournalEntry(time: at(1), event: "update_score", sessionID: "a"), s2),
                (JournalEntry(time: at(2), event: "start_new_game", sessionID: "b"), s3),
                (JournalEntry(time: at(3), event: "update_score", sessionID: "c"), s4),
            ])

            // Then each has its own sequence and journal entry, as if committed one by one
            #expect(sequences == [2, 3, 4])
            let journal = try await store.journal(after: 1)
            #expect(journal.map(\.event) == ["update_score", "start_new_game", "update_score"])
            #expect(journal.map(\.sessionID) == ["a", "b", "c"])
            #expect(journal.map(\.gameID) == [1, 2, 2])
            #expect(journal.map(\.stateHash) == [s2, s3, s4].map(StateHash.of))
            #expect(try await store.history(of: .scores).map(\.sequence) == [1, 2, 4])
            let current = try #require(try await store.loadCurrent())
            #expect(current.sequence == 4 && current.document == s4 && current.gameID == 2)

            // When one event of a group cannot be written
            try await store.databaseWriter.write { db in
                try db.execute(
                    sql: "CREATE TRIGGER refuse BEFORE INSERT ON journal WHEN NEW.event = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END")
            }
            await #expect(throws: StorageError.self) {
                try await store.commit([
                    (JournalEntry(time: at(4), event: "update_score"), s4.setting("/player1/primary_score", 10)),
                    (JournalEntry(time: at(5), event: "boom"), s4.setting("/player1/primary_score", 11)),
                ])
            }

            // Then none of it is stored
            #expect(try await store.journal(after: 4).isEmpty)
            #expect(try await store.loadCurrent()?.document == s4)
            #expect(try await store.history(of: .scores).map(\.sequence) == [1, 2, 4])
            try await store.close()
        }
    }

    @Test func corruptStoredJSONIsATypedError() async throws {
        // Given a store with two journal entries
        let store = try EngineStore.inMemory()
        try await store.commit(JournalEntry(time: t0, event: "start_new_game"), resultingState: defaultState())
        try await store.commit(JournalEntry(time: at(1), event: "x", args: [1]), resultingState: defaultState())

        // When the current document is not JSON
        try await store.databaseWriter.write { db in
            try db.execute(sql: "UPDATE game_state SET document = '{\"player1\": ' WHERE id = 1")
        }
        // Then loading throws a typed error naming the row
        await #expect(throws: StorageError.corruptValue(table: "game_state", column: "document", key: "1")) {
            try await store.loadCurrent()
        }

        // When the document is valid JSON but not what was committed
        try await store.databaseWriter.write { db in
            try db.execute(sql: "UPDATE game_state SET document = '{}' WHERE id = 1")
        }
        // Then the hash check catches it
        await #expect(throws: StorageError.stateHashMismatch(sequence: 2)) {
            try await store.loadCurrent()
        }

        // When the document has the wrong SQLite type and an entry's arguments are not an array
        try await store.databaseWriter.write { db in
            try db.execute(sql: "UPDATE game_state SET document = x'ff00' WHERE id = 1")
            try db.execute(sql: "UPDATE journal SET args = '{\"a\":1}' WHERE sequence = 2")
        }
        // Then both are typed errors too, with a readable description
        let error = await #expect(throws: StorageError.self) { try await store.loadCurrent() }
        #expect(error == .corruptValue(table: "game_state", column: "document", key: "1"))
        #expect(error?.description.contains("game_state.document") == true)
        await #expect(throws: StorageError.corruptValue(table: "journal", column: "args", key: "2")) {
            try await store.journal(after: 0)
        }
    }

    @Test func pruneDropsOldJournalAndHistoryButKeepsTheSequence() async throws {
        // Given entries at t0 ... t0+9
        let store = try EngineStore.inMemory()
        var state = defaultState()
        for i in 0..<10 {
            state = state.setting("/player1/primary_score", .int(i))
            try await store.commit(JournalEntry(time: at(Double(i)), event: "update_score"), resultingState: state)
        }

        // When everything before t0+5 is pruned
        let result = try await store.prune(olderThan: at(5))

        // Then those journal and history rows are gone, the current state stays
        #expect(result["journal"] == 5)
        #expect(result["scores"] == 5)
        #expect(result["timers"] == 1)
        #expect(try await store.journal(after: 0).map(\.sequence) == [6, 7, 8, 9, 10])
        #expect(try await store.loadCurrent()?.document == state)

        // When everything is pruned, the next sequence still continues
        try await store.prune(olderThan: at(100))
        #expect(try await store.journal(after: 0).isEmpty)
        #expect(try await store.commit(JournalEntry(time: at(200), event: "x"), resultingState: state) == 11)
    }

    @Test func useAfterCloseFailsWithATypedError() async throws {
        try await withTemporaryDirectory { dir in
            // Given a closed store
            let store = try EngineStore.open(inDirectory: dir)
            try await store.close()

            // When it is used, then every call fails with a typed error, none crashes
            await #expect(throws: StorageError.closed) {
                try await store.commit(JournalEntry(event: "x"), resultingState: [:])
            }
            await #expect(throws: StorageError.closed) { try await store.loadCurrent() }
            await #expect(throws: StorageError.closed) { try await store.checkpoint() }
            try await store.close()
        }
    }

    @Test func inMemoryStoresReportTheirMode() async throws {
        let settings = try await EngineStore.inMemory().durabilitySettings()
        #expect(settings.journalMode == "memory")
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}
