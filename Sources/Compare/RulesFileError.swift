import JSONDiff

/// Why a rules file was refused, and where: `file:line:column: reason`.
public struct RulesFileError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Reason: Equatable, Sendable {
        case unreadable(String)
        case syntax(String)
        case empty
        case unknownKey(String, expected: [String])
        case duplicateKey(String)
        case wrongType(what: String, expected: String, found: String)
        case missingKey(String, in: String)
        case conflictingKeys(String, String)
        case invalidPattern(PathPatternError)
        case invalidValue(String)
        case duplicateKnownID(String, firstLine: Int)
    }

    /// The file name as given to ``RulesFile/parse(yaml:fileName:)`` or ``RulesFile/load(path:)``.
    public let file: String
    /// 1-based; 0 when the file could not be read at all.
    public let line: Int
    /// 1-based, in Unicode scalars; 0 when the file could not be read at all.
    public let column: Int
    let reason: Reason

    init(_ reason: Reason, file: String, line: Int, column: Int) {
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
    }

    /// The reason alone, without the location.
    public var reasonText: String {
        switch reason {
        case .unreadable(let why): "cannot read the rules file: \(why)"
        case .syntax(let problem): "YAML syntax error: \(problem)"
        case .empty: "the rules file is empty (expected a mapping; write '{}' for no rules)"
        case .unknownKey(let key, let expected):
            "unknown key '\(key)' (expected one of: \(expected.joined(separator: ", ")))"
        case .duplicateKey(let key): "duplicate key '\(key)'"
        case .wrongType(let what, let expected, let found): "\(what) must be \(expected), found \(found)"
        case .missingKey(let key, let container): "\(container) is missing '\(key)'"
        case .conflictingKeys(let a, let b): "use either '\(a)' or '\(b)', not both"
        case .invalidPattern(let error): error.description
        case .invalidValue(let why): why
        case .duplicateKnownID(let id, let firstLine): "duplicate known divergence id '\(id)' (first at line \(firstLine))"
        }
    }

    /// A short, label-safe name for metrics and logs.
    public var shortDescription: String {
        switch reason {
        case .unreadable: "unreadable"
        case .syntax: "syntax"
        case .empty: "empty"
        case .unknownKey: "unknown_key"
        case .duplicateKey: "duplicate_key"
        case .wrongType: "wrong_type"
        case .missingKey: "missing_key"
        case .conflictingKeys: "conflicting_keys"
        case .invalidPattern: "invalid_pattern"
        case .invalidValue: "invalid_value"
        case .duplicateKnownID: "duplicate_known_id"
        }
    }

    /// `rules.yaml:12:5: unknown key 'tolerence' (expected one of: ...)`.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(reasonText)" : "\(file): \(reasonText)"
    }
}
