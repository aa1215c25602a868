/// A config file in the systemd `EnvironmentFile=` format, read strictly.
///
/// The accepted syntax is the part of systemd's format whose meaning is
/// plain, so that one file means the same to systemd and to `statetee`:
///
/// - `KEY=VALUE`, one per line; spaces around `=` are allowed; keys are
///   `[A-Za-z_][A-Za-z0-9_]*`;
/// - blank lines, and comment lines starting with `#` or `;`;
/// - `VALUE` unquoted (surrounding spaces dropped), in double quotes (where
///   `\"`, `\\`, `` \` `` and `\$` stand for the character and any other
///   backslash is kept, as systemd does) or in single quotes (literal).
///
/// Everything else is refused with its line rather than read differently
/// from systemd: backslashes, quote characters or ` #` inside an unquoted
/// value (systemd keeps an inline "comment" as part of the value), text after
/// a closing quote, quotes that span lines, a comment ending in a backslash
/// (systemd 252 then treats the next line as a comment too), `export`, and a
/// key set twice.
public struct EnvironmentFile: Equatable, Sendable {
    /// One `KEY=VALUE` line.
    public struct Entry: Equatable, Sendable {
        public let key: String
        public let value: String
        /// 1-based line number.
        public let line: Int

        public init(key: String, value: String, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    /// The path the file was read from (used in error messages and origins).
    public let path: String
    /// The assignments, in file order.
    public let entries: [Entry]

    /// The assignment of `key`, if the file has one.
    public subscript(key: String) -> Entry? {
        entries.first { $0.key == key }
    }

    /// Parses `text`; errors name `path` and the line.
    public init(parsing text: String, path: String) throws(SettingsError) {
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        var number = 0
        // "\r\n" is one Character; systemd ends a line at "\n" or "\r".
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        for line in lines {
            number += 1
            guard let entry = try Self.parseLine(line, number: number, path: path) else { continue }
            if let first = firstLine[entry.key] {
                throw SettingsError(.duplicateKey(entry.key, firstLine: first), file: path, line: number)
            }
            firstLine[entry.key] = number
            entries.append(entry)
        }
        self.path = path
        self.entries = entries
    }

    static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }

    static func isKey(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// nil for a blank or comment line.
    static func parseLine(_ line: Substring, number: Int, path: String) throws(SettingsError) -> Entry? {
        func fail(_ message: String) -> SettingsError {
            SettingsError(.syntax(message), file: path, line: number)
        }
        let content = line.drop(while: isBlank)
        guard let first = content.first else { return nil }
        if first == "#" || first == ";" {
            if content.last == "\\" {
                throw fail("a comment line must not end with a backslash (systemd 252 would read the next line as a comment too)")
            }
            return nil
        }
        guard let equals = content.firstIndex(of: "=") else {
            throw fail("expected KEY=VALUE, found '\(content)'")
        }
        let key = content[..<equals].reversed().drop(while: isBlank).reversed()
        let keyText = Substring(String(key))
        if keyText.hasPrefix("export ") || keyText.hasPrefix("export\t") {
            throw fail("'export' is not part of the format: write \(keyText.dropFirst(7).drop(while: isBlank))=VALUE")
        }
        guard isKey(keyText) else {
            throw fail("'\(keyText)' is not a valid key (letters, digits and '_', not starting with a digit)")
        }
        let rawValue = content[content.index(after: equals)...].drop(while: isBlank)
        let value = try parseValue(rawValue, fail: fail)
        return Entry(key: String(keyText), value: value, line: number)
    }

    static func parseValue(_ raw: Substring, fail: (String) -> SettingsError) throws(SettingsError) -> String {
        guard let first = raw.first else { return "" }
        switch first {
        case "\"":
            var value = ""
            var index = raw.index(after: raw.startIndex)
            while index < raw.endIndex {
                let character = raw[index]
                if character == "\"" {
                    try checkNothingAfterQuote(raw[raw.index(after: index)...], fail: fail)
                    return value
                }
                if character == "\\" {
                    let next = raw.index(after: index)
                    guard next < raw.endIndex else {
                        throw fail("a backslash at the end of a line (values cannot continue on the next line)")
                    }
                    let escaped = raw[next]
                    if "\"\\`$".contains(escaped) {
                        value.append(escaped)
                    } else {
                        value.append("\\")
                        value.append(escaped)
                    }
                    index = raw.index(after: next)
                    continue
                }
                value.append(character)
                index = raw.index(after: index)
            }
            throw fail("unterminated double quote (a value cannot span lines)")
        case "'":
            let body = raw.dropFirst()
            guard let close = body.firstIndex(of: "'") else {
                throw fail("unterminated single quote (a value cannot span lines)")
            }
            try checkNothingAfterQuote(body[body.index(after: close)...], fail: fail)
            return String(body[..<close])
        default:
            let value = raw.reversed().drop(while: isBlank).reversed()
            let text = String(value)
            if text.contains("\\") {
                throw fail("a backslash in an unquoted value: put the value in double quotes")
            }
            if text.contains("\"") || text.contains("'") {
                throw fail("a quote character inside an unquoted value: quote the whole value")
            }
            if text.contains(" #") || text.contains("\t#") {
                throw fail(
                    "inline comments are not supported (systemd keeps '#...' as part of the value): put the comment on its own line"
                )
            }
            return text
        }
    }

    static func checkNothingAfterQuote(_ rest: Substring, fail: (String) -> SettingsError) throws(SettingsError) {
        let trailing = rest.drop(while: isBlank)
        guard trailing.isEmpty else {
            throw fail("unexpected '\(trailing)' after the closing quote (put a comment on its own line)")
        }
    }
}
