import JSONValue

extension ScorerGame {
    /// The text of the ack error when `start_game` finds no first-turn player
    /// (the legacy Pi shows it in an error popup).
    public static let startGameError = "First turn player not set."

    /// A Pi event: the handler gets the first argument (None without one;
    /// further arguments are ignored) or none at all.
    mutating func applyPi(_ event: PiEvent, payload: JSONValue, run: inout Run, dice: inout some DiceSource)
        throws(PythonException) -> HandlerResult
    {
        switch event {
        case .startNewGame: return startNewGame(run: &run)
        case .setPlayerName: return try setPlayerName(payload, run: &run)
        case .startDeploymentPhase: return try startDeploymentPhase(run: &run)
        case .deploymentRoll: return try deploymentRoll(payload, run: &run, dice: &dice)
        case .deploymentRoleChoice: return try deploymentRoleChoice(payload, run: &run)
        case .startFirstTurnPhase: return try startFirstTurnPhase(run: &run)
        case .firstTurnRoll: return try firstTurnRoll(payload, run: &run, dice: &dice)
        case .firstTurnChoice: return try firstTurnChoice(payload, run: &run)
        case .startGame: return try startGame(run: &run)
        case .piConcede: return try piConcede(payload, run: &run)
        }
    }

    mutating func startNewGame(run: inout Run) -> HandlerResult {
        state = Self.defaultState()
        state["game_phase"] = "name_entry"
        save(&run)
        return .applied
    }

    mutating func setPlayerName(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let playerID = try Self.payloadGet(data, "player_id")
        let name = try Self.payloadGet(data, "name")
        let playerKey = "player" + Python.str(playerID)
        guard state[playerKey] != nil else { return .ignored("no \(playerKey) in the state") }
        try setNested(playerKey, "name", name)
        save(&run)
        return .applied
    }

    mutating func startDeploymentPhase(run: inout Run) throws(PythonException) -> HandlerResult {
        state["deployment_initiative_winner_id"] = .null
        state["deployment_attacker_id"] = .null
        state["deployment_defender_id"] = .null
        try setNested("player1", "deployment_roll", 0)
        try setNested("player2", "deployment_roll", 0)
        state["game_phase"] = "deployment_setup"
        save(&run)
        return .applied
    }

    /// `state[f"player{player_id}"][field] = roll`: an unknown player is the
    /// client's fault (KeyError), after the die has been rolled.
    mutating func writeRoll(_ playerID: JSONValue, _ field: String, _ roll: Int) throws(PythonException) {
        let playerKey = "player" + Python.str(playerID)
        guard state[playerKey] != nil else { throw PythonException.keyError(playerKey).blaming(.input) }
        try setNested(playerKey, field, .int(roll))
    }

    mutating func deploymentRoll(_ data: JSONValue, run: inout Run, dice: inout some DiceSource)
        throws(PythonException) -> HandlerResult
    {
        let playerID = try Self.payloadGet(data, "player_id")
        guard rootGet("deployment_initiative_winner_id").isNull else {
            return .ignored("the deployment roll-off is already decided")
        }
        let roll = dice.roll()  // rolled before the player is looked up
        try writeRoll(playerID, "deployment_roll", roll)

        let p1 = try nestedItem("player1", "deployment_roll")
        let p2 = try nestedItem("player2", "deployment_roll")
        if try Python.greater(p1, 0), try Python.greater(p2, 0) {
            if try Python.greater(p1, p2) {
                state["deployment_initiative_winner_id"] = 1
            } else if try Python.greater(p2, p1) {
                state["deployment_initiative_winner_id"] = 2
            } else {  // tie: both roll again
                try setNested("player1", "deployment_roll", 0)
                try setNested("player2", "deployment_roll", 0)
            }
        }
        save(&run)
        return .applied
    }

    /// `2 if chooser == 1 else 1`.
    static func otherPlayer(_ id: JSONValue) -> JSONValue { id.pythonEquals(1) ? 2 : 1 }

    mutating func deploymentRoleChoice(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let chooserID = try Self.payloadGet(data, "chooser_id")
        let choseAttacker = try Self.payloadGet(data, "chose_attacker")
        guard !chooserID.isNull else { return .ignored("deployment_role_choice needs a chooser_id") }
        let attacker: JSONValue, defender: JSONValue
        if choseAttacker.pythonTruthy {
            attacker = chooserID
            defender = Self.otherPlayer(chooserID)
        } else {
            defender = chooserID
            attacker = Self.otherPlayer(chooserID)
        }
        state["deployment_attacker_id"] = attacker
        state["deployment_defender_id"] = defender
        save(&run)
        return .applied
    }

    mutating func startFirstTurnPhase(run: inout Run) throws(PythonException) -> HandlerResult {
        state["first_turn_initiative_winner_id"] = .null
        state["first_turn_player_id"] = .null
        try setNested("player1", "first_turn_roll", 0)
        try setNested("player2", "first_turn_roll", 0)
        state["game_phase"] = "first_turn_setup"
        save(&run)
        return .applied
    }

    mutating func firstTurnRoll(_ data: JSONValue, run: inout Run, dice: inout some DiceSource)
        throws(PythonException) -> HandlerResult
    {
        let playerID = try Self.payloadGet(data, "player_id")
        guard rootGet("first_turn_initiative_winner_id").isNull else {
            return .ignored("the first-turn roll-off is already decided")
        }
        let roll = dice.roll()  // rolled before the player is looked up
        try writeRoll(playerID, "first_turn_roll", roll)

        let p1 = try Python.get(rootItem("player1"), "first_turn_roll", default: 0)
        let p2 = try Python.get(rootItem("player2"), "first_turn_roll", default: 0)
        if try Python.greater(p1, 0), try Python.greater(p2, 0) {
            if try Python.greater(p1, p2) {
                state["first_turn_initiative_winner_id"] = 1
            } else if try Python.greater(p2, p1) {
                state["first_turn_initiative_winner_id"] = 2
            } else {  // tie: the attacker wins it, player 1 when there is none
                var winner = rootGet("deployment_attacker_id")
                if winner.isNull { winner = 1 }
                state["first_turn_initiative_winner_id"] = winner
            }
        }
        save(&run)
        return .applied
    }

    mutating func firstTurnChoice(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let chooserID = try Self.payloadGet(data, "chooser_id")
        let choseSelf = try Self.payloadGet(data, "chose_self")
        guard !chooserID.isNull else { return .ignored("first_turn_choice needs a chooser_id") }
        state["first_turn_player_id"] = choseSelf.pythonTruthy ? chooserID : Self.otherPlayer(chooserID)
        state["first_player_of_game_id"] = try rootItem("first_turn_player_id")
        save(&run)
        return .applied
    }

    /// `start_game`: `active_player_id` is overwritten (unsaved) even when
    /// the first-turn player is missing; the timer starts after the save, so
    /// that change is saved and broadcast with the next one.
    mutating func startGame(run: inout Run) throws(PythonException) -> HandlerResult {
        state["active_player_id"] = rootGet("first_turn_player_id")
        guard try rootItem("active_player_id").pythonTruthy else { return .refused(Self.startGameError) }
        state["game_phase"] = "game_play"
        state["current_round"] = 1
        save(&run)
        if rootGet("game_phase").pythonEquals("game_play") {
            let timer = state["game_timer"] ?? .object([:])
            if !(try Python.get(timer, "status").pythonEquals("running")) {
                try startTimer(now: run.now)
            }
        }
        return .applied
    }

    mutating func piConcede(_ data: JSONValue, run: inout Run) throws(PythonException) -> HandlerResult {
        let concedingID = try Self.payloadGet(data, "player_id")
        guard try rootItem("game_phase").pythonEquals("game_play") else {
            return .ignored("the Pi concedes only in game_play")
        }
        let winningID: JSONValue = concedingID.pythonEquals(2) ? 1 : 2
        let concedingName = try playerName(concedingID)
        let winningName = try playerName(winningID)
        state["game_phase"] = "game_over"
        state["status_message"] = .string("\(Python.str(concedingName)) concedes. \(Python.str(winningName)) wins!")
        state["last_round_played"] = try rootItem("current_round")
        try stopTimer(now: run.now)
        save(&run)
        save(&run)  // the legacy saves (and broadcasts) twice
        return .applied
    }

    /// `gs[f"player{id}"]["name"]`; an unknown player is the client's fault.
    func playerName(_ id: JSONValue) throws(PythonException) -> JSONValue {
        let playerKey = "player" + Python.str(id)
        guard let player = state[playerKey] else { throw PythonException.keyError(playerKey).blaming(.input) }
        return try Python.item(player, "name")
    }
}
