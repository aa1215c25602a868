/// Configuration of one Engine.IO v4 endpoint.
///
/// Defaults are python-engineio's (`ping_interval=25`, `ping_timeout=20`, `max_http_buffer_size=1000000`).
public struct EngineIOConfiguration: Sendable {
    /// Request path, with or without the trailing slash (`/engine.io/` by default).
    public var path: String
    /// Interval between two server pings. Default 25 s.
    public var pingInterval: Duration
    /// How long the client has to answer a ping with a pong. Default 20 s.
    public var pingTimeout: Duration
    /// Largest POST body or WebSocket message accepted, in bytes; advertised in the handshake. Default 1 000 000.
    public var maxPayload: Int
    /// Whether polling sessions may upgrade to WebSocket (advertised as `"upgrades":["websocket"]`). Default true.
    public var allowUpgrades: Bool
    /// Answer CORS for any origin: echo `Origin`, allow credentials, answer `OPTIONS` preflights. Default true.
    public var cors: Bool

    public init(
        path: String = "/engine.io/",
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxPayload: Int = 1_000_000,
        allowUpgrades: Bool = true,
        cors: Bool = true
    ) {
        self.path = path
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.allowUpgrades = allowUpgrades
        self.cors = cors
    }

    /// A copy with another path.
    public func with(path: String) -> Self {
        var copy = self
        copy.path = path
        return copy
    }

    /// A copy with other heartbeat timings.
    public func with(pingInterval: Duration, pingTimeout: Duration) -> Self {
        var copy = self
        copy.pingInterval = pingInterval
        copy.pingTimeout = pingTimeout
        return copy
    }

    /// A copy with another payload limit.
    public func with(maxPayload: Int) -> Self {
        var copy = self
        copy.maxPayload = maxPayload
        return copy
    }

    /// The path without surrounding slashes, as matched against request paths.
    var trimmedPath: Substring {
        var path = Substring(path)
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        return path
    }

    func matches(path requestPath: Substring) -> Bool {
        var candidate = requestPath
        while candidate.hasPrefix("/") { candidate = candidate.dropFirst() }
        while candidate.hasSuffix("/") { candidate = candidate.dropLast() }
        return candidate == trimmedPath
    }
}

extension Duration {
    /// Whole milliseconds, as Engine.IO advertises timings.
    var engineIOMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
