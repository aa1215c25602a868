import JSONValue

/// Options of the structural diff.
public struct DiffOptions: Sendable, Hashable {
    /// How an integer and a float holding the same number compare.
    public enum NumericEquality: String, Sendable, Hashable, CaseIterable {
        /// `0 == 0.0`, `3 == 3.0` (as in Python, whose `json` the legacy uses and
        /// which writes `0.0` where the engine may write `0`). Integers and floats
        /// that differ in value are `changed`, not `typeChanged`. The default.
        case numeric
        /// An integer and a float are never equal: `0` versus `0.0` is `typeChanged`.
        case strict
    }

    public var numericEquality: NumericEquality

    public init(numericEquality: NumericEquality = .numeric) {
        self.numericEquality = numericEquality
    }

    /// Numeric equality of ints and floats (the default).
    public static let `default` = DiffOptions()
    public static let strict = DiffOptions(numericEquality: .strict)
}

/// The pure structural JSON diff.
///
/// - Object members are matched by key, whatever their order.
/// - Arrays are compared index by index; elements beyond the shorter array are
///   `added` (shadow longer) or `removed` (primary longer), in ascending index order.
/// - Equal subtrees cost one walk and no allocation; paths are only built for
///   differences.
/// - Booleans are never numbers (`true` versus `1` is `typeChanged`); NaN equals NaN.
public enum JSONDiff {
    /// The differences from `a` (the primary) to `b` (the shadow), in document
    /// order (the primary's key order, then keys only the shadow has).
    public static func diff(_ a: JSONValue, _ b: JSONValue, options: DiffOptions = .default) -> [Difference] {
        var walker = DiffWalker(options: options, matcher: nil, sink: CollectingSink())
        walker.walkRoot(a, b)
        return walker.sink.differences
    }

    /// Whether `a` and `b` have no difference under `options` (no allocation).
    public static func areEqual(_ a: JSONValue, _ b: JSONValue, options: DiffOptions = .default) -> Bool {
        var walker = DiffWalker(options: options, matcher: nil, sink: CountingSink())
        walker.walkRoot(a, b)
        return walker.sink.count == 0
    }

    /// Applies differences (as produced by ``diff(_:_:options:)`` from `document`)
    /// so that the result holds each difference's `shadow` value: `diff(a, b)`
    /// applied to `a` gives `b` (up to ``DiffOptions/NumericEquality/numeric``
    /// equality when that option was used).
    ///
    /// An `added` array element at index `count` is appended; `removed` ones are
    /// applied last, in reverse order, so trailing array elements come off from the end.
    /// Returns the paths that could not be applied (their parent was missing or
    /// not a container).
    @discardableResult
    public static func apply(_ differences: [Difference], to document: inout JSONValue) -> [JSONPointer] {
        var failed: [JSONPointer] = []
        for d in differences where d.kind != .removed {
            if !setAppending(d.shadow, at: d.path, in: &document) { failed.append(d.path) }
        }
        for d in differences.reversed() where d.kind == .removed {
            if !document.set(nil, at: d.path) { failed.append(d.path) }
        }
        return failed
    }

    /// `JSONValue.set`, plus appending to an array when the index equals its count.
    static func setAppending(_ value: JSONValue?, at path: JSONPointer, in document: inout JSONValue) -> Bool {
        if document.set(value, at: path) { return true }
        guard let value, let last = path.tokens.last, let index = Int(last), let parentPath = path.parent,
            case .array(var array)? = document.value(at: parentPath), index == array.count
        else { return false }
        array.append(value)
        return document.set(.array(array), at: parentPath)
    }
}
