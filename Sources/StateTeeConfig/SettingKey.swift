/// One configurable setting: its command-line option, its environment
/// variable (`STATETEE_` + ``name``), which is also its key in the config
/// file, and its documentation.
///
/// ``all`` is the catalog: a config file may contain these keys and no
/// others. `deploy/statetee.env` documents every one of them (a test checks).
public struct SettingKey: Hashable, Sendable, CustomStringConvertible {
    /// The name without the prefix, e.g. `DATA_DIR`.
    public let name: String
    /// The long option that sets it on the command line, e.g. `--data-dir`.
    public let flag: String
    /// The commands that read it.
    public let commands: [String]
    /// The built-in default, as the documentation states it.
    public let defaultDescription: String
    /// One line of documentation.
    public let summary: String

    public init(name: String, flag: String, commands: [String], defaultDescription: String, summary: String) {
        self.name = name
        self.flag = flag
        self.commands = commands
        self.defaultDescription = defaultDescription
        self.summary = summary
    }

    /// The prefix of every environment variable and config file key.
    public static let prefix = "STATETEE_"

    /// `STATETEE_DATA_DIR`: the environment variable and config file key.
    public var environmentName: String { Self.prefix + name }

    public var description: String { environmentName }

    /// The catalog entry whose environment name is `environmentName`.
    public static func named(_ environmentName: String) -> SettingKey? {
        all.first { $0.environmentName == environmentName }
    }
}

extension SettingKey {
    // MARK: shared by the servers

    public static let dataDir = SettingKey(
        name: "DATA_DIR", flag: "--data-dir", commands: ["engine", "proxy", "status", "switchover", "rollback", "report"],
        defaultDescription: "none (required by engine and proxy)",
        summary: "Durable state: engine.sqlite, proxy.sqlite (roles, comparisons), control-token, admin-token.")
    public static let port = SettingKey(
        name: "PORT", flag: "--port", commands: ["engine", "proxy"], defaultDescription: "6969",
        summary: "Port clients connect to (0: any free port, printed as LISTENING <port>).")
    public static let host = SettingKey(
        name: "HOST", flag: "--host", commands: ["engine", "proxy"], defaultDescription: "0.0.0.0",
        summary: "Interface the client port binds (the legacy binds all interfaces).")
    public static let logLevel = SettingKey(
        name: "LOG_LEVEL", flag: "--log-level", commands: ["engine", "proxy"], defaultDescription: "info",
        summary: "trace, debug, info, notice, warning, error or critical.")

    // MARK: the engine (standalone, and embedded in the proxy)

    public static let staticDir = SettingKey(
        name: "STATIC_DIR", flag: "--static-dir", commands: ["engine", "proxy"],
        defaultDescription: "none (no pages are served)",
        summary: "The legacy's static pages (index.html, app.js, ...); player.html is read from TEMPLATE_DIR.")
    public static let templateDir = SettingKey(
        name: "TEMPLATE_DIR", flag: "--template-dir", commands: ["engine", "proxy"],
        defaultDescription: "'templates' beside STATIC_DIR", summary: "Directory of player.html.")
    public static let engineShadow = SettingKey(
        name: "ENGINE_SHADOW", flag: "--shadow", commands: ["engine"], defaultDescription: "no",
        summary: "engine --shadow: process events and answer requesters, broadcast nothing (yes/no).")
    public static let controlToken = SettingKey(
        name: "CONTROL_TOKEN", flag: "--control-token", commands: ["engine", "proxy"],
        defaultDescription: "the file DATA_DIR/control-token (created on first start)",
        summary: "Bearer token of the engine's control API (proxy: --engine-token, for an external engine).")
    public static let diceSeed = SettingKey(
        name: "DICE_SEED", flag: "--dice-seed", commands: ["engine", "proxy"],
        defaultDescription: "none (system randomness)",
        summary: "Roll what Python's random.Random(seed).randint(1, 6) rolls; for tests only.")
    public static let rateLimit = SettingKey(
        name: "RATE_LIMIT", flag: "--rate-limit", commands: ["engine", "proxy"], defaultDescription: "50",
        summary: "Events per second and per client while the engine answers for the game; a shadow applies every event (0: no limit).")
    public static let errorEvents = SettingKey(
        name: "ERROR_EVENTS", flag: "--error-events", commands: ["engine", "proxy"], defaultDescription: "yes",
        summary: "Send an 'error' event to a client whose input is refused (no: legacy-exact silence).")
    public static let maxPayload = SettingKey(
        name: "MAX_PAYLOAD", flag: "--max-payload", commands: ["engine", "proxy"], defaultDescription: "1000000",
        summary: "Largest Engine.IO message in bytes; a bigger one disconnects its client.")

    // MARK: the proxy

    public static let primary = SettingKey(
        name: "PRIMARY", flag: "--primary", commands: ["proxy"], defaultDescription: "none (required)",
        summary: "The legacy server, primary at first start, e.g. http://127.0.0.1:6970.")
    public static let shadow = SettingKey(
        name: "SHADOW", flag: "--shadow", commands: ["proxy"], defaultDescription: "embedded",
        summary: "proxy --shadow: the new engine, 'embedded' (in the proxy's process) or its URL.")
    public static let rules = SettingKey(
        name: "RULES", flag: "--rules", commands: ["proxy", "report"],
        defaultDescription: "fixtures/rules/scorer.yaml when present",
        summary: "Comparison rules file (YAML).")
    public static let adminPort = SettingKey(
        name: "ADMIN_PORT", flag: "--admin-port", commands: ["proxy", "status", "switchover", "rollback"],
        defaultDescription: "6971", summary: "Port of the proxy's admin API (status, switchover, rollback, metrics).")
    public static let adminHost = SettingKey(
        name: "ADMIN_HOST", flag: "--admin-host", commands: ["proxy"], defaultDescription: "127.0.0.1",
        summary: "Interface of the admin API. Keep it on loopback.")
    public static let adminToken = SettingKey(
        name: "ADMIN_TOKEN", flag: "--admin-token", commands: ["proxy", "status", "switchover", "rollback"],
        defaultDescription: "the file DATA_DIR/admin-token (created on first start)",
        summary: "Bearer token of the admin API (status/switchover/rollback: --token).")
    public static let mirrorCapacity = SettingKey(
        name: "MIRROR_CAPACITY", flag: "--mirror-capacity", commands: ["proxy"], defaultDescription: "10000",
        summary: "Mirrored events that may wait for the shadow before a gap is recorded.")
    public static let drainTimeout = SettingKey(
        name: "DRAIN_TIMEOUT", flag: "--drain-timeout", commands: ["proxy"], defaultDescription: "5",
        summary: "Seconds a switchover waits for in-flight work before it aborts.")

    // MARK: the operator's commands

    public static let adminURL = SettingKey(
        name: "ADMIN_URL", flag: "--admin-url", commands: ["status", "switchover", "rollback"],
        defaultDescription: "http://127.0.0.1:ADMIN_PORT", summary: "Where status, switchover and rollback find the admin API.")

    /// Every setting, in the order `deploy/statetee.env` documents them.
    public static let all: [SettingKey] = [
        .dataDir, .port, .host, .logLevel,
        .staticDir, .templateDir, .engineShadow, .controlToken, .diceSeed, .rateLimit, .errorEvents, .maxPayload,
        .primary, .shadow, .rules, .adminPort, .adminHost, .adminToken, .mirrorCapacity, .drainTimeout,
        .adminURL,
    ]
}
