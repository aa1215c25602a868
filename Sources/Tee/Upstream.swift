import JSONValue

/// The two servers behind the proxy. `legacy` is the server given as
/// `--primary` at first start, `engine` the one given as `--shadow`; which of
/// them is primary is the durable role flag (see ``RoleStore``).
public enum UpstreamID: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case legacy
    case engine

    /// The other upstream.
    public var other: UpstreamID { self == .legacy ? .engine : .legacy }
    public var description: String { rawValue }
}

/// How the proxy reaches one upstream.
public enum UpstreamEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A Socket.IO server at `http://host:port` (legs use WebSocket).
    case url(String)
    /// The Swift engine in this process (see ``InProcessEngine``).
    case embedded

    public var description: String {
        switch self {
        case .url(let url): url
        case .embedded: "embedded"
        }
    }
}

/// The comparator's verdict on whether a switchover is safe now.
public struct Readiness: Sendable, Equatable, CustomStringConvertible {
    public var ready: Bool
    /// Why (for operators), e.g. `"42 consecutive clean checkpoints"`.
    public var reason: String
    /// Extra numbers for `/status` (clean streak, divergences, ...).
    public var details: JSONValue

    public init(ready: Bool, reason: String, details: JSONValue = [:]) {
        self.ready = ready
        self.reason = reason
        self.details = details
    }

    public var description: String { (ready ? "ready: " : "not ready: ") + reason }
}
