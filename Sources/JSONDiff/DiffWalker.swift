import JSONValue

/// A path token on the walker's stack: keys as they are, array indices as
/// numbers (turned into text only when a difference's path is built or a
/// pattern is matched against them).
enum PathToken {
    case key(String)
    case index(Int)

    var text: String {
        switch self {
        case .key(let k): k
        case .index(let i): String(i)
        }
    }
}

/// Receives the differences the walker finds, with the rules' coverage at
/// their path (empty when the walk has no matcher).
protocol DifferenceSink {
    mutating func emit(_ kind: Difference.Kind, _ a: JSONValue?, _ b: JSONValue?, tokens: [PathToken], coverage: Coverage)
}

struct CollectingSink: DifferenceSink {
    var differences: [Difference] = []
    mutating func emit(_ kind: Difference.Kind, _ a: JSONValue?, _ b: JSONValue?, tokens: [PathToken], coverage: Coverage) {
        differences.append(Difference(path: JSONPointer(tokens: tokens.map(\.text)), kind: kind, primary: a, shadow: b))
    }
}

struct CountingSink: DifferenceSink {
    var count = 0
    mutating func emit(_ kind: Difference.Kind, _ a: JSONValue?, _ b: JSONValue?, tokens: [PathToken], coverage: Coverage) {
        count += 1
    }
}

/// One depth-first walk over two documents. Allocation-light: one token stack
/// and one matcher-state arena per walk, reused by every level; nothing is
/// allocated for equal subtrees.
struct DiffWalker<Sink: DifferenceSink> {
    let strictNumbers: Bool
    let matcher: PatternMatcher?
    var sink: Sink
    var tokens: [PathToken] = []
    /// Matcher states of the levels being walked, as consecutive ranges.
    var arena: [Int32] = []

    init(options: DiffOptions, matcher: PatternMatcher?, sink: Sink) {
        self.strictNumbers = options.numericEquality == .strict
        self.matcher = matcher
        self.sink = sink
    }

    mutating func walkRoot(_ a: JSONValue, _ b: JSONValue) {
        tokens.reserveCapacity(8)
        if let matcher, !matcher.isEmpty {
            arena.reserveCapacity(32)
            arena.append(contentsOf: matcher.rootState)
            let coverage = matcher.coverage(of: arena[...])
            walk(a, b, state: 0..<arena.count, coverage: coverage)
        } else {
            walk(a, b, state: 0..<0, coverage: Coverage())
        }
    }

    private mutating func walk(_ a: JSONValue, _ b: JSONValue, state: Range<Int>, coverage: Coverage) {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            walkObjects(x, y, state: state, coverage: coverage)
        case (.array(let x), .array(let y)):
            walkArrays(x, y, state: state, coverage: coverage)
        case (.string(let x), .string(let y)):
            if x != y { sink.emit(.changed, a, b, tokens: tokens, coverage: coverage) }
        case (.int(let x), .int(let y)):
            if x != y { sink.emit(.changed, a, b, tokens: tokens, coverage: coverage) }
        case (.double(let x), .double(let y)):
            if !(x == y || (x.isNaN && y.isNaN)) { sink.emit(.changed, a, b, tokens: tokens, coverage: coverage) }
        case (.bool(let x), .bool(let y)):
            if x != y { sink.emit(.changed, a, b, tokens: tokens, coverage: coverage) }
        case (.null, .null):
            return
        case (.bigInt(let x), .bigInt(let y)):
            if x != y { sink.emit(.changed, a, b, tokens: tokens, coverage: coverage) }
        case (.int, .bigInt), (.bigInt, .int):
            // Canonical big integers never fit in Int; compare the digits anyway.
            if BigDecimal.text(of: a) != BigDecimal.text(of: b) {
                sink.emit(.changed, a, b, tokens: tokens, coverage: coverage)
            }
        case (.int, .double), (.double, .int), (.bigInt, .double), (.double, .bigInt):
            if strictNumbers {
                sink.emit(.typeChanged, a, b, tokens: tokens, coverage: coverage)
            } else if !Self.numericallyEqual(a, b) {
                sink.emit(.changed, a, b, tokens: tokens, coverage: coverage)
            }
        default:
            sink.emit(.typeChanged, a, b, tokens: tokens, coverage: coverage)
        }
    }

    /// An integer and a float are equal when the float is integral and exactly that integer.
    static func numericallyEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let i), .double(let d)), (.double(let d), .int(let i)):
            return Int(exactly: d) == i
        default:
            return a.pythonEquals(b)
        }
    }

    /// The state and coverage one token further down.
    @inline(__always)
    private mutating func child(_ state: Range<Int>, _ token: String, _ coverage: Coverage) -> (Range<Int>, Coverage) {
        guard !state.isEmpty, !coverage.ignored, let matcher else { return (state.upperBound..<state.upperBound, coverage) }
        var childCoverage = coverage
        let start = arena.count
        matcher.step(state, token: token, arena: &arena, coverage: &childCoverage)
        return (start..<arena.count, childCoverage)
    }

    private mutating func walkObjects(_ x: JSONObject, _ y: JSONObject, state: Range<Int>, coverage: Coverage) {
        var matched = 0
        for (key, va) in x {
            tokens.append(.key(key))
            if let vb = y[key] {
                matched += 1
                let (childState, childCoverage) = child(state, key, coverage)
                walk(va, vb, state: childState, coverage: childCoverage)
                arena.removeSubrange(childState)
            } else {
                let (childState, childCoverage) = child(state, key, coverage)
                sink.emit(.removed, va, nil, tokens: tokens, coverage: childCoverage)
                arena.removeSubrange(childState)
            }
            tokens.removeLast()
        }
        guard matched < y.count else { return }
        for (key, vb) in y where x[key] == nil {
            tokens.append(.key(key))
            let (childState, childCoverage) = child(state, key, coverage)
            sink.emit(.added, nil, vb, tokens: tokens, coverage: childCoverage)
            arena.removeSubrange(childState)
            tokens.removeLast()
        }
    }

    private mutating func walkArrays(_ x: [JSONValue], _ y: [JSONValue], state: Range<Int>, coverage: Coverage) {
        let common = min(x.count, y.count)
        let longest = max(x.count, y.count)
        for i in 0..<longest {
            tokens.append(.index(i))
            let (childState, childCoverage) = state.isEmpty ? (state, coverage) : child(state, String(i), coverage)
            if i < common {
                walk(x[i], y[i], state: childState, coverage: childCoverage)
            } else if i < x.count {
                sink.emit(.removed, x[i], nil, tokens: tokens, coverage: childCoverage)
            } else {
                sink.emit(.added, nil, y[i], tokens: tokens, coverage: childCoverage)
            }
            if !state.isEmpty { arena.removeSubrange(childState) }
            tokens.removeLast()
        }
    }
}
