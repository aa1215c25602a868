import Foundation
import JSONValue

/// The parts of a scoreboard state document that ``EngineStore`` keeps in its
/// own columns and history tables (`scores`, `timers`, `settings`).
///
/// The full document is always stored as well; these parts exist so an
/// operator can see, with plain SQL, when scores, the timer or the game setup
/// changed. Keys absent from the document are absent from the part; a
/// document that is not an object yields empty parts.
public struct StateParts: Sendable, Equatable {
    /// Per player: `primary_score`, `secondary_score`, `total_score`, `cp`.
    public var scores: JSONValue
    /// `game_timer` without its derived fields (`elapsed_display`,
    /// `elapsed_seconds`), and per player `player_elapsed_time_seconds`.
    /// Display strings and live fields are left out so a history row marks a
    /// real timer change (start, stop, turn switch), not a refreshed display.
    public var timer: JSONValue
    /// The game's setup: per player `name`, `deployment_roll`,
    /// `first_turn_roll`, and the deployment / first-turn outcome ids.
    public var settings: JSONValue

    public static let players = ["player1", "player2"]
    public static let scoreKeys = ["primary_score", "secondary_score", "total_score", "cp"]
    public static let timerPlayerKeys = ["player_elapsed_time_seconds"]
    public static let timerDerivedKeys: Set<String> = ["elapsed_display", "elapsed_seconds"]
    public static let settingsPlayerKeys = ["name", "deployment_roll", "first_turn_roll"]
    public static let settingsKeys = [
        "deployment_initiative_winner_id", "deployment_attacker_id", "deployment_defender_id",
        "first_turn_initiative_winner_id", "first_turn_player_id", "first_turn_choice_winner_id",
        "first_player_of_game_id",
    ]

    public init(scores: JSONValue, timer: JSONValue, settings: JSONValue) {
        self.scores = scores
        self.timer = timer
        self.settings = settings
    }

    public init(extractingFrom document: JSONValue) {
        func pick(_ object: JSONValue?, _ keys: [String]) -> JSONObject {
            var out = JSONObject()
            for key in keys {
                if let value = object?[key] { out[key] = value }
            }
            return out
        }
        func perPlayer(_ keys: [String], into out: inout JSONObject) {
            for player in Self.players {
                guard let object = document[player], object.objectValue != nil else { continue }
                out[player] = .object(pick(object, keys))
            }
        }

        var scores = JSONObject()
        perPlayer(Self.scoreKeys, into: &scores)

        var timer = JSONObject()
        if let gameTimer = document["game_timer"] {
            if case .object(let o) = gameTimer {
                timer["game_timer"] = .object(JSONObject(o.filter { !Self.timerDerivedKeys.contains($0.key) }.map { ($0.key, $0.value) }))
            } else {
                timer["game_timer"] = gameTimer
            }
        }
        perPlayer(Self.timerPlayerKeys, into: &timer)

        var settings = JSONObject()
        perPlayer(Self.settingsPlayerKeys, into: &settings)
        for (key, value) in pick(document, Self.settingsKeys) { settings[key] = value }

        self.init(scores: .object(scores), timer: .object(timer), settings: .object(settings))
    }
}

/// One of the parts with a history table.
public enum StatePart: String, Sendable, CaseIterable {
    case scores
    case timer
    case settings

    /// The history table's name.
    var table: String {
        switch self {
        case .scores: "scores"
        case .timer: "timers"
        case .settings: "settings"
        }
    }

    /// The matching column in `game_state`.
    var column: String { rawValue }

    func value(in parts: StateParts) -> JSONValue {
        switch self {
        case .scores: parts.scores
        case .timer: parts.timer
        case .settings: parts.settings
        }
    }
}

/// A history row: the value a part took at a journal sequence.
public struct PartChange: Sendable, Equatable {
    public var part: StatePart
    public var sequence: Int64
    public var gameID: Int64
    public var time: Date
    public var value: JSONValue

    public init(part: StatePart, sequence: Int64, gameID: Int64, time: Date, value: JSONValue) {
        self.part = part
        self.sequence = sequence
        self.gameID = gameID
        self.time = time
        self.value = value
    }
}
