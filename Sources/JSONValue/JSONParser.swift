/// A strict, allocation-light JSON parser with Python's extensions for
/// `NaN`, `Infinity` and `-Infinity` (which python's `json` reads and writes).
///
/// Integer literals longer than 4300 digits are refused, like Python's `int`
/// conversion limit, so no input can make parsing quadratic.
public struct JSONParser {
    public static let maxDepth = 512
    public static let maxIntegerDigits = 4300

    /// Parses one JSON value that spans the whole input (surrounding whitespace allowed).
    public static func parse<Bytes: Sequence>(_ bytes: Bytes) throws(JSONParseError) -> JSONValue
    where Bytes.Element == UInt8 {
        let array = Array(bytes)
        let result: Result<JSONValue, JSONParseError> = array.withUnsafeBufferPointer { buffer in
            var parser = Cursor(buffer)
            do throws(JSONParseError) { return .success(try parser.parseDocument()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { buffer in
            var parser = Cursor(buffer)
            do throws(JSONParseError) { return .success(try parser.parseDocument()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON value starting at `offset` and returns it with the offset just past it.
    /// Trailing bytes are not an error here (for packet formats that embed JSON).
    public static func parsePrefix(_ buffer: UnsafeBufferPointer<UInt8>, from offset: Int = 0)
        throws(JSONParseError) -> (JSONValue, Int)
    {
        var parser = Cursor(buffer)
        parser.index = offset
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        return (value, parser.index)
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index: Int = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func parseDocument() throws(JSONParseError) -> JSONValue {
            skipWhitespace()
            let value = try parseValue(depth: 0)
            skipWhitespace()
            guard index == bytes.count else { throw .trailingData(at: index) }
            return value
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        @inline(__always)
        func peek() throws(JSONParseError) -> UInt8 {
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            return bytes[index]
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
            let count = literal.utf8CodeUnitCount
            let start = literal.utf8Start
            for i in 0..<count {
                guard index < bytes.count else { throw .unexpectedEnd(at: index) }
                guard bytes[index] == start[i] else { throw .unexpectedByte(bytes[index], at: index) }
                index += 1
            }
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw .tooDeep(at: index) }
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "N"): try expectLiteral("NaN"); return .double(.nan)
            case UInt8(ascii: "I"): try expectLiteral("Infinity"); return .double(.infinity)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw .unexpectedByte(byte, at: index)
            }
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1  // {
            var object = JSONObject()
            skipWhitespace()
            if try peek() == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                let byte = try peek()
                guard byte == UInt8(ascii: "\"") else { throw .unexpectedByte(byte, at: index) }
                let key = try parseString()
                skipWhitespace()
                let colon = try peek()
                guard colon == UInt8(ascii: ":") else { throw .unexpectedByte(colon, at: index) }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                object[key] = value  // duplicate keys: last one wins, as in Python
                skipWhitespace()
                let next = try peek()
                index += 1
                switch next {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return .object(object)
                default: throw .unexpectedByte(next, at: index - 1)
                }
            }
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1  // [
            var array: [JSONValue] = []
            skipWhitespace()
            if try peek() == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                skipWhitespace()
                array.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                let next = try peek()
                index += 1
                switch next {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return .array(array)
                default: throw .unexpectedByte(next, at: index - 1)
                }
            }
        }

        mutating func parseNumber() throws(JSONParseError) -> JSONValue {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                    try expectLiteral("Infinity")
                    return .double(-.infinity)
                }
            }
            let intStart = index
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            } else {
                throw .invalidNumber(at: index)
            }
            let intEnd = index
            var isFloat = false
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isFloat = true
                index += 1
                let fracStart = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > fracStart else { throw .invalidNumber(at: index) }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isFloat = true
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                let expStart = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > expStart else { throw .invalidNumber(at: index) }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isFloat {
                guard let d = Double(text) else { throw .invalidNumber(at: start) }
                return .double(d)
            }
            guard intEnd - intStart <= JSONParser.maxIntegerDigits else { throw .integerTooLong(at: start) }
            if let i = Int(text) { return .int(i) }
            _ = negative
            return .bigInt(BigDecimal.canonical(text))
        }

        mutating func parseHex4() throws(JSONParseError) -> UInt16 {
            guard index + 4 <= bytes.count else { throw .unexpectedEnd(at: bytes.count) }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let digit: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
                default: throw .invalidUnicode(at: index)
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        mutating func parseString() throws(JSONParseError) -> String {
            index += 1  // opening quote
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUnicode(at: start) }
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw .controlCharacterInString(at: index) }
                index += 1
            }
            guard index < bytes.count else { throw .unexpectedEnd(at: index) }
            // Slow path with escapes.
            var utf8: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while true {
                guard index < bytes.count else { throw .unexpectedEnd(at: index) }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    guard let s = String(validating: utf8, as: UTF8.self) else { throw .invalidUnicode(at: start) }
                    return s
                }
                if b < 0x20 { throw .controlCharacterInString(at: index) }
                if b != UInt8(ascii: "\\") {
                    utf8.append(b)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { throw .unexpectedEnd(at: index) }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): utf8.append(0x22)
                case UInt8(ascii: "\\"): utf8.append(0x5C)
                case UInt8(ascii: "/"): utf8.append(0x2F)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    let unitStart = index - 2
                    let unit = try parseHex4()
                    var scalarValue: UInt32
                    if (0xD800...0xDBFF).contains(unit) {
                        // High surrogate: expect a low one; a lone surrogate becomes U+FFFD.
                        if index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                            let save = index
                            index += 2
                            let low = try parseHex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                            } else {
                                index = save
                                scalarValue = 0xFFFD
                            }
                        } else {
                            scalarValue = 0xFFFD
                        }
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        scalarValue = 0xFFFD
                    } else {
                        scalarValue = UInt32(unit)
                    }
                    guard let scalar = Unicode.Scalar(scalarValue) else { throw .invalidUnicode(at: unitStart) }
                    utf8.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    throw .invalidEscape(at: index - 2)
                }
            }
        }
    }
}

extension JSONValue {
    /// Parses a JSON text (see ``JSONParser``).
    public init(parsing text: String) throws(JSONParseError) {
        self = try JSONParser.parse(text)
    }

    /// Parses JSON bytes (see ``JSONParser``).
    public init<Bytes: Sequence>(parsing bytes: Bytes) throws(JSONParseError) where Bytes.Element == UInt8 {
        self = try JSONParser.parse(bytes)
    }
}
