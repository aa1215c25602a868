import JSONValue
import ScorerState

extension EngineTestDefect {
    /// TEST ONLY: changes the outcome of `event` as the defect says, after the legacy's own
    /// handling turned `before` into `game`; `rerun` handles the event once more on `game`.
    func apply(
        event: String, arguments: [JSONValue], before: ScorerGame, game: inout ScorerGame,
        outcome: inout ScorerOutcome, rerun: (inout ScorerGame) -> ScorerOutcome
    ) {
        guard outcome.saved, case .object(let payload)? = arguments.first else { return }
        switch self {
        case .cpAddTwice:
            guard event == "increment_cp", payload["action"]?.pythonEquals("add") == true else { return }
            let again = rerun(&game)
            if again.saved { outcome.actions = again.actions }
        case .q1Fixed:
            guard event == "update_score", payload["score_type"]?.pythonEquals("secondary") == true,
                  let id = payload["player_id"]
            else { return }
            let player = "player" + id.pythonStr
            let previous = before.document[player]?["primary_score"] ?? .int(0)
            func fixed(_ document: JSONValue) -> JSONValue {
                guard case .object(var state) = document, case .object(var record)? = state[player],
                      let written = record["primary_score"],
                      case .int(let primary) = previous, case .int(let secondary) = written
                else { return document }
                record["primary_score"] = previous
                record["secondary_score"] = written
                record["total_score"] = .int(primary &+ secondary)
                state[player] = .object(record)
                return .object(state)
            }
            guard let corrected = try? ScorerGame(document: fixed(game.document)) else { return }
            game = corrected
            outcome.actions = outcome.actions.map { action in
                switch action {
                case .save(let document): .save(fixed(document))
                case .broadcast(let name, let document) where name == "game_state_update":
                    .broadcast(event: name, payload: fixed(document))
                case .reply(let name, let document) where name == "game_state_update":
                    .reply(event: name, payload: fixed(document))
                default: action
                }
            }
        }
    }
}
