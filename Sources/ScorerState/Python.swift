import JSONValue

/// An exception the legacy's Python code would raise at this point, with the
/// exact type name and message (`f"{type(exc).__name__}: {exc}"` is the Pi
/// ack's error text).
struct PythonException: Error, Equatable {
    /// What made Python raise: the client's payload, or a stored value of an
    /// unexpected type (only possible after a hand-off loaded such a state).
    enum Blame: Equatable { case input, state }

    var type: String
    var message: String
    var blame: Blame = .state

    var text: String { "\(type): \(message)" }

    func blaming(_ blame: Blame) -> PythonException {
        var copy = self
        copy.blame = blame
        return copy
    }

    static func keyError(_ key: String) -> PythonException {
        PythonException(type: "KeyError", message: JSONValue.string(key).pythonRepr)
    }

    static func typeError(_ message: String) -> PythonException {
        PythonException(type: "TypeError", message: message)
    }

    static func attributeError(_ value: JSONValue, _ attribute: String) -> PythonException {
        PythonException(
            type: "AttributeError", message: "'\(Python.typeName(value))' object has no attribute '\(attribute)'")
    }
}

/// The few Python operations the legacy applies to its state and payloads,
/// over ``JSONValue`` (`None`, `bool`, `int`, `float`, `str`, `list`, `dict`),
/// raising what Python raises.
enum Python {
    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "NoneType"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .double: "float"
        case .string: "str"
        case .array: "list"
        case .object: "dict"
        }
    }

    // MARK: dicts

    /// `value.get(key, default)`.
    static func get(_ value: JSONValue, _ key: String, default fallback: JSONValue = .null) throws(PythonException)
        -> JSONValue
    {
        guard case .object(let object) = value else { throw .attributeError(value, "get") }
        return object[key] ?? fallback
    }

    /// `value[key]` with a `str` key.
    static func item(_ value: JSONValue, _ key: String) throws(PythonException) -> JSONValue {
        switch value {
        case .object(let object):
            guard let found = object[key] else { throw .keyError(key) }
            return found
        case .array: throw .typeError("list indices must be integers or slices, not str")
        case .string: throw .typeError("string indices must be integers, not 'str'")
        default: throw .typeError("'\(typeName(value))' object is not subscriptable")
        }
    }

    /// `value[key] = new` with a `str` key.
    static func setItem(_ value: inout JSONValue, _ key: String, _ new: JSONValue) throws(PythonException) {
        switch value {
        case .object(var object):
            value = .null  // keep the storage unique
            object[key] = new
            value = .object(object)
        case .array: throw .typeError("list indices must be integers or slices, not str")
        default: throw .typeError("'\(typeName(value))' object does not support item assignment")
        }
    }

    /// `key in container` with a `str` key.
    static func contains(_ container: JSONValue, _ key: String) throws(PythonException) -> Bool {
        switch container {
        case .object(let object): return object[key] != nil
        case .array(let elements): return elements.contains { $0.pythonEquals(.string(key)) }
        case .string(let text): return key.isEmpty || text.unicodeScalars.containsSubsequence(key.unicodeScalars)
        default: throw .typeError("argument of type '\(typeName(container))' is not iterable")
        }
    }

    /// `str(value)`, as an f-string formats it.
    static func str(_ value: JSONValue) -> String { value.pythonStr }

    // MARK: numbers

    enum Number {
        case integer(JSONValue)  // .int or .bigInt
        case float(Double)
    }

    static func number(_ value: JSONValue) -> Number? {
        switch value {
        case .bool(let b): .integer(.int(b ? 1 : 0))
        case .int, .bigInt: .integer(value)
        case .double(let d): .float(d)
        default: nil
        }
    }

    /// `float(int)`: correctly rounded, `OverflowError` when out of range.
    static func toFloat(_ integer: JSONValue) throws(PythonException) -> Double {
        switch integer {
        case .int(let i): return Double(i)
        case .bigInt(let digits):
            guard let d = Double(digits), d.isFinite else {
                throw PythonException(type: "OverflowError", message: "int too large to convert to float")
            }
            return d
        default: preconditionFailure("not an integer: \(integer)")
        }
    }

    static func negate(_ integer: JSONValue) -> JSONValue {
        switch integer {
        case .int(let i) where i != .min: return .int(-i)
        default:
            let text = BigDecimal.text(of: integer)!
            return BigDecimal.value(text.hasPrefix("-") ? String(text.dropFirst()) : "-" + text)
        }
    }

    /// `a + b` (or `a += b` for the message) for the values the legacy adds.
    static func add(_ a: JSONValue, _ b: JSONValue, augmented: Bool = false) throws(PythonException) -> JSONValue {
        let op = augmented ? "+=" : "+"
        switch (number(a), number(b)) {
        case (.integer(let x), .integer(let y)):
            return BigDecimal.add(x, y)!
        case (.integer(let x), .float(let y)):
            return .double(try toFloat(x) + y)
        case (.float(let x), .integer(let y)):
            return .double(x + (try toFloat(y)))
        case (.float(let x), .float(let y)):
            return .double(x + y)
        default:
            break
        }
        switch (a, b) {
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.string, _):
            throw .typeError("can only concatenate str (not \"\(typeName(b))\") to str")
        case (.array(let x), .array(let y)): return .array(x + y)
        case (.array, _):
            if augmented {
                // list += iterable extends; the legacy only ever adds numbers.
                throw .typeError("'\(typeName(b))' object is not iterable")
            }
            throw .typeError("can only concatenate list (not \"\(typeName(b))\") to list")
        default:
            throw .typeError("unsupported operand type(s) for \(op): '\(typeName(a))' and '\(typeName(b))'")
        }
    }

    /// `a - b` for numbers.
    static func subtract(_ a: JSONValue, _ b: JSONValue) throws(PythonException) -> JSONValue {
        switch (number(a), number(b)) {
        case (.integer(let x), .integer(let y)):
            return BigDecimal.add(x, negate(y))!
        case (.integer(let x), .float(let y)):
            return .double(try toFloat(x) - y)
        case (.float(let x), .integer(let y)):
            return .double(x - (try toFloat(y)))
        case (.float(let x), .float(let y)):
            return .double(x - y)
        default:
            throw .typeError("unsupported operand type(s) for -: '\(typeName(a))' and '\(typeName(b))'")
        }
    }

    /// `a > b`.
    static func greater(_ a: JSONValue, _ b: JSONValue) throws(PythonException) -> Bool {
        if let x = number(a), let y = number(b) {
            return compare(x, y) == 1
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            // Python orders strings by code point.
            return y.unicodeScalars.lexicographicallyPrecedes(x.unicodeScalars)
        case (.array(let x), .array(let y)):
            for (u, v) in zip(x, y) where !u.pythonEquals(v) {
                return try greater(u, v)
            }
            return x.count > y.count
        default:
            throw .typeError("'>' not supported between instances of '\(typeName(a))' and '\(typeName(b))'")
        }
    }

    /// `max(0, x)`: the first largest, so `0` (the int) unless `x > 0`.
    static func maxZero(_ x: JSONValue) throws(PythonException) -> JSONValue {
        try greater(x, .int(0)) ? x : .int(0)
    }

    /// -1, 0, 1, or nil when a NaN makes every comparison false. Exact, as
    /// Python compares ints with floats.
    static func compare(_ a: Number, _ b: Number) -> Int? {
        switch (a, b) {
        case (.integer(let x), .integer(let y)):
            return compareIntegers(BigDecimal.text(of: x)!, BigDecimal.text(of: y)!)
        case (.float(let x), .float(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        case (.integer(let x), .float(let y)):
            return compareIntegerToFloat(x, y)
        case (.float(let x), .integer(let y)):
            return compareIntegerToFloat(y, x).map { -$0 }
        }
    }

    private static func compareIntegerToFloat(_ integer: JSONValue, _ f: Double) -> Int? {
        if f.isNaN { return nil }
        if f.isInfinite { return f > 0 ? -1 : 1 }
        let floor = f.rounded(.down)
        let floorText = floor == 0 ? "0" : String(floorOf: floor)
        let c = compareIntegers(BigDecimal.text(of: integer)!, floorText)
        if c != 0 { return c }
        return f > floor ? -1 : 0
    }

    /// Compares canonical decimal integers.
    static func compareIntegers(_ a: String, _ b: String) -> Int {
        let na = a.hasPrefix("-"), nb = b.hasPrefix("-")
        if na != nb { return na ? -1 : 1 }
        let ma = na ? a.dropFirst() : Substring(a)
        let mb = nb ? b.dropFirst() : Substring(b)
        var c: Int
        if ma.count != mb.count {
            c = ma.count < mb.count ? -1 : 1
        } else if ma == mb {
            c = 0
        } else {
            c = ma.utf8.lexicographicallyPrecedes(mb.utf8) ? -1 : 1
        }
        return na ? -c : c
    }

    /// `int(value)` (the payload of `update_score`, a display's seconds).
    static func int(_ value: JSONValue) throws(PythonException) -> JSONValue {
        if let result = value.pythonInt { return result }
        switch value {
        case .double(let d):
            if d.isNaN { throw PythonException(type: "ValueError", message: "cannot convert float NaN to integer") }
            throw PythonException(type: "OverflowError", message: "cannot convert float infinity to integer")
        case .string(let s):
            let digits = s.unicodeScalars.filter { $0.properties.numericType == .decimal }.count
            if digits > 4300, s.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal || $0 == "_" || $0 == "-" || $0 == "+" || $0.properties.isWhitespace }) {
                throw PythonException(
                    type: "ValueError",
                    message: "Exceeds the limit (4300 digits) for integer string conversion: value has \(digits) digits; use sys.set_int_max_str_digits() to increase the limit"
                )
            }
            throw PythonException(
                type: "ValueError", message: "invalid literal for int() with base 10: \(value.pythonRepr)")
        default:
            throw .typeError(
                "int() argument must be a string, a bytes-like object or a real number, not '\(typeName(value))'")
        }
    }

    /// The legacy's `_format_seconds_to_hms`: `int()` (truncation), then
    /// floor `divmod` by 3600 and 60, each part formatted `{:02}`.
    static func hms(_ seconds: JSONValue) throws(PythonException) -> String {
        let total = try int(seconds)
        let (hours, remainder) = floorDivMod(total, 3600)
        let minutes = remainder / 60, secs = remainder % 60
        return pad2(hours) + ":" + pad2(.int(minutes)) + ":" + pad2(.int(secs))
    }

    /// `f"{n:02}"`: zero padding to width 2, sign included in the width.
    static func pad2(_ n: JSONValue) -> String {
        let text = BigDecimal.text(of: n)!
        if text.hasPrefix("-") { return text }  // "-1", "-10": already two characters or more
        return text.count < 2 ? "0" + text : text
    }

    /// Python's `divmod(n, d)` for `d > 0`: floor quotient, non-negative remainder.
    static func floorDivMod(_ n: JSONValue, _ d: Int) -> (JSONValue, Int) {
        if case .int(let i) = n {
            var q = i / d, r = i % d
            if r < 0 { q -= 1; r += d }
            return (.int(q), r)
        }
        // Long division of the magnitude, then floor adjustment for negatives.
        let text = BigDecimal.text(of: n)!
        let negative = text.hasPrefix("-")
        var quotient = ""
        var remainder = 0
        for c in (negative ? text.dropFirst() : Substring(text)).utf8 {
            remainder = remainder * 10 + Int(c - 48)
            quotient.append(Character(Unicode.Scalar(UInt8(48 + remainder / d))))
            remainder %= d
        }
        var q = BigDecimal.value(quotient)
        if negative {
            q = negate(q)
            if remainder != 0 {
                q = BigDecimal.add(q, .int(-1))!
                remainder = d - remainder
            }
        }
        return (q, remainder)
    }
}

extension String {
    /// Decimal digits of an integral, finite, non-zero double (exact).
    init(floorOf value: Double) {
        let magnitude = value.magnitude
        var mantissa = magnitude.significandBitPattern | (1 << 52)
        var exponent = Int(magnitude.exponent) - 52
        if exponent < 0 {
            mantissa >>= UInt64(-exponent)
            exponent = 0
        }
        var digits = String(mantissa)
        for _ in 0..<exponent { digits = BigDecimal.add(digits, digits) }
        self = (value < 0 ? "-" : "") + digits
    }
}

extension String.UnicodeScalarView {
    func containsSubsequence(_ needle: String.UnicodeScalarView) -> Bool {
        let hay = Array(self), pin = Array(needle)
        guard pin.count <= hay.count else { return false }
        for start in 0...(hay.count - pin.count) where hay[start..<(start + pin.count)].elementsEqual(pin) {
            return true
        }
        return false
    }
}
