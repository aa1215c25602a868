import JSONValue

/// Payload comparisons and adoptions already worked out, by the identity of their inputs.
///
/// A broadcast gives every session the same payload: the same decoded value from each side,
/// sharing its storage. Comparing each session's messages would otherwise diff the same two
/// documents once per session; with a memo the first session's result serves the others.
/// Inputs are matched by their bits (buffer references and counts, see ``ValueBits``): a hit
/// is always the same contents, a miss only costs the work. Keep a memo no longer than the
/// values it was given (one checkpoint's messages): a freed buffer's address could be reused.
public final class PayloadMemo {
    private var comparisons: [Key: ComparisonResult] = [:]
    private var adoptions: [Key: JSONValue] = [:]
    /// Lookups answered from the memo (tests).
    public private(set) var hits = 0

    struct Key: Hashable {
        var primary: ValueBits
        var shadow: ValueBits
    }

    public init() {}

    /// ``RulesEvaluator/comparePayloads(_:_:context:)`` of `primary` and `shadow` under
    /// `evaluator`: all calls on one memo must use the same evaluator and context.
    func compare(_ primary: JSONValue?, _ shadow: JSONValue?, _ work: () -> ComparisonResult) -> ComparisonResult {
        let key = Key(primary: ValueBits(primary), shadow: ValueBits(shadow))
        if let known = comparisons[key] {
            hits += 1
            return known
        }
        let result = work()
        comparisons[key] = result
        return result
    }

    /// `shadow` with the values of `primary` adopted (``RulesEvaluator/adopt(from:into:)``).
    public func adopting(from primary: JSONValue, into shadow: JSONValue, evaluator: RulesEvaluator) -> JSONValue {
        let key = Key(primary: ValueBits(primary), shadow: ValueBits(shadow))
        if let known = adoptions[key] {
            hits += 1
            return known
        }
        var adopted = shadow
        evaluator.adopt(from: primary, into: &adopted)
        adoptions[key] = adopted
        return adopted
    }
}

/// The bits of an optional JSON value: its case and its payload's words (references to
/// storage, counts, scalars). Equal bits are equal contents while both values live, since a
/// buffer referenced twice is never written in place; equal contents may have other bits.
struct ValueBits: Hashable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ value: JSONValue?) {
        withUnsafeBytes(of: value) { source in
            withUnsafeMutableBytes(of: &words) { target in
                precondition(source.count <= target.count, "a JSON value fits in four words")
                target.copyMemory(from: source)
            }
        }
    }

    static func == (a: Self, b: Self) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
