/// Where a setting's value came from, in precedence order (first wins).
public enum SettingOrigin: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A command-line option, e.g. `--port`.
    case flag(String)
    /// A process environment variable, e.g. `STATETEE_PORT`.
    case environment(String)
    /// A `KEY=VALUE` line of the config file.
    case configFile(path: String, line: Int)
    /// Nothing set it: the command's built-in default.
    case builtInDefault

    /// `flag --port`, `environment STATETEE_PORT`, `/etc/statetee/statetee.env:12`, `default`.
    public var description: String {
        switch self {
        case .flag(let flag): "flag \(flag)"
        case .environment(let name): "environment \(name)"
        case .configFile(let path, let line): "\(path):\(line)"
        case .builtInDefault: "default"
        }
    }
}
