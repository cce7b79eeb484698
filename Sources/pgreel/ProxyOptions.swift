import ArgumentParser
import NIOCore
import NIOPosix
import ProxyEngine

/// The options shared by `pgreel proxy` and `pgreel monitor`.
struct ProxyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Address to listen on.", valueName: "HOST:PORT"))
    var listen: String?

    @Option(help: ArgumentHelp(
        "The real database (default postgres://postgres@localhost:5432/postgres); its password from the URL, PGPASSWORD or ~/.pgpass.",
        valueName: "URL"))
    var upstream: String?

    @Option(name: .customLong("user"), help: ArgumentHelp(
        "A pseudo user mapped to --upstream; with a password it must authenticate (SCRAM-SHA-256). Repeatable.",
        valueName: "NAME[:PASSWORD]"))
    var users: [String] = []

    @Option(help: ArgumentHelp("TOML configuration file (docs/configuration.md).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("Directory for session files (default ./sessions).", valueName: "DIR"))
    var sessions: String?

    @Flag(help: "Do not record session files.")
    var noRecord = false

    @Option(help: ArgumentHelp("Rows kept per result in session files (default 1000).", valueName: "N"))
    var maxRecordedRows: Int?

    @Option(help: ArgumentHelp("Log format: text (the seed's look) or json (one object a line).", valueName: "FORMAT"))
    var logFormat: LogFormat?

    @Flag(help: "Print only the banner and errors, not every query.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "On SIGINT/SIGTERM, seconds to let open sessions finish before closing them (default 0).", valueName: "SECONDS"))
    var shutdownTimeout: Double = 0

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "PEM certificate (chain) for TLS toward clients; with --tls-key, SSLRequest is answered S.", valueName: "FILE"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp(
        "PEM private key of --tls-cert (mode 600 or stricter).", valueName: "FILE"))
    var tlsKey: String?

    @Flag(name: .customLong("tls-required"), help: "Refuse clients that do not use TLS (FATAL 28000).")
    var tlsRequired = false

    @Option(help: ArgumentHelp(
        "Client sessions at once; beyond it FATAL 53300 (default: no limit).", valueName: "N"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp(
        "Seconds a client may take to authenticate before FATAL 57014 (default 60).", valueName: "SECONDS"))
    var authTimeout: Int?

    @Option(help: ArgumentHelp(
        "Event loop threads serving sessions (default: one per CPU core).", valueName: "N"))
    var threads: Int?

    func validate() throws {
        if let threads = self.threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256")
        }
    }

    /// The event loops sessions run on: `--threads` of them, or NIO's shared group (one per core).
    var eventLoopGroup: any EventLoopGroup {
        if let threads = self.threads {
            return MultiThreadedEventLoopGroup(numberOfThreads: threads)
        }
        return MultiThreadedEventLoopGroup.singleton
    }

    var flags: CommandLineFlags {
        CommandLineFlags(
            listen: self.listen, upstream: self.upstream, users: self.users, config: self.config,
            sessions: self.sessions, noRecord: self.noRecord, maxRecordedRows: self.maxRecordedRows,
            logFormat: self.logFormat, quiet: self.quiet, tlsCertificate: self.tlsCert, tlsKey: self.tlsKey,
            tlsRequired: self.tlsRequired, maxConnections: self.maxConnections, authTimeout: self.authTimeout)
    }
}

/// `--log-format text|json`: parsed, checked and listed in `--help` by the argument parser.
extension LogFormat: ExpressibleByArgument {}
