extension JSONValue {
    /// Serialization options.
    public struct SerializationOptions: Sendable, Equatable {
        /// Escape every non-ASCII character as `\uXXXX` (Python's `ensure_ascii`).
        public var asciiOnly: Bool
        /// Emit object keys sorted (for stable output such as reports and snapshots).
        public var sortedKeys: Bool

        public init(asciiOnly: Bool = false, sortedKeys: Bool = false) {
            self.asciiOnly = asciiOnly
            self.sortedKeys = sortedKeys
        }

        public static let compact = SerializationOptions()
        public static let sorted = SerializationOptions(sortedKeys: true)
    }

    /// Compact JSON text (separators `,` and `:`, as python-socketio and
    /// `JSON.stringify` write). Non-finite floats are written `NaN`,
    /// `Infinity`, `-Infinity` as Python's `json` does.
    public func serialized(_ options: SerializationOptions = .compact) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(into: &out, options)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON as UTF-8 bytes.
    public func serializedBytes(_ options: SerializationOptions = .compact) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(into: &out, options)
        return out
    }

    /// Appends this value's compact JSON text to `out`.
    public func write(into out: inout [UInt8], _ options: SerializationOptions = .compact) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .bigInt(let s): out.append(contentsOf: s.utf8)
        case .double(let d): out.append(contentsOf: JSONValue.format(d).utf8)
        case .string(let s): JSONValue.writeString(s, into: &out, asciiOnly: options.asciiOnly)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for element in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                element.write(into: &out, options)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            if options.sortedKeys {
                for key in o.keys.sorted() {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    JSONValue.writeString(key, into: &out, asciiOnly: options.asciiOnly)
                    out.append(UInt8(ascii: ":"))
                    o[key]!.write(into: &out, options)
                }
            } else {
                for (key, value) in o {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    JSONValue.writeString(key, into: &out, asciiOnly: options.asciiOnly)
                    out.append(UInt8(ascii: ":"))
                    value.write(into: &out, options)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Formats a float the way Python's `repr` does for the values that occur
    /// in practice: shortest round-trip digits, always with a `.0` or an exponent.
    public static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        var text = d.description  // shortest round-trip, e.g. "1.0", "1e-05", "1e+20"
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            text += ".0"
        }
        return text
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8], asciiOnly: Bool) {
        out.append(UInt8(ascii: "\""))
        if !asciiOnly {
            var s = s
            s.withUTF8 { bytes in
                // Append runs of bytes that need no escaping in bulk.
                var runStart = 0
                for i in 0..<bytes.count {
                    let b = bytes[i]
                    guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
                    if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                    runStart = i + 1
                    switch b {
                    case 0x22: out.append(0x5C); out.append(0x22)
                    case 0x5C: out.append(0x5C); out.append(0x5C)
                    case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                    case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                    case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                    case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                    case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                    default: appendUnicodeEscape(UInt16(b), into: &out)
                    }
                }
                if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
            }
        } else {
            for unit in s.utf16 {
                switch unit {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0x20..<0x7F: out.append(UInt8(unit))
                default: appendUnicodeEscape(unit, into: &out)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(0x5C)
        out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int(unit >> 12) & 0xF])
        out.append(hexDigits[Int(unit >> 8) & 0xF])
        out.append(hexDigits[Int(unit >> 4) & 0xF])
        out.append(hexDigits[Int(unit) & 0xF])
    }
}
