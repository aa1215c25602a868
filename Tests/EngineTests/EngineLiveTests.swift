import Engine
import Foundation
import JSONValue
import Logging
import StateTeeTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The engine on a real port (0 → a free one) with real clients:
/// python-socketio for the Socket.IO contract, URLSession for HTTP.
@Suite struct EngineLiveTests {
    static let root = TestEnvironment.repositoryRoot()
    static let staticDirectory = root + "/fixtures/legacy-server/static"
    static let token = "live-test-token"

    static var quietLogger: Logger {
        var logger = Logger(label: "statetee.engine.test")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with an in-process engine server, then shuts it down
    /// gracefully and checks that the engine closed its store.
    func withLiveEngine(
        _ configuration: EngineConfiguration,
        _ body: @Sendable (_ baseURL: String, _ engine: ScorerEngine) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let engine = try await ScorerEngine.open(
                configuration: configuration.with(dataDirectory: directory).with(host: "127.0.0.1", port: 0),
                logger: Self.quietLogger)
            let server = await EngineServer(engine: engine, logger: Self.quietLogger)
            try await server.withRunning { port in
                try await body("http://127.0.0.1:\(port)", engine)
            }
            #expect(await engine.health().status == "closed")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func pythonClientsSeeTheLegacyContract() async throws {
        let configuration = EngineConfiguration(
            staticDirectory: Self.staticDirectory, controlToken: Self.token, rateLimit: 20, maxPayload: 10_000)
        try await withLiveEngine(configuration) { url, engine in
            let script = Self.root + "/Tests/interop/engine_live_clients.py"
            let python = TestEnvironment.python(repositoryRoot: Self.root)
            let process = try TestProcess(
                python, [script, url, "--token", Self.token, "--rate-limit", "20", "--max-payload", "10000"])
            let status: Int32
            do {
                status = try await process.waitForExit(timeout: .seconds(90))
            } catch {
                await process.terminate()
                throw error
            }
            let output = process.stdoutLines.joined(separator: "\n")
            #expect(status == 0, "\(output)\n\(process.stderr)")
            #expect(process.stdoutLines.last == "OK", "\(output)\n\(process.stderr)")
            // The script left the game in first_turn_setup with player 1 renamed through a patch.
            let state = await engine.state().state
            #expect(state.at("/game_phase") == "first_turn_setup")
            #expect(state.at("/player1/name") == "Zoe")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func controlAPIRefusesWithoutTheTokenAndValidatesBodies() async throws {
        let configuration = EngineConfiguration(staticDirectory: Self.staticDirectory, controlToken: Self.token)
        try await withLiveEngine(configuration) { url, engine in
            let control = url + EngineServer.controlPrefix
            _ = await engine.receive("start_new_game", arguments: [], from: EngineClient(id: "pi"))
            let before = await engine.state()

            for token in [nil, "nope", Self.token + "x", ""] {
                for (method, path, body) in [
                    ("GET", "/health", nil), ("GET", "/state", nil),
                    ("PUT", "/state", #"{"state":{"game_phase":"x"}}"#),
                    ("PATCH", "/state", #"{"patches":[{"path":"/game_phase","value":"x"}]}"#),
                    ("PUT", "/shadow", #"{"shadow":true}"#),
                ] as [(String, String, String?)] {
                    let (status, json) = try await Self.request(method, control + path, token: token, body: body)
                    #expect(status == 401, "\(method) \(path) with \(token ?? "no token")")
                    #expect(json?.at("/error/code") == "AUTH_FAILED")
                }
            }
            #expect(await engine.state() == before)
            #expect(await engine.isShadow == false)

            var (status, json) = try await Self.request("GET", control + "/health", token: Self.token)
            #expect(status == 200)
            #expect(json?.at("/status") == "ok")
            #expect(json?.at("/game_phase") == "name_entry")

            (status, json) = try await Self.request("GET", control + "/state?view=served", token: Self.token)
            #expect(status == 200 && json?.at("/state/game_phase") == "name_entry")
            #expect(json?.at("/sequence") == .int(Int(before.sequence)))
            (status, _) = try await Self.request("GET", control + "/state?view=other", token: Self.token)
            #expect(status == 400)

            for body in ["", "[", "[1]", #"{"reason":"no state"}"#, #"{"state":{},"broadcast":"yes"}"#] {
                (status, json) = try await Self.request("PUT", control + "/state", token: Self.token, body: body)
                #expect(status == 400, "\(body)")
                #expect(json?.at("/error/code") == "BAD_REQUEST")
            }
            (status, json) = try await Self.request("PUT", control + "/state", token: Self.token, body: #"{"state":[1]}"#)
            #expect(status == 422 && json?.at("/error/code") == "INVALID_STATE")
            (status, json) = try await Self.request(
                "PATCH", control + "/state", token: Self.token, body: #"{"patches":[{"path":"/a/b","value":1}]}"#)
            #expect(status == 422 && json?.at("/error/code") == "INVALID_PATCH")
            #expect(await engine.state() == before)

            let loaded = #"{"state":{"game_phase":"game_over","player1":{"name":"A"}},"reason":"handoff"}"#
            (status, json) = try await Self.request("PUT", control + "/state", token: Self.token, body: loaded)
            #expect(status == 200 && json?.at("/sequence") == .int(Int(before.sequence) + 1))
            #expect(await engine.state().state == ["game_phase": "game_over", "player1": ["name": "A"]])

            (status, json) = try await Self.request("PUT", control + "/shadow", token: Self.token, body: #"{"shadow":true}"#)
            #expect(status == 200 && json == ["shadow": true])
            #expect(await engine.isShadow)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func legacyPagesAndStaticFiles() async throws {
        let configuration = EngineConfiguration(staticDirectory: Self.staticDirectory, controlToken: Self.token)
        try await withLiveEngine(configuration) { url, _ in
            var (status, body, type) = try await Self.fetch(url + "/")
            #expect(status == 200 && type?.hasPrefix("text/html") == true)
            #expect(body.contains("<html"))
            for id in [1, 2] {
                (status, body, type) = try await Self.fetch(url + "/player/\(id)")
                #expect(status == 200 && type == "text/html; charset=utf-8")
                #expect(body.contains(#"data-player-id="\#(id)""#))
                #expect(body.contains(#"href="/player/\#(3 - id)""#))
                #expect(!body.contains("{{"))
            }
            for path in ["/player/3", "/player/0", "/player/12345678901234567890"] {
                (status, body, _) = try await Self.fetch(url + path)
                #expect(status == 404 && body == "Invalid Player ID", "\(path)")
            }
            (status, _, _) = try await Self.fetch(url + "/player/abc")
            #expect(status == 404)
            (status, _, type) = try await Self.fetch(url + "/app.js")
            #expect(status == 200 && type?.contains("javascript") == true)
            (status, _, _) = try await Self.fetch(url + "/no-such-file.html")
            #expect(status == 404)
            (status, body, _) = try await Self.fetch(url + "/%2e%2e/server.py")
            #expect(status != 200 && !body.contains("import"))
        }
    }

    // MARK: - HTTP helpers

    static func request(_ method: String, _ url: String, token: String?, body: String? = nil) async throws
        -> (Int, JSONValue?)
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, try? JSONValue(parsing: Array(data)))
    }

    static func fetch(_ url: String) async throws -> (Int, String, String?) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, String(decoding: data, as: UTF8.self), http?.value(forHTTPHeaderField: "Content-Type"))
    }
}
