import JSONValue

/// One server-to-client message: a Socket.IO event name and its payload (its
/// first argument; `nil` when it had none).
public struct StreamMessage: Sendable, Equatable {
    public var name: String
    public var payload: JSONValue?

    public init(_ name: String, _ payload: JSONValue? = nil) {
        self.name = name
        self.payload = payload
    }
}

/// A difference between what the primary sent one client and what the shadow
/// would have sent it.
public struct StreamDifference: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The primary sent it, the shadow did not.
        case missing
        /// The shadow sent it, the primary did not.
        case extra
        /// Both sent a message with this name, at positions that do not align.
        case reordered
        /// Aligned messages whose payloads differ under the rules.
        case payloadDiffers = "payload_differs"
    }

    public var kind: Kind
    public var name: String
    /// Position in the primary's stream (absent for `extra`).
    public var primaryIndex: Int?
    /// Position in the shadow's stream (absent for `missing`).
    public var shadowIndex: Int?
    /// The payload comparison, for `payloadDiffers`, and for `reordered` when
    /// the payloads also differ.
    public var payload: ComparisonResult?

    public init(kind: Kind, name: String, primaryIndex: Int?, shadowIndex: Int?, payload: ComparisonResult? = nil) {
        self.kind = kind
        self.name = name
        self.primaryIndex = primaryIndex
        self.shadowIndex = shadowIndex
        self.payload = payload
    }

    public var description: String {
        let p = primaryIndex.map(String.init) ?? "-"
        let s = shadowIndex.map(String.init) ?? "-"
        var text = "\(kind.rawValue) '\(name)' (primary #\(p), shadow #\(s))"
        if let payload, !payload.isClean {
            text += ": " + payload.unexpected.map(\.description).joined(separator: "; ")
        }
        return text
    }
}

/// The outcome of comparing two message streams.
public struct StreamComparison: Sendable, Equatable {
    /// Unexpected differences, ordered by position (primary first).
    public var differences: [StreamDifference]
    /// Messages aligned with equal payloads under the rules.
    public var matchedCount: Int
    /// Payload differences accepted as known, ignored, or within tolerance, over all aligned pairs.
    public var acceptedCount: Int
    public var ignoredCount: Int
    public var toleratedCount: Int

    public var isClean: Bool { differences.isEmpty }
}

extension RulesEvaluator {
    /// Compares the messages the primary sent one client with those the shadow
    /// would have sent it.
    ///
    /// Alignment, kept simple:
    /// 1. the common prefix and suffix with equal names are aligned position by position;
    /// 2. the middle is aligned by a longest common subsequence of the names, an
    ///    O(n·m) table, when n·m ≤ `maxTableCells`; beyond that, greedily, looking
    ///    at most `lookahead` messages ahead on either side for the same name;
    /// 3. unaligned messages with the same name on both sides (first with first)
    ///    are `reordered`; the rest are `missing` (primary only) or `extra` (shadow only);
    /// 4. aligned and reordered pairs have their payloads compared under these rules
    ///    (paths relative to the payload; a `game_state_update` payload is the state).
    ///
    /// `memo` (for the same evaluator and context only) lets the comparisons of several
    /// sessions' streams share their payloads' results: a broadcast is diffed once.
    public func compareStreams(
        primary: [StreamMessage],
        shadow: [StreamMessage],
        context: EventContext? = nil,
        maxTableCells: Int = 65_536,
        lookahead: Int = 32,
        memo: PayloadMemo? = nil
    ) -> StreamComparison {
        var pairs: [(Int, Int)] = []
        let n = primary.count, m = shadow.count
        var prefix = 0
        while prefix < n && prefix < m && primary[prefix].name == shadow[prefix].name {
            pairs.append((prefix, prefix))
            prefix += 1
        }
        var suffix = 0
        while suffix < n - prefix && suffix < m - prefix
            && primary[n - 1 - suffix].name == shadow[m - 1 - suffix].name
        {
            suffix += 1
        }
        let p = Array(primary[prefix..<(n - suffix)].map(\.name))
        let s = Array(shadow[prefix..<(m - suffix)].map(\.name))
        let middle = p.count * s.count <= maxTableCells
            ? Self.lcsAlignment(p, s) : Self.greedyAlignment(p, s, lookahead: lookahead)
        pairs += middle.map { ($0.0 + prefix, $0.1 + prefix) }
        for k in 0..<suffix { pairs.append((n - suffix + k, m - suffix + k)) }

        var result = StreamComparison(differences: [], matchedCount: 0, acceptedCount: 0, ignoredCount: 0, toleratedCount: 0)
        var primaryUsed = [Bool](repeating: false, count: n)
        var shadowUsed = [Bool](repeating: false, count: m)
        func comparePair(_ i: Int, _ j: Int, reordered: Bool) {
            primaryUsed[i] = true
            shadowUsed[j] = true
            let payload = memo.map { memo in
                memo.compare(primary[i].payload, shadow[j].payload) {
                    comparePayloads(primary[i].payload, shadow[j].payload, context: context)
                }
            } ?? comparePayloads(primary[i].payload, shadow[j].payload, context: context)
            result.acceptedCount += payload.acceptedCount
            result.ignoredCount += payload.ignoredCount
            result.toleratedCount += payload.toleratedCount
            if reordered {
                result.differences.append(StreamDifference(
                    kind: .reordered, name: primary[i].name, primaryIndex: i, shadowIndex: j,
                    payload: payload.isClean ? nil : payload))
            } else if payload.isClean {
                result.matchedCount += 1
            } else {
                result.differences.append(StreamDifference(
                    kind: .payloadDiffers, name: primary[i].name, primaryIndex: i, shadowIndex: j, payload: payload))
            }
        }
        for (i, j) in pairs { comparePair(i, j, reordered: false) }
        // Unaligned shadow messages by name, in order, for pairing the reordered ones.
        var unalignedShadow: [String: [Int]] = [:]
        for j in stride(from: m - 1, through: 0, by: -1) where !shadowUsed[j] {
            unalignedShadow[shadow[j].name, default: []].append(j)
        }
        for i in 0..<n where !primaryUsed[i] {
            if let j = unalignedShadow[primary[i].name]?.popLast() {
                comparePair(i, j, reordered: true)
            }
        }
        for i in 0..<n where !primaryUsed[i] {
            result.differences.append(StreamDifference(kind: .missing, name: primary[i].name, primaryIndex: i, shadowIndex: nil))
        }
        for j in 0..<m where !shadowUsed[j] {
            result.differences.append(StreamDifference(kind: .extra, name: shadow[j].name, primaryIndex: nil, shadowIndex: j))
        }
        result.differences.sort { a, b in
            let ka = a.primaryIndex ?? a.shadowIndex ?? 0, kb = b.primaryIndex ?? b.shadowIndex ?? 0
            if ka != kb { return ka < kb }
            return (a.shadowIndex ?? -1) < (b.shadowIndex ?? -1)
        }
        return result
    }

    /// Compares two payloads; a payload on one side only is one root difference.
    public func comparePayloads(_ a: JSONValue?, _ b: JSONValue?, context: EventContext? = nil) -> ComparisonResult {
        switch (a, b) {
        case (let a?, let b?): return compare(primary: a, shadow: b, context: context)
        case (nil, nil): return ComparisonResult()
        case (let a, let b):
            let difference = Difference(path: .root, kind: a == nil ? .added : .removed, primary: a, shadow: b)
            return ComparisonResult(classify([difference], context: context))
        }
    }

    /// Index pairs of a longest common subsequence of `a` and `b`.
    static func lcsAlignment(_ a: [String], _ b: [String]) -> [(Int, Int)] {
        let n = a.count, m = b.count
        guard n > 0, m > 0 else { return [] }
        // lengths[i][j]: LCS of a[i...] and b[j...], flattened.
        var lengths = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        let width = m + 1
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lengths[i * width + j] = a[i] == b[j]
                    ? lengths[(i + 1) * width + j + 1] + 1
                    : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
            }
        }
        var pairs: [(Int, Int)] = []
        var i = 0, j = 0
        while i < n && j < m {
            if a[i] == b[j] {
                pairs.append((i, j))
                i += 1
                j += 1
            } else if lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return pairs
    }

    /// Linear alignment for long streams: equal names pair up; on a mismatch the
    /// nearer re-synchronisation within `lookahead` wins; without one both are skipped.
    static func greedyAlignment(_ a: [String], _ b: [String], lookahead: Int) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                pairs.append((i, j))
                i += 1
                j += 1
                continue
            }
            let inB = (j + 1..<min(b.count, j + 1 + lookahead)).first { b[$0] == a[i] }
            let inA = (i + 1..<min(a.count, i + 1 + lookahead)).first { a[$0] == b[j] }
            switch (inB, inA) {
            case (let k?, let l?): if k - j <= l - i { j = k } else { i = l }
            case (let k?, nil): j = k
            case (nil, let l?): i = l
            case (nil, nil): i += 1; j += 1
            }
        }
        return pairs
    }
}
