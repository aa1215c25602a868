/// A token bucket: `capacity` tokens, refilled at `rate` per second.
struct TokenBucket: Sendable, Equatable {
    let capacity: Double
    let rate: Double
    private(set) var tokens: Double
    private var last: Double

    init(rate: Int, now: Double) {
        self.rate = Double(rate)
        self.capacity = Double(max(rate, 1))
        self.tokens = capacity
        self.last = now
    }

    /// Takes one token if there is one.
    mutating func take(now: Double) -> Bool {
        if now > last {  // a clock stepping back refills nothing
            tokens = min(capacity, tokens + (now - last) * rate)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
