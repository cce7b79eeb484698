import ArgumentParser

/// `pgreel`: watch, record and replay PostgreSQL sessions.
@main
struct PgreelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgreel",
        abstract: "A PostgreSQL proxy that watches, records and replays sessions.",
        version: "0.1.0",
        subcommands: [ProxyCommand.self, ReplayCommand.self, MonitorCommand.self]
    )
}
