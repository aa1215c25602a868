import JSONValue

/// An RFC 6901 JSON Pointer with wildcards, parsed and compiled once.
///
/// - `*` as a whole token matches exactly one token (an object key or an array index);
/// - `*` inside a token is a glob over that token: `player*` matches `player1`,
///   `player2` and `player`; `*_seconds` matches `elapsed_seconds`;
/// - `**` as a whole token matches any number of tokens, zero included
///   (`/**/start_time` matches `/start_time` and `/game_timer/start_time`);
/// - `~0` and `~1` escape `~` and `/` as in RFC 6901. There is no escape for a
///   literal `*`: in a pattern, `*` is always a wildcard.
/// - The empty pattern `""` is the root (the whole document).
///
/// A rule whose pattern matches a path applies to the whole subtree there:
/// see ``covers(_:)``.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        /// `*`: exactly one token.
        case anyToken
        /// A token with `*` inside.
        case glob(TokenGlob)
        /// `**`: zero or more tokens.
        case anyDepth
    }

    /// The pattern as written.
    public let text: String
    public let segments: [Segment]

    public init(_ text: String) throws(PathPatternError) {
        self.text = text
        if text.isEmpty {
            segments = []
            return
        }
        guard text.first == "/" else { throw PathPatternError(.notAbsolute, pattern: text) }
        var segments: [Segment] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if raw == "**" {
                if segments.last != .anyDepth { segments.append(.anyDepth) }  // `**/**` is `**`
                continue
            }
            if raw == "*" {
                segments.append(.anyToken)
                continue
            }
            if raw.contains("**") { throw PathPatternError(.doubleStarInsideToken, pattern: text) }
            if raw.contains("*") {
                var pieces: [String] = []
                for piece in raw.split(separator: "*", omittingEmptySubsequences: false) {
                    guard let unescaped = Self.unescape(piece) else {
                        throw PathPatternError(.invalidEscape, pattern: text)
                    }
                    pieces.append(unescaped)
                }
                segments.append(.glob(TokenGlob(pieces: pieces)))
            } else {
                guard let unescaped = Self.unescape(raw) else { throw PathPatternError(.invalidEscape, pattern: text) }
                segments.append(.literal(unescaped))
            }
        }
        self.segments = segments
    }

    /// A pattern that matches exactly `pointer` (no wildcards).
    public init(literal pointer: JSONPointer) {
        self.text = pointer.description
        self.segments = pointer.tokens.map { .literal($0) }
    }

    public var description: String { text }

    /// True when the pattern has no wildcard.
    public var isLiteral: Bool {
        segments.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// Whether the pattern matches exactly this path.
    public func matches(_ pointer: JSONPointer) -> Bool {
        Self.match(segments[...], pointer.tokens[...], prefixAllowed: false)
    }

    /// Whether the pattern matches this path or one of its ancestors, that is,
    /// whether a rule written with this pattern applies at `pointer`.
    public func covers(_ pointer: JSONPointer) -> Bool {
        Self.match(segments[...], pointer.tokens[...], prefixAllowed: true)
    }

    private static func match(_ segments: ArraySlice<Segment>, _ tokens: ArraySlice<String>, prefixAllowed: Bool) -> Bool {
        guard let first = segments.first else { return tokens.isEmpty || prefixAllowed }
        if case .anyDepth = first {
            let rest = segments.dropFirst()
            var remaining = tokens
            while true {
                if match(rest, remaining, prefixAllowed: prefixAllowed) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let token = tokens.first, first.matchesToken(token) else { return false }
        return match(segments.dropFirst(), tokens.dropFirst(), prefixAllowed: prefixAllowed)
    }

    private static func unescape(_ raw: Substring) -> String? {
        guard raw.contains("~") else { return String(raw) }
        var token = ""
        var iterator = raw.makeIterator()
        while let c = iterator.next() {
            if c == "~" {
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: return nil
                }
            } else {
                token.append(c)
            }
        }
        return token
    }
}

extension PathPattern.Segment {
    /// Whether this single-token segment matches `token` (`anyDepth` matches any).
    func matchesToken(_ token: String) -> Bool {
        switch self {
        case .literal(let literal): literal == token
        case .anyToken, .anyDepth: true
        case .glob(let glob): glob.matches(token)
        }
    }
}

/// A glob over one token: literal pieces separated by `*` (any run of characters).
public struct TokenGlob: Sendable, Hashable {
    /// The literal pieces between the stars; at least two (`player*` is `["player", ""]`).
    public let pieces: [String]
    private let utf8Pieces: [[UInt8]]
    private let minimumLength: Int

    init(pieces: [String]) {
        precondition(pieces.count >= 2, "a glob has at least one star")
        self.pieces = pieces
        self.utf8Pieces = pieces.map { Array($0.utf8) }
        self.minimumLength = utf8Pieces.reduce(0) { $0 + $1.count }
    }

    public static func == (a: TokenGlob, b: TokenGlob) -> Bool { a.pieces == b.pieces }
    public func hash(into hasher: inout Hasher) { hasher.combine(pieces) }

    /// Whether `token` matches: it starts with the first piece, ends with the
    /// last, and holds the middle pieces in order in between (leftmost match,
    /// which is exact for `*`-only globs). Compares UTF-8 bytes.
    public func matches(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { bytes in
            guard bytes.count >= minimumLength else { return false }
            let first = utf8Pieces[0]
            let last = utf8Pieces[utf8Pieces.count - 1]
            for i in 0..<first.count where bytes[i] != first[i] { return false }
            let lastStart = bytes.count - last.count
            for i in 0..<last.count where bytes[lastStart + i] != last[i] { return false }
            var position = first.count
            for pieceIndex in 1..<(utf8Pieces.count - 1) {
                let piece = utf8Pieces[pieceIndex]
                guard let found = Self.find(piece, in: bytes, from: position, before: lastStart) else { return false }
                position = found + piece.count
            }
            return true
        }
    }

    private static func find(_ piece: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int, before end: Int) -> Int? {
        if piece.isEmpty { return start }
        var i = start
        while i + piece.count <= end {
            var j = 0
            while j < piece.count && bytes[i + j] == piece[j] { j += 1 }
            if j == piece.count { return i }
            i += 1
        }
        return nil
    }
}

/// Why a path pattern was refused.
public struct PathPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Reason: Sendable, Equatable {
        case notAbsolute
        case invalidEscape
        case doubleStarInsideToken
    }

    let reason: Reason
    /// The pattern text that was refused.
    public let pattern: String

    init(_ reason: Reason, pattern: String) {
        self.reason = reason
        self.pattern = pattern
    }

    /// The reason alone, e.g. `"'~' must be followed by '0' or '1'"`.
    public var reasonText: String {
        switch reason {
        case .notAbsolute: "a path pattern is empty or starts with '/'"
        case .invalidEscape: "'~' must be followed by '0' or '1'"
        case .doubleStarInsideToken: "'**' must be a whole token (between slashes)"
        }
    }

    public var description: String { "invalid path pattern '\(pattern)': \(reasonText)" }
}
