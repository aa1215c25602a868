/// An RFC 6901 JSON Pointer (`/player1/primary_score`, `~0` for `~`, `~1` for `/`).
public struct JSONPointer: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// The root pointer (`""`).
    public static let root = JSONPointer(tokens: [])

    /// Parses pointer text; `nil` when it is neither empty nor starts with `/`,
    /// or holds an invalid `~` escape.
    public init?(_ text: String) {
        if text.isEmpty { self.tokens = []; return }
        guard text.first == "/" else { return nil }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
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
            tokens.append(token)
        }
        self.tokens = tokens
    }

    public func appending(_ token: String) -> JSONPointer { JSONPointer(tokens: tokens + [token]) }
    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    public var parent: JSONPointer? { tokens.isEmpty ? nil : JSONPointer(tokens: Array(tokens.dropLast())) }

    public var description: String {
        tokens.map { "/" + $0.replacingTildeAndSlash() }.joined()
    }

    public static func < (a: JSONPointer, b: JSONPointer) -> Bool {
        a.tokens.lexicographicallyPrecedes(b.tokens)
    }
}

extension String {
    fileprivate func replacingTildeAndSlash() -> String {
        guard contains(where: { $0 == "~" || $0 == "/" }) else { return self }
        var out = ""
        for c in self {
            switch c {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.append(c)
            }
        }
        return out
    }
}

extension JSONValue {
    /// The value at `pointer`, or `nil` when a step is missing.
    public func value(at pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let o):
                guard let next = o[token] else { return nil }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    /// Sets (or with `nil`, removes) the value at `pointer`. Returns false when the
    /// parent does not exist or is not a container; the document is then unchanged.
    /// Setting an object key that does not exist adds it (at the end).
    @discardableResult
    public mutating func set(_ newValue: JSONValue?, at pointer: JSONPointer) -> Bool {
        guard let first = pointer.tokens.first else {
            self = newValue ?? .null
            return true
        }
        let rest = JSONPointer(tokens: Array(pointer.tokens.dropFirst()))
        switch self {
        case .object(var o):
            if rest.tokens.isEmpty {
                self = .null
                o[first] = newValue
                self = .object(o)
                return true
            }
            guard var child = o[first] else { return false }
            guard child.set(newValue, at: rest) else { return false }
            self = .null
            o[first] = child
            self = .object(o)
            return true
        case .array(var a):
            guard let i = Int(first), a.indices.contains(i) else { return false }
            if rest.tokens.isEmpty {
                self = .null
                if let newValue { a[i] = newValue } else { a.remove(at: i) }
                self = .array(a)
                return true
            }
            var child = a[i]
            guard child.set(newValue, at: rest) else { return false }
            self = .null
            a[i] = child
            self = .array(a)
            return true
        default:
            return false
        }
    }
}
