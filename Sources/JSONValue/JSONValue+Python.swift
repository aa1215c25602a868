/// Python semantics over JSON values, as the legacy server (Python) applies them.
extension JSONValue {
    /// Python truthiness: `None`, `False`, `0`, `0.0`, `""`, `[]`, `{}` are falsy.
    /// (A missing key is treated as `None` by callers.)
    public var pythonTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .bigInt: true  // canonical big integers are never zero
        case .double(let d): d != 0  // NaN is truthy in Python
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }

    /// Python's `==` between two decoded JSON values: `True == 1 == 1.0`,
    /// `"1" != 1`, lists and dicts element-wise.
    public func pythonEquals(_ other: JSONValue) -> Bool {
        switch (self.pythonNumber, other.pythonNumber) {
        case (.some(let a), .some(let b)): return a == b
        case (.some, .none), (.none, .some): return false
        case (.none, .none): break
        }
        switch (self, other) {
        case (.null, .null): return true
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            for (k, v) in a {
                guard let w = b[k], v.pythonEquals(w) else { return false }
            }
            return true
        default: return false
        }
    }

    /// Python's `str(x)` for the scalar values that form dict keys such as
    /// `f"player{player_id}"`: `1` → `1`, `"1"` → `1`, `1.0` → `1.0`, `True` → `True`,
    /// `None` → `None`. Containers render like Python's `repr` approximately.
    public var pythonStr: String {
        switch self {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .bigInt(let s): s
        case .double(let d):
            if d.isNaN { "nan" } else if d.isInfinite { d < 0 ? "-inf" : "inf" } else { JSONValue.format(d) }
        case .string(let s): s
        case .array(let a): "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let o):
            "{" + o.map { "\(JSONValue.pythonStringRepr($0.key)): \($0.value.pythonRepr)" }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `repr(x)`: strings quoted and escaped as Python does
    /// (`'a'`, `"it's"`, `'a\\nb'`), everything else as ``pythonStr``.
    public var pythonRepr: String {
        if case .string(let s) = self { return JSONValue.pythonStringRepr(s) }
        return pythonStr
    }

    /// `repr(str)`: single quotes unless the text holds `'` and no `"`;
    /// backslash, the quote, `\t` `\n` `\r` escaped; other non-printable
    /// characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
    static func pythonStringRepr(_ s: String) -> String {
        let scalars = s.unicodeScalars
        let quote: Unicode.Scalar = scalars.contains("'") && !scalars.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default:
                if scalar == quote {
                    out += "\\" + String(quote)
                } else if scalar.isPythonPrintable {
                    out.unicodeScalars.append(scalar)
                } else {
                    let hex = String(scalar.value, radix: 16)
                    let width = scalar.value < 0x100 ? 2 : scalar.value < 0x10000 ? 4 : 8
                    let prefix = width == 2 ? "\\x" : width == 4 ? "\\u" : "\\U"
                    out += prefix + String(repeating: "0", count: width - hex.count) + hex
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    /// A number as Python compares numbers (bools are ints).
    enum PythonNumber: Equatable {
        case integer(String)  // canonical decimal
        case float(Double)

        static func == (a: PythonNumber, b: PythonNumber) -> Bool {
            switch (a, b) {
            case (.integer(let x), .integer(let y)): return x == y
            case (.float(let x), .float(let y)): return x == y
            case (.integer(let x), .float(let y)), (.float(let y), .integer(let x)):
                guard y.isFinite, y == y.rounded() else { return false }
                // Exact comparison: integral doubles print exactly with %.0f semantics.
                if let i = Int(x), let yi = Int(exactly: y) { return i == yi }
                return BigDecimal.canonical(String(format0: y)) == x
            }
        }
    }

    var pythonNumber: PythonNumber? {
        switch self {
        case .bool(let b): .integer(b ? "1" : "0")
        case .int(let i): .integer(String(i))
        case .bigInt(let s): .integer(s)
        case .double(let d): .float(d)
        default: nil
        }
    }

    /// Python's `int(x)` applied to a decoded JSON value, or `nil` where Python raises
    /// (strings that are not base-10 integers, floats that are NaN/infinite, lists,
    /// dicts, `None`, strings of more than 4300 digits).
    public var pythonInt: JSONValue? {
        switch self {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int, .bigInt: return self
        case .double(let d):
            guard d.isFinite else { return nil }
            let t = d.rounded(.towardZero)
            if let i = Int(exactly: t) { return .int(i) }
            return BigDecimal.value(String(format0: t))
        case .string(let s):
            return JSONValue.pythonIntParse(s)
        default: return nil
        }
    }

    /// `int(str)`: surrounding whitespace allowed, optional sign, digits with
    /// single underscores between them, at most 4300 digits.
    static func pythonIntParse(_ s: String) -> JSONValue? {
        let trimmed = s.trimmingPythonWhitespace()
        var chars = Substring(trimmed)
        var sign = ""
        if chars.first == "+" || chars.first == "-" {
            if chars.first == "-" { sign = "-" }
            chars = chars.dropFirst()
        }
        guard !chars.isEmpty, chars.first != "_", chars.last != "_" else { return nil }
        var digits = ""
        var previousUnderscore = false
        for c in chars {
            if c == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard let v = c.wholeNumberValue, c.isASCII || c.isNumber else { return nil }
            digits.append(Character(String(v)))
        }
        guard !digits.isEmpty, digits.count <= JSONParser.maxIntegerDigits else { return nil }
        return BigDecimal.value(sign + digits)
    }
}

extension Unicode.Scalar {
    /// Python's `str.isprintable` for one character: not in the Unicode
    /// categories Other (Cc, Cf, Cs, Co, Cn) or Separator (Zl, Zp, Zs), except
    /// the ASCII space.
    var isPythonPrintable: Bool {
        if self == " " { return true }
        switch properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}

extension String {
    /// `%.0f` of an integral double, exact (Swift's description may use exponents).
    init(format0 value: Double) {
        let v = value.magnitude.rounded(.towardZero)
        guard v >= 1 else { self = "0"; return }
        // Exact: integral double = mantissa * 2^exponent.
        var mantissa = v.significandBitPattern | (1 << 52)
        var exponent = Int(v.exponent) - 52
        if exponent < 0 { mantissa >>= UInt64(-exponent); exponent = 0 }
        var number = String(mantissa)
        for _ in 0..<exponent { number = BigDecimal.add(number, number) }
        self = (value < 0 ? "-" : "") + number
    }

    func trimmingPythonWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}
