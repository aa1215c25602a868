import JSONValue

/// A tiny deterministic generator of JSON documents from a seed, so property
/// tests can draw whole documents from one generated integer.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomJSON {
    static let alphabet: [Character] = Array("ab~/\"\\\n\t é漢😀\u{1}0")

    static func string(_ rng: inout SplitMix64) -> String {
        String((0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func value(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let leafOnly = depth >= 4
        switch Int.random(in: 0..<(leafOnly ? 7 : 9), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: Int.min...Int.max, using: &rng))
        case 3: return .int(Int.random(in: -10...10, using: &rng))
        case 4: return .double(Double.random(in: -1e6...1e6, using: &rng))
        case 5: return .string(string(&rng))
        case 6: return BigDecimal.value("9" + String(repeating: "1", count: Int.random(in: 19...40, using: &rng)))
        case 7: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var o = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &rng) { o[string(&rng)] = value(&rng, depth: depth + 1) }
            return .object(o)
        }
    }
}
