import ArgumentParser
import Engine
import Foundation
import Logging
import ServiceLifecycle
import StateTeeConfig
import UnixSignals

extension StateTee {
    /// `statetee engine`: the new state server, a drop-in for the legacy.
    struct Engine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the state engine: the legacy's Socket.IO events and pages, durable in SQLite.",
            discussion: """
                Socket.IO at /socket.io/, the legacy's pages (/, /player/1|2, static files), and the control \
                API under /statetee/v1/ (bearer token: --control-token, else $STATETEE_CONTROL_TOKEN, else the \
                file DATA_DIR/control-token, created on first start). State in DATA_DIR/engine.sqlite (WAL). \
                Prints 'LISTENING <port>' once bound. SIGTERM or SIGINT: finish the event in flight, \
                checkpoint, exit 0. Every option can also come from STATETEE_<NAME> or the --config file.
                """
        )

        @OptionGroup var config: ConfigOptions

        @Option(help: "Port to listen on (0: any free port). Default 6969.")
        var port: Int?

        @Option(help: "Address to bind. Default 0.0.0.0 (all interfaces, like the legacy).")
        var host: String?

        @Option(help: "Directory of the durable state (engine.sqlite, control-token); created when needed. Required.")
        var dataDir: String?

        @Option(help: "Directory of the static pages (index.html, app.js, ...). Default: none.")
        var staticDir: String?

        @Option(help: "Directory of player.html. Default: 'templates' beside --static-dir.")
        var templateDir: String?

        @Flag(help: "Start in shadow mode: process events and answer requesters, broadcast nothing (STATETEE_ENGINE_SHADOW).")
        var shadow = false

        @Option(help: "Bearer token of the control API. Default: the file DATA_DIR/control-token.")
        var controlToken: String?

        @Option(help: "Dice seed: roll what Python's random.Random(seed).randint(1, 6) rolls (tests only).")
        var diceSeed: String?

        @Option(help: "Events per second and per client (0: no limit). Default 50.")
        var rateLimit: Int?

        @Flag(inversion: .prefixedNo, help: "Send an 'error' event to a client whose input is refused. Default yes.")
        var errorEvents: Bool?

        @Option(help: "Largest Engine.IO message in bytes; a bigger one disconnects its client. Default 1000000.")
        var maxPayload: Int?

        @Option(help: "Log level (trace, debug, info, notice, warning, error, critical). Default info.")
        var logLevel: String?

        /// TEST ONLY: a deliberate defect for the comparator's end-to-end tests (EngineTestDefect).
        @Option(help: .hidden)
        var injectDefect: String?

        func validate() throws {
            if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
            if let injectDefect, EngineTestDefect(rawValue: injectDefect) == nil {
                throw ValidationError("unknown --inject-defect \(injectDefect)")
            }
        }

        /// The engine's configuration from flags, STATETEE_<NAME>, the config file and defaults.
        func engineConfiguration(_ settings: Settings) throws -> (EngineConfiguration, Logger.Level) {
            let dataDirectory = try settings.required(.dataDir, flag: dataDir)
            let port = try settings.int(.port, flag: port, default: 6969)
            guard (0...65535).contains(port) else { throw ValidationError("the port must be between 0 and 65535") }
            let rateLimit = try settings.int(.rateLimit, flag: rateLimit, default: 50)
            guard rateLimit >= 0 else { throw ValidationError("the rate limit must be 0 or more") }
            let maxPayload = try settings.int(.maxPayload, flag: maxPayload, default: 1_000_000)
            guard maxPayload > 0 else { throw ValidationError("the max payload must be positive") }
            let levelName = settings.string(.logLevel, flag: logLevel, default: "info")
            guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown log level \(levelName)") }
            var dice = EngineDice.system
            if let seed = settings.string(.diceSeed, flag: diceSeed) {
                guard let seeded = EngineDice.seeded(decimal: seed) else { throw ValidationError("the dice seed must be an integer") }
                dice = seeded
            }
            let token = try settings.string(.controlToken, flag: controlToken)
                ?? ControlToken.loadOrCreate(inDirectory: dataDirectory)
            let configuration = EngineConfiguration(
                host: settings.string(.host, flag: host, default: "0.0.0.0"),
                port: port,
                dataDirectory: dataDirectory,
                staticDirectory: settings.string(.staticDir, flag: staticDir),
                templateDirectory: settings.string(.templateDir, flag: templateDir),
                shadow: try settings.bool(.engineShadow, flag: shadow ? true : nil, default: false),
                controlToken: token,
                rateLimit: rateLimit,
                errorEvents: try settings.bool(.errorEvents, flag: errorEvents, default: true),
                dice: dice,
                maxPayload: maxPayload,
                testDefect: injectDefect.flatMap(EngineTestDefect.init(rawValue:))
            )
            return (configuration, level)
        }

        func run() async throws {
            let (configuration, level) = try engineConfiguration(config.settings())
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "statetee.engine")
            if let defect = configuration.testDefect {
                logger.warning("Engine started with a TEST-ONLY defect", metadata: ["statetee.defect": .string(defect.rawValue)])
            }
            let engine = try await ScorerEngine.open(configuration: configuration, logger: logger)
            let server = await EngineServer(engine: engine, logger: logger)
            let group = server.serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint]) { port in
                // Unbuffered: whoever started us waits for this line.
                FileHandle.standardOutput.write(Data("LISTENING \(port)\n".utf8))
            }
            try await group.run()
        }
    }
}
