/// Why a setting could not be read or used, and where it came from:
/// `/etc/statetee/statetee.env:12: unknown setting STATETEE_PROT (did you mean STATETEE_PORT?)`.
public struct SettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Reason: Equatable, Sendable {
        case unreadable(String)
        case syntax(String)
        case unknownKey(String, suggestion: String?)
        case duplicateKey(String, firstLine: Int)
        case configKeyInFile
        case invalidValue(key: String, value: String, origin: SettingOrigin, expected: String)
        case missing(SettingKey)
    }

    let reason: Reason
    /// The config file the error is in, when it is about a line of one.
    public let file: String?
    /// 1-based line in ``file``; 0 when the error is not about one line.
    public let line: Int

    init(_ reason: Reason, file: String? = nil, line: Int = 0) {
        self.reason = reason
        self.file = file
        self.line = line
    }

    /// The reason alone, without the location.
    public var reasonText: String {
        switch reason {
        case .unreadable(let why): "cannot read the config file: \(why)"
        case .syntax(let problem): problem
        case .unknownKey(let key, let suggestion):
            "unknown setting \(key)" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
                + "; every known setting is documented in the shipped statetee.env"
        case .duplicateKey(let key, let firstLine): "\(key) is set twice (first at line \(firstLine))"
        case .configKeyInFile:
            "\(Settings.configVariable) selects the config file and cannot be set inside one"
        case .invalidValue(let key, let value, let origin, let expected):
            "\(key)=\(value) (\(origin)) is not \(expected)"
        case .missing(let key):
            "missing \(key.flag) (or \(key.environmentName) in the environment or the config file)"
        }
    }

    /// A short, label-safe name for metrics and logs.
    public var shortDescription: String {
        switch reason {
        case .unreadable: "unreadable"
        case .syntax: "syntax"
        case .unknownKey: "unknown_key"
        case .duplicateKey: "duplicate_key"
        case .configKeyInFile: "config_key_in_file"
        case .invalidValue: "invalid_value"
        case .missing: "missing"
        }
    }

    /// `file:line: reason`, `file: reason` or just the reason.
    public var description: String {
        guard let file else { return reasonText }
        return line > 0 ? "\(file):\(line): \(reasonText)" : "\(file): \(reasonText)"
    }
}
