import Foundation
import StateTeeConfig
import Testing

let file = """
    # deployment settings
    STATETEE_PORT=7000
    STATETEE_DATA_DIR=/var/lib/statetee
    STATETEE_ERROR_EVENTS=no
    STATETEE_DRAIN_TIMEOUT=2.5
    STATETEE_RULES=
    """

func settings(environment: [String: String] = [:], config: String? = file) throws(SettingsError) -> Settings {
    try Settings(configText: config, path: "/etc/statetee/statetee.env", environment: environment)
}

@Suite struct SettingsTests {
    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let both = try settings(environment: ["STATETEE_PORT": "8000"])
        #expect(try both.int(.port, flag: 9000, default: 6969) == 9000)
        #expect(both.origin(of: .port, flag: "9000") == .flag("--port"))
        #expect(try both.int(.port, flag: nil, default: 6969) == 8000)
        #expect(both.origin(of: .port, flag: nil) == .environment("STATETEE_PORT"))

        let fileOnly = try settings()
        #expect(try fileOnly.int(.port, flag: nil, default: 6969) == 7000)
        #expect(fileOnly.origin(of: .port, flag: nil) == .configFile(path: "/etc/statetee/statetee.env", line: 2))
        #expect(fileOnly.origin(of: .port, flag: nil).description == "/etc/statetee/statetee.env:2")

        let nothing = try settings(config: nil)
        #expect(try nothing.int(.port, flag: nil, default: 6969) == 6969)
        #expect(nothing.origin(of: .port, flag: nil) == .builtInDefault)
        #expect(nothing.configFile == nil)
        #expect(try Settings.none.int(.port, flag: nil, default: 6969) == 6969)
    }

    @Test func emptyValuesCountAsUnset() throws {
        let settings = try settings(environment: ["STATETEE_DATA_DIR": "", "STATETEE_HOST": ""])
        #expect(settings.string(.dataDir, flag: nil) == "/var/lib/statetee")
        #expect(settings.string(.rules, flag: nil, default: "fixtures/rules/scorer.yaml") == "fixtures/rules/scorer.yaml")
        #expect(settings.string(.host, flag: nil, default: "0.0.0.0") == "0.0.0.0")
        // An explicit flag is taken as given, even empty.
        #expect(settings.string(.rules, flag: "", default: "x") == "")
    }

    @Test func typedValues() throws {
        let settings = try settings(environment: ["STATETEE_ENGINE_SHADOW": "Yes", "STATETEE_RATE_LIMIT": " 20 "])
        #expect(try settings.bool(.errorEvents, flag: nil, default: true) == false)
        #expect(try settings.bool(.errorEvents, flag: true, default: false) == true)
        #expect(try settings.bool(.engineShadow, flag: nil, default: false) == true)
        #expect(try settings.int(.rateLimit, flag: nil, default: 50) == 20)
        #expect(try settings.double(.drainTimeout, flag: nil, default: 5) == 2.5)
        #expect(try settings.double(.drainTimeout, flag: 1, default: 5) == 1)
        #expect(try settings.int(.adminPort, flag: nil) == nil)
        for text in ["1", "yes", "y", "TRUE", "t", "On"] { #expect(Settings.parseBool(text) == true) }
        for text in ["0", "no", "N", "false", "F", "off"] { #expect(Settings.parseBool(text) == false) }
        #expect(Settings.parseBool("maybe") == nil)
    }

    @Test func aBadValueNamesItsOrigin() throws {
        let fromFile = try settings(config: "STATETEE_PORT=69x9")
        #expect(throws: SettingsError.self) { try fromFile.int(.port, flag: nil, default: 1) }
        do {
            _ = try fromFile.int(.port, flag: nil, default: 1)
        } catch {
            #expect(error.description == "STATETEE_PORT=69x9 (/etc/statetee/statetee.env:1) is not an integer")
            #expect(error.shortDescription == "invalid_value")
        }
        let fromEnvironment = try settings(environment: ["STATETEE_ENGINE_SHADOW": "sometimes"])
        do {
            _ = try fromEnvironment.bool(.engineShadow, flag: nil, default: false)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "STATETEE_ENGINE_SHADOW=sometimes (environment STATETEE_ENGINE_SHADOW) is not yes or no")
        }
        let infinite = try settings(environment: ["STATETEE_DRAIN_TIMEOUT": "inf"])
        #expect(throws: SettingsError.self) { try infinite.double(.drainTimeout, flag: nil, default: 5) }
    }

    @Test func requiredSettingsNameFlagAndVariable() throws {
        let settings = try settings()
        #expect(try settings.required(.dataDir, flag: nil) == "/var/lib/statetee")
        do {
            _ = try settings.required(.primary, flag: nil)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "missing --primary (or STATETEE_PRIMARY in the environment or the config file)")
        }
    }

    @Test func unknownKeysAreErrorsWithFileLineAndSuggestion() throws {
        func error(_ config: String) -> SettingsError? {
            do {
                _ = try settings(config: config)
                return nil
            } catch { return error }
        }
        #expect(
            error("# x\nSTATETEE_PROT=1")?.description
                == "/etc/statetee/statetee.env:2: unknown setting STATETEE_PROT (did you mean STATETEE_PORT?); every known setting is documented in the shipped statetee.env"
        )
        #expect(error("DATA_DIR=/x")?.reasonText.hasPrefix("unknown setting DATA_DIR (did you mean STATETEE_DATA_DIR?)") == true)
        #expect(error("LEGACY_SEED=4")?.reasonText.hasPrefix("unknown setting LEGACY_SEED;") == true)
        #expect(error("LEGACY_SEED=4")?.shortDescription == "unknown_key")
        #expect(
            error("\nSTATETEE_CONFIG=/other.env")?.description
                == "/etc/statetee/statetee.env:2: STATETEE_CONFIG selects the config file and cannot be set inside one")
    }

    @Test func unknownEnvironmentVariablesAreIgnored() throws {
        let settings = try settings(environment: ["STATETEE_PYTHON": "/usr/bin/python3", "PORT": "1"])
        #expect(try settings.int(.port, flag: nil, default: 6969) == 7000)
    }

    @Test func theFileComesFromTheFlagElseFromStatetteeConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = directory.appendingPathComponent("a.env").path
        let b = directory.appendingPathComponent("b.env").path
        try "STATETEE_PORT=1111\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "STATETEE_PORT=2222\n".write(toFile: b, atomically: true, encoding: .utf8)

        let byFlag = try Settings(configFile: a, environment: ["STATETEE_CONFIG": b])
        #expect(try byFlag.int(.port, flag: nil, default: 0) == 1111)
        #expect(byFlag.configFile?.path == a)
        let byEnvironment = try Settings(configFile: nil, environment: ["STATETEE_CONFIG": b])
        #expect(try byEnvironment.int(.port, flag: nil, default: 0) == 2222)
        #expect(byEnvironment.origin(of: .port, flag: nil) == .configFile(path: b, line: 1))
        let emptyVariable = try Settings(configFile: nil, environment: ["STATETEE_CONFIG": ""])
        #expect(emptyVariable.configFile == nil)

        let missing = directory.appendingPathComponent("missing.env").path
        do {
            _ = try Settings(configFile: missing, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(missing): cannot read the config file: no such file")
            #expect(error.shortDescription == "unreadable")
        }
    }
}

@Suite struct AdminURLTests {
    @Test func fromFlagVariableOrAdminPort() throws {
        let plain = try Settings(configText: nil, path: "", environment: [:])
        #expect(try plain.adminURL(flag: nil, defaultPort: 6971) == "http://127.0.0.1:6971")
        let port = try Settings(configText: "STATETEE_ADMIN_PORT=7100", path: "f.env", environment: [:])
        #expect(try port.adminURL(flag: nil, defaultPort: 6971) == "http://127.0.0.1:7100")
        #expect(try port.adminURL(flag: "http://10.0.0.2:1", defaultPort: 6971) == "http://10.0.0.2:1")
        let url = try Settings(
            configText: "STATETEE_ADMIN_PORT=7100", path: "f.env", environment: ["STATETEE_ADMIN_URL": "http://h:2"])
        #expect(try url.adminURL(flag: nil, defaultPort: 6971) == "http://h:2")
        let bad = try Settings(configText: "STATETEE_ADMIN_PORT=x", path: "f.env", environment: [:])
        #expect(throws: SettingsError.self) { try bad.adminURL(flag: nil, defaultPort: 6971) }
    }
}
