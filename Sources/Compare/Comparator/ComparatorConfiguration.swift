import JSONValue

/// How the comparator schedules and attributes its checkpoints. Only the CLI
/// reads flags; this is plain data with documented defaults.
public struct ComparatorConfiguration: Sendable {
    /// Events closer together than this are compared as one range; a
    /// checkpoint whose events cannot all be seen processed by both sides
    /// happens once no traffic was seen for this long or, under continuous
    /// traffic, once its oldest event is this old, at a moment when no ack is
    /// owed and every session got as many messages from each side (a
    /// checkpoint finding differences while its newest event is younger than
    /// this is put off, see ``maxDeferrals``). Default 150 ms.
    public var settleWindow: Duration
    /// Under continuous traffic, the oldest waiting event is compared at the
    /// latest this long after it arrived. Default 2 s.
    public var maxCheckpointDelay: Duration
    /// A full comparison when no checkpoint compared the states for this long
    /// (drift that no event explains); `nil`: never. Default 60 s.
    public var reconciliationInterval: Duration?
    /// How many times a checkpoint with unexpected differences is put off
    /// because newer events arrived while the states were read, or its newest
    /// event may not have reached both sides yet (the difference may be
    /// theirs). Default 3.
    public var maxDeferrals: Int
    /// Inputs that may wait for the comparator before new ones are dropped
    /// (a dropped event is treated as a gap). Default 65,536.
    public var inputCapacity: Int
    /// Unexpected divergences logged per comparison (the rest are counted). Default 10.
    public var maxLoggedDivergences: Int
    /// Divergences kept for the status page. Default 20.
    public var latestDivergenceCount: Int
    /// Records older than this are deleted from the store (checked once per
    /// ``pruneInterval``); `nil`: kept for ever. Default 30 days.
    public var retention: Duration?
    /// How often the retention is applied. Default 1 hour.
    public var pruneInterval: Duration
    /// What a game is (for the readiness gate's "full game").
    public var game: GameBoundaries
    /// Which events can write which paths (for blaming one event of a range, and for
    /// knowing which events' outcomes are adopted: see ``StateComparator/adoptionEvents``).
    public var effects: EventEffects
    /// How long the proxy's mirror waits, after an event whose outcome the shadow adopts
    /// (a dice roll), for the comparator to copy the primary's outcome into the shadow
    /// before it delivers the next event (the primary never waits). Default 2 s.
    public var adoptionHold: Duration = .seconds(2)
    /// When set, checkpoints start at most this often: under heavy traffic the events in
    /// between are compared as one range (two state reads, one of them a round trip to the
    /// legacy, per checkpoint instead of per event). `nil` here; the proxy sets 50 ms, far
    /// below a game's pace, where every event is still compared on its own.
    public var minCheckpointInterval: Duration?

    public init(
        settleWindow: Duration = .milliseconds(150),
        maxCheckpointDelay: Duration = .seconds(2),
        reconciliationInterval: Duration? = .seconds(60),
        maxDeferrals: Int = 3,
        inputCapacity: Int = 65_536,
        maxLoggedDivergences: Int = 10,
        latestDivergenceCount: Int = 20,
        retention: Duration? = .seconds(30 * 86_400),
        pruneInterval: Duration = .seconds(3600),
        game: GameBoundaries = .scorer,
        effects: EventEffects = .scorer
    ) {
        precondition(settleWindow > .zero, "the settle window is positive")
        precondition(maxCheckpointDelay >= settleWindow, "the longest delay is at least the settle window")
        precondition(reconciliationInterval.map { $0 > .zero } ?? true, "the reconciliation interval is positive")
        precondition(maxDeferrals >= 0 && inputCapacity > 0, "counts are not negative")
        precondition(retention.map { $0 > .zero } ?? true && pruneInterval > .zero, "retention and pruning are positive")
        self.settleWindow = settleWindow
        self.maxCheckpointDelay = maxCheckpointDelay
        self.reconciliationInterval = reconciliationInterval
        self.maxDeferrals = maxDeferrals
        self.inputCapacity = inputCapacity
        self.maxLoggedDivergences = maxLoggedDivergences
        self.latestDivergenceCount = latestDivergenceCount
        self.retention = retention
        self.pruneInterval = pruneInterval
        self.game = game
        self.effects = effects
    }

    public func with(settleWindow: Duration) -> Self {
        var copy = self
        copy.settleWindow = settleWindow
        if copy.maxCheckpointDelay < settleWindow { copy.maxCheckpointDelay = settleWindow }
        return copy
    }

    public func with(reconciliationInterval: Duration?) -> Self {
        var copy = self
        copy.reconciliationInterval = reconciliationInterval
        return copy
    }

    public func with(maxCheckpointDelay: Duration) -> Self {
        var copy = self
        copy.maxCheckpointDelay = max(maxCheckpointDelay, settleWindow)
        return copy
    }

    public func with(retention: Duration?) -> Self {
        var copy = self
        copy.retention = retention
        return copy
    }

    public func with(effects: EventEffects) -> Self {
        var copy = self
        copy.effects = effects
        return copy
    }
}

/// Where a game starts and ends, for the readiness gate.
public struct GameBoundaries: Sendable, Equatable {
    /// The client event that starts a game.
    public var startEvent: String
    /// Where the primary's state holds the game phase.
    public var phasePath: JSONPointer
    /// The phase that ends a game.
    public var endPhase: String

    public init(startEvent: String, phasePath: JSONPointer, endPhase: String) {
        self.startEvent = startEvent
        self.phasePath = phasePath
        self.endPhase = endPhase
    }

    /// The legacy Scorer: `start_new_game` to `game_phase == "game_over"`.
    public static let scorer = GameBoundaries(
        startEvent: "start_new_game", phasePath: JSONPointer(tokens: ["game_phase"]), endPhase: "game_over")
}
