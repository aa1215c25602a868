import ArgumentParser
import Foundation
import Hummingbird
import JSONValue
import Logging
import SocketIOServer

extension StateTee {
    /// The reference server of the official Engine.IO v4 / Socket.IO v5 test suites.
    struct Conformance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the reference server of the official Engine.IO/Socket.IO protocol test suites.",
            discussion: """
                Raw Engine.IO echo at /engine.io/ and Socket.IO at /socket.io/ (namespaces / and /custom: \
                'message' answered with 'message-back', 'message-with-ack' acknowledged with its arguments, \
                the handshake auth emitted back as 'auth'). pingInterval 300 ms, pingTimeout 200 ms, \
                maxPayload 1000000, connectTimeout 1000 ms. Prints 'LISTENING <port>' once bound.
                """
        )

        @Option(help: "Port to listen on (0: any free port).")
        var port: Int = 3000

        @Option(help: "Address to bind.")
        var host: String = "127.0.0.1"

        @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
        var logLevel: String = "warning"

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        }

        func run() async throws {
            var logger = Logger(label: "statetee.conformance")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
            let app = ConformanceServer.application(host: host, port: port, logger: logger) { port in
                // Unbuffered: whoever started us waits for this line.
                FileHandle.standardOutput.write(Data("LISTENING \(port)\n".utf8))
            }
            try await app.runService()
        }
    }
}

/// The servers behind `statetee conformance`.
enum ConformanceServer {
    static let engineConfiguration = EngineIOConfiguration(
        pingInterval: .milliseconds(300),
        pingTimeout: .milliseconds(200),
        maxPayload: 1_000_000
    )

    static func namespace(_ name: String) -> SocketIONamespace {
        var namespace = SocketIONamespace(name)
        namespace.onConnect { socket, auth in
            socket.emit("auth", [auth ?? .object([:])])
        }
        namespace.on("message") { socket, args, attachments, _ in
            socket.emit("message-back", args, attachments: attachments)
        }
        namespace.on("message-with-ack") { _, args, attachments, ack in
            ack?(args, attachments: attachments)
        }
        return namespace
    }

    static func application(
        host: String,
        port: Int,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) -> some ApplicationProtocol {
        let echo = EngineIOServer(configuration: engineConfiguration.with(path: "/engine.io/"), logger: logger) { connection in
            for await payload in connection.messages { connection.send(payload) }
        }
        let io = SocketIOServer(
            configuration: SocketIOConfiguration(
                engine: engineConfiguration.with(path: "/socket.io/"),
                connectTimeout: .milliseconds(1000)
            ),
            namespaces: [namespace("/"), namespace("/custom")],
            logger: logger
        )
        return io.application(
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "statetee-conformance"),
            additionalEndpoints: [echo],
            logger: logger,
            onServerRunning: { channel in
                onListening(channel.localAddress?.port ?? port)
            }
        )
    }
}
