/// CPython's `random.Random(seed)` (MT19937) and its `randint(1, 6)`, so the
/// engine rolls exactly what the legacy fixture rolls for the same seed
/// (`LEGACY_SEED`), one `randint(1, 6)` per die.
///
/// Seeding follows CPython's `random_seed` for an `int`: the absolute value
/// is split into 32-bit words, least significant first (one zero word for
/// 0), and fed to `init_by_array`. `randint(a, b)` is `a + _randbelow(b - a + 1)`
/// with `getrandbits(k)` rejection sampling, `getrandbits(k <= 32)` being
/// `genrand_uint32() >> (32 - k)`.
public struct PythonRandomDice: DiceSource, Sendable, Equatable {
    private static let n = 624
    private static let m = 397

    private var mt: [UInt32]
    private var index: Int

    /// `random.Random(seed)` for an integer seed (negative seeds use their
    /// absolute value, as CPython does).
    public init(seed: some BinaryInteger) {
        var magnitude = seed.magnitude
        var key: [UInt32] = []
        while magnitude != 0 {
            key.append(UInt32(truncatingIfNeeded: magnitude))
            magnitude >>= 32
        }
        self.init(key: key)
    }

    /// `random.Random(int(text))` for a decimal seed of any size (an optional
    /// sign, then digits), or nil when `text` is not such a number.
    public init?(decimalSeed text: String) {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        // Repeated division of the decimal digits by 2^32 gives the words.
        var number = digits.utf8.map { UInt64($0 - 48) }
        var key: [UInt32] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            var quotient: [UInt64] = []
            quotient.reserveCapacity(number.count)
            for digit in number {
                let current = remainder * 10 + digit
                quotient.append(current >> 32)
                remainder = current & 0xFFFF_FFFF
            }
            key.append(UInt32(remainder))
            number = Array(quotient.drop(while: { $0 == 0 }))
        }
        self.init(key: key)
    }

    /// `init_by_array(key)`; an empty key is the seed 0 (`[0]`).
    private init(key rawKey: [UInt32]) {
        let key = rawKey.isEmpty ? [0] : rawKey
        let n = Self.n
        var mt = [UInt32](repeating: 0, count: n)
        mt[0] = 19_650_218
        for i in 1..<n {
            mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
        var i = 1, j = 0
        for _ in 0..<max(n, key.count) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= n {
                mt[0] = mt[n - 1]
                i = 1
            }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(n - 1) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= n {
                mt[0] = mt[n - 1]
                i = 1
            }
        }
        mt[0] = 0x8000_0000
        self.mt = mt
        self.index = n
    }

    /// `genrand_uint32()`: the next 32-bit output of MT19937.
    public mutating func nextUInt32() -> UInt32 {
        let n = Self.n, m = Self.m
        if index >= n {
            let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7FFF_FFFF
            for k in 0..<n {
                let y = (mt[k] & upper) | (mt[(k + 1) % n] & lower)
                mt[k] = mt[(k + m) % n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(k)` for `0 <= k <= 32`.
    public mutating func getrandbits(_ k: Int) -> UInt32 {
        precondition((0...32).contains(k), "getrandbits: k must be 0...32 here")
        if k == 0 { return 0 }
        return nextUInt32() >> UInt32(32 - k)
    }

    /// `randint(a, b)`: `a + _randbelow(b - a + 1)` (width below 2^32).
    public mutating func randint(_ a: Int, _ b: Int) -> Int {
        let width = b - a + 1
        precondition(width > 0 && width < 1 << 32, "randint: empty or too wide range")
        let k = Int.bitWidth - width.leadingZeroBitCount  // width.bit_length()
        var r = Int(getrandbits(k))
        while r >= width { r = Int(getrandbits(k)) }
        return a + r
    }

    public mutating func roll() -> Int { randint(1, 6) }
}
