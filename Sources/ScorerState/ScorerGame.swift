import JSONValue

/// The legacy scoreboard's game state and its event handlers, as a pure
/// state machine: a Socket.IO event in, a ``ScorerOutcome`` out.
///
/// The state is the legacy's JSON document itself (a ``JSONObject`` whose key
/// order is the order in which the legacy creates the keys), so the served
/// JSON looks alike and any document a hand-off loads round-trips verbatim,
/// extra keys included. Every handler evaluates its rules with Python's
/// semantics in the legacy's order of checks and writes, including the
/// partial change a handler leaves behind when it raises halfway.
///
/// No clock, no randomness inside: each call takes `now` (Unix seconds, the
/// legacy's `time.time()`) and dice come from an injected ``DiceSource``.
/// The legacy reads its clock several times within one handler; this machine
/// uses one `now` per call.
public struct ScorerGame: Sendable, Equatable {
    /// The stored state.
    public internal(set) var state: JSONObject

    /// The stored state as a document.
    public var document: JSONValue { .object(state) }

    /// A fresh game: the legacy's default state (`game_phase: "setup"`).
    public init() {
        state = Self.defaultState()
    }

    /// Adopts `document` as the stored state, verbatim (a hand-off loads the
    /// legacy's whole state: it is the source of truth). It must be a JSON
    /// object, like every legacy state.
    public init(document: JSONValue) throws(ScorerError) {
        guard case .object(let object) = document else {
            throw .raised("load", .typeError("a game state is a JSON object, not '\(Python.typeName(document))'").blaming(.input))
        }
        state = object
    }

    /// The legacy's default state document.
    public static var defaultDocument: JSONValue { .object(defaultState()) }

    static func defaultState() -> JSONObject {
        func player(_ n: Int) -> JSONValue {
            [
                "name": .string("Player \(n)"),
                "primary_score": 0,
                "secondary_score": 0,
                "total_score": 0,
                "cp": 1,
                "deployment_roll": 0,
                "first_turn_roll": 0,
                "player_elapsed_time_seconds": 0.0,
                "player_time_display": "00:00:00",
            ]
        }
        return [
            "player1": player(1),
            "player2": player(2),
            "current_round": 0,
            "active_player_id": nil,
            "deployment_initiative_winner_id": nil,
            "deployment_attacker_id": nil,
            "deployment_defender_id": nil,
            "first_turn_choice_winner_id": nil,
            "first_player_of_game_id": nil,
            "last_round_played": 0,
            "game_phase": "setup",
            "game_timer": [
                "status": "stopped",
                "start_time": nil,
                "elapsed_display": "00:00:00",
                "turn_segment_start_time": nil,
            ],
        ]
    }

    /// Events the Pi client sends; each is acknowledged with `{"ok": ...}`.
    public static let piEvents: [String] = PiEvent.allCases.map(\.rawValue)
    /// Events the phone (and observer) clients send; never acknowledged by
    /// the shipped clients.
    public static let phoneEvents: [String] = PhoneEvent.allCases.map(\.rawValue)

    enum PiEvent: String, CaseIterable {
        case startNewGame = "start_new_game"
        case setPlayerName = "set_player_name"
        case startDeploymentPhase = "start_deployment_phase"
        case deploymentRoll = "deployment_roll"
        case deploymentRoleChoice = "deployment_role_choice"
        case startFirstTurnPhase = "start_first_turn_phase"
        case firstTurnRoll = "first_turn_roll"
        case firstTurnChoice = "first_turn_choice"
        case startGame = "start_game"
        case piConcede = "pi_concede"
    }

    enum PhoneEvent: String, CaseIterable {
        case requestGameState = "request_game_state"
        case updateScore = "update_score"
        case incrementCP = "increment_cp"
        case endTurn = "end_turn"
        case concedeGame = "concede_game"
        case updateGamePhase = "update_game_phase"
        case updateRound = "update_round"
        case updateTimer = "update_timer"
    }

    /// How a handler ended when it did not raise.
    enum HandlerResult: Equatable {
        case applied
        /// Returned early: nothing (more) happens, silently.
        case ignored(String)
        /// `start_game` without a first-turn player (the Pi shows an error).
        case refused(String)
    }

    /// The per-call context: the clock reading and the actions so far.
    struct Run {
        let now: Double
        var actions: [ScorerAction] = []
    }

    // MARK: - Events in

    /// A client connected: the legacy sends it the served state.
    public mutating func receivedConnect(now: Double) -> ScorerOutcome {
        let before = state
        var outcome = ScorerOutcome()
        do {
            let served = try buildServedState(now: now)
            outcome.actions = [.reply(event: "game_state_update", payload: served)]
        } catch {
            outcome.error = .raised("connect", error)
        }
        outcome.stateChanged = state != before
        return outcome
    }

    /// A Socket.IO event exactly as received: its name and its argument list
    /// (no argument, several, any JSON types: the legacy's reactions to all
    /// of them are reproduced). Unknown events are ignored.
    public mutating func receivedEvent(
        _ name: String, arguments: [JSONValue], now: Double, dice: inout some DiceSource
    ) -> ScorerOutcome {
        let before = state
        var run = Run(now: now)
        var outcome = ScorerOutcome()
        if let event = PiEvent(rawValue: name) {
            do {
                switch try applyPi(event, payload: arguments.first ?? .null, run: &run, dice: &dice) {
                case .applied:
                    outcome.ackArguments = [["ok": true]]
                case .ignored(let reason):
                    outcome.ackArguments = [["ok": true]]
                    outcome.error = .ignored(name, reason)
                case .refused(let reason):
                    outcome.ackArguments = [["ok": false, "error": .string(reason)]]
                    outcome.error = .refused(name, reason)
                }
            } catch {
                outcome.ackArguments = [["ok": false, "error": .string(error.text)]]
                outcome.error = .raised(name, error)
            }
        } else {
            do {
                let result = try applyClientEvent(name, arguments: arguments, run: &run)
                if let result {
                    outcome.ackArguments = []
                    if case .ignored(let reason) = result { outcome.error = .ignored(name, reason) }
                } else {
                    outcome.error = .ignored(name, "no handler for event \(JSONValue.string(name).pythonRepr)")
                }
            } catch {
                outcome.error = .raised(name, error)
            }
        }
        outcome.actions = run.actions
        outcome.stateChanged = state != before
        return outcome
    }

    /// ``receivedEvent(_:arguments:now:dice:)`` with system-random dice.
    public mutating func receivedEvent(_ name: String, arguments: [JSONValue], now: Double) -> ScorerOutcome {
        var dice = SystemRandomDice()
        return receivedEvent(name, arguments: arguments, now: now, dice: &dice)
    }

    // MARK: - The served state

    /// The state as the legacy serves it (`get_game_state`): while the timer
    /// runs, `game_timer.elapsed_seconds = now - start_time` and the active
    /// player's `live_elapsed_seconds = player_elapsed_time_seconds + (now -
    /// turn_segment_start_time)`. The legacy copies the state shallowly, so
    /// these fields land in the stored state too, every time the served state
    /// is built (a connect, `request_game_state`, each broadcast, and the
    /// `update_game_phase` / `update_round` / `update_timer` handlers).
    ///
    /// Throws when the legacy's `get_game_state` would raise (only for a
    /// loaded state with values of unexpected types).
    public mutating func servedState(now: Double) throws(ScorerError) -> JSONValue {
        do {
            return try buildServedState(now: now)
        } catch {
            throw .raised("served_state", error)
        }
    }

    // MARK: - Internals shared by the handlers

    /// `gs.get(key)`.
    func rootGet(_ key: String) -> JSONValue { state[key] ?? .null }

    /// `gs[key]`.
    func rootItem(_ key: String) throws(PythonException) -> JSONValue {
        guard let value = state[key] else { throw .keyError(key) }
        return value
    }

    /// `gs[outer][key]`.
    func nestedItem(_ outer: String, _ key: String) throws(PythonException) -> JSONValue {
        try Python.item(rootItem(outer), key)
    }

    /// `gs[outer][key] = value`.
    mutating func setNested(_ outer: String, _ key: String, _ value: JSONValue) throws(PythonException) {
        guard var container = state[outer] else { throw .keyError(outer) }
        state[outer] = .null  // keep the nested storage unique while it is edited
        defer { state[outer] = container }
        try Python.setItem(&container, key, value)
    }

    /// `save_game_state()`: write the file, then broadcast the served state;
    /// a failure to build it is logged and swallowed by the legacy.
    mutating func save(_ run: inout Run) {
        run.actions.append(.save(.object(state)))
        if let served = try? buildServedState(now: run.now) {
            run.actions.append(.broadcast(event: "game_state_update", payload: served))
        }
    }

    mutating func buildServedState(now: Double) throws(PythonException) -> JSONValue {
        // state_copy = self.state.copy(): the nested dicts are the stored ones.
        let timer = state["game_timer"] ?? .object([:])
        guard try Python.get(timer, "status").pythonEquals("running") else { return .object(state) }
        let startTime = try Python.get(timer, "start_time", default: .double(now))
        try setNested("game_timer", "elapsed_seconds", Python.subtract(.double(now), startTime))
        let active = rootGet("active_player_id")
        if active.pythonTruthy {
            let playerKey = "player" + Python.str(active)
            let playerData = state[playerKey] ?? .object([:])  // absent: a throwaway dict
            let segmentStart = try Python.get(rootItem("game_timer"), "turn_segment_start_time", default: .double(now))
            let base = try Python.get(playerData, "player_elapsed_time_seconds", default: .int(0))
            let live = try Python.add(base, Python.subtract(.double(now), segmentStart))
            if state[playerKey] != nil {
                try setNested(playerKey, "live_elapsed_seconds", live)
            }
        }
        return .object(state)
    }
}
