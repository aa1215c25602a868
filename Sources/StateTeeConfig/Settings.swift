import Foundation

/// The settings of one `statetee` command, resolved in one precedence order:
///
///     flag  >  environment variable STATETEE_<NAME>  >  config file  >  built-in default
///
/// The config file is named by `--config FILE` (the command passes it as
/// `configFile`) or else by `$STATETEE_CONFIG`; without either there is none.
/// It holds `STATETEE_<NAME>=value` lines in the systemd `EnvironmentFile=`
/// format (see ``EnvironmentFile``), so `/etc/statetee/statetee.env` serves
/// systemd and `statetee` alike. A key outside ``SettingKey/all`` is an error
/// naming the file and line. An empty value, in the environment or the file,
/// counts as unset. Environment variables outside the catalog are ignored.
public struct Settings: Sendable {
    /// The environment variable that names the config file.
    public static let configVariable = "STATETEE_CONFIG"

    /// The config file in use, if any.
    public let configFile: EnvironmentFile?
    let environment: [String: String]

    /// Reads the config file (`configFile`, else `environment["STATETEE_CONFIG"]`)
    /// and keeps the catalog's variables of `environment`.
    public init(
        configFile: String?, environment: [String: String], keys: [SettingKey] = SettingKey.all
    ) throws(SettingsError) {
        let path = Self.nonEmpty(configFile) ?? Self.nonEmpty(environment[Self.configVariable])
        let text: String?
        if let path {
            text = try Self.read(path)
        } else {
            text = nil
        }
        try self.init(configText: text, path: path ?? "", environment: environment, keys: keys)
    }

    /// The same from the config file's text (nil: no config file); `path`
    /// names it in errors and origins.
    public init(
        configText: String?, path: String, environment: [String: String], keys: [SettingKey] = SettingKey.all
    ) throws(SettingsError) {
        let known = Set(keys.map(\.environmentName))
        if let configText {
            let file = try EnvironmentFile(parsing: configText, path: path)
            for entry in file.entries where !known.contains(entry.key) {
                if entry.key == Self.configVariable {
                    throw SettingsError(.configKeyInFile, file: path, line: entry.line)
                }
                throw SettingsError(
                    .unknownKey(entry.key, suggestion: Self.suggestion(for: entry.key, among: keys.map(\.environmentName))),
                    file: path, line: entry.line)
            }
            self.configFile = file
        } else {
            self.configFile = nil
        }
        self.environment = environment.filter { known.contains($0.key) }
    }

    /// No config file, no environment: flags and defaults only.
    public static let none = try! Settings(configText: nil, path: "", environment: [:])

    // MARK: resolution

    /// The value of `key` and where it came from, or nil when nothing sets it.
    /// `flag` is the option's value when it was given on the command line.
    public func resolve(_ key: SettingKey, flag: String?) -> (value: String, origin: SettingOrigin)? {
        if let flag { return (flag, .flag(key.flag)) }
        if let value = Self.nonEmpty(environment[key.environmentName]) {
            return (value, .environment(key.environmentName))
        }
        if let configFile, let entry = configFile[key.environmentName], !entry.value.isEmpty {
            return (entry.value, .configFile(path: configFile.path, line: entry.line))
        }
        return nil
    }

    /// Where the value of `key` comes from (`.builtInDefault` when nothing sets it).
    public func origin(of key: SettingKey, flag: String?) -> SettingOrigin {
        resolve(key, flag: flag)?.origin ?? .builtInDefault
    }

    /// The string value of `key`, else `default`.
    public func string(_ key: SettingKey, flag: String?, default: String? = nil) -> String? {
        resolve(key, flag: flag)?.value ?? `default`
    }

    /// The string value of `key`, else `default`.
    public func string(_ key: SettingKey, flag: String?, default: String) -> String {
        resolve(key, flag: flag)?.value ?? `default`
    }

    /// The value of a setting without a default; throws naming the flag and variable when unset.
    public func required(_ key: SettingKey, flag: String?) throws(SettingsError) -> String {
        guard let value = resolve(key, flag: flag)?.value else { throw SettingsError(.missing(key)) }
        return value
    }

    /// An integer setting (decimal, optional sign).
    public func int(_ key: SettingKey, flag: Int?, default: Int) throws(SettingsError) -> Int {
        try int(key, flag: flag) ?? `default`
    }

    /// An integer setting, nil when unset.
    public func int(_ key: SettingKey, flag: Int?) throws(SettingsError) -> Int? {
        try typed(key, flag: flag.map(String.init), expected: "an integer") { Int($0) }
    }

    /// A number setting (`5`, `0.25`).
    public func double(_ key: SettingKey, flag: Double?, default: Double) throws(SettingsError) -> Double {
        try typed(key, flag: flag.map { "\($0)" }, expected: "a number") { text -> Double? in
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        } ?? `default`
    }

    /// A yes/no setting: `1 yes y true t on` or `0 no n false f off`, any case (systemd's booleans).
    public func bool(_ key: SettingKey, flag: Bool?, default: Bool) throws(SettingsError) -> Bool {
        try typed(key, flag: flag.map { $0 ? "yes" : "no" }, expected: "yes or no", Self.parseBool) ?? `default`
    }

    /// systemd's `parse_boolean`.
    public static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "yes", "y", "true", "t", "on": true
        case "0", "no", "n", "false", "f", "off": false
        default: nil
        }
    }

    func typed<T>(
        _ key: SettingKey, flag: String?, expected: String, _ convert: (String) -> T?
    ) throws(SettingsError) -> T? {
        guard let (text, origin) = resolve(key, flag: flag) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = convert(trimmed) else {
            throw SettingsError(.invalidValue(key: key.environmentName, value: text, origin: origin, expected: expected))
        }
        return value
    }

    // MARK: helpers

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func read(_ path: String) throws(SettingsError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SettingsError(.unreadable(Self.reason(error)), file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError(.unreadable("not UTF-8 text"), file: path)
        }
        return text
    }

    static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if error.domain == NSCocoaErrorDomain, error.code == CocoaError.fileReadNoSuchFile.rawValue { return "no such file" }
        if error.domain == NSCocoaErrorDomain, error.code == CocoaError.fileReadNoPermission.rawValue {
            return "permission denied"
        }
        return error.localizedFailureReason ?? error.localizedDescription
    }

    /// The closest known key within two edits, for "did you mean".
    static func suggestion(for key: String, among known: [String]) -> String? {
        let scored = known.map { ($0, editDistance(key.uppercased(), $0)) }.filter { $0.1 <= 2 }
        if let best = scored.min(by: { $0.1 < $1.1 }) { return best.0 }
        // A missing prefix: PORT for STATETEE_PORT.
        let prefixed = SettingKey.prefix + key.uppercased()
        return known.contains(prefixed) ? prefixed : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension Settings {
    /// Where the operator commands find the proxy's admin API: `--admin-url`,
    /// else `STATETEE_ADMIN_URL`, else `http://127.0.0.1:<port>` with the port
    /// from `STATETEE_ADMIN_PORT` (environment, then file), else `defaultPort`.
    /// So the one config file that sets the proxy's admin port also points
    /// `status`, `switchover` and `rollback` at it.
    public func adminURL(flag: String?, defaultPort: Int) throws(SettingsError) -> String {
        if let url = string(.adminURL, flag: flag) { return url }
        return "http://127.0.0.1:\(try int(.adminPort, flag: nil, default: defaultPort))"
    }
}
