/// `HH:MM:SS` display strings as the legacy writes them (`format_hms`: hours of
/// two or more digits, possibly negative as Python's `divmod` gives for negative
/// totals, minutes and seconds of exactly two digits each, 0 to 59).
public enum ClockDuration {
    /// The total seconds shown by `text`, or `nil` when it is not `H+:MM:SS`.
    /// `"01:02:03"` → 3723, `"100:00:00"` → 360000, `"-1:59:59"` → -1.
    public static func seconds(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            let n = bytes.count
            guard n >= 7, bytes[n - 3] == UInt8(ascii: ":"), bytes[n - 6] == UInt8(ascii: ":") else { return nil }
            guard let minutes = twoDigits(bytes[n - 5], bytes[n - 4]), let seconds = twoDigits(bytes[n - 2], bytes[n - 1]),
                minutes < 60, seconds < 60
            else { return nil }
            var i = 0
            var negative = false
            if bytes[0] == UInt8(ascii: "-") { negative = true; i = 1 }
            let hoursEnd = n - 6
            guard hoursEnd - i >= 1, hoursEnd - i <= 12 else { return nil }
            var hours = 0
            while i < hoursEnd {
                let b = bytes[i]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                hours = hours * 10 + Int(b - UInt8(ascii: "0"))
                i += 1
            }
            return (negative ? -hours : hours) * 3600 + minutes * 60 + seconds
        }
    }

    private static func twoDigits(_ a: UInt8, _ b: UInt8) -> Int? {
        guard a >= UInt8(ascii: "0"), a <= UInt8(ascii: "9"), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else {
            return nil
        }
        return Int(a - UInt8(ascii: "0")) * 10 + Int(b - UInt8(ascii: "0"))
    }
}
