import JSONDiff
import SocketIOClient

/// How the proxy runs. Every field has a documented default; only the CLI reads flags.
public struct TeeConfiguration: Sendable {
    /// Host the client port binds. Default `0.0.0.0` (the legacy listens on all interfaces).
    public var host: String
    /// The port clients connect to. Default 6969; 0 picks a free one.
    public var port: Int
    /// The server that is primary at first start (`legacy`).
    public var legacy: UpstreamEndpoint
    /// The server that is shadow at first start (`engine`). Default `.embedded`.
    public var engine: UpstreamEndpoint
    /// Bearer token of an external engine's control API (`/statetee/v1/`), used to load state at switchover.
    public var engineControlToken: String?
    /// Mirrored events that may wait for the shadow before new ones are dropped (a gap). Default 10 000.
    public var mirrorCapacity: Int
    /// How long a switchover may wait for in-flight work before it gives up. Default 5 s.
    /// It bounds two waits: for the shadow to catch up with its backlog (clients paced,
    /// not held; refused at once when the shadow's drain rate cannot make it in time),
    /// then, with the clients held, for the last frames to settle.
    public var drainTimeout: Duration
    /// Backlog (mirror queue plus copies the shadow has not answered) the shadow must be
    /// under before the clients are held. Default 16.
    public var holdBacklog: Int
    /// Connect each client's shadow leg at the client's place in the mirror order
    /// (``ShadowLegGate``), so that a client joining while the shadow lags is not sent the
    /// shadow's broadcasts of earlier events (extra messages in the comparison). The mirror
    /// waits at most 250 ms for such a connect. Default on.
    public var orderedShadowConnects = true
    /// Interval between two state reads while draining, when an event without an ack id
    /// went to an upstream in the last second: both reads must agree. (Otherwise every
    /// event was answered, so applied, and one read of each state suffices.) Default 25 ms.
    public var settleInterval: Duration
    /// Interval between two health probes of each upstream. Default 2 s.
    public var probeInterval: Duration
    /// Time a probe (a `request_game_state` round trip) may take. Default 2 s.
    public var probeTimeout: Duration
    /// Reconnect backoff of shadow legs. Default 250 ms doubling to 5 s.
    public var legReconnect: SocketIOClient.ReconnectPolicy
    /// Time for a leg to connect. Default 5 s.
    public var legConnectTimeout: Duration
    /// Engine.IO heartbeat toward clients (python-engineio's defaults: 25 s / 20 s).
    public var pingInterval: Duration
    public var pingTimeout: Duration
    /// The comparison rules the switchover's handoff and drain compare states with. Default: none (exact).
    public var rules: ComparisonRules

    public init(
        host: String = "0.0.0.0",
        port: Int = 6969,
        legacy: UpstreamEndpoint,
        engine: UpstreamEndpoint = .embedded,
        engineControlToken: String? = nil,
        mirrorCapacity: Int = 10_000,
        drainTimeout: Duration = .seconds(5),
        holdBacklog: Int = 16,
        settleInterval: Duration = .milliseconds(25),
        probeInterval: Duration = .seconds(2),
        probeTimeout: Duration = .seconds(2),
        legReconnect: SocketIOClient.ReconnectPolicy = .init(
            initialDelay: .milliseconds(250), maxDelay: .seconds(5), retryInitialConnect: true),
        legConnectTimeout: Duration = .seconds(5),
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        rules: ComparisonRules = .none
    ) {
        self.host = host
        self.port = port
        self.legacy = legacy
        self.engine = engine
        self.engineControlToken = engineControlToken
        self.mirrorCapacity = mirrorCapacity
        self.drainTimeout = drainTimeout
        self.holdBacklog = holdBacklog
        self.settleInterval = settleInterval
        self.probeInterval = probeInterval
        self.probeTimeout = probeTimeout
        self.legReconnect = legReconnect
        self.legConnectTimeout = legConnectTimeout
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.rules = rules
    }

    public func endpoint(of upstream: UpstreamID) -> UpstreamEndpoint {
        upstream == .legacy ? legacy : engine
    }

    /// A copy with other health-probe timings.
    public func with(probeInterval: Duration, probeTimeout: Duration) -> Self {
        var copy = self
        copy.probeInterval = probeInterval
        copy.probeTimeout = probeTimeout
        return copy
    }

    /// A copy with another mirror capacity.
    public func with(mirrorCapacity: Int) -> Self {
        var copy = self
        copy.mirrorCapacity = mirrorCapacity
        return copy
    }
}
