import ArgumentParser
import Foundation
import StateTeeConfig

/// `--config FILE`, shared by every command that reads settings
/// (`@OptionGroup var config: ConfigOptions`).
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Settings file of STATETEE_<NAME>=value lines, e.g. /etc/statetee/statetee.env (default: $STATETEE_CONFIG).",
            valueName: "file"))
    var config: String?

    /// This run's settings: the config file (`--config`, else `$STATETEE_CONFIG`)
    /// and the process environment. Throws `SettingsError` (`file:line: reason`).
    func settings() throws(SettingsError) -> Settings {
        try Settings(configFile: config, environment: ProcessInfo.processInfo.environment)
    }
}

extension StateTee {
    /// The precedence paragraph for `statetee --help` (the root command's discussion).
    static let configurationHelp = """
        Settings: every option of engine, proxy, status, switchover, rollback and report can also be given \
        as an environment variable STATETEE_<NAME> (the long option in capitals, dashes as underscores: \
        --data-dir is STATETEE_DATA_DIR) or as a line STATETEE_<NAME>=value of a config file in the systemd \
        EnvironmentFile format, named by --config FILE or $STATETEE_CONFIG (deploy/statetee.env, installed as \
        /etc/statetee/statetee.env, documents every setting). Precedence, highest first: flag, environment \
        variable, config file, built-in default. An empty value counts as unset; an unknown key in the config \
        file is an error naming file:line. Exceptions to the naming: engine --shadow is STATETEE_ENGINE_SHADOW; \
        proxy --engine-token is STATETEE_CONTROL_TOKEN; the --token of status, switchover and rollback is \
        STATETEE_ADMIN_TOKEN; engine --no-error-events is STATETEE_ERROR_EVENTS=no.
        """
}
