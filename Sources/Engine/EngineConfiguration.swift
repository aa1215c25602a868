/// Settings of the state engine (``ScorerEngine`` and ``EngineServer``).
///
/// Every property has a documented default; only the `statetee engine`
/// command reads flags and the environment and turns them into this value.
public struct EngineConfiguration: Sendable {
    /// Interface to bind. Default `0.0.0.0` (all interfaces), like the
    /// legacy: the Pi and the phones reach the server over the LAN.
    public var host: String
    /// TCP port. Default 6969 (the legacy's); 0 picks a free one.
    public var port: Int
    /// Directory of the durable state (`engine.sqlite`, `control-token`).
    /// Default `statetee-engine-data` in the working directory.
    public var dataDirectory: String
    /// Directory of the static pages (`index.html`, `app.js`, ...), or nil to
    /// serve none (every page answers 404). Default nil.
    public var staticDirectory: String?
    /// Directory holding `player.html`, rendered for `/player/1` and
    /// `/player/2`. Default nil: the `templates` folder beside
    /// ``staticDirectory`` (the legacy fixture's layout).
    public var templateDirectory: String?
    /// Start in shadow mode: process every event and answer the requester,
    /// broadcast nothing. Switchable at run time. Default false.
    public var shadow: Bool
    /// The bearer token of the control API (`/statetee/v1/`), or nil to
    /// refuse every control request (401). Default nil.
    public var controlToken: String?
    /// Events accepted per second and per client (token bucket holding one
    /// second's worth); 0 disables the limit. Default 50.
    public var rateLimit: Int
    /// Send an `error` event (`{code, message, details, timestamp}`) to the
    /// sender alone when its input is refused or ignored. No legacy client
    /// listens for it. Default true.
    public var errorEvents: Bool
    /// Where dice rolls come from. Default ``EngineDice/system``.
    public var dice: EngineDice
    /// Largest Engine.IO message (WebSocket message or polling body) accepted;
    /// a bigger one disconnects its client, as the legacy does. Default 1 000 000.
    public var maxPayload: Int
    /// Engine.IO heartbeat, python-engineio's defaults: ping every 25 s,
    /// 20 s to answer.
    public var pingInterval: Duration
    public var pingTimeout: Duration
    /// Largest control API request body, in bytes. Default 4 000 000.
    public var maxControlBody: Int
    /// TEST ONLY: a deliberate defect, so that the comparator's end-to-end
    /// tests can prove they catch a divergence. Never set in production;
    /// default nil (no defect).
    public var testDefect: EngineTestDefect?

    public init(
        host: String = "0.0.0.0",
        port: Int = 6969,
        dataDirectory: String = "statetee-engine-data",
        staticDirectory: String? = nil,
        templateDirectory: String? = nil,
        shadow: Bool = false,
        controlToken: String? = nil,
        rateLimit: Int = 50,
        errorEvents: Bool = true,
        dice: EngineDice = .system,
        maxPayload: Int = 1_000_000,
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxControlBody: Int = 4_000_000,
        testDefect: EngineTestDefect? = nil
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.staticDirectory = staticDirectory
        self.templateDirectory = templateDirectory
        self.shadow = shadow
        self.controlToken = controlToken
        self.rateLimit = rateLimit
        self.errorEvents = errorEvents
        self.dice = dice
        self.maxPayload = maxPayload
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxControlBody = maxControlBody
        self.testDefect = testDefect
    }

    /// The directory of `player.html`: ``templateDirectory``, else
    /// `templates` beside ``staticDirectory``.
    public var resolvedTemplateDirectory: String? {
        if let templateDirectory { return templateDirectory }
        guard let staticDirectory else { return nil }
        var parent = staticDirectory
        while parent.count > 1 && parent.hasSuffix("/") { parent.removeLast() }
        if let slash = parent.lastIndex(of: "/") {
            parent = slash == parent.startIndex ? "/" : String(parent[..<slash])
        } else {
            parent = "."
        }
        return parent == "/" ? "/templates" : parent + "/templates"
    }

    public func with(host: String, port: Int) -> Self {
        var copy = self
        copy.host = host
        copy.port = port
        return copy
    }

    public func with(dataDirectory: String) -> Self {
        var copy = self
        copy.dataDirectory = dataDirectory
        return copy
    }

    public func with(staticDirectory: String?, templateDirectory: String? = nil) -> Self {
        var copy = self
        copy.staticDirectory = staticDirectory
        copy.templateDirectory = templateDirectory
        return copy
    }

    public func with(shadow: Bool) -> Self {
        var copy = self
        copy.shadow = shadow
        return copy
    }

    public func with(controlToken: String?) -> Self {
        var copy = self
        copy.controlToken = controlToken
        return copy
    }

    public func with(rateLimit: Int) -> Self {
        var copy = self
        copy.rateLimit = rateLimit
        return copy
    }

    public func with(errorEvents: Bool) -> Self {
        var copy = self
        copy.errorEvents = errorEvents
        return copy
    }

    public func with(dice: EngineDice) -> Self {
        var copy = self
        copy.dice = dice
        return copy
    }

    public func with(maxPayload: Int) -> Self {
        var copy = self
        copy.maxPayload = maxPayload
        return copy
    }

    public func with(pingInterval: Duration, pingTimeout: Duration) -> Self {
        var copy = self
        copy.pingInterval = pingInterval
        copy.pingTimeout = pingTimeout
        return copy
    }

    /// TEST ONLY: see ``testDefect``.
    public func with(testDefect: EngineTestDefect?) -> Self {
        var copy = self
        copy.testDefect = testDefect
        return copy
    }
}

/// TEST ONLY: deliberate defects the engine can be started with
/// (`statetee engine --inject-defect NAME`, hidden from the help), so that a
/// comparator test can show it reports a real divergence. Never use them in
/// production.
public enum EngineTestDefect: String, Sendable, CaseIterable {
    /// `increment_cp` with `action: "add"` adds 2 instead of 1.
    case cpAddTwice = "cp-add-twice"
    /// Quirk Q1 "fixed": `update_score` with `score_type: "secondary"` writes
    /// `secondary_score` (the legacy writes every value into `primary_score`), as an engine
    /// that declares Q1 a known divergence would.
    case q1Fixed = "q1-fixed"
}
