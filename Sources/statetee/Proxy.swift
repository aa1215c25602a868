import ArgumentParser
import Compare
import Engine
import Foundation
import JSONDiff
import JSONValue
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import StateTeeConfig
import Storage
import Tee
import UnixSignals

extension StateTee {
    /// `statetee proxy --port 6969 --primary URL [--shadow embedded|URL] --data-dir D ...`
    struct Proxy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "proxy",
            abstract: "Front the legacy server: relay it to clients, mirror every message to the shadow, switch roles on command.",
            discussion: """
                Prints LISTENING <port> once clients can connect and ADMIN <port> once the admin API listens. \
                The roles (which server is primary) are durable in the data directory (proxy.sqlite); with \
                --shadow embedded the engine keeps its state there too (engine.sqlite).
                """
        )

        @OptionGroup var config: ConfigOptions

        @Option(help: "Port clients connect to, 0 picks a free one (default 6969).")
        var port: Int?

        @Option(help: "Interface the client port binds (default 0.0.0.0).")
        var host: String?

        @Option(help: "The legacy server, primary at first start, e.g. http://127.0.0.1:6970.")
        var primary: String?

        @Option(help: "The new engine: 'embedded' (in this process) or its URL (default embedded).")
        var shadow: String?

        @Option(name: .customLong("data-dir"), help: "Directory of proxy.sqlite (roles, admin log, comparisons), engine.sqlite and admin-token.")
        var dataDir: String?

        @Option(help: "Comparison rules file (default fixtures/rules/scorer.yaml when present).")
        var rules: String?

        @Option(name: .customLong("admin-port"), help: "Admin API port, 0 picks a free one (default 6971).")
        var adminPort: Int?

        @Option(name: .customLong("admin-host"), help: "Admin API interface (default 127.0.0.1).")
        var adminHost: String?

        @Option(name: .customLong("admin-token"), help: "Admin bearer token (default: DATA_DIR/admin-token, generated on first start).")
        var adminToken: String?

        @Option(name: .customLong("engine-token"), help: "Control API token of an external engine (--shadow URL), to load state at switchover.")
        var engineToken: String?

        @Option(name: .customLong("mirror-capacity"), help: "Mirrored events that may wait for the shadow before a gap is recorded (default 10000).")
        var mirrorCapacity: Int?

        @Option(name: .customLong("drain-timeout"), help: "Seconds a switchover waits for in-flight work (default 5).")
        var drainTimeout: Double?

        @Option(name: .customLong("static-dir"), help: "The embedded engine's static pages, served once it is primary.")
        var staticDir: String?

        @Option(name: .customLong("template-dir"), help: "The embedded engine's player.html directory (default: 'templates' beside --static-dir).")
        var templateDir: String?

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
        var logLevel: String?

        /// Everything `run()` needs, resolved from flags, STATETEE_<NAME>, the config file and defaults.
        struct Resolved {
            var tee: TeeConfiguration
            var dataDirectory: String
            var adminHost: String
            var adminPort: Int
            var adminToken: String
            var level: Logger.Level
            var engine: EngineConfiguration?
            /// The comparison rules file; nil: none found (every field compared exactly).
            var rulesPath: String?
        }

        /// TEST ONLY: a deliberate defect in the embedded engine, for the comparator's end-to-end tests.
        @Option(help: .hidden)
        var injectDefect: String?

        func validate() throws {
            if let injectDefect, EngineTestDefect(rawValue: injectDefect) == nil {
                throw ValidationError("unknown --inject-defect \(injectDefect)")
            }
        }

        func resolve(_ settings: Settings) throws -> Resolved {
            let dataDirectory = try settings.required(.dataDir, flag: dataDir)
            let port = try settings.int(.port, flag: port, default: 6969)
            let adminPort = try settings.int(.adminPort, flag: adminPort, default: AdminAPI.defaultPort)
            guard (0...65535).contains(port), (0...65535).contains(adminPort) else {
                throw ValidationError("ports must be between 0 and 65535")
            }
            let primary = try settings.required(.primary, flag: primary)
            guard primary.hasPrefix("http://") || primary.hasPrefix("https://") else {
                throw ValidationError("--primary must be an http(s):// URL, found \(primary)")
            }
            let shadow = settings.string(.shadow, flag: shadow, default: "embedded")
            guard shadow == "embedded" || shadow.hasPrefix("http://") || shadow.hasPrefix("https://") else {
                throw ValidationError("--shadow must be 'embedded' or an http(s):// URL, found \(shadow)")
            }
            let mirrorCapacity = try settings.int(.mirrorCapacity, flag: mirrorCapacity, default: 10_000)
            guard mirrorCapacity > 0 else { throw ValidationError("the mirror capacity must be positive") }
            let drainTimeout = try settings.double(.drainTimeout, flag: drainTimeout, default: 5)
            guard drainTimeout > 0 else { throw ValidationError("the drain timeout must be positive") }
            let levelName = settings.string(.logLevel, flag: logLevel, default: "info")
            guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown log level \(levelName)") }

            let rulesPath = settings.string(.rules, flag: rules)
                ?? (FileManager.default.fileExists(atPath: RulesFile.defaultPath) ? RulesFile.defaultPath : nil)
            var tee = TeeConfiguration(
                host: settings.string(.host, flag: host, default: "0.0.0.0"), port: port, legacy: .url(primary),
                engine: shadow == "embedded" ? .embedded : .url(shadow),
                engineControlToken: settings.string(.controlToken, flag: engineToken),
                mirrorCapacity: mirrorCapacity, drainTimeout: .milliseconds(Int(drainTimeout * 1000)))
            tee.rules = try rulesPath.map { try RulesFile.load(path: $0) } ?? .none

            var engine: EngineConfiguration?
            if shadow == "embedded" {
                var dice = EngineDice.system
                if let seed = settings.string(.diceSeed, flag: nil) {
                    guard let seeded = EngineDice.seeded(decimal: seed) else { throw ValidationError("the dice seed must be an integer") }
                    dice = seeded
                }
                engine = EngineConfiguration(
                    dataDirectory: dataDirectory,
                    staticDirectory: settings.string(.staticDir, flag: staticDir),
                    templateDirectory: settings.string(.templateDir, flag: templateDir),
                    rateLimit: try settings.int(.rateLimit, flag: nil, default: 50),
                    errorEvents: try settings.bool(.errorEvents, flag: nil, default: true),
                    dice: dice,
                    maxPayload: try settings.int(.maxPayload, flag: nil, default: 1_000_000)
                ).with(testDefect: injectDefect.flatMap(EngineTestDefect.init(rawValue:)))
            }
            let token = try settings.string(.adminToken, flag: adminToken) ?? AdminToken.loadOrCreate(inDirectory: dataDirectory)
            return Resolved(
                tee: tee, dataDirectory: dataDirectory, adminHost: settings.string(.adminHost, flag: adminHost, default: "127.0.0.1"),
                adminPort: adminPort, adminToken: token, level: level, engine: engine, rulesPath: rulesPath)
        }

        func run() async throws {
            let resolved = try resolve(config.settings())
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = resolved.level
                return handler
            }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let logger = Logger(label: "statetee.proxy")
            if let path = resolved.rulesPath {
                logger.info("Comparison rules loaded", metadata: ["statetee.rules": .string(path)])
            } else {
                logger.warning(
                    "No comparison rules file: every field is compared exactly (times and dice will diverge)",
                    metadata: ["statetee.looked_at": .string(RulesFile.defaultPath), "statetee.hint": "--rules or STATETEE_RULES"])
            }
            if let defect = resolved.engine?.testDefect {
                logger.warning("Embedded engine started with a TEST-ONLY defect", metadata: ["statetee.defect": .string(defect.rawValue)])
            }

            var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
            var embedded: EmbeddedShadow?
            if let engineConfiguration = resolved.engine {
                // The engine first: it is shut down last, after the proxy closed every session.
                let (shadow, engine) = try await EmbeddedShadow.open(
                    configuration: engineConfiguration, logger: Logger(label: "statetee.engine"))
                embedded = shadow
                services.append(.init(service: engine))
            }
            let store = try ProxyStore.open(inDirectory: resolved.dataDirectory)
            let observer = ComparatorObserver()
            let proxy = try await TeeProxy(
                configuration: resolved.tee, roleStore: store, observer: observer, engine: embedded, logger: logger)
            // The comparator before the proxy: it stops after the proxy stopped feeding it.
            let comparator = proxy.makeComparator(
                observer: observer, rules: resolved.tee.rules, store: store, logger: Logger(label: "statetee.comparator"))
            services.append(.init(service: comparator))
            let client = proxy.clientApplication { port in Self.announce("LISTENING \(port)") }
            let admin = AdminAPI.application(
                proxy: proxy, token: resolved.adminToken, host: resolved.adminHost, port: resolved.adminPort,
                metrics: {
                    var buffer = [UInt8]()
                    registry.emit(into: &buffer)
                    return String(decoding: buffer, as: UTF8.self)
                },
                page: { status in
                    StatusPage.render(
                        status: await comparator.comparator.currentStatus(),
                        mode: status["mode"]?.stringValue ?? "?",
                        facts: Self.facts(status), generatedAt: Date())
                },
                logger: Logger(label: "statetee.admin"),
                onListening: { port in Self.announce("ADMIN \(port)") })
            services += [.init(service: proxy), .init(service: client), .init(service: admin)]
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            try await store.close()
        }

        /// The proxy's side of the live status page (the comparator renders the rest).
        static func facts(_ status: JSONValue) -> [(String, String)] {
            func text(_ value: JSONValue?) -> String { value.map { $0.stringValue ?? $0.serialized() } ?? "-" }
            var facts: [(String, String)] = [("primary", text(status["primary"])), ("shadow", text(status["shadow"]))]
            for name in ["legacy", "engine"] {
                let upstream = status["upstreams"]?[name]
                facts.append((name, "\(text(upstream?["role"])), \(text(upstream?["health"])), \(text(upstream?["endpoint"]))"))
            }
            facts.append(("sessions", text(status["sessions"])))
            facts.append(("mirror queue", "\(text(status["queue"]?["depth"]))/\(text(status["queue"]?["capacity"])), gaps \(text(status["gaps"]))"))
            facts.append(("switchover", text(status["switchover"])))
            return facts
        }

        /// One line on stdout, unbuffered (tests and scripts wait for it).
        static func announce(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
