import OrderedCollections

/// A JSON object: keys keep their insertion order (as Python dicts and
/// JavaScript objects do), lookups are hashed. Equality ignores key order.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)

    var storage: OrderedDictionary<String, JSONValue>

    public init() { storage = [:] }
    public init(minimumCapacity: Int) { storage = OrderedDictionary(minimumCapacity: minimumCapacity) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        storage = OrderedDictionary(minimumCapacity: elements.count)
        for (k, v) in elements { storage[k] = v }
    }
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        storage = [:]
        for (k, v) in pairs { storage[k] = v }
    }

    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    /// Keys in insertion order.
    public var keys: [String] { Array(storage.keys) }
    public var values: [JSONValue] { Array(storage.values) }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? { storage.removeValue(forKey: key) }

    public struct Iterator: IteratorProtocol {
        var inner: OrderedDictionary<String, JSONValue>.Iterator
        public mutating func next() -> Element? {
            guard let (key, value) = inner.next() else { return nil }
            return (key: key, value: value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(inner: storage.makeIterator()) }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        for (key, value) in a.storage {
            guard let other = b.storage[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        var acc = 0
        for (k, v) in storage {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            acc ^= h.finalize()
        }
        hasher.combine(acc)
        hasher.combine(storage.count)
    }
}
