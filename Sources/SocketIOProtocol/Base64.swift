/// Standard base64 (RFC 4648 §4, alphabet `A–Z a–z 0–9 + /`), as Engine.IO's
/// polling transport uses for binary messages (`b` + base64).
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0xFF marks bytes outside the alphabet.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Appends the padded base64 text of `bytes` to `out`.
    public static func encode<Bytes: Collection>(_ bytes: Bytes, into out: inout [UInt8]) where Bytes.Element == UInt8 {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
            } else {
                out.append(UInt8(ascii: "="))
            }
            if let b2 {
                out.append(alphabet[Int(b2 & 0x3F)])
            } else {
                out.append(UInt8(ascii: "="))
            }
        }
    }

    /// The padded base64 text of `bytes`.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64 text. Padding may be present (then it must be correct) or
    /// omitted; any byte outside the alphabet, misplaced `=`, or a length that
    /// cannot be base64 is refused with ``ProtocolError/invalidBase64``.
    public static func decode<Text: Collection>(_ text: Text) throws(ProtocolError) -> [UInt8] where Text.Element == UInt8 {
        var count = text.count
        // Strip at most two `=` of padding; then the padded length must have been a multiple of 4.
        var padding = 0
        var end = text.endIndex
        while padding < 2, count > 0 {
            let before = text.index(text.startIndex, offsetBy: count - 1)
            guard text[before] == UInt8(ascii: "=") else { break }
            end = before
            count -= 1
            padding += 1
        }
        if padding > 0, (count + padding) % 4 != 0 { throw .invalidBase64 }
        if count % 4 == 1 { throw .invalidBase64 }

        var out: [UInt8] = []
        out.reserveCapacity(count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var filled = 0
        var index = text.startIndex
        while index != end {
            let value = reverse[Int(text[index])]
            guard value != 0xFF else { throw .invalidBase64 }
            accumulator = accumulator << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                filled = 0
            }
            text.formIndex(after: &index)
        }
        switch filled {
        case 2:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            break
        }
        return out
    }
}
