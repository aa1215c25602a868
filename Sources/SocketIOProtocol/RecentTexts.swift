import JSONValue

/// The last few texts seen, each with a value made from it: a lookup compares lengths, then
/// bytes (`hasSameUTF8`), newest first; once full, a new entry replaces the oldest. The
/// table of ``SocketIOEventCache`` and `EngineIOMessageCache` (a broadcast's copies arrive
/// together, so a handful of entries is enough). Not synchronized: its owner locks it.
public struct RecentTexts<Value: Sendable>: Sendable {
    private var texts: [String] = []
    private var values: [Value] = []
    /// Where the next entry goes (the oldest once full).
    private var next = 0
    /// How many texts are kept.
    public let capacity: Int
    /// Lookups answered, and lookups that were not.
    public private(set) var hits = 0
    public private(set) var misses = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a table of recent texts keeps at least one")
        self.capacity = capacity
    }

    /// The value kept for exactly these bytes.
    public mutating func value(for text: String) -> Value? {
        let count = texts.count
        var index = next
        for _ in 0..<count {
            index = index == 0 ? count - 1 : index - 1
            if texts[index].hasSameUTF8(as: text) {
                hits += 1
                return values[index]
            }
        }
        misses += 1
        return nil
    }

    /// Keeps `value` for `text`, replacing the oldest entry once full.
    public mutating func insert(_ value: Value, for text: String) {
        if texts.count < capacity {
            texts.append(text)
            values.append(value)
        } else {
            texts[next] = text
            values[next] = value
        }
        next = (next + 1) % capacity
    }
}
