import Engine
import Foundation
import JSONValue
import ScorerState
import Storage
import Testing

/// The engine core without sockets: an injected clock, scripted dice, an
/// in-memory (or temporary file) store.
@Suite struct ScorerEngineTests {
    let clock = ManualClock()
    let broadcasts = EmissionLog()

    func makeEngine(
        _ configuration: EngineConfiguration = EngineConfiguration(rateLimit: 0),
        dice: [Int] = setUpDice,
        store: EngineStore? = nil
    ) async throws -> (ScorerEngine, EngineStore) {
        let store = try store ?? EngineStore.inMemory()
        let engine = try await ScorerEngine(
            configuration: configuration.with(dice: .scripted(dice)), store: store, clock: clock.engineClock,
            broadcaster: broadcasts.emitter)
        return (engine, store)
    }

    func send(_ engine: ScorerEngine, _ events: [(String, [JSONValue])], from client: EngineClient) async {
        for (event, arguments) in events {
            _ = await engine.receive(event, arguments: arguments, from: client)
        }
    }

    // MARK: - Events, commits, emissions

    @Test func connectRepliesToTheConnectingClientOnly() async throws {
        let (engine, store) = try await makeEngine()
        let phone = EmissionLog()
        let result = await engine.connect(EngineClient(id: "phone", emit: phone.emitter))
        #expect(phone.all.map(\.event) == ["game_state_update"])
        #expect(phone.all.first?.payload == ScorerGame.defaultDocument)
        #expect(result.broadcasts.isEmpty && broadcasts.all.isEmpty)
        #expect(result.sequence == nil)  // nothing changed, nothing committed
        #expect(try await store.loadCurrent() == nil)
    }

    @Test func eachSavingEventIsCommittedBeforeItIsBroadcast() async throws {
        let (engine, store) = try await makeEngine()
        let pi = EmissionLog()
        let client = EngineClient(id: "pi", label: "pi", emit: pi.emitter)
        var expectedSequence: Int64 = 0
        for (event, arguments) in setUpEvents {
            let result = await engine.receive(event, arguments: arguments, from: client)
            expectedSequence += 1
            #expect(result.ackArguments == [["ok": true]], "\(event)")
            #expect(result.sequence == expectedSequence, "\(event)")
            // What was broadcast is what is durable.
            let stored = try #require(try await store.loadCurrent())
            #expect(stored.sequence == expectedSequence)
            #expect(result.broadcasts.map(\.event) == ["game_state_update"], "\(event)")
            #expect(result.broadcasts.last?.payload == stored.document, "\(event)")
            #expect(broadcasts.all.last?.payload == stored.document)
        }
        let journal = try await store.journal(after: 0)
        #expect(journal.map(\.event) == setUpEvents.map(\.0))
        #expect(journal.allSatisfy { $0.sessionID == "pi" && $0.client == "pi" && $0.kind == .event })
        let state = await engine.state()
        #expect(state.state.at("/first_turn_player_id") == 1)
        #expect(state.state.at("/player1/deployment_roll") == 5)
        #expect(state.sequence == expectedSequence)
        #expect(pi.all.isEmpty)  // Pi events get acks, no replies
    }

    @Test func aFailedCommitRollsBackAndBroadcastsNothing() async throws {
        let (engine, store) = try await makeEngine()
        let pi = EmissionLog()
        _ = await engine.receive("start_new_game", arguments: [], from: EngineClient(id: "pi", emit: pi.emitter))
        let before = await engine.state()
        broadcasts.clear()
        try await store.close()  // the disk "fails" underneath the engine
        let result = await engine.receive(
            "set_player_name", arguments: [["player_id": 1, "name": "Mallory"]],
            from: EngineClient(id: "pi", emit: pi.emitter))
        #expect(result.errorCode == "SERVER_ERROR")
        #expect(result.ackArguments?.first?.at("/ok") == false)
        #expect(broadcasts.all.isEmpty)
        #expect(await engine.state() == before)
        #expect(pi.named("error").first?.payload.at("/code") == "SERVER_ERROR")
    }

    @Test func requestGameStateRepliesToTheRequesterOnly() async throws {
        let (engine, _) = try await makeEngine()
        let phone = EmissionLog()
        let result = await engine.receive("request_game_state", arguments: [], from: EngineClient(id: "p", emit: phone.emitter))
        #expect(phone.all.map(\.event) == ["game_state_update"])
        #expect(result.replies.map(\.event) == ["game_state_update"])
        #expect(result.broadcasts.isEmpty && broadcasts.all.isEmpty)
        #expect(result.ackArguments == [])  // python-socketio acks a None return with no arguments
    }

    @Test func badInputLeavesTheStateAndTellsTheSenderAlone() async throws {
        let (engine, store) = try await makeEngine()
        await send(engine, Array(setUpEvents.prefix(3)), from: EngineClient(id: "pi"))
        let before = await engine.state()
        broadcasts.clear()
        let phone = EmissionLog()
        let client = EngineClient(id: "phone", emit: phone.emitter)
        let bad: [(String, [JSONValue], String)] = [
            ("update_score", [["player_id": 1, "score_type": "primary", "value": "abc"]], "INVALID_STATE"),
            ("update_score", [], "INVALID_STATE"),
            ("update_score", ["not an object"], "INVALID_STATE"),
            ("request_game_state", [1], "INVALID_STATE"),
            ("end_turn", [["player_id": 1]], "ACTION_DENIED"),  // not in game_play
            ("increment_cp", [["player_id": 1]], "ACTION_DENIED"),  // quirk Q2: no action
            ("no_such_event", [], "ACTION_DENIED"),
        ]
        for (event, arguments, code) in bad {
            phone.clear()
            let result = await engine.receive(event, arguments: arguments, from: client)
            #expect(result.errorCode == code, "\(event)")
            #expect(result.broadcasts.isEmpty, "\(event)")
            let errors = phone.named("error")
            #expect(errors.count == 1, "\(event)")
            let payload = try #require(errors.first?.payload)
            #expect(payload.at("/code") == .string(code))
            #expect(payload.at("/details/event") == .string(event))
            #expect(payload.at("/message")?.stringValue?.isEmpty == false)
            #expect(payload.at("/timestamp")?.stringValue?.hasSuffix("Z") == true)
        }
        #expect(await engine.state() == before)
        #expect(broadcasts.all.isEmpty)
        #expect(try await store.journal(after: 0).count == 3)
    }

    @Test func aPacketWithAnIntegerLiteralOverAHundredCharactersIsDroppedLikeTheLegacy() async throws {
        let (engine, _) = try await makeEngine()
        await send(engine, Array(setUpEvents.prefix(1)), from: EngineClient(id: "pi"))
        let before = await engine.state()
        broadcasts.clear()
        let phone = EmissionLog()
        let client = EngineClient(id: "phone", emit: phone.emitter)
        let hundredDigits = String(repeating: "9", count: 100)
        let dropped = await engine.receive(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": ["x": .bigInt("1" + hundredDigits)]]],
            from: client)
        #expect(dropped.outcome == nil && dropped.ackArguments == nil)
        #expect(dropped.errorCode == "INVALID_STATE")
        let droppedPi = await engine.receive(
            "set_player_name", arguments: [["player_id": 1, "name": "x", "n": .bigInt("-" + hundredDigits)]], from: client)
        #expect(droppedPi.ackArguments == nil)  // the legacy never sees it: no ack either
        #expect(await engine.state() == before)
        #expect(broadcasts.all.isEmpty)
        // 100 characters still parse: python's int() keeps them exact.
        let kept = await engine.receive(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": .bigInt(hundredDigits)]],
            from: client)
        #expect(kept.outcome?.saved == true)
        #expect(await engine.state().state.at("/player1/primary_score") == .bigInt(hundredDigits))
    }

    @Test func errorEventsCanBeTurnedOff() async throws {
        let (engine, _) = try await makeEngine(EngineConfiguration(rateLimit: 0, errorEvents: false))
        let phone = EmissionLog()
        let result = await engine.receive(
            "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": "abc"]],
            from: EngineClient(id: "phone", emit: phone.emitter))
        #expect(result.errorCode == "INVALID_STATE")
        #expect(phone.all.isEmpty)
    }

    @Test func piAcksReportFailures() async throws {
        let (engine, _) = try await makeEngine()
        let unknownPlayer = await engine.receive(
            "deployment_roll", arguments: [["player_id": 3]], from: EngineClient(id: "pi"))
        #expect(unknownPlayer.ackArguments == [["ok": false, "error": "KeyError: 'player3'"]])
        let noFirstPlayer = await engine.receive("start_game", arguments: [], from: EngineClient(id: "pi"))
        #expect(noFirstPlayer.ackArguments == [["ok": false, "error": .string(ScorerGame.startGameError)]])
    }

    // MARK: - Shadow mode

    @Test func shadowModeSuppressesBroadcastsButAnswersRequesters() async throws {
        let (engine, store) = try await makeEngine(EngineConfiguration(shadow: true, rateLimit: 0))
        #expect(await engine.isShadow)
        let pi = EmissionLog()
        let client = EngineClient(id: "pi", emit: pi.emitter)
        let result = await engine.receive("start_new_game", arguments: [], from: client)
        #expect(result.ackArguments == [["ok": true]])
        #expect(result.broadcasts.isEmpty)
        #expect(result.suppressedBroadcasts.map(\.event) == ["game_state_update"])
        #expect(broadcasts.all.isEmpty)
        #expect(try await store.loadCurrent()?.sequence == 1)  // still durable

        let phone = EmissionLog()
        _ = await engine.connect(EngineClient(id: "phone", emit: phone.emitter))
        _ = await engine.receive("request_game_state", arguments: [], from: EngineClient(id: "phone", emit: phone.emitter))
        #expect(phone.named("game_state_update").count == 2)
        #expect(phone.all.allSatisfy { $0.payload.at("/game_phase") == "name_entry" })

        await engine.setShadow(false)
        let live = await engine.receive("start_deployment_phase", arguments: [], from: client)
        #expect(live.broadcasts.map(\.event) == ["game_state_update"])
        #expect(broadcasts.all.count == 1)
    }

    // MARK: - Rate limiting

    @Test func rateLimitDropsExcessEventsWithAClearError() async throws {
        let (engine, _) = try await makeEngine(EngineConfiguration(rateLimit: 3))
        let phone = EmissionLog()
        let client = EngineClient(id: "phone", emit: phone.emitter)
        for _ in 0..<3 {
            let result = await engine.receive("request_game_state", arguments: [], from: client)
            #expect(!result.rateLimited)
        }
        let limited = await engine.receive("start_new_game", arguments: [], from: client)
        #expect(limited.rateLimited)
        #expect(limited.outcome == nil)  // never reached the game
        #expect(limited.ackArguments?.first?.at("/ok") == false)  // a Pi event is still answered
        let error = try #require(phone.named("error").first)
        #expect(error.payload.at("/code") == "RATE_LIMITED")
        #expect(error.payload.at("/details/limit_per_second") == 3)
        #expect(await engine.state().state.at("/game_phase") == "setup")

        // Another client has its own bucket.
        let other = await engine.receive("request_game_state", arguments: [], from: EngineClient(id: "other"))
        #expect(!other.rateLimited)

        // A further drop within the same second is not announced again.
        let again = await engine.receive("request_game_state", arguments: [], from: client)
        #expect(again.rateLimited)
        #expect(phone.named("error").count == 1)

        clock.advance(by: 1.0)
        let later = await engine.receive("start_new_game", arguments: [], from: client)
        #expect(!later.rateLimited)
        #expect(later.ackArguments == [["ok": true]])
    }

    @Test func aShadowAppliesEveryEventTheRateLimitIsThePrimarysAlone() async throws {
        let (engine, _) = try await makeEngine(EngineConfiguration(rateLimit: 3))
        let phone = EmissionLog()
        let client = EngineClient(id: "phone", emit: phone.emitter)

        // A proxy's embedded shadow: a burst the legacy took is applied whole.
        try await engine.setRole(primary: false)
        for score in 1...10 {
            let result = await engine.receive(
                "update_score", arguments: [["player_id": 1, "score_type": "primary", "value": .int(score)]], from: client)
            #expect(!result.rateLimited)
        }
        #expect(phone.named("error").isEmpty)
        #expect(await engine.state().state.at("/player1/primary_score") == 10)

        // An engine in shadow mode (an external shadow) likewise.
        try await engine.setRole(primary: true)
        await engine.setShadow(true)
        for _ in 0..<10 {
            #expect(!(await engine.receive("request_game_state", arguments: [], from: client)).rateLimited)
        }

        // Once it answers for the game, the limit applies again, from a full bucket.
        await engine.setShadow(false)
        for _ in 0..<3 {
            #expect(!(await engine.receive("request_game_state", arguments: [], from: client)).rateLimited)
        }
        #expect(await engine.receive("request_game_state", arguments: [], from: client).rateLimited)
        #expect(phone.named("error").first?.payload.at("/code") == "RATE_LIMITED")
    }

    // MARK: - Control

    @Test func loadStateReplacesTheWholeStateAndJournalsIt() async throws {
        let (engine, store) = try await makeEngine()
        let document = ScorerGame.defaultDocument.removing([]).settingPhase("game_over")
        let sequence = try await engine.loadState(document, reason: "handoff", broadcast: true)
        #expect(sequence == 1)
        #expect(await engine.state() == EngineStateSnapshot(state: document, sequence: 1))
        #expect(broadcasts.all.map(\.event) == ["game_state_update"])
        let entry = try #require(try await store.journal(after: 0).first)
        #expect(entry.kind == .control && entry.event == EngineStore.replaceStateEvent)
        #expect(entry.args == [["reason": "handoff"]])

        await #expect(throws: EngineError.invalidState) {
            try await engine.loadState([1, 2], reason: "bad")
        }
        #expect(await engine.state().sequence == 1)
    }

    @Test func patchIsAllOrNothing() async throws {
        let (engine, store) = try await makeEngine()
        _ = await engine.receive("start_new_game", arguments: [], from: EngineClient(id: "pi"))
        let before = await engine.state()
        for path in ["player1/cp", "", "/nowhere/deep", "/player1/cp/x"] {
            await #expect(throws: EngineError.invalidPatch(path: path)) {
                try await engine.patchState(
                    [EnginePatch(path: "/player2/cp", value: 9), EnginePatch(path: path, value: 4)], reason: "adopt")
            }
        }
        #expect(await engine.state() == before)
        #expect(try await store.journal(after: 0).count == 1)

        let sequence = try await engine.patchState(
            [
                EnginePatch(path: "/player1/deployment_roll", value: 4),
                EnginePatch(path: "/first_turn_initiative_winner_id", value: 2),  // a key that appears later
            ], reason: "adopt")
        let after = await engine.state()
        #expect(after.sequence == sequence)
        #expect(after.state.at("/player1/deployment_roll") == 4)
        #expect(after.state.at("/first_turn_initiative_winner_id") == 2)
        #expect(broadcasts.all.count == 1)  // only start_new_game's: a patch broadcasts only when asked
        let entry = try #require(try await store.journal(after: before.sequence).first)
        #expect(entry.kind == .control && entry.event == ScorerEngine.patchEvent)
        #expect(entry.args.first?.at("/reason") == "adopt")
        #expect(try await store.loadCurrent()?.document == after.state)
    }

    @Test func healthReportsTheEngine() async throws {
        let (engine, _) = try await makeEngine()
        _ = await engine.connect(EngineClient(id: "a"))
        _ = await engine.receive("start_new_game", arguments: [], from: EngineClient(id: "a"))
        clock.advance(by: 5)
        let health = await engine.health()
        #expect(health.status == "ok")
        #expect(health.sequence == 1)
        #expect(health.gamePhase == "name_entry")
        #expect(health.connectedClients == 1)
        #expect(health.dice == "scripted")
        #expect(health.uptimeSeconds == 5)
        await engine.disconnected(clientID: "a")
        #expect(await engine.health().connectedClients == 0)
    }

    // MARK: - Timer and display refresh

    @Test func theDisplayRefreshRewritesStringsWithoutCommitting() async throws {
        let (engine, store) = try await makeEngine()
        await send(engine, setUpEvents, from: EngineClient(id: "pi"))
        let started = await engine.receive("start_game", arguments: [], from: EngineClient(id: "pi"))
        #expect(started.ackArguments == [["ok": true]])
        let start = clock.now
        #expect(await engine.nextDisplayRefresh() == start + 1)
        clock.advance(by: 65.5)
        broadcasts.clear()
        await engine.refreshDisplay()
        let state = await engine.state().state
        #expect(state.at("/game_timer/elapsed_display") == "00:01:05")
        #expect(state.at("/player1/player_time_display") == "00:01:05")
        #expect(broadcasts.all.isEmpty)
        #expect(try await store.loadCurrent()?.sequence == started.sequence)
        #expect(await engine.nextDisplayRefresh() == start + 66)
    }

    // MARK: - Resume

    @Test func aNewEngineResumesTheCommittedState() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = EngineConfiguration(dataDirectory: directory, rateLimit: 0)
            let first = try await ScorerEngine.open(
                configuration: configuration.with(dice: .scripted(setUpDice)), clock: clock.engineClock)
            await send(first, setUpEvents, from: EngineClient(id: "pi"))
            _ = await first.receive("start_game", arguments: [], from: EngineClient(id: "pi"))
            clock.advance(by: 30)
            _ = await first.receive("update_score", arguments: [["player_id": 1, "score_type": "primary", "value": 7]], from: EngineClient(id: "phone"))
            _ = await first.receive("end_turn", arguments: [["player_id": 1]], from: EngineClient(id: "phone"))
            let before = await first.state()
            await first.close()
            await first.close()  // twice is harmless
            let closed = await first.receive("request_game_state", arguments: [], from: EngineClient(id: "late"))
            #expect(closed.errorCode == "SERVER_ERROR")

            let second = try await ScorerEngine.open(configuration: configuration, clock: clock.engineClock)
            #expect(await second.state() == before)
            #expect(before.state.at("/active_player_id") == 2)
            #expect(before.state.at("/player1/primary_score") == 7)
            await second.close()
        }
    }

    // MARK: - The test-only defect

    @Test func theCPAddTwiceDefectIsOffByDefaultAndAddsTwoWhenOn() async throws {
        for defect in [nil, EngineTestDefect.cpAddTwice] {
            let (engine, _) = try await makeEngine(EngineConfiguration(rateLimit: 0, testDefect: defect))
            await send(engine, setUpEvents, from: EngineClient(id: "pi"))
            _ = await engine.receive("start_game", arguments: [], from: EngineClient(id: "pi"))
            broadcasts.clear()
            let result = await engine.receive(
                "increment_cp", arguments: [["player_id": 1, "action": "add"]], from: EngineClient(id: "phone"))
            let expected: JSONValue = defect == nil ? 2 : 3
            #expect(await engine.state().state.at("/player1/cp") == expected)
            #expect(result.broadcasts.count == 1)
            #expect(result.broadcasts.first?.payload.at("/player1/cp") == expected)
        }
    }
}

extension JSONValue {
    func settingPhase(_ phase: String) -> JSONValue {
        var copy = self
        copy.set(.string(phase), at: JSONPointer("/game_phase")!)
        return copy
    }
}
