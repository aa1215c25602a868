import Foundation
import JSONValue
import StateTeeTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `statetee engine` binary killed with SIGKILL mid-game, then
/// restarted on the same data directory: it resumes the exact state.
@Suite struct CrashRecoveryTests {
    static let session = Processes.root + "/fixtures/sessions/full-game.jsonl"
    /// Written once a second from the clock, never saved (the legacy's refresh).
    static let displayStrings = ["/game_timer/elapsed_display", "/player1/player_time_display", "/player2/player_time_display"]

    @Test(.timeLimit(.minutes(3)))
    func sigkillMidGameThenRestartResumesTheSameState() async throws {
        try await withTemporaryDirectory { directory in
            let data = directory + "/engine"
            let seed = try Processes.seed(ofSession: Self.session)

            // 1. Set-up (names, dice, roles, first player), timer stopped: kill, restart, identical.
            var (engine, port) = try await Processes.startEngine(dataDirectory: data, seed: seed)
            let setUp = try Processes.excerpt(of: Self.session, lines: 2...18, into: directory)
            _ = try await Self.replayOrTerminate(setUp, port: port, engine: engine, directory: directory)
            let beforeFirstKill = try await Processes.engineState(port: port)
            #expect(beforeFirstKill.state["game_phase"] == "first_turn_setup")
            #expect(beforeFirstKill.state["first_turn_player_id"] == 1)
            try await Self.kill(engine)

            (engine, port) = try await Processes.startEngine(dataDirectory: data, seed: nil)
            let afterFirstRestart = try await Processes.engineState(port: port)
            #expect(afterFirstRestart.state == beforeFirstKill.state)
            #expect(afterFirstRestart.sequence == beforeFirstKill.sequence)

            // 2. Half a game with the timer running: kill, restart, identical but
            //    for the display strings the clock rewrites every second.
            let firstRounds = try Processes.excerpt(of: Self.session, lines: 19...35, into: directory)
            _ = try await Self.replayOrTerminate(firstRounds, port: port, engine: engine, directory: directory)
            let beforeSecondKill = try await Processes.engineState(port: port)
            #expect(beforeSecondKill.state["game_phase"] == "game_play")
            #expect(beforeSecondKill.state["current_round"] == 3)
            #expect(beforeSecondKill.state.value(at: JSONPointer("/game_timer/status")!) == "running")
            try await Self.kill(engine)

            (engine, port) = try await Processes.startEngine(dataDirectory: data, seed: nil)
            let afterSecondRestart = try await Processes.engineState(port: port)
            #expect(afterSecondRestart.sequence == beforeSecondKill.sequence)
            #expect(afterSecondRestart.state.removing(Self.displayStrings) == beforeSecondKill.state.removing(Self.displayStrings))
            for path in Self.displayStrings {
                let text = afterSecondRestart.state.at(path)?.stringValue ?? ""
                #expect(text.wholeMatch(of: /\d\d:\d\d:\d\d/) != nil, "\(path): \(text)")
            }

            // 3. The resumed engine plays the game to its end.
            let rest = try Processes.excerpt(of: Self.session, lines: 36...1000, into: directory)
            _ = try await Self.replayOrTerminate(rest, port: port, engine: engine, directory: directory)
            let final = try await Processes.engineState(port: port)
            #expect(final.state["game_phase"] == "game_over")
            #expect(final.state["current_round"] == 6)

            // 4. SIGTERM: a graceful stop, exit 0, the WAL checkpointed into the database.
            engine.send(signal: SIGTERM)
            #expect(try await engine.waitForExit(timeout: .seconds(20)) == 0)
            await engine.terminate()
            let wal = try? FileManager.default.attributesOfItem(atPath: data + "/engine.sqlite-wal")[.size] as? Int
            #expect((wal ?? 0) == 0)
            (engine, port) = try await Processes.startEngine(dataDirectory: data, seed: nil)
            let afterStop = try await Processes.engineState(port: port)
            #expect(afterStop.sequence == final.sequence)
            #expect(afterStop.state.removing(Self.displayStrings) == final.state.removing(Self.displayStrings))
            await engine.terminate()
        }
    }

    static func replayOrTerminate(_ session: String, port: Int, engine: TestProcess, directory: String) async throws
        -> Processes.Replay
    {
        do {
            return try await Processes.replay(session, url: "http://127.0.0.1:\(port)", directory: directory)
        } catch {
            await engine.terminate()
            throw error
        }
    }

    static func kill(_ process: TestProcess) async throws {
        process.send(signal: SIGKILL)
        let status = try await process.waitForExit(timeout: .seconds(10))
        #expect(status == SIGKILL)
        await process.terminate()
    }
}
