import JSONValue
import ScorerState
import Testing

@Suite("Timer, served state and display refresh")
struct TimerTests {
    @Test func servedStateWithTheTimerStoppedAddsNothing() throws {
        var game = makeGame(Docs.fresh)
        let served = try game.servedState(now: 5000)
        expectSameBytes(served, Docs.fresh)
        expectSameBytes(game.document, Docs.fresh)
    }

    /// Values printed by CPython for the same operations, in the legacy's order:
    /// `now - start_time` and `base + (now - turn_segment_start_time)`.
    @Test func liveFieldsAreTheLegacysFloats() throws {
        let start = Docs.playing.with([
            "/game_timer/start_time": 1_700_000_000.123,
            "/game_timer/turn_segment_start_time": 1_700_000_055.777,
            "/active_player_id": 2,
            "/player2/player_elapsed_time_seconds": 31.4159,
        ])
        var game = makeGame(start)
        let served = try game.servedState(now: 1_700_000_123.456789)
        #expect(served.at("/game_timer/elapsed_seconds") == .double(123.33378911018372))
        #expect(served.at("/player2/live_elapsed_seconds") == .double(99.09568906631469))
        #expect(served.at("/player1/live_elapsed_seconds") == nil)
        // The shallow-copy quirk: the stored state has them too.
        expectSameBytes(game.document, served)
    }

    @Test func liveFieldsStayAndAreOverwrittenByTheNextBuild() throws {
        var game = makeGame(Docs.playing)
        _ = game.receivedEvent("request_game_state", arguments: [], now: 1010)
        expectSameBytes(game.document, Docs.playingLive)
        _ = game.receivedEvent("end_turn", arguments: [["player_id": 1]], now: 1012.5)
        // player 1's stale live field stays; player 2 gets one at the broadcast.
        #expect(game.document.at("/player1/live_elapsed_seconds") == 10.0)
        #expect(game.document.at("/player2/live_elapsed_seconds") == 0.0)
        #expect(game.document.at("/game_timer/elapsed_seconds") == 12.5)
        _ = game.receivedConnect(now: 1020)
        #expect(game.document.at("/player2/live_elapsed_seconds") == 7.5)
        #expect(game.document.at("/game_timer/elapsed_seconds") == 20.0)
    }

    @Test func liveFieldForAnActivePlayerWithoutEntryIsDropped() throws {
        var game = makeGame(Docs.playing.with("/active_player_id", 3))
        let served = try game.servedState(now: 1010)
        expectSameBytes(served, Docs.playing.with(["/active_player_id": 3, "/game_timer/elapsed_seconds": 10.0]))
    }

    @Test func aServedStateThatRaisesSkipsTheBroadcastButNotTheSave() {
        // start_time None while running: `now - None` raises inside
        // get_game_state; save_game_state swallows it after writing the file.
        let start = Docs.playing.with("/game_timer/start_time", nil)
        var game = makeGame(start)
        #expect(throws: ScorerError.self) { try game.servedState(now: 1010) }
        let connect = game.receivedConnect(now: 1010)
        #expect(connect.actions.isEmpty)
        #expect(connect.error?.code == .serverError)
        let concede = game.receivedEvent("concede_game", arguments: [["player_id": 1]], now: 1010)
        #expect(concede.actions == [.save(start.with("/game_phase", "game_over"))])
        #expect(concede.error == nil)
    }

    @Test func turnTimesAccumulateInTheLegacysOrder() {
        let times = [1_700_000_000.1, 1_700_000_013.37, 1_700_000_029.9, 1_700_000_044.123, 1_700_000_101.01]
        var game = makeGame(
            Docs.playing.with([
                "/game_timer/start_time": .double(times[0]), "/game_timer/turn_segment_start_time": .double(times[0]),
            ]))
        for (i, now) in times.dropFirst().enumerated() {
            let outcome = game.receivedEvent("end_turn", arguments: [["player_id": .int(i % 2 + 1)]], now: now)
            #expect(outcome.saved)
        }
        // CPython: e1 = 0.0; e1 += t1 - t0; e1 += t3 - t2 (and e2 likewise).
        #expect(game.document.at("/player1/player_elapsed_time_seconds") == .double(27.492999792099))
        #expect(game.document.at("/player2/player_elapsed_time_seconds") == .double(73.41700029373169))
        #expect(game.document.at("/current_round") == 3)
        #expect(game.document.at("/status_message") == "Round 3 - Player 1's Turn")
    }

    /// `_format_seconds_to_hms`: int() truncation, floor divmod, `{:02}`.
    @Test(
        "HH:MM:SS",
        arguments: [
            (JSONValue.double(0.0), "00:00:00"),
            (.double(59.999), "00:00:59"),
            (.int(3600), "01:00:00"),
            (.double(360_000.0), "100:00:00"),
            (.double(-0.5), "00:00:00"),
            (.double(-1.0), "-1:59:59"),
            (.int(-3601), "-2:59:59"),
            (.double(86399.99), "23:59:59"),
            (.int(5), "00:00:05"),
            (.bigInt("100000000000000000000"), "27777777777777777:46:40"),
            (.string("12"), "00:00:12"),
            (
                .double(1e300),
                "277777777777777792362433404223450069084574605863377543032181698753278460552474498829547604189013295567695678842467743938039589787600119604345775606885196384124552000257382167704952842720774469460935820343047444429189199733046566911131847984105595137383127441338904678566143241520054551907072055705:36:00"
            ),
        ])
    func displayFormat(_ seconds: JSONValue, _ text: String) {
        // Player 2 is not active: its display is HH:MM:SS of its banked time.
        var game = makeGame(Docs.playing.with("/player2/player_elapsed_time_seconds", seconds))
        let refreshed = game.refreshDisplay(now: 1000)
        #expect(refreshed)
        #expect(game.document.at("/player2/player_time_display") == .string(text))
    }

    @Test func refreshRewritesTheDisplaysOnly() {
        let start = Docs.playing.with(["/player1/player_elapsed_time_seconds": 100.0, "/player2/player_elapsed_time_seconds": 7.0])
        var game = makeGame(start)
        let refreshed = game.refreshDisplay(now: 4661.9)
        #expect(refreshed)  // 3661.9 s since the start, 3661.9 s into player 1's turn
        expectSameBytes(
            game.document,
            start.with([
                "/game_timer/elapsed_display": "01:01:01",
                "/player1/player_time_display": "01:02:41",  // 100 + 3661.9
                "/player2/player_time_display": "00:00:07",
            ]))
    }

    @Test func refreshAfterAPhoneConcedeKeepsTheTotalClockGoing() {
        // Q3 leaves the timer running in game_over: the total keeps counting,
        // the players' displays show their banked time only.
        let start = Docs.playing.with(["/game_phase": "game_over", "/player1/player_elapsed_time_seconds": 3.0])
        var game = makeGame(start)
        let refreshed = game.refreshDisplay(now: 1065)
        #expect(refreshed)
        expectSameBytes(
            game.document,
            start.with(["/game_timer/elapsed_display": "00:01:05", "/player1/player_time_display": "00:00:03"]))
    }

    @Test func refreshDoesNothingWhileStopped() {
        let start = Docs.fresh.with("/player1/player_elapsed_time_seconds", 99.0)
        var game = makeGame(start)
        let refreshed = game.refreshDisplay(now: 1e9)
        #expect(refreshed)
        expectSameBytes(game.document, start)
        #expect(game.isTimerRunning == false)
        #expect(game.nextDisplayRefresh(after: 5) == nil)
    }

    @Test func aRefreshThatRaisesKeepsWhatItWrote() {
        let start = Docs.playing.with("/player2/player_elapsed_time_seconds", "x")
        var game = makeGame(start)
        let refreshed = game.refreshDisplay(now: 1070)
        #expect(refreshed == false)
        expectSameBytes(
            game.document,
            start.with(["/game_timer/elapsed_display": "00:01:10", "/player1/player_time_display": "00:01:10"]))
    }

    @Test(
        "refresh schedule anchored at the timer's start",
        arguments: [(1000.0, 1001.0), (1005.3, 1006.0), (1999.999, 2000.0), (999.5, 1001.0)])
    func nextRefresh(_ now: Double, _ next: Double) {
        let game = makeGame(Docs.playing)
        #expect(game.isTimerRunning)
        #expect(game.nextDisplayRefresh(after: now) == next)
    }

    @Test func startGameStartsTheClockAndRefreshesFromThere() {
        var game = makeGame(PiEventTests.ready)
        var dice = ScriptedDice([])
        _ = game.receivedEvent("start_game", arguments: [], now: 2000.25, dice: &dice)
        #expect(game.isTimerRunning)
        #expect(game.nextDisplayRefresh(after: 2000.25) == 2001.25)
        game.refreshDisplay(now: 2063.25)
        #expect(game.document.at("/game_timer/elapsed_display") == "00:01:03")
        #expect(game.document.at("/player2/player_time_display") == "00:01:03")
        #expect(game.document.at("/player1/player_time_display") == "00:00:00")
    }
}
