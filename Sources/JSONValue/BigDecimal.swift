/// Minimal arithmetic on canonical decimal integer strings, enough to keep
/// Python's unbounded `int` semantics for sums of scores (`10**20 + 0`).
public enum BigDecimal {
    /// Canonical form: optional `-`, no leading zeros, `0` never negative.
    public static func canonical(_ text: String) -> String {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" { negative = true; digits = digits.dropFirst() }
        else if digits.first == "+" { digits = digits.dropFirst() }
        let trimmed = digits.drop(while: { $0 == "0" })
        if trimmed.isEmpty { return "0" }
        return (negative ? "-" : "") + trimmed
    }

    /// The integer value of `text` as a JSON value: `.int` when it fits, else `.bigInt`.
    public static func value(_ text: String) -> JSONValue {
        let c = canonical(text)
        if let i = Int(c) { return .int(i) }
        return .bigInt(c)
    }

    /// Decimal text of an integer JSON value (`.int` or `.bigInt`), or nil.
    public static func text(of value: JSONValue) -> String? {
        switch value {
        case .int(let i): String(i)
        case .bigInt(let s): s
        default: nil
        }
    }

    /// Sum of two integer JSON values with unbounded precision.
    public static func add(_ a: JSONValue, _ b: JSONValue) -> JSONValue? {
        if case .int(let x) = a, case .int(let y) = b {
            let (sum, overflow) = x.addingReportingOverflow(y)
            if !overflow { return .int(sum) }
        }
        guard let x = text(of: a), let y = text(of: b) else { return nil }
        return value(add(x, y))
    }

    /// Sum of two canonical decimal strings.
    public static func add(_ a: String, _ b: String) -> String {
        let (na, ma) = split(a)
        let (nb, mb) = split(b)
        if na == nb {
            return canonical((na ? "-" : "") + addMagnitudes(ma, mb))
        }
        // Different signs: subtract the smaller magnitude from the larger.
        switch compareMagnitudes(ma, mb) {
        case 0: return "0"
        case 1: return canonical((na ? "-" : "") + subtractMagnitudes(ma, mb))
        default: return canonical((nb ? "-" : "") + subtractMagnitudes(mb, ma))
        }
    }

    private static func split(_ s: String) -> (Bool, [UInt8]) {
        let c = canonical(s)
        if c.first == "-" { return (true, Array(c.utf8.dropFirst()).map { $0 - 48 }) }
        return (false, Array(c.utf8).map { $0 - 48 })
    }

    private static func compareMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    private static func addMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> String {
        var result: [UInt8] = []
        var i = a.count - 1, j = b.count - 1, carry: UInt8 = 0
        while i >= 0 || j >= 0 || carry > 0 {
            let s = (i >= 0 ? a[i] : 0) + (j >= 0 ? b[j] : 0) + carry
            result.append(s % 10 + 48)
            carry = s / 10
            i -= 1; j -= 1
        }
        return String(decoding: result.reversed(), as: UTF8.self)
    }

    /// `a - b` for magnitudes with `a >= b`.
    private static func subtractMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> String {
        var result: [UInt8] = []
        var i = a.count - 1, j = b.count - 1, borrow = 0
        while i >= 0 {
            var d = Int(a[i]) - borrow - (j >= 0 ? Int(b[j]) : 0)
            if d < 0 { d += 10; borrow = 1 } else { borrow = 0 }
            result.append(UInt8(d) + 48)
            i -= 1; j -= 1
        }
        return String(decoding: result.reversed(), as: UTF8.self)
    }
}
