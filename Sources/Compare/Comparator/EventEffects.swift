import JSONDiff
import JSONValue

/// Which state paths each client event can write: lets the comparator blame
/// one event of a range instead of the whole range.
///
/// Templates are path patterns (see `PathPattern`) in which `{key}` stands
/// for the payload's member `key` (an integer or a plain string; anything
/// else, or a missing member, becomes `*`): `/player{player_id}/cp` for
/// `{"player_id": 2}` covers `/player2/cp` only.
public struct EventEffects: Sendable {
    /// Event name → path templates.
    public let templates: [String: [String]]
    /// The same, each template without a `{key}` parsed once (a checkpoint may ask about
    /// every difference of every session's messages).
    private let parsed: [String: [Template]]

    private enum Template: Sendable {
        /// No `{key}`: its pattern (nil when the template is not one: never matches).
        case fixed(PathPattern?)
        /// Parsed per event, once its payload's members are substituted.
        case withKeys(String)
    }

    public init(_ templates: [String: [String]]) {
        self.templates = templates
        self.parsed = templates.mapValues { list in
            list.map { $0.utf8.contains(UInt8(ascii: "{")) ? .withKeys($0) : .fixed(try? PathPattern($0)) }
        }
    }

    /// No knowledge: ranges are blamed as ranges.
    public static let none = EventEffects([:])

    /// Whether `event` can write `path`; `nil` when the event is not described.
    public func mayWrite(_ path: JSONPointer, event: MirroredEvent) -> Bool? {
        guard let list = parsed[event.name] else { return nil }
        for template in list {
            let pattern: PathPattern?
            switch template {
            case .fixed(let fixed): pattern = fixed
            case .withKeys(let text): pattern = try? PathPattern(Self.substitute(text, payload: event.payload))
            }
            if let pattern, pattern.covers(path) { return true }
        }
        return false
    }

    static func substitute(_ template: String, payload: JSONValue?) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let key = String(rest[rest.index(after: open)..<close])
            out += token(payload?[key])
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    private static func token(_ value: JSONValue?) -> String {
        switch value {
        case .int(let i)?: return String(i)
        case .string(let s)? where !s.isEmpty && !s.contains(where: { $0 == "/" || $0 == "~" || $0 == "*" || $0 == "{" }):
            return s
        default: return "*"
        }
    }

    /// The legacy Scorer's handlers (PROTOCOL.md): what each event may change.
    public static let scorer = EventEffects([
        "start_new_game": [""],
        "set_player_name": ["/player{player_id}/name"],
        "start_deployment_phase": [
            "/deployment_initiative_winner_id", "/deployment_attacker_id", "/deployment_defender_id",
            "/player*/deployment_roll", "/game_phase",
        ],
        "deployment_roll": ["/player*/deployment_roll", "/deployment_initiative_winner_id"],
        "deployment_role_choice": ["/deployment_attacker_id", "/deployment_defender_id"],
        "start_first_turn_phase": [
            "/first_turn_initiative_winner_id", "/first_turn_player_id", "/player*/first_turn_roll", "/game_phase",
        ],
        "first_turn_roll": ["/player*/first_turn_roll", "/first_turn_initiative_winner_id"],
        "first_turn_choice": ["/first_turn_player_id", "/first_player_of_game_id"],
        "start_game": ["/active_player_id", "/game_phase", "/current_round", "/game_timer"],
        "pi_concede": ["/game_phase", "/status_message", "/last_round_played", "/game_timer"],
        "update_score": [
            "/player{player_id}/primary_score", "/player{player_id}/secondary_score", "/player{player_id}/total_score",
            "/status_message",
        ],
        "increment_cp": ["/player{player_id}/cp", "/status_message"],
        "end_turn": [
            "/player*/player_elapsed_time_seconds", "/player*/live_elapsed_seconds", "/player*/player_time_display",
            "/active_player_id", "/current_round", "/game_phase", "/last_round_played", "/game_timer",
            "/status_message",
        ],
        "concede_game": ["/game_phase"],
        "request_game_state": ["/game_timer/elapsed_seconds", "/player*/live_elapsed_seconds"],
        "update_game_phase": [],
        "update_round": [],
        "update_timer": [],
    ])
}
