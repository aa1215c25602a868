import ArgumentParser

@main
struct StateTee: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statetee",
        abstract: "Migrate a live Socket.IO state server to its rewrite without downtime.",
        discussion: StateTee.configurationHelp,
        subcommands: [Bench.self, Engine.self, Conformance.self, Report.self, Proxy.self, Switchover.self, Rollback.self, Status.self]
    )
}
