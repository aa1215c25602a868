/// Why a JSON text was refused, and where (a byte offset into the input).
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidNumber
        case integerTooLong
        case invalidEscape
        case invalidUnicode
        case controlCharacterInString
        case tooDeep
        case trailingData
    }

    let reason: Reason
    /// Byte offset in the input where the problem was found.
    public let offset: Int

    init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public static func unexpectedEnd(at offset: Int) -> Self { .init(.unexpectedEnd, at: offset) }
    public static func unexpectedByte(_ byte: UInt8, at offset: Int) -> Self { .init(.unexpectedByte(byte), at: offset) }
    public static func invalidNumber(at offset: Int) -> Self { .init(.invalidNumber, at: offset) }
    public static func integerTooLong(at offset: Int) -> Self { .init(.integerTooLong, at: offset) }
    public static func invalidEscape(at offset: Int) -> Self { .init(.invalidEscape, at: offset) }
    public static func invalidUnicode(at offset: Int) -> Self { .init(.invalidUnicode, at: offset) }
    public static func controlCharacterInString(at offset: Int) -> Self { .init(.controlCharacterInString, at: offset) }
    public static func tooDeep(at offset: Int) -> Self { .init(.tooDeep, at: offset) }
    public static func trailingData(at offset: Int) -> Self { .init(.trailingData, at: offset) }

    /// A short, label-safe name for metrics.
    public var shortDescription: String {
        switch reason {
        case .unexpectedEnd: "unexpected_end"
        case .unexpectedByte: "unexpected_byte"
        case .invalidNumber: "invalid_number"
        case .integerTooLong: "integer_too_long"
        case .invalidEscape: "invalid_escape"
        case .invalidUnicode: "invalid_unicode"
        case .controlCharacterInString: "control_character"
        case .tooDeep: "too_deep"
        case .trailingData: "trailing_data"
        }
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b):
            what = (0x20..<0x7f).contains(b)
                ? "unexpected character '\(Character(Unicode.Scalar(b)))'" : "unexpected byte 0x\(String(b, radix: 16))"
        case .invalidNumber: what = "invalid number"
        case .integerTooLong: what = "integer literal longer than \(JSONParser.maxIntegerDigits) digits"
        case .invalidEscape: what = "invalid escape sequence"
        case .invalidUnicode: what = "invalid unicode escape or UTF-8"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .tooDeep: what = "nesting deeper than \(JSONParser.maxDepth) levels"
        case .trailingData: what = "data after the JSON value"
        }
        return "JSON parse error at byte \(offset): \(what)"
    }
}
