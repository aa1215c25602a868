import Foundation
import StateTeeConfig
import Testing

/// The repository root, from this file's path (Tests/StateTeeConfigTests/SettingKeyTests.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct SettingKeyTests {
    @Test func namesAreUniqueAndPrefixed() {
        let names = SettingKey.all.map(\.environmentName)
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.hasPrefix("STATETEE_") })
        #expect(SettingKey.named("STATETEE_DATA_DIR") == .dataDir)
        #expect(SettingKey.named("STATETEE_CONFIG") == nil)
        #expect(SettingKey.dataDir.description == "STATETEE_DATA_DIR")
    }

    /// `deploy/statetee.env` is the installed config file: it must parse, use
    /// only known keys, and document every setting (as a line or a commented
    /// `# STATETEE_X=` example) with its default.
    @Test func theShippedEnvironmentFileDocumentsEverySetting() throws {
        let path = repositoryRoot.appendingPathComponent("deploy/statetee.env").path
        let settings = try Settings(configFile: path, environment: [:])
        #expect(try settings.required(.dataDir, flag: nil) == "/var/lib/statetee")
        #expect(try settings.required(.primary, flag: nil) == "http://127.0.0.1:6970")
        #expect(try settings.int(.port, flag: nil, default: 0) == 6969)

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        /// `STATETEE_X=...`, `#STATETEE_X=...` or `# STATETEE_X=...`: the key.
        func assignedKey(_ line: String) -> String? {
            var rest = Substring(line)
            if rest.hasPrefix("#") { rest = rest.dropFirst().drop { $0 == " " } }
            guard rest.hasPrefix("STATETEE_"), let equals = rest.firstIndex(of: "=") else { return nil }
            return String(rest[..<equals])
        }
        for key in SettingKey.all {
            guard let index = lines.firstIndex(where: { assignedKey($0) == key.environmentName }) else {
                Issue.record("deploy/statetee.env does not mention \(key.environmentName)")
                continue
            }
            // The comment block right above it states the default.
            let block = lines[..<index].reversed().prefix { $0.hasPrefix("#") && assignedKey($0) == nil }
            #expect(
                block.contains { $0.hasPrefix("# Default: ") }, "\(key.environmentName) has no '# Default:' line above it")
        }
    }
}
