/// Path patterns compiled into one trie, walked as a nondeterministic
/// automaton: a state is the set of trie nodes reached by the tokens so far
/// (usually zero to two). When the set is empty no pattern can match below, and
/// the diff walks that subtree without matching at all.
///
/// Built once from all the patterns of one use, then frozen into flat tables of
/// plain values, so stepping copies no reference-counted storage; a class so
/// that sharing it costs one reference count.
final class PatternMatcher: Sendable {
    /// What one pattern ending at a node applies.
    enum Payload: Sendable {
        case ignore
        case tolerance(Int32)
        case clock(Int32)
        case adopt
        case known(Int32)
    }

    struct Node: Sendable {
        var literalStart: Int32 = 0, literalEnd: Int32 = 0
        var globStart: Int32 = 0, globEnd: Int32 = 0
        var knownStart: Int32 = 0, knownEnd: Int32 = 0
        /// Child for a `*` segment, or -1.
        var star: Int32 = -1
        /// Child for a `**` segment (reached without consuming a token), or -1.
        var anyDepth: Int32 = -1
        /// Reached through `**`: consumes any token and stays.
        var loops = false
        var coverage = Coverage()
    }

    let nodes: [Node]
    private let literalTokens: [String]
    private let literalNext: [Int32]
    private let globs: [TokenGlob]
    private let globNext: [Int32]
    private let knownIndices: [Int32]
    /// The ε-closure of the root.
    let rootState: [Int32]
    /// No pattern at all.
    let isEmpty: Bool

    init(_ patterns: [(PathPattern, Payload)]) {
        isEmpty = patterns.isEmpty
        // Build a pointer-free trie first, then lay it out flat.
        struct BuildNode {
            var literals: [(String, Int)] = []
            var globs: [(TokenGlob, Int)] = []
            var star = -1, anyDepth = -1
            var loops = false
            var coverage = Coverage()
            var known: [Int32] = []
        }
        var build = [BuildNode()]
        for (pattern, payload) in patterns {
            var current = 0
            for segment in pattern.segments {
                switch segment {
                case .literal(let token):
                    if let found = build[current].literals.first(where: { $0.0 == token }) {
                        current = found.1
                    } else {
                        build.append(BuildNode())
                        build[current].literals.append((token, build.count - 1))
                        current = build.count - 1
                    }
                case .glob(let glob):
                    if let found = build[current].globs.first(where: { $0.0 == glob }) {
                        current = found.1
                    } else {
                        build.append(BuildNode())
                        build[current].globs.append((glob, build.count - 1))
                        current = build.count - 1
                    }
                case .anyToken:
                    if build[current].star < 0 {
                        build.append(BuildNode())
                        build[current].star = build.count - 1
                    }
                    current = build[current].star
                case .anyDepth:
                    if build[current].anyDepth < 0 {
                        build.append(BuildNode(loops: true))
                        build[current].anyDepth = build.count - 1
                    }
                    current = build[current].anyDepth
                }
            }
            switch payload {
            case .ignore: build[current].coverage.ignored = true
            case .adopt: build[current].coverage.adopt = true
            case .tolerance(let i):
                if build[current].coverage.tolerance < 0 { build[current].coverage.tolerance = i }
            case .clock(let i):
                if build[current].coverage.clock < 0 { build[current].coverage.clock = i }
            case .known(let i):
                if !build[current].known.contains(i) { build[current].known.append(i) }
            }
        }
        var nodes: [Node] = []
        var literalTokens: [String] = []
        var literalNext: [Int32] = []
        var globs: [TokenGlob] = []
        var globNext: [Int32] = []
        var knownIndices: [Int32] = []
        for b in build {
            var node = Node(star: Int32(b.star), anyDepth: Int32(b.anyDepth), loops: b.loops, coverage: b.coverage)
            node.literalStart = Int32(literalTokens.count)
            for (token, next) in b.literals {
                literalTokens.append(token)
                literalNext.append(Int32(next))
            }
            node.literalEnd = Int32(literalTokens.count)
            node.globStart = Int32(globs.count)
            for (glob, next) in b.globs {
                globs.append(glob)
                globNext.append(Int32(next))
            }
            node.globEnd = Int32(globs.count)
            node.knownStart = Int32(knownIndices.count)
            knownIndices += b.known
            node.knownEnd = Int32(knownIndices.count)
            nodes.append(node)
        }
        var root: [Int32] = []
        var n: Int32 = 0
        while n >= 0 {
            root.append(n)
            n = nodes[Int(n)].anyDepth
        }
        self.nodes = nodes
        self.literalTokens = literalTokens
        self.literalNext = literalNext
        self.globs = globs
        self.globNext = globNext
        self.knownIndices = knownIndices
        self.rootState = root
    }

    /// The coverage of the nodes in `state`.
    func coverage(of state: ArraySlice<Int32>) -> Coverage {
        var result = Coverage()
        for n in state { result.merge(nodes[Int(n)].coverage) }
        return result
    }

    /// Appends to `arena` the state reached from `arena[range]` by `token`,
    /// merging the coverage of the nodes reached into `coverage`.
    func step(_ range: Range<Int>, token: String, arena: inout [Int32], coverage: inout Coverage) {
        let start = arena.count
        for i in range {
            let current = arena[i]
            let node = nodes[Int(current)]
            if node.loops { appendClosure(current, from: start, to: &arena, coverage: &coverage) }
            var k = Int(node.literalStart)
            while k < Int(node.literalEnd) {
                if literalTokens[k] == token { appendClosure(literalNext[k], from: start, to: &arena, coverage: &coverage) }
                k += 1
            }
            k = Int(node.globStart)
            while k < Int(node.globEnd) {
                if globs[k].matches(token) { appendClosure(globNext[k], from: start, to: &arena, coverage: &coverage) }
                k += 1
            }
            if node.star >= 0 { appendClosure(node.star, from: start, to: &arena, coverage: &coverage) }
        }
    }

    private func appendClosure(_ node: Int32, from start: Int, to arena: inout [Int32], coverage: inout Coverage) {
        var n = node
        while n >= 0 {
            var present = false
            var j = start
            while j < arena.count {
                if arena[j] == n { present = true; break }
                j += 1
            }
            if !present {
                arena.append(n)
                coverage.merge(nodes[Int(n)].coverage)
            }
            n = nodes[Int(n)].anyDepth
        }
    }

    /// Walks a whole path; calls `visit` with every state reached (the root's
    /// closure first, then one state per token while any node is left).
    private func walkPath<S: Sequence>(_ tokens: S, _ visit: (ArraySlice<Int32>) -> Void) where S.Element == String {
        var arena = rootState
        var range = 0..<arena.count
        visit(arena[range])
        var ignored = Coverage()
        for token in tokens {
            step(range, token: token, arena: &arena, coverage: &ignored)
            range = range.upperBound..<arena.count
            if range.isEmpty { return }
            visit(arena[range])
        }
    }

    /// Coverage of a whole path (for classifying ready-made differences).
    func coverage<S: Sequence>(ofPath tokens: S) -> Coverage where S.Element == String {
        var coverage = Coverage()
        walkPath(tokens) { state in coverage.merge(self.coverage(of: state)) }
        return coverage
    }

    /// The indices of the known divergences whose patterns cover the path, ascending.
    func knownIndices<S: Sequence>(ofPath tokens: S) -> [Int32] where S.Element == String {
        var result: [Int32] = []
        walkPath(tokens) { state in
            for n in state {
                let node = nodes[Int(n)]
                for k in Int(node.knownStart)..<Int(node.knownEnd) where !result.contains(knownIndices[k]) {
                    result.append(knownIndices[k])
                }
            }
        }
        return result.sorted()
    }
}

/// What the rules say about one path: the union of every pattern that covers
/// it (a plain value: copying it touches no reference count).
struct Coverage: Sendable, Equatable {
    var ignored = false
    var adopt = false
    /// Index of the first tolerance rule covering the path, or -1.
    var tolerance: Int32 = -1
    /// Index of the first clock rule covering the path, or -1.
    var clock: Int32 = -1

    var isEmpty: Bool { !ignored && !adopt && tolerance < 0 && clock < 0 }

    mutating func merge(_ other: Coverage) {
        ignored = ignored || other.ignored
        adopt = adopt || other.adopt
        if other.tolerance >= 0 && (tolerance < 0 || other.tolerance < tolerance) { tolerance = other.tolerance }
        if other.clock >= 0 && (clock < 0 || other.clock < clock) { clock = other.clock }
    }
}
