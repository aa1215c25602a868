import JSONValue

/// What the comparator may accept as "the same" between the primary's and the
/// shadow's documents. Pure data; ``RulesEvaluator`` compiles it.
///
/// Every pattern covers the subtree at the paths it matches (see ``PathPattern``).
/// For one difference the rules apply in this order:
/// 1. ``ignore``: the difference is counted as ignored;
/// 2. ``tolerance`` (two numbers within the tolerance) and ``clock`` (two
///    `HH:MM:SS` strings within the seconds): counted as within tolerance;
/// 3. ``known``: the first entry (in order) whose paths cover the difference and
///    whose condition holds makes it accepted, with its id and reason;
/// 4. otherwise the difference is unexpected.
///
/// ``adopt`` is not a comparison rule: it names the primary's nondeterministic
/// outcomes that ``RulesEvaluator/adopt(from:into:)`` copies into the shadow.
///
/// ``ignoreEvents`` applies to message streams, not to documents: server-to-client
/// events with these names are left out of the stream comparison (and counted).
public struct ComparisonRules: Sendable, Equatable {
    public var ignore: [PathPattern]
    public var tolerance: [ToleranceRule]
    public var clock: [ClockRule]
    public var adopt: [PathPattern]
    public var known: [KnownDivergence]
    /// Server-to-client event names left out of message-stream comparisons
    /// (for example the engine's `error` replies, which the legacy never sends).
    public var ignoreEvents: [String]
    public var options: DiffOptions
    /// The readiness gate's settings (used by the comparator, not by the diff).
    public var readiness: ReadinessSettings

    public init(
        ignore: [PathPattern] = [],
        tolerance: [ToleranceRule] = [],
        clock: [ClockRule] = [],
        adopt: [PathPattern] = [],
        known: [KnownDivergence] = [],
        ignoreEvents: [String] = [],
        options: DiffOptions = .default,
        readiness: ReadinessSettings = .init()
    ) {
        self.ignore = ignore
        self.tolerance = tolerance
        self.clock = clock
        self.adopt = adopt
        self.known = known
        self.ignoreEvents = ignoreEvents
        self.options = options
        self.readiness = readiness
    }

    /// No rules: every difference is unexpected.
    public static let none = ComparisonRules()
}

/// Two numbers (integers or floats, not booleans) at covered paths are the same
/// when `|primary - shadow| <= tolerance`.
public struct ToleranceRule: Sendable, Equatable {
    public var pattern: PathPattern
    public var tolerance: Double

    public init(_ pattern: PathPattern, _ tolerance: Double) {
        precondition(tolerance >= 0, "a tolerance is not negative")
        self.pattern = pattern
        self.tolerance = tolerance
    }
}

/// Two `HH:MM:SS` strings at covered paths are the same when the durations they
/// show differ by at most `seconds` (see ``ClockDuration``).
public struct ClockRule: Sendable, Equatable {
    public var pattern: PathPattern
    public var seconds: Int

    public init(_ pattern: PathPattern, seconds: Int) {
        precondition(seconds >= 0, "a clock tolerance is not negative")
        self.pattern = pattern
        self.seconds = seconds
    }
}

/// A divergence the engine is allowed to have: reported as accepted, not as a failure.
public struct KnownDivergence: Sendable, Equatable {
    /// A unique name, used in reports (`q1-fixed`).
    public var id: String
    /// Where the divergence shows (one entry often needs several paths).
    public var paths: [PathPattern]
    /// When it applies; `nil`: always.
    public var condition: Condition?
    /// Why it is accepted: shown in every report that accepts it.
    public var reason: String

    public init(id: String, paths: [PathPattern], condition: Condition? = nil, reason: String) {
        self.id = id
        self.paths = paths
        self.condition = condition
        self.reason = reason
    }
}

/// The triggering client event of a comparison (for ``Condition``).
public struct EventContext: Sendable, Equatable {
    /// Socket.IO event name, e.g. `update_score`.
    public var name: String
    /// The event's payload (its first argument), when it had one.
    public var payload: JSONValue?

    public init(name: String, payload: JSONValue? = nil) {
        self.name = name
        self.payload = payload
    }
}

/// The condition of a known divergence: every field that is set must hold
/// (a conjunction; declare several known entries for "or"). No expressions, no eval.
public struct Condition: Sendable, Equatable {
    /// How the primary's value relates to the shadow's at the difference's path.
    public enum Relation: String, Sendable, Equatable, CaseIterable {
        /// Both are numbers and the primary's is greater.
        case primaryGreaterThanShadow = "primary_gt_shadow"
        /// Both are numbers and the primary's is smaller.
        case primaryLessThanShadow = "primary_lt_shadow"
        /// The value exists in the primary only.
        case onlyInPrimary = "only_in_primary"
        /// The value exists in the shadow only.
        case onlyInShadow = "only_in_shadow"
    }

    /// The triggering event's name must equal this.
    public var event: String?
    /// Each member must be present in the triggering event's payload (an object)
    /// and equal this value (numbers compare numerically: `1 == 1.0`).
    public var payload: [String: JSONValue]
    /// The primary's value at the path must equal this.
    public var primary: JSONValue?
    /// The shadow's value at the path must equal this.
    public var shadow: JSONValue?
    public var relation: Relation?

    public init(
        event: String? = nil,
        payload: [String: JSONValue] = [:],
        primary: JSONValue? = nil,
        shadow: JSONValue? = nil,
        relation: Relation? = nil
    ) {
        self.event = event
        self.payload = payload
        self.primary = primary
        self.shadow = shadow
        self.relation = relation
    }

    /// Whether the condition holds for `difference` triggered by `context`.
    /// Conditions on the event or payload never hold without a context.
    public func holds(for difference: Difference, context: EventContext?) -> Bool {
        if let event {
            guard let context, context.name == event else { return false }
        }
        if !payload.isEmpty {
            guard case .object(let object)? = context?.payload else { return false }
            for (key, expected) in payload {
                guard let actual = object[key], JSONDiff.areEqual(actual, expected) else { return false }
            }
        }
        if let primary {
            guard let actual = difference.primary, JSONDiff.areEqual(actual, primary) else { return false }
        }
        if let shadow {
            guard let actual = difference.shadow, JSONDiff.areEqual(actual, shadow) else { return false }
        }
        if let relation {
            switch relation {
            case .primaryGreaterThanShadow, .primaryLessThanShadow:
                guard let p = difference.primary?.numberValue, let s = difference.shadow?.numberValue else {
                    return false
                }
                if relation == .primaryGreaterThanShadow ? !(p > s) : !(p < s) { return false }
            case .onlyInPrimary:
                guard difference.primary != nil, difference.shadow == nil else { return false }
            case .onlyInShadow:
                guard difference.primary == nil, difference.shadow != nil else { return false }
            }
        }
        return true
    }
}

/// When the comparator may call the shadow ready for switchover.
public struct ReadinessSettings: Sendable, Equatable {
    /// Consecutive clean comparisons (no unexpected difference) required. Default 50.
    public var minConsecutiveClean: Int
    /// Whether a whole game (from `start_new_game` to `game_over`) must have been
    /// compared clean. Default true.
    public var requireFullGame: Bool

    public init(minConsecutiveClean: Int = 50, requireFullGame: Bool = true) {
        self.minConsecutiveClean = minConsecutiveClean
        self.requireFullGame = requireFullGame
    }
}

extension JSONValue {
    /// Integers, big integers and floats as `Double`; `nil` for anything else (booleans too).
    var numberValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bigInt(let s): Double(s)
        default: nil
        }
    }
}
