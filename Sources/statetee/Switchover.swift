import ArgumentParser
import AsyncHTTPClient
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import StateTeeConfig
import Tee

/// What `switchover`, `rollback` and `status` share: where the admin API is and the token.
struct AdminOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(name: .customLong("admin-url"), help: "The proxy's admin API (default http://127.0.0.1:ADMIN_PORT).")
    var adminURL: String?

    @Option(name: .customLong("data-dir"), help: "The proxy's data directory (its admin-token file is read).")
    var dataDir: String?

    @Option(help: "Admin bearer token (default: DATA_DIR/admin-token).")
    var token: String?

    func resolvedURL() throws -> String {
        try config.settings().adminURL(flag: adminURL, defaultPort: AdminAPI.defaultPort)
    }

    func resolvedToken() throws -> String {
        let settings = try config.settings()
        if let token = settings.string(.adminToken, flag: token) { return token }
        if let dataDir = settings.string(.dataDir, flag: dataDir) {
            let path = (dataDir as NSString).appendingPathComponent(AdminToken.fileName)
            if let data = FileManager.default.contents(atPath: path) {
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            throw ValidationError("no admin token at \(path)")
        }
        throw ValidationError("give --token, STATETEE_ADMIN_TOKEN or --data-dir")
    }

    /// Calls the admin API; returns the HTTP status and the JSON body.
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws -> (Int, JSONValue?) {
        let adminURL = try resolvedURL()
        var request = HTTPClientRequest(url: adminURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer " + (try resolvedToken()))
        request.headers.add(name: "X-StateTee-Actor", value: "cli " + (ProcessInfo.processInfo.environment["USER"] ?? "unknown"))
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.serializedBytes()))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        } catch {
            throw AdminCallError("cannot reach the admin API at \(adminURL): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), try? JSONParser.parse(bytes.readableBytesView))
    }
}

extension StateTee {
    /// `statetee switchover [--force]`: make the engine the primary.
    struct Switchover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "switchover", abstract: "Make the engine the primary, live (through the proxy's admin API).")

        @OptionGroup var admin: AdminOptions
        @Flag(help: "Skip the readiness gate (and switch even when the states differ and cannot be loaded).")
        var force = false

        func run() async throws {
            try await SwitchCommand.run(admin: admin, path: "/switchover", force: force)
        }
    }

    /// `statetee rollback [--force]`: make the legacy the primary again.
    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback", abstract: "Make the legacy the primary again, live (the same operation back).")

        @OptionGroup var admin: AdminOptions
        @Flag(help: "Skip the readiness gate and switch even when the legacy's state differs.")
        var force = false

        func run() async throws {
            try await SwitchCommand.run(admin: admin, path: "/rollback", force: force)
        }
    }
}

/// A failed admin call: printed as `Error: ...`, exit status 1 (no usage text).
struct AdminCallError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The one implementation behind `switchover` and `rollback`.
enum SwitchCommand {
    static func run(admin: AdminOptions, path: String, force: Bool) async throws {
        let body: JSONValue = ["force": .bool(force)]
        let (status, json) = try await admin.call(.POST, path, body: body)
        if status == 401 { throw AdminCallError("the admin API refused the token (401)") }
        let message = json?["message"]?.stringValue ?? "HTTP \(status)"
        if status == 200, json?["ok"] == true {
            let milliseconds = json?["duration_ms"].map { $0.serialized() } ?? "?"
            let refreshed = json?["refreshed_sessions"].map { $0.serialized() } ?? "0"
            print("OK: \(message) (\(refreshed) clients refreshed, \(milliseconds) ms)")
            return
        }
        print("REFUSED: \(message)")
        throw ExitCode(2)
    }
}
