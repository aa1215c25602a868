import JSONValue

extension ScorerGame {
    /// Whether `game_timer.status` is `"running"` (the legacy then refreshes
    /// the display strings once a second).
    public var isTimerRunning: Bool {
        guard case .object(let timer)? = state["game_timer"] else { return false }
        return timer["status"]?.pythonEquals("running") ?? false
    }

    /// When the next once-a-second display refresh is due after `now`, while
    /// the timer runs: the legacy's one-second interval is anchored at the
    /// moment the timer started (`game_timer.start_time`; `now` when that is
    /// not a number), so refreshes happen at `anchor + k` seconds.
    public func nextDisplayRefresh(after now: Double) -> Double? {
        guard isTimerRunning else { return nil }
        var anchor = now
        if case .object(let timer)? = state["game_timer"], let start = timer["start_time"],
            case .some(let number) = Python.number(start)
        {
            switch number {
            case .float(let d) where d.isFinite: anchor = d
            case .integer(let i): if let d = try? Python.toFloat(i) { anchor = d }
            default: break
            }
        }
        let elapsed = now - anchor
        let whole = elapsed.isFinite && elapsed.magnitude < 9e15 ? Double(Int(elapsed)) : 0
        return anchor + whole + 1.0
    }

    /// The once-a-second display refresh (`update_timer_display` on the
    /// legacy's clock while the timer runs): rewrites
    /// `game_timer.elapsed_display` and each player's `player_time_display`,
    /// no save, no broadcast. Does nothing unless the timer runs. Returns
    /// false when the refresh raised (the legacy logs it; any part already
    /// rewritten stays).
    @discardableResult
    public mutating func refreshDisplay(now: Double) -> Bool {
        guard isTimerRunning else { return true }
        do {
            try updateTimerDisplay(now: now)
            return true
        } catch {
            return false
        }
    }

    /// `update_timer_display()`.
    mutating func updateTimerDisplay(now: Double) throws(PythonException) {
        let activePlayerID = rootGet("active_player_id")
        let gameStatus = try nestedItem("game_timer", "status")
        let gamePhase = try rootItem("game_phase")
        let running = gameStatus.pythonEquals("running")
        let playing = running && gamePhase.pythonEquals("game_play")

        if running {
            let elapsed = try Python.subtract(.double(now), nestedItem("game_timer", "start_time"))
            try setNested("game_timer", "elapsed_display", .string(Python.hms(elapsed)))
        }
        var currentSegmentDuration: JSONValue = .int(0)
        if playing {
            currentSegmentDuration = try Python.subtract(.double(now), nestedItem("game_timer", "turn_segment_start_time"))
        }
        for (id, key) in [(1, "player1"), (2, "player2")] {
            let totalSeconds = try nestedItem(key, "player_elapsed_time_seconds")
            let display: String
            if activePlayerID.pythonEquals(.int(id)) && playing {
                display = try Python.hms(Python.add(totalSeconds, currentSegmentDuration))
            } else {
                display = try Python.hms(totalSeconds)
            }
            try setNested(key, "player_time_display", .string(display))
        }
    }

    /// `start_timer()`: only from `"stopped"`; saved with the next change.
    mutating func startTimer(now: Double) throws(PythonException) {
        guard try nestedItem("game_timer", "status").pythonEquals("stopped") else { return }
        try setNested("game_timer", "start_time", .double(now))
        try setNested("game_timer", "turn_segment_start_time", .double(now))
        try setNested("game_timer", "status", "running")
        try updateTimerDisplay(now: now)
    }

    /// `stop_timer()`: only from `"running"`; the displays are refreshed with
    /// the status already stopped (so `elapsed_display` keeps its last value).
    mutating func stopTimer(now: Double) throws(PythonException) {
        guard try nestedItem("game_timer", "status").pythonEquals("running") else { return }
        try setNested("game_timer", "status", "stopped")
        try updateTimerDisplay(now: now)
    }
}
