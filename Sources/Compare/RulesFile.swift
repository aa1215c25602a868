import Foundation
import JSONDiff
import JSONValue
import Yams

/// The comparison rules file (YAML), read strictly: anything unknown, mistyped
/// or invalid is refused with its file, line, column and reason. The format is
/// documented in `fixtures/rules/README.md`.
public enum RulesFile {
    /// The default rules for the legacy Scorer, relative to the repository root.
    public static let defaultPath = "fixtures/rules/scorer.yaml"

    /// The top-level keys, in the order the error messages list them.
    public static let topLevelKeys = [
        "version", "numeric_equality", "ignore", "ignore_events", "tolerance", "clock", "adopt", "known", "readiness",
    ]
    static let knownKeys = ["id", "path", "paths", "when", "reason"]
    static let conditionKeys = ["event", "payload", "primary", "shadow", "relation"]
    static let readinessKeys = ["min_consecutive_clean", "require_full_game"]

    /// Reads and parses the rules file at `path` (errors name the file as `path`).
    public static func load(path: String) throws(RulesFileError) -> ComparisonRules {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let why = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw RulesFileError(.unreadable(why), file: path, line: 0, column: 0)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RulesFileError(.unreadable("not UTF-8 text"), file: path, line: 0, column: 0)
        }
        return try parse(yaml: text, fileName: path)
    }

    /// Parses rules from YAML text; `fileName` is used in error messages.
    public static func parse(yaml: String, fileName: String) throws(RulesFileError) -> ComparisonRules {
        var reader = Reader(file: fileName, yaml: yaml)
        return try reader.read()
    }
}

/// The strict reader over Yams' node tree (which keeps every node's line and column).
struct Reader {
    let file: String
    let yaml: String

    init(file: String, yaml: String) {
        self.file = file
        self.yaml = yaml
    }

    func error(_ reason: RulesFileError.Reason, at node: Node?) -> RulesFileError {
        let mark = node?.mark
        return RulesFileError(reason, file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func read() throws(RulesFileError) -> ComparisonRules {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw RulesFileError(.empty, file: file, line: 1, column: 1)
            }
            root = node
        } catch let error as RulesFileError {
            throw error
        } catch let error as YamlError {
            throw yamlError(error)
        } catch {
            throw RulesFileError(.syntax(String(describing: error)), file: file, line: 1, column: 1)
        }
        let top = try mapping(root, what: "the rules file", expected: "a mapping of sections")
        try checkKeys(top, allowed: RulesFile.topLevelKeys)

        var rules = ComparisonRules()
        for (keyNode, value) in top {
            switch keyNode.string ?? "" {
            case "version":
                guard isType(value, .int), value.int == 1 else {
                    throw error(.invalidValue("'version' must be 1"), at: value)
                }
            case "numeric_equality":
                let text = try string(value, what: "'numeric_equality'")
                guard let equality = DiffOptions.NumericEquality(rawValue: text) else {
                    throw error(.invalidValue("'numeric_equality' must be 'numeric' or 'strict', found '\(text)'"), at: value)
                }
                rules.options.numericEquality = equality
            case "ignore":
                rules.ignore = try patternList(value, what: "'ignore'")
            case "adopt":
                rules.adopt = try patternList(value, what: "'adopt'")
            case "ignore_events":
                rules.ignoreEvents = try eventNameList(value)
            case "tolerance":
                let entries = try mapping(value, what: "'tolerance'", expected: "a mapping of path pattern to number")
                for (patternNode, amountNode) in entries {
                    let pattern = try self.pattern(patternNode, what: "a 'tolerance' key")
                    let amount = try number(amountNode, what: "the tolerance of '\(pattern.text)'")
                    guard amount.isFinite, amount >= 0 else {
                        throw error(.invalidValue("the tolerance of '\(pattern.text)' must be a finite number >= 0, found \(amountNode.string ?? "?")"), at: amountNode)
                    }
                    rules.tolerance.append(ToleranceRule(pattern, amount))
                }
            case "clock":
                let entries = try mapping(value, what: "'clock'", expected: "a mapping of path pattern to seconds")
                for (patternNode, secondsNode) in entries {
                    let pattern = try self.pattern(patternNode, what: "a 'clock' key")
                    let seconds = try integer(secondsNode, what: "the clock tolerance of '\(pattern.text)'")
                    guard seconds >= 0 else {
                        throw error(.invalidValue("the clock tolerance of '\(pattern.text)' must be whole seconds >= 0, found \(seconds)"), at: secondsNode)
                    }
                    rules.clock.append(ClockRule(pattern, seconds: seconds))
                }
            case "known":
                rules.known = try knownList(value)
            case "readiness":
                rules.readiness = try readiness(value)
            default:
                preconditionFailure("checkKeys lets only the top-level keys through")
            }
        }
        return rules
    }

    // MARK: sections

    func knownList(_ node: Node) throws(RulesFileError) -> [KnownDivergence] {
        guard case .sequence(let entries) = node else {
            throw error(.wrongType(what: "'known'", expected: "a list of known divergences", found: describe(node)), at: node)
        }
        var result: [KnownDivergence] = []
        var firstLines: [String: Int] = [:]
        for entry in entries {
            let fields = try mapping(entry, what: "a known divergence", expected: "a mapping with 'id', 'path' and 'reason'")
            try checkKeys(fields, allowed: RulesFile.knownKeys)
            guard let idNode = fields["id"] else { throw error(.missingKey("id", in: "known divergence"), at: entry) }
            let id = try string(idNode, what: "'id'")
            guard Self.isValidID(id) else {
                throw error(.invalidValue("'id' must be letters, digits, '-', '_' or '.', starting with a letter or digit, found '\(id)'"), at: idNode)
            }
            if let firstLine = firstLines[id] {
                throw error(.duplicateKnownID(id, firstLine: firstLine), at: idNode)
            }
            firstLines[id] = idNode.mark?.line ?? 0
            let what = "known divergence '\(id)'"
            var paths: [PathPattern]
            switch (fields["path"], fields["paths"]) {
            case (let single?, nil): paths = [try pattern(single, what: "'path'")]
            case (nil, let list?):
                paths = try patternList(list, what: "'paths'")
                guard !paths.isEmpty else { throw error(.invalidValue("'paths' of \(what) must not be empty"), at: list) }
            case (nil, nil): throw error(.missingKey("path", in: what), at: entry)
            case (_, let list?): throw error(.conflictingKeys("path", "paths"), at: list)
            }
            let condition = try fields["when"].map { (node) throws(RulesFileError) in try self.condition(node, what: what) }
            guard let reasonNode = fields["reason"] else { throw error(.missingKey("reason", in: what), at: entry) }
            let reason = try string(reasonNode, what: "'reason'")
            guard !reason.allSatisfy(\.isWhitespace) else {
                throw error(.invalidValue("'reason' of \(what) must not be empty"), at: reasonNode)
            }
            result.append(KnownDivergence(id: id, paths: paths, condition: condition, reason: reason))
        }
        return result
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, isASCIILetterOrDigit(first) else {
            return false
        }
        return id.unicodeScalars.allSatisfy { isASCIILetterOrDigit($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    private static func isASCIILetterOrDigit(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }

    func condition(_ node: Node, what: String) throws(RulesFileError) -> Condition {
        let fields = try mapping(node, what: "'when' of \(what)", expected: "a mapping")
        try checkKeys(fields, allowed: RulesFile.conditionKeys)
        var condition = Condition()
        for (keyNode, value) in fields {
            switch keyNode.string ?? "" {
            case "event":
                condition.event = try string(value, what: "'event'")
            case "payload":
                let members = try mapping(value, what: "'payload'", expected: "a mapping of payload key to value")
                for (k, v) in members {
                    let key = try string(k, what: "a 'payload' key")
                    condition.payload[key] = try json(v)
                }
            case "primary":
                condition.primary = try json(value)
            case "shadow":
                condition.shadow = try json(value)
            case "relation":
                let text = try string(value, what: "'relation'")
                guard let relation = Condition.Relation(rawValue: text) else {
                    let allowed = Condition.Relation.allCases.map(\.rawValue).joined(separator: ", ")
                    throw error(.invalidValue("'relation' must be one of: \(allowed); found '\(text)'"), at: value)
                }
                condition.relation = relation
            default:
                preconditionFailure("checkKeys lets only the condition keys through")
            }
        }
        return condition
    }

    func readiness(_ node: Node) throws(RulesFileError) -> ReadinessSettings {
        let fields = try mapping(node, what: "'readiness'", expected: "a mapping")
        try checkKeys(fields, allowed: RulesFile.readinessKeys)
        var settings = ReadinessSettings()
        if let n = fields["min_consecutive_clean"] {
            let count = try integer(n, what: "'min_consecutive_clean'")
            guard count >= 1 else {
                throw error(.invalidValue("'min_consecutive_clean' must be at least 1, found \(count)"), at: n)
            }
            settings.minConsecutiveClean = count
        }
        if let b = fields["require_full_game"] {
            guard isType(b, .bool), let flag = b.bool else {
                throw error(.wrongType(what: "'require_full_game'", expected: "true or false", found: describe(b)), at: b)
            }
            settings.requireFullGame = flag
        }
        return settings
    }

    func eventNameList(_ node: Node) throws(RulesFileError) -> [String] {
        guard case .sequence(let items) = node else {
            throw error(.wrongType(what: "'ignore_events'", expected: "a list of event names", found: describe(node)), at: node)
        }
        var names: [String] = []
        for item in items {
            let name = try string(item, what: "an entry of 'ignore_events' (an event name)")
            guard !name.isEmpty else { throw error(.invalidValue("an event name in 'ignore_events' must not be empty"), at: item) }
            names.append(name)
        }
        return names
    }

    // MARK: typed accessors

    func mapping(_ node: Node, what: String, expected: String) throws(RulesFileError) -> Node.Mapping {
        guard case .mapping(let m) = node else {
            throw error(.wrongType(what: what, expected: expected, found: describe(node)), at: node)
        }
        return m
    }

    func checkKeys(_ mapping: Node.Mapping, allowed: [String]) throws(RulesFileError) {
        for key in mapping.keys {
            guard isType(key, .str), let text = key.string else {
                throw error(.wrongType(what: "a key", expected: "a string", found: describe(key)), at: key)
            }
            guard allowed.contains(text) else { throw error(.unknownKey(text, expected: allowed), at: key) }
        }
    }

    func string(_ node: Node, what: String) throws(RulesFileError) -> String {
        guard isType(node, .str), let text = node.string else {
            throw error(.wrongType(what: what, expected: "a string", found: describe(node)), at: node)
        }
        return text
    }

    func number(_ node: Node, what: String) throws(RulesFileError) -> Double {
        if isType(node, .int), let i = node.int { return Double(i) }
        if isType(node, .float), let d = node.float { return d }
        throw error(.wrongType(what: what, expected: "a number", found: describe(node)), at: node)
    }

    func integer(_ node: Node, what: String) throws(RulesFileError) -> Int {
        guard isType(node, .int), let i = node.int else {
            throw error(.wrongType(what: what, expected: "an integer", found: describe(node)), at: node)
        }
        return i
    }

    func pattern(_ node: Node, what: String) throws(RulesFileError) -> PathPattern {
        let text = try string(node, what: "\(what) (a path pattern)")
        do {
            return try PathPattern(text)
        } catch {
            throw self.error(.invalidPattern(error), at: node)
        }
    }

    func patternList(_ node: Node, what: String) throws(RulesFileError) -> [PathPattern] {
        guard case .sequence(let items) = node else {
            throw error(.wrongType(what: what, expected: "a list of path patterns", found: describe(node)), at: node)
        }
        var patterns: [PathPattern] = []
        for item in items { patterns.append(try pattern(item, what: "an entry of \(what)")) }
        return patterns
    }

    /// A YAML value as JSON (for conditions): scalars by their resolved tag.
    func json(_ node: Node) throws(RulesFileError) -> JSONValue {
        switch node {
        case .mapping(let m):
            var object = JSONObject()
            for (k, v) in m {
                let key = try string(k, what: "a key of a JSON object")
                object[key] = try json(v)
            }
            return .object(object)
        case .sequence(let s):
            var array: [JSONValue] = []
            for item in s { array.append(try json(item)) }
            return .array(array)
        case .alias:
            throw error(.wrongType(what: "a value", expected: "a JSON value", found: "an alias"), at: node)
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue:
                if let i = node.int { return .int(i) }
                if let big = JSONValue.pythonIntLiteral(scalar.string) { return big }
                throw error(.invalidValue("integer '\(scalar.string)' is out of range"), at: node)
            case Tag.Name.float.rawValue:
                guard let d = node.float else { throw error(.invalidValue("invalid number '\(scalar.string)'"), at: node) }
                return .double(d)
            case Tag.Name.str.rawValue: return .string(scalar.string)
            default:
                throw error(.wrongType(what: "a value", expected: "a JSON value (null, boolean, number, string, list or mapping)",
                                       found: describe(node)), at: node)
            }
        }
    }

    func isType(_ node: Node, _ name: Tag.Name) -> Bool {
        guard case .scalar = node else { return false }
        return node.tag.rawValue == name.rawValue
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return "null"
            case Tag.Name.bool.rawValue: return "a boolean (\(scalar.string))"
            case Tag.Name.int.rawValue: return "an integer (\(scalar.string))"
            case Tag.Name.float.rawValue: return "a number (\(scalar.string))"
            case Tag.Name.str.rawValue: return "a string ('\(scalar.string)')"
            case Tag.Name.timestamp.rawValue: return "a timestamp (\(scalar.string))"
            case Tag.Name.merge.rawValue: return "a merge key (<<)"
            default: return "a \(node.tag.rawValue) value"
            }
        }
    }

    // MARK: YAML errors

    func yamlError(_ error: YamlError) -> RulesFileError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var text = problem
            if let context { text += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return RulesFileError(.syntax(text), file: file, line: mark.line, column: mark.column)
        case .reader(let problem, let offset, _, _):
            let (line, column) = offset.map { Self.lineAndColumn(ofCharacterOffset: $0, in: yaml) } ?? (1, 1)
            return RulesFileError(.syntax(problem), file: file, line: line, column: column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return RulesFileError(.duplicateKey(duplicates.first ?? "?"), file: file,
                                  line: max(context.mark.line, 1), column: max(context.mark.column, 1))
        default:
            return RulesFileError(.syntax(String(describing: error)), file: file, line: 1, column: 1)
        }
    }

    static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for (i, c) in text.enumerated() {
            if i == offset { break }
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}

extension JSONValue {
    /// A plain decimal integer literal of any size (`-?[0-9]+`) as `.int` or `.bigInt`.
    static func pythonIntLiteral(_ text: String) -> JSONValue? {
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return BigDecimal.value(text)
    }
}
