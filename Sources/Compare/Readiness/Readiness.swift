import JSONDiff
import JSONValue

/// The comparator's verdict for the switchover gate.
public struct Readiness: Sendable, Equatable, CustomStringConvertible {
    /// Whether a switchover may go ahead without being forced.
    public var ready: Bool
    /// Why not (empty when ready), one sentence each.
    public var reasons: [String]
    /// Comparisons of events in a row without an unexpected divergence
    /// (accepted ones allowed); reset by a divergence, a gap, a failed
    /// comparison or a resync.
    public var consecutiveClean: Int
    /// Whole games (start to end) whose every comparison was clean.
    public var fullGamesObserved: Int
    /// The gate's settings.
    public var settings: ReadinessSettings

    public init(ready: Bool, reasons: [String], consecutiveClean: Int, fullGamesObserved: Int,
                settings: ReadinessSettings) {
        self.ready = ready
        self.reasons = reasons
        self.consecutiveClean = consecutiveClean
        self.fullGamesObserved = fullGamesObserved
        self.settings = settings
    }

    /// One line for operators: `ready: 57/50 consecutive clean comparisons, 1 full game`
    /// or `not ready: ...; ...`.
    public var description: String {
        if ready {
            let games = fullGamesObserved == 1 ? "1 full game" : "\(fullGamesObserved) full games"
            return "ready: \(consecutiveClean)/\(settings.minConsecutiveClean) consecutive clean comparisons, \(games) compared clean"
        }
        return "not ready: " + reasons.joined(separator: "; ")
    }

    /// For `/status`, `statetee status --json` and the JSON report (stable keys).
    public var json: JSONValue {
        [
            "ready": .bool(ready),
            "reasons": .array(reasons.map(JSONValue.string)),
            "consecutive_clean": .int(consecutiveClean),
            "full_games_observed": .int(fullGamesObserved),
            "min_consecutive_clean": .int(settings.minConsecutiveClean),
            "require_full_game": .bool(settings.requireFullGame),
        ]
    }
}
