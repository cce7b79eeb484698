import ArgumentParser
import Foundation
import Monitor
import ProxyEngine
import Replay

/// `pgreel monitor`: the recording proxy with a live terminal dashboard instead of the printed log.
struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Run the recording proxy with a live terminal dashboard (press ? in it for the keys)."
    )

    @OptionGroup var options: ProxyOptions

    @OptionGroup(title: "Step-through replay (o in the dashboard)") var replay: MonitorReplayOptions

    @Option(help: ArgumentHelp(
        "Queries the dashboard keeps on screen (default 10000); the session files keep every one.", valueName: "N"))
    var history: Int = 10_000

    func validate() throws {
        guard self.history > 0 else {
            throw ValidationError("--history must be a positive number of queries, not \(self.history)")
        }
    }

    func run() async throws {
        ignoreFileSizeLimitSignal()
        returnLargeBuffersToTheSystem()
        let output = StandardOutput()
        // The dashboard draws on a terminal; scripts, pipes and services want the headless proxy instead.
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
            output.writeError("pgreel monitor needs a terminal; use `pgreel proxy` for headless mode")
            throw ExitCode(2)
        }
        let configuration = try loadConfiguration(self.options)
        let environment = ProcessInfo.processInfo.environment
        // A file to open at once is read (and its target resolved) before the screen is taken, so a bad one is
        // one line and exit code 2, as with `pgreel replay`.
        var initial: LoadedReplay?
        if let file = self.replay.file {
            do {
                initial = try LoadedReplay.load(
                    path: file, dbURL: self.replay.dbURL, environment: environment, options: self.replay.options)
            } catch {
                output.writeError("pgreel monitor: \(error)")
                throw ExitCode(2)
            }
        }
        let replayLaunch = ReplayLaunch(
            sessionsDirectory: configuration.sessionsDirectory, dbURL: self.replay.dbURL, environment: environment,
            options: self.replay.options, initial: initial)
        let server: ProxyServer
        do {
            server = try ProxyServer(configuration: configuration, group: self.options.eventLoopGroup)
        } catch {
            throw CLIError("\(error)")
        }
        let dashboard = Dashboard(
            bus: server.bus,
            options: Dashboard.Options(
                useColor: TerminalStyle.shouldUseColor(isTTY: true, environment: environment)))
        let address: ListenAddress
        do {
            try await server.start()
            address = ListenAddress(
                host: configuration.listenHost, port: server.localAddress?.port ?? configuration.listenPort)
        } catch {
            throw CLIError("cannot listen on \(configuration.listenAddress): \(error)")
        }

        var upstreams: [String] = []
        for user in configuration.users where !upstreams.contains(user.upstream.masked) {
            upstreams.append(user.upstream.masked)
        }
        var connectHint: String?
        if let user = configuration.users.first {
            let host = ["", "0.0.0.0", "::", "*"].contains(configuration.listenHost) ? "127.0.0.1" : configuration.listenHost
            connectHint = "psql -h \(host) -p \(address.port) -U \(user.name) -d \(user.upstream.database)"
        }
        let settings = DashboardSettings(
            listenAddress: address.description, maskedUpstreams: upstreams,
            sessionsDirectory: configuration.recording ? configuration.sessionsDirectory : nil,
            historyLimit: self.history, connectHint: connectHint, warnings: configuration.warnings)

        dashboard.stopOnTerminationSignals()
        let final: DashboardState
        do {
            final = try await dashboard.run(settings: settings, replay: replayLaunch)
        } catch {
            await server.shutdown()
            throw CLIError("\(error)")
        }
        await server.shutdown(gracePeriod: .milliseconds(Int(self.options.shutdownTimeout * 1000)))
        let model = final.live
        var goodbye = "pgreel monitor: \(DisplayText.count(model.totalQueries)) queries, "
            + "\(DisplayText.count(model.totalErrors)) \(model.totalErrors == 1 ? "error" : "errors")"
        if let directory = settings.sessionsDirectory { goodbye += "; sessions recorded in \(directory)" }
        output.write(goodbye)
    }
}
