import ArgumentParser
import JSONValue
import NIOHTTP1

extension StateTee {
    /// `statetee status [--json]`: mode, legs, queue depth, readiness.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the proxy's mode, upstreams, sessions, mirror queue and readiness.")

        @OptionGroup var admin: AdminOptions
        @Flag(help: "Print the raw JSON.")
        var json = false

        func run() async throws {
            let (status, body) = try await admin.call(.GET, "/status")
            guard status == 200, let body else {
                throw AdminCallError(status == 401 ? "the admin API refused the token (401)" : "the admin API answered \(status)")
            }
            if json {
                print(body.serialized())
                return
            }
            print(Self.render(body))
        }

        static func render(_ status: JSONValue) -> String {
            func text(_ value: JSONValue?) -> String {
                guard let value else { return "-" }
                return value.stringValue ?? value.serialized()
            }
            var lines = [
                "mode:       \(text(status["mode"])) (switchover: \(text(status["switchover"])))",
                "sessions:   \(text(status["sessions"]))",
            ]
            for name in ["legacy", "engine"] {
                let upstream = status["upstreams"]?[name]
                var line = "\(name):\(String(repeating: " ", count: 11 - name.count))\(text(upstream?["role"])), \(text(upstream?["health"]))"
                line += ", \(text(upstream?["endpoint"])), relayed \(text(upstream?["relayed"]))"
                if let reason = upstream?["reason"] { line += " (\(text(reason)))" }
                lines.append(line)
            }
            lines.append(
                "queue:      \(text(status["queue"]?["depth"]))/\(text(status["queue"]?["capacity"])), dropped \(text(status["queue"]?["dropped"])), gaps \(text(status["gaps"]))"
            )
            lines.append("mirrored:   \(text(status["mirrored"])), suppressed \(text(status["suppressed"]))")
            let ready = status["readiness"]?["ready"] == true
            lines.append("readiness:  \(ready ? "READY" : "NOT READY") (\(text(status["readiness"]?["reason"])))")
            return lines.joined(separator: "\n")
        }
    }
}
