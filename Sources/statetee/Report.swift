import ArgumentParser
import Compare
import Foundation
import JSONDiff
import StateTeeConfig
import Storage

extension StateTee {
    /// `statetee report --data-dir D [--format md|html|json] [--since T] [--out F] [--rules FILE]`
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Report what the comparator found: totals, divergences, gaps and the readiness verdict.",
            discussion: """
                Reads D/proxy.sqlite (the proxy's data directory). --data-dir and --rules can also come \
                from STATETEE_DATA_DIR / STATETEE_RULES or the --config file. Exit status: 0 when no unexpected \
                divergence was recorded in the window, 1 when one was, 2 when the options or the data \
                cannot be used.
                """
        )

        @OptionGroup var config: ConfigOptions

        @Option(name: .customLong("data-dir"), help: "The proxy's data directory (holding proxy.sqlite).")
        var dataDirectory: String?

        @Option(help: "md, html (one self-contained page) or json (for CI).")
        var format: String = "md"

        @Option(help: "The window's start: a duration before now (30s, 15m, 2h, 7d, 1w) or an ISO 8601 time or day.")
        var since: String?

        @Option(help: "Write the report to this file instead of standard output.")
        var out: String?

        @Option(help: "The rules file whose readiness settings the verdict uses (default: \(RulesFile.defaultPath) when present).")
        var rules: String?

        func run() async throws {
            let now = Date()
            let resolved: Settings
            do { resolved = try config.settings() } catch { throw Self.usage("\(error)") }
            guard let dataDirectory = resolved.string(.dataDir, flag: dataDirectory) else {
                throw Self.usage("--data-dir (or STATETEE_DATA_DIR) is required")
            }
            let rules = resolved.string(.rules, flag: rules)
            guard let format = ReportFormat(argument: format) else {
                throw Self.usage("--format must be md, html or json, not '\(format)'")
            }
            let sinceDate = try since.map { text in
                guard let date = ReportSince.parse(text, now: now) else {
                    throw Self.usage("--since '\(text)' is not \(ReportSince.accepted)")
                }
                return date
            }
            let settings: ReadinessSettings
            do {
                let path = rules ?? (FileManager.default.fileExists(atPath: RulesFile.defaultPath) ? RulesFile.defaultPath : nil)
                settings = try path.map { try RulesFile.load(path: $0).readiness } ?? ReadinessSettings()
            } catch {
                throw Self.usage("\(error)")
            }
            let file = (dataDirectory as NSString).appendingPathComponent(ProxyStore.fileName)
            guard FileManager.default.fileExists(atPath: file) else {
                throw Self.usage("no \(ProxyStore.fileName) in '\(dataDirectory)' (is it the proxy's --data-dir?)")
            }

            let report: Compare.Report
            do {
                let store = try ProxyStore(path: file)
                report = try await Compare.Report.build(
                    from: store, since: sinceDate, settings: settings, generatedAt: now)
                try await store.close()
            } catch {
                throw Self.usage("cannot read \(file): \(error)")
            }

            let text = format.render(report)
            if let out {
                do {
                    try text.write(toFile: out, atomically: true, encoding: .utf8)
                } catch {
                    throw Self.usage("cannot write \(out): \(error.localizedDescription)")
                }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
        }

        /// Prints `message` to standard error; exit status 2.
        static func usage(_ message: String) -> ExitCode {
            FileHandle.standardError.write(Data("statetee report: \(message)\n".utf8))
            return ExitCode(2)
        }
    }
}
