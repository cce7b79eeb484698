import ArgumentParser
import Foundation
import ProxyEngine

/// `pgreel proxy`: the headless proxy, printing the session log (or JSON lines) to stdout.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the recording proxy without a dashboard, printing a live log."
    )

    @OptionGroup var options: ProxyOptions

    func run() async throws {
        ignoreFileSizeLimitSignal()
        returnLargeBuffersToTheSystem()
        let configuration = try loadConfiguration(self.options)
        let server: ProxyServer
        do {
            server = try ProxyServer(configuration: configuration, group: self.options.eventLoopGroup)
        } catch {
            throw CLIError("\(error)")
        }
        let output = StandardOutput()
        let useColor = TerminalStyle.shouldUseColor(
            isTTY: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment)
        // Subscribe before starting so not even the first connection's events are missed. In quiet mode only
        // problems are asked for, so the engine does not even build the per-query events. A mailbox, read every
        // few milliseconds, rather than a stream: publishing then wakes nobody, and a batch of lines is one write.
        let mailbox = server.bus.mailbox(
            capacity: 50_000, interest: configuration.quiet ? .problemsOnly : .everything)
        let address: String
        do {
            try await server.start()
            address = ListenAddress(
                host: configuration.listenHost, port: server.localAddress?.port ?? configuration.listenPort
            ).description
        } catch {
            throw CLIError("cannot listen on \(configuration.listenAddress): \(error)")
        }
        for warning in configuration.warnings {
            output.writeError("⚠️  \(warning)")
        }
        if configuration.logFormat == .json {
            output.write(
                JSONLogFormatter.startLine(
                    listen: address, users: configuration.bannerUsers,
                    sessionsDirectory: configuration.recording ? configuration.sessionsDirectory : nil,
                    recording: configuration.recording))
        } else {
            output.write(
                Banner.text(
                    listen: address, users: configuration.bannerUsers,
                    sessionsDirectory: configuration.recording ? configuration.sessionsDirectory : nil,
                    recording: configuration.recording, color: useColor, tls: configuration.bannerTLS))
        }

        let printer = HeadlessLogPrinter(
            mailbox: mailbox, format: configuration.logFormat, color: useColor, output: output)
        printer.start()
        let signal = await waitForTerminationSignal()
        output.writeError("\nReceived \(signal), shutting down.")
        await server.shutdown(gracePeriod: .milliseconds(Int(self.options.shutdownTimeout * 1000)))
        if await !printer.finish() {
            output.writeError("⚠️  the log output is blocked (nobody reads it): exiting without it")
        }
    }
}
