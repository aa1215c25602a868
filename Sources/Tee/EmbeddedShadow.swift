import Engine
import Hummingbird
import JSONValue
import Logging
import SocketIOProtocol

/// The Swift engine in the proxy's process (`--shadow embedded`), as the
/// proxy's ``InProcessEngine``: sessions are packets handed to
/// `Engine.EmbeddedEngine`, its broadcasts stay on (the proxy suppresses them
/// while the engine is the shadow and relays them once it is the primary).
public struct EmbeddedShadow: InProcessEngine {
    public let embedded: EmbeddedEngine

    public init(_ embedded: EmbeddedEngine) {
        self.embedded = embedded
    }

    /// Opens the engine on its SQLite store in `configuration.dataDirectory`, never in
    /// shadow mode (the proxy needs what each client would receive). Run the returned
    /// `ScorerEngine` as a service of the same group, before the proxy (it must outlive it).
    public static func open(configuration: EngineConfiguration, logger: Logger) async throws -> (EmbeddedShadow, ScorerEngine) {
        let engine = try await ScorerEngine.open(configuration: configuration.with(shadow: false), logger: logger)
        return (EmbeddedShadow(await EmbeddedEngine(engine: engine, logger: logger)), engine)
    }

    public func openSession(auth: JSONValue?, deliver: @escaping @Sendable (SocketIOPacket) -> Void) async throws
        -> any InProcessEngineSession
    {
        await embedded.openSession(auth: auth, deliver: deliver)
    }

    public func currentState() async throws -> JSONValue {
        await embedded.currentState()
    }

    public func loadState(_ state: JSONValue) async throws {
        try await embedded.loadState(state)
    }

    public func setRole(primary: Bool) async throws {
        try await embedded.setRole(primary: primary)
    }

    public func respond(to request: Request) async -> Response {
        await embedded.respond(to: request)
    }
}

extension EmbeddedEngineSession: InProcessEngineSession {}
