import JSONValue

extension ScorerGame {
    /// Dispatches a non-Pi event the way Flask-SocketIO calls the legacy's
    /// handlers: `handler(*args)`, so a wrong number of arguments raises
    /// `TypeError` before the body runs. Returns nil when no handler exists.
    mutating func applyClientEvent(_ name: String, arguments: [JSONValue], run: inout Run) throws(PythonException)
        -> HandlerResult?
    {
        switch name {
        case "connect":
            // A client-sent event named "connect" reaches the connect handler
            // (Flask-SocketIO retries it without arguments): a reply.
            run.actions.append(.reply(event: "game_state_update", payload: try buildServedState(now: run.now)))
            return .applied
        case "disconnect":
            // handle_disconnect(reason=None); python-socketio retries a
            // TypeError once with the last argument dropped.
            guard arguments.count <= 2 else {
                throw PythonException.typeError(
                    "handle_disconnect() takes from 0 to 1 positional arguments but \(arguments.count - 1) were given"
                ).blaming(.input)
            }
            return .ignored("disconnect is not a game event")
        default:
            break
        }
        guard let event = PhoneEvent(rawValue: name) else { return nil }
        if event == .requestGameState {
            guard arguments.isEmpty else {
                throw Self.arityError("handle_game_state_request", takes: 0, given: arguments.count)
            }
            run.actions.append(.reply(event: "game_state_update", payload: try buildServedState(now: run.now)))
            return .applied
        }
        let function = Self.handlerName(event)
        guard arguments.count == 1 else {
            if arguments.isEmpty {
                throw PythonException.typeError("\(function)() missing 1 required positional argument: 'data'")
                    .blaming(.input)
            }
            throw Self.arityError(function, takes: 1, given: arguments.count)
        }
        let data = arguments[0]
        switch event {
        case .requestGameState: preconditionFailure("handled above")
        case .updateScore: return try webScoreUpdate(data, run: &run)
        case .incrementCP: return try webIncrementCP(data, run: &run)
        case .endTurn: return try webEndTurn(data, run: &run)
        case .concedeGame: return try webConcedeGame(data, run: &run)
        case .updateGamePhase: return try broadcastOnly(data, key: "phase", event: "game_phase_update", run: &run)
        case .updateRound: return try broadcastOnly(data, key: "round", event: "round_update", run: &run)
        case .updateTimer: return try updateTimer(data, run: &run)
        }
    }

    static func handlerName(_ event: PhoneEvent) -> String {
        switch event {
        case .requestGameState: "handle_game_state_request"
        case .updateScore: "handle_score_update"
        case .incrementCP: "handle_cp_update"
        case .endTurn: "handle_end_turn"
        case .concedeGame: "handle_concede_game"
        case .updateGamePhase: "handle_game_phase_update"
        case .updateRound: "handle_round_update"
        case .updateTimer: "handle_timer_update"
        }
    }

    static func arityError(_ function: String, takes: Int, given: Int) -> PythonException {
        let takesText = "\(takes) positional argument\(takes == 1 ? "" : "s")"
        return PythonException.typeError(
            "\(function)() takes \(takesText) but \(given) \(given == 1 ? "was" : "were") given"
        ).blaming(.input)
    }

    /// `data.get(key)` on the client's payload (raises for a non-object).
    static func payloadGet(_ data: JSONValue, _ key: String) throws(PythonException) -> JSONValue {
        do {
            return try Python.get(data, key)
        } catch {
            throw error.blaming(.input)
        }
    }

    // MARK: update_score (quirk Q1)

    mutating func webScoreUpdate(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let playerID = try Self.payloadGet(data, "player_id")
        let scoreType = try Self.payloadGet(data, "score_type")
        let value = try Self.payloadGet(data, "value")
        guard playerID.pythonTruthy, scoreType.pythonTruthy, !value.isNull else {
            return .ignored("update_score needs a truthy player_id and score_type and a non-null value")
        }
        let playerKey = "player" + Python.str(playerID)
        let scoreKey = Python.str(scoreType) + "_score"
        guard let player = state[playerKey], try Python.contains(player, scoreKey) else {
            return .ignored("no \(playerKey).\(scoreKey) in the state")
        }
        let scoreValue: JSONValue
        do {
            scoreValue = try Python.int(value)
        } catch {
            throw error.blaming(.input)
        }
        return try processNumpadValue(scoreValue, playerID: playerID, run: &run)
    }

    /// `process_numpad_value`: whatever the score type, the value lands in
    /// `primary_score` (quirk Q1).
    mutating func processNumpadValue(_ scoreValue: JSONValue, playerID: JSONValue, run: inout Run)
        throws(PythonException) -> HandlerResult
    {
        let playerKey = "player" + Python.str(playerID)
        guard state[playerKey] != nil else { return .ignored("no \(playerKey) in the state") }
        try setNested(playerKey, "primary_score", scoreValue)
        let total = try Python.add(
            nestedItem(playerKey, "primary_score"),
            Python.get(rootItem(playerKey), "secondary_score", default: .int(0)))
        try setNested(playerKey, "total_score", total)
        let name = try nestedItem(playerKey, "name")
        state["status_message"] = .string("\(Python.str(name)) Score Updated")
        save(&run)
        return .applied
    }

    // MARK: increment_cp (quirk Q2)

    mutating func webIncrementCP(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let playerID = try Self.payloadGet(data, "player_id")
        let action = try Self.payloadGet(data, "action")
        guard playerID.pythonTruthy, action.pythonTruthy else {
            return .ignored("increment_cp needs a truthy player_id and action")
        }
        if action.pythonEquals("add") {
            return try addCP(playerID, run: &run)
        } else if action.pythonEquals("remove") {
            return try removeCP(playerID, run: &run)
        }
        return .ignored("unknown increment_cp action \(action.pythonRepr)")
    }

    mutating func addCP(_ playerID: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        guard try rootItem("game_phase").pythonEquals("game_play") else {
            return .ignored("command points change only in game_play")
        }
        let playerKey = "player" + Python.str(playerID)
        guard state[playerKey] != nil else { return .ignored("no \(playerKey) in the state") }
        let cp = try Python.maxZero(Python.add(nestedItem(playerKey, "cp"), .int(1)))
        try setNested(playerKey, "cp", cp)
        state["status_message"] = .string("\(Python.str(try nestedItem(playerKey, "name"))) CP Updated")
        save(&run)
        return .applied
    }

    mutating func removeCP(_ playerID: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        guard try rootItem("game_phase").pythonEquals("game_play") else {
            return .ignored("command points change only in game_play")
        }
        let playerKey = "player" + Python.str(playerID)
        guard state[playerKey] != nil else { return .ignored("no \(playerKey) in the state") }
        if try Python.greater(nestedItem(playerKey, "cp"), .int(0)) {
            let cp = try Python.maxZero(Python.subtract(nestedItem(playerKey, "cp"), .int(1)))
            try setNested(playerKey, "cp", cp)
            state["status_message"] = .string("\(Python.str(try nestedItem(playerKey, "name"))) CP Updated")
        } else {
            state["status_message"] = .string("\(Python.str(try nestedItem(playerKey, "name"))) CP is 0")
        }
        save(&run)
        return .applied
    }

    // MARK: end_turn

    mutating func webEndTurn(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let playerID = try Self.payloadGet(data, "player_id")
        guard playerID.pythonTruthy else { return .ignored("end_turn needs a truthy player_id") }
        guard rootGet("active_player_id").pythonEquals(playerID) else {
            return .ignored("player \(playerID.pythonRepr) is not the active player")
        }
        return try endTurn(run: &run)
    }

    mutating func endTurn(run: inout Run) throws(PythonException) -> HandlerResult {
        let outgoing = rootGet("active_player_id")
        guard try rootItem("game_phase").pythonEquals("game_play"), outgoing.pythonEquals(rootGet("active_player_id"))
        else {
            return .ignored("turns end only in game_play")
        }
        let now = run.now
        let turnDuration = try Python.subtract(.double(now), nestedItem("game_timer", "turn_segment_start_time"))
        let playerKey = "player" + Python.str(outgoing)
        let elapsed = try Python.add(nestedItem(playerKey, "player_elapsed_time_seconds"), turnDuration, augmented: true)
        try setNested(playerKey, "player_elapsed_time_seconds", elapsed)

        let incoming = outgoing.pythonEquals(1) ? 2 : 1
        state["active_player_id"] = .int(incoming)

        if outgoing.pythonEquals(2) {
            state["current_round"] = try Python.add(rootItem("current_round"), .int(1), augmented: true)
            if try Python.greater(rootItem("current_round"), .int(5)) {
                // Game over: the round stays 6, status_message keeps its text.
                state["game_phase"] = "game_over"
                state["last_round_played"] = 5
                try stopTimer(now: now)
                save(&run)
                return .applied
            }
        }
        try setNested("game_timer", "turn_segment_start_time", .double(now))
        let round = try rootItem("current_round")
        state["status_message"] = .string("Round \(Python.str(round)) - Player \(incoming)'s Turn")
        save(&run)
        return .applied
    }

    // MARK: concede_game (quirk Q3)

    mutating func webConcedeGame(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let playerID = try Self.payloadGet(data, "player_id")
        guard playerID.pythonTruthy else { return .ignored("concede_game needs a truthy player_id") }
        // Any phase; the timer, status_message and last_round_played are kept.
        state["game_phase"] = "game_over"
        save(&run)
        return .applied
    }

    // MARK: update_game_phase, update_round, update_timer

    /// The handler first fetches the served state (writing the live timer
    /// fields back), then broadcasts `{key: value}` when `data[key]` is not
    /// null; the stored game is not otherwise changed.
    mutating func broadcastOnly(_ data: JSONValue, key: String, event: String, run: inout Run)
        throws(PythonException) -> HandlerResult
    {
        _ = try buildServedState(now: run.now)
        let value = try Self.payloadGet(data, key)
        guard !value.isNull else { return .ignored("\(event) needs a non-null \(key)") }
        run.actions.append(.broadcast(event: event, payload: [key: value]))
        return .applied
    }

    mutating func updateTimer(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        _ = try buildServedState(now: run.now)
        guard case .object(let payload) = data, payload["status"] != nil else {
            return .ignored("update_timer needs an object with a status")
        }
        run.actions.append(.broadcast(event: "timer_update", payload: data))
        return .applied
    }
}
