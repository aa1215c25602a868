import JSONValue

/// How the rules classify one difference.
public enum Classification: Sendable, Hashable {
    /// Not covered by any rule: a divergence.
    case unexpected
    /// Covered by a known divergence whose condition held.
    case accepted(knownID: String, reason: String)
    /// Under an `ignore` pattern.
    case ignored
    /// Two numbers within a `tolerance`, or two clocks within a `clock` rule.
    case withinTolerance
}

public struct ClassifiedDifference: Sendable, Hashable, CustomStringConvertible {
    public var difference: Difference
    public var classification: Classification

    public init(_ difference: Difference, _ classification: Classification) {
        self.difference = difference
        self.classification = classification
    }

    public var description: String {
        switch classification {
        case .unexpected: "\(difference) [unexpected]"
        case .accepted(let id, _): "\(difference) [accepted: \(id)]"
        case .ignored: "\(difference) [ignored]"
        case .withinTolerance: "\(difference) [within tolerance]"
        }
    }
}

/// The outcome of comparing two documents under the rules. Ignored and
/// tolerated differences are counted, not listed (``RulesEvaluator/classify(_:context:)``
/// lists them); nothing is hidden.
public struct ComparisonResult: Sendable, Equatable {
    /// The unexpected and the accepted differences, in document order.
    public var differences: [ClassifiedDifference]
    public var ignoredCount: Int
    public var toleratedCount: Int

    public init(differences: [ClassifiedDifference] = [], ignoredCount: Int = 0, toleratedCount: Int = 0) {
        self.differences = differences
        self.ignoredCount = ignoredCount
        self.toleratedCount = toleratedCount
    }

    /// Summarises a full classification (as ``RulesEvaluator/classify(_:context:)`` returns it).
    public init(_ classified: [ClassifiedDifference]) {
        self.init()
        for c in classified {
            switch c.classification {
            case .ignored: ignoredCount += 1
            case .withinTolerance: toleratedCount += 1
            case .unexpected, .accepted: differences.append(c)
            }
        }
    }

    public var unexpected: [Difference] {
        differences.compactMap { $0.classification == .unexpected ? $0.difference : nil }
    }
    public var unexpectedCount: Int { differences.count { $0.classification == .unexpected } }
    public var acceptedCount: Int { differences.count - unexpectedCount }
    /// No unexpected difference (accepted, ignored and tolerated ones allowed).
    public var isClean: Bool { unexpectedCount == 0 }
    /// No difference at all, not even ignored or tolerated.
    public var isIdentical: Bool { differences.isEmpty && ignoredCount == 0 && toleratedCount == 0 }
}

/// Compiled ``ComparisonRules``: build once, use for every comparison (it is a
/// `Sendable` value; share it freely).
public struct RulesEvaluator: Sendable {
    /// The compiled form, shared by every copy of the evaluator.
    final class Compiled: Sendable {
        let rules: ComparisonRules
        /// `ignore`, `tolerance` and `clock` patterns: stepped along the diff's walk.
        let comparison: PatternMatcher
        /// `known` patterns: matched only against paths that are still different.
        let known: PatternMatcher
        let adoption: PatternMatcher
        let tolerances: [Double]
        let clockSeconds: [Int]

        init(_ rules: ComparisonRules) {
            self.rules = rules
            var patterns: [(PathPattern, PatternMatcher.Payload)] = rules.ignore.map { ($0, .ignore) }
            for (i, rule) in rules.tolerance.enumerated() { patterns.append((rule.pattern, .tolerance(Int32(i)))) }
            for (i, rule) in rules.clock.enumerated() { patterns.append((rule.pattern, .clock(Int32(i)))) }
            comparison = PatternMatcher(patterns)
            var known: [(PathPattern, PatternMatcher.Payload)] = []
            for (i, entry) in rules.known.enumerated() {
                for pattern in entry.paths { known.append((pattern, .known(Int32(i)))) }
            }
            self.known = PatternMatcher(known)
            adoption = PatternMatcher(rules.adopt.map { ($0, .adopt) })
            tolerances = rules.tolerance.map(\.tolerance)
            clockSeconds = rules.clock.map(\.seconds)
        }
    }

    let compiled: Compiled

    /// Compiles `rules` (patterns into tries): do it once, not per comparison.
    public init(_ rules: ComparisonRules) {
        compiled = Compiled(rules)
    }

    public var rules: ComparisonRules { compiled.rules }

    // MARK: comparing

    /// Diffs and classifies in one walk: the fast path. Equal subtrees cost no
    /// allocation; ignored and tolerated differences are counted without
    /// building their paths.
    public func compare(primary: JSONValue, shadow: JSONValue, context: EventContext? = nil) -> ComparisonResult {
        let sink = ClassifyingSink(evaluator: self, context: context)
        var walker = DiffWalker(options: compiled.rules.options, matcher: compiled.comparison, sink: sink)
        walker.walkRoot(primary, shadow)
        return walker.sink.result
    }

    /// Classifies ready-made differences (for example from ``JSONDiff/diff(_:_:options:)``),
    /// one entry per difference, ignored and tolerated ones included.
    /// `ComparisonResult(classify(JSONDiff.diff(p, s, options: rules.options), context: c))`
    /// equals `compare(primary: p, shadow: s, context: c)`.
    public func classify(_ differences: [Difference], context: EventContext? = nil) -> [ClassifiedDifference] {
        differences.map { d in
            let coverage = compiled.comparison.coverage(ofPath: d.path.tokens)
            return ClassifiedDifference(d, classification(d.kind, d.primary, d.shadow, coverage: coverage, context: context) {
                d.path
            })
        }
    }

    /// The class of one difference; `path` is only called when needed.
    func classification(
        _ kind: Difference.Kind,
        _ a: JSONValue?,
        _ b: JSONValue?,
        coverage: Coverage,
        context: EventContext?,
        path: () -> JSONPointer
    ) -> Classification {
        if coverage.ignored { return .ignored }
        if coverage.tolerance >= 0, let x = a?.numberValue, let y = b?.numberValue,
            (x - y).magnitude <= compiled.tolerances[Int(coverage.tolerance)]
        {
            return .withinTolerance
        }
        if coverage.clock >= 0, case .string(let x)? = a, case .string(let y)? = b,
            let dx = ClockDuration.seconds(x), let dy = ClockDuration.seconds(y),
            (dx - dy).magnitude <= compiled.clockSeconds[Int(coverage.clock)]
        {
            return .withinTolerance
        }
        if !compiled.known.isEmpty {
            let difference = Difference(path: path(), kind: kind, primary: a, shadow: b)
            for k in compiled.known.knownIndices(ofPath: difference.path.tokens) {
                let known = compiled.rules.known[Int(k)]
                if known.condition?.holds(for: difference, context: context) ?? true {
                    return .accepted(knownID: known.id, reason: known.reason)
                }
            }
        }
        return .unexpected
    }

    // MARK: adopting

    /// Copies the primary's values at the `adopt` paths into the shadow, so that
    /// the comparison (and the shadow, once resynchronised) continues from the
    /// primary's nondeterministic outcomes:
    /// - a value present in the primary is set in the shadow when its parent exists
    ///   there (an array element one past the shadow array's end is appended);
    ///   parents are never created;
    /// - a member absent from the primary is removed from the shadow's object; an
    ///   array element absent from the primary is left alone (removing it would
    ///   shift the elements after it);
    /// - wildcards are expanded over the keys of both documents; a pattern that
    ///   matches a path adopts the whole subtree there.
    ///
    /// Returns the paths whose value changed in the shadow, in document order
    /// (strict JSON equality here: adopting `3.0` over `3` is a change).
    @discardableResult
    public func adopt(from primary: JSONValue, into shadow: inout JSONValue) -> [JSONPointer] {
        let adoption = compiled.adoption
        guard !adoption.isEmpty else { return [] }
        var paths: [JSONPointer] = []
        var arena = adoption.rootState
        var tokens: [String] = []
        collectAdoptPaths(primary, shadow, state: 0..<arena.count, coverage: adoption.coverage(of: arena[...]),
                          arena: &arena, tokens: &tokens, into: &paths)
        var changed: [JSONPointer] = []
        for path in paths {
            let value = primary.value(at: path)
            guard shadow.value(at: path) != value else { continue }
            if value == nil, let parent = path.parent, case .array? = shadow.value(at: parent) { continue }
            if JSONDiff.setAppending(value, at: path, in: &shadow) { changed.append(path) }
        }
        return changed
    }

    private func collectAdoptPaths(
        _ a: JSONValue?, _ b: JSONValue?, state: Range<Int>, coverage: Coverage,
        arena: inout [Int32], tokens: inout [String], into paths: inout [JSONPointer]
    ) {
        if coverage.adopt {
            paths.append(JSONPointer(tokens: tokens))
            return
        }
        guard !state.isEmpty else { return }
        func visit(_ token: String, _ x: JSONValue?, _ y: JSONValue?, arena: inout [Int32]) {
            var childCoverage = coverage
            let start = arena.count
            compiled.adoption.step(state, token: token, arena: &arena, coverage: &childCoverage)
            if arena.count > start {
                tokens.append(token)
                collectAdoptPaths(x, y, state: start..<arena.count, coverage: childCoverage,
                                  arena: &arena, tokens: &tokens, into: &paths)
                tokens.removeLast()
            }
            arena.removeSubrange(start..<arena.count)
        }
        switch (a, b) {
        case (.object(let x)?, _):
            for (key, value) in x { visit(key, value, b?[key], arena: &arena) }
            if case .object(let y)? = b {
                for (key, value) in y where x[key] == nil { visit(key, nil, value, arena: &arena) }
            }
        case (_, .object(let y)?):
            for (key, value) in y { visit(key, nil, value, arena: &arena) }
        case (.array?, _), (_, .array?):
            let count = max(a?.arrayValue?.count ?? 0, b?.arrayValue?.count ?? 0)
            for i in 0..<count {
                visit(String(i), a?[i], b?[i], arena: &arena)
            }
        default:
            return
        }
    }
}

/// Classifies differences as the walker finds them.
struct ClassifyingSink: DifferenceSink {
    let evaluator: RulesEvaluator
    let context: EventContext?
    var result = ComparisonResult()

    mutating func emit(_ kind: Difference.Kind, _ a: JSONValue?, _ b: JSONValue?, tokens: [PathToken], coverage: Coverage) {
        var path: JSONPointer?
        let makePath = { JSONPointer(tokens: tokens.map(\.text)) }
        let classification = evaluator.classification(kind, a, b, coverage: coverage, context: context) {
            let p = makePath()
            path = p
            return p
        }
        switch classification {
        case .ignored: result.ignoredCount += 1
        case .withinTolerance: result.toleratedCount += 1
        case .unexpected, .accepted:
            result.differences.append(
                ClassifiedDifference(Difference(path: path ?? makePath(), kind: kind, primary: a, shadow: b), classification))
        }
    }
}
