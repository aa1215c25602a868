import JSONDiff

/// Counts towards the readiness gate, comparison by comparison. Pure: the
/// live comparator feeds it as it records, and a report replays the stored
/// comparisons through it, so both give the same verdict for the same history.
///
/// - A clean (or only accepted) comparison of events adds one to the streak;
///   a reconciliation that finds nothing leaves it as it is (idle time proves nothing).
/// - An unexpected divergence, a gap, a failed comparison or a resync resets
///   the streak and abandons the game being observed.
/// - A game counts as observed when a clean comparison includes its start
///   event and every comparison up to and including the first one that sees
///   the end phase is clean.
public struct ReadinessTracker: Sendable, Equatable {
    public let settings: ReadinessSettings
    public let game: GameBoundaries
    public private(set) var consecutiveClean = 0
    public private(set) var fullGamesObserved = 0
    /// A game whose start was compared clean and that has not ended yet.
    public private(set) var gameInProgress = false
    /// Why the shadow cannot be compared right now (unreachable), if so.
    public private(set) var shadowProblem: String?

    public init(settings: ReadinessSettings, game: GameBoundaries = .scorer) {
        self.settings = settings
        self.game = game
    }

    /// The tracker after `comparisons`, in the order they were made.
    public static func replay(
        _ comparisons: some Sequence<ComparisonEntry>, settings: ReadinessSettings, game: GameBoundaries = .scorer
    ) -> ReadinessTracker {
        var tracker = ReadinessTracker(settings: settings, game: game)
        for c in comparisons { tracker.record(c) }
        return tracker
    }

    public mutating func record(_ comparison: ComparisonEntry) {
        guard comparison.outcome.isClean else {
            setback()
            return
        }
        if comparison.kind == .event || comparison.kind == .range {
            consecutiveClean += 1
        }
        if comparison.startsGame { gameInProgress = true }
        if gameInProgress, comparison.phase == game.endPhase {
            fullGamesObserved += 1
            gameInProgress = false
        }
    }

    /// Mirrored events were lost: what follows cannot vouch for them.
    public mutating func recordGap() { setback() }

    /// The shadow became unreachable (`reason`), or reachable again (`nil`).
    public mutating func shadowUnavailable(_ reason: String?) {
        if reason != nil { setback() }
        shadowProblem = reason
    }

    /// The roles flipped: everything starts again.
    public mutating func reset() {
        self = ReadinessTracker(settings: settings, game: game)
    }

    private mutating func setback() {
        consecutiveClean = 0
        gameInProgress = false
    }

    public var readiness: Readiness {
        var reasons: [String] = []
        if let shadowProblem { reasons.append("the shadow is unavailable: \(shadowProblem)") }
        if consecutiveClean < settings.minConsecutiveClean {
            reasons.append(
                "\(consecutiveClean) of \(settings.minConsecutiveClean) consecutive clean comparisons")
        }
        if settings.requireFullGame && fullGamesObserved == 0 {
            reasons.append(gameInProgress
                ? "no full game compared clean yet (one in progress)"
                : "no full game (\(game.startEvent) to \(game.endPhase)) compared clean yet")
        }
        return Readiness(
            ready: reasons.isEmpty, reasons: reasons, consecutiveClean: consecutiveClean,
            fullGamesObserved: fullGamesObserved, settings: settings)
    }
}
