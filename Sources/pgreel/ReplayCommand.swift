import ArgumentParser
import Foundation
import Monitor
import ProxyEngine
import Replay

/// `pgreel replay`: re-executes recorded sessions against a database and compares every result with the
/// recording. A thin loop over `ReplaySession` (the library's step interface) and `ReplayRunner`.
///
/// Exit codes: 0 everything matched, 1 a mismatch or an unexpected error, 2 the replay could not run (a file that
/// is not a session file, a target that cannot be reached), with one line on stderr saying which and why.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-execute recorded sessions and compare every result with the recording.",
        discussion: """
            The target is --db-url, else DATABASE_URL, else the connection the file records (real_db_host, \
            real_db_port, database, real_user), with the password from the URL, PGPASSWORD or ~/.pgpass. \
            Exit code 0: everything matched; 1: a mismatch or an unexpected error; 2: the replay could not run.
            """
    )

    @Argument(help: ArgumentHelp("Session files; several replay at once, one connection each.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .customLong("db-url"), help: ArgumentHelp("The database to replay against.", valueName: "URL"))
    var dbURL: String?

    @Option(help: ArgumentHelp("Keep the recorded gaps between events, divided by X.", valueName: "X"))
    var speed: Double?

    @Flag(help: "Keep the recorded gaps between events (the same as --speed 1).")
    var realtime = false

    @Flag var safety: ReplaySafetyFlag?

    @Option(
        name: .customLong("ignore-column"),
        help: ArgumentHelp("Do not compare the values of this column (e.g. created_at). Repeatable.", valueName: "NAME")
    )
    var ignoredColumns: [String] = []

    @Flag(help: "Compare rows as a multiset (for queries without ORDER BY).")
    var unordered = false

    @Flag(name: .customLong("stop-on-mismatch"), help: "Stop at the first mismatch or unexpected error.")
    var stopOnMismatch = false

    @Option(help: ArgumentHelp("Write a JSON report.", valueName: "FILE.json"))
    var report: String?

    @Option(help: ArgumentHelp("Write a JUnit XML report, one test case per query.", valueName: "FILE.xml"))
    var junit: String?

    @Flag(help: "Print only mismatches, unexpected errors and the summary.")
    var quiet = false

    @Flag(
        name: .customLong("no-pipeline"),
        help: "Send each query only after the previous answer (slower; durations without overlap).")
    var noPipeline = false

    @Flag(help: "Step through the replay of one file in a terminal view (n steps, r runs, m runs to a mismatch).")
    var tui = false

    func validate() throws {
        guard !self.files.isEmpty else { throw ValidationError("name at least one session file") }
        if self.realtime, self.speed != nil {
            throw ValidationError("--realtime is --speed 1: give one of them")
        }
        if let speed = self.speed, !(speed.isFinite && speed > 0) {
            throw ValidationError("--speed must be a number above 0, e.g. 2 to replay twice as fast")
        }
        if self.tui {
            guard self.files.count == 1 else { throw ValidationError("--tui steps through one file at a time") }
            if self.report != nil || self.junit != nil {
                throw ValidationError("--tui writes its report with w, beside the session file: leave out --report/--junit")
            }
            let headless = [
                ("--quiet", self.quiet), ("--stop-on-mismatch", self.stopOnMismatch), ("--realtime", self.realtime),
                ("--speed", self.speed != nil),
            ]
            if let (flag, _) = headless.first(where: { $0.1 }) {
                throw ValidationError("\(flag) is for the headless replay; --tui steps at your pace")
            }
        }
    }

    var options: ReplayOptions {
        ReplayOptions(
            safety: ReplaySafetyFlag.safety(self.safety),
            speed: self.realtime ? 1 : self.speed,
            comparison: ComparisonOptions(ignoredColumns: self.ignoredColumns, unordered: self.unordered),
            // With --stop-on-mismatch nothing may run past the mismatch, so nothing is sent ahead.
            pipelineDepth: self.noPipeline || self.stopOnMismatch ? 0 : Self.pipelineDepth)
    }

    /// Queries in flight at most: enough to hide a round trip, small enough to keep the answers read ahead few.
    static let pipelineDepth = 64

    func run() async throws {
        if self.tui {
            try await self.runInTerminal()
            return
        }
        let started = Date()
        let clock = ContinuousClock.now
        let output = StandardOutput()
        let environment = ProcessInfo.processInfo.environment
        let options = self.options

        // Everything that can stop the replay from running is checked before anything runs.
        var sessions: [ReplaySession] = []
        for file in self.files {
            do {
                sessions.append(
                    try ReplaySession.load(path: file, dbURL: self.dbURL, environment: environment, options: options))
            } catch {
                output.writeError("pgreel replay: \(error)")
                throw ExitCode(2)
            }
        }
        let failures = await Self.connectAll(sessions)
        if failures.contains(where: { $0 != nil }) {
            for failure in failures.compactMap({ $0 }) { output.writeError("pgreel replay: \(failure)") }
            for session in sessions { await session.close() }
            // The reports still say what happened, so a CI job shows the failure.
            let files = zip(sessions, failures).map { session, failure in
                ReplayReport.File(
                    path: session.path, target: session.target.masked, cut: session.cut?.description,
                    error: failure ?? "not run: another file's target could not be reached",
                    summary: session.script.emptySummary, wallTimeMS: 0, queries: [])
            }
            var summary = ReplaySummary()
            for session in sessions { summary.add(session.script.emptySummary) }
            try self.writeReports(
                files: files, summary: summary, started: started, wallTime: ContinuousClock.now - clock,
                exitCode: 2, options: options, output: output)
            throw ExitCode(2)
        }

        let color = TerminalStyle.shouldUseColor(isTTY: isatty(STDOUT_FILENO) == 1, environment: environment)
        let printerOptions = ReplayPrinter.Options(color: color, quiet: self.quiet)
        let printer = ReplayPrinter(options: printerOptions)
        let prefixes = Self.prefixes(for: self.files)
        if !self.quiet {
            output.write(lines: printer.header())
        }
        for (index, session) in sessions.enumerated() {
            if let cut = session.cut {
                output.writeError(
                    prefixes[index]
                        + printer.cutWarning(path: session.path, cut: cut, eventCount: session.script.eventCount))
            }
            for warning in session.target.warnings {
                output.writeError(prefixes[index] + "⚠️  " + warning)
            }
            if !self.quiet {
                var lines = printer.loaded(path: session.path, eventCount: session.script.eventCount)
                lines += printer.connected(target: session.target, safety: options.safety)
                output.write(lines: lines.map { $0.isEmpty ? $0 : prefixes[index] + $0 })
            }
        }

        let printers = ReplayOutput(printers: Array(repeating: printer, count: sessions.count), prefixes: prefixes)
        let runner = ReplayRunner(
            sessions: sessions, speed: options.speed, stopOnMismatch: self.stopOnMismatch,
            collectReport: self.report != nil || self.junit != nil)
        let results = await runner.run { event in
            await printers.handle(event, output: output)
        }

        var summary = ReplaySummary()
        var problems: [String] = []
        for (index, result) in results.enumerated() {
            summary.add(result.summary)
            if let error = result.error {
                problems.append(self.files.count > 1 ? "\(self.files[index]): \(error)" : "\(error)")
            }
        }
        let wallTime = ContinuousClock.now - clock
        output.write(lines: printer.summary(summary, files: sessions.count, wallTime: wallTime, failures: problems))

        var exitCode: Int32 = 0
        if results.contains(where: { $0.error?.preventedReplay == true }) {
            exitCode = 2
        } else if !problems.isEmpty || !summary.succeeded {
            exitCode = 1
        }
        let files = zip(sessions, results).map { session, result in
            ReplayReport.File(
                path: session.path, target: session.target.masked, cut: session.cut?.description,
                error: result.error?.description, summary: result.summary,
                wallTimeMS: Self.milliseconds(result.wallTime), queries: result.queries)
        }
        try self.writeReports(
            files: files, summary: summary, started: started, wallTime: wallTime, exitCode: exitCode,
            options: options, output: output)
        if exitCode != 0 {
            throw ExitCode(exitCode)
        }
    }

    /// `--tui`: the step-through replay view. The file and its target are checked first (exit code 2, one line, as
    /// without --tui); afterwards the summary is printed, and the exit code is 0 only when every query was replayed
    /// and matched (leaving before anything ran is 0 too).
    private func runInTerminal() async throws {
        let output = StandardOutput()
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
            output.writeError("pgreel replay --tui needs a terminal; leave out --tui for the headless replay")
            throw ExitCode(2)
        }
        let environment = ProcessInfo.processInfo.environment
        let file = self.files[0]
        let loaded: LoadedReplay
        do {
            loaded = try LoadedReplay.load(path: file, dbURL: self.dbURL, environment: environment, options: self.options)
        } catch {
            output.writeError("pgreel replay: \(error)")
            throw ExitCode(2)
        }
        let launch = ReplayLaunch(
            sessionsDirectory: URL(fileURLWithPath: file).deletingLastPathComponent().path, dbURL: self.dbURL,
            environment: environment, options: self.options, initial: loaded)
        let final: ReplayViewState?
        do {
            final = try await ReplayApp.run(
                launch: launch, useColor: TerminalStyle.shouldUseColor(isTTY: true, environment: environment))
        } catch {
            throw CLIError("\(error)")
        }
        guard let final, final.stepsTaken > 0 || final.lastFailure != nil else { return }
        output.write(lines: final.summaryLines())
        if final.exitCode != 0 {
            throw ExitCode(final.exitCode)
        }
    }

    /// Writes `--report` and `--junit` when asked for; a report that cannot be written is exit code 2.
    private func writeReports(
        files: [ReplayReport.File], summary: ReplaySummary, started: Date, wallTime: Duration, exitCode: Int32,
        options: ReplayOptions, output: StandardOutput
    ) throws {
        guard self.report != nil || self.junit != nil else { return }
        let report = ReplayReport(
            startedAt: started, wallTimeMS: Self.milliseconds(wallTime), exitCode: exitCode,
            options: ReplayReport.Options(options, stopOnMismatch: self.stopOnMismatch),
            summary: ReplayReport.Summary(summary), files: files)
        do {
            if let path = self.report {
                try report.json().write(to: URL(fileURLWithPath: path))
            }
            if let path = self.junit {
                try Data(JUnitReport.xml(from: report).utf8).write(to: URL(fileURLWithPath: path))
            }
        } catch {
            output.writeError("pgreel replay: cannot write the report: \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }

    /// Connects every session at once; per session, why it could not connect (nil when it did).
    private static func connectAll(_ sessions: [ReplaySession]) async -> [String?] {
        await withTaskGroup(of: (Int, String?).self) { group in
            for (index, session) in sessions.enumerated() {
                group.addTask {
                    do {
                        try await session.connect()
                        return (index, nil)
                    } catch {
                        return (index, "\(session.path): \(error)")
                    }
                }
            }
            var failures = [String?](repeating: nil, count: sessions.count)
            for await (index, failure) in group {
                failures[index] = failure
            }
            return failures
        }
    }

    /// With several files, each line says which file it is about.
    private static func prefixes(for files: [String]) -> [String] {
        guard files.count > 1 else { return files.map { _ in "" } }
        return files.map { "[" + TerminalText.escaped(URL(fileURLWithPath: $0).lastPathComponent) + "] " }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }
}

/// Prints the runner's events, one printer per file (each remembers its own blank-line state).
private actor ReplayOutput {
    private var printers: [ReplayPrinter]
    private let prefixes: [String]

    init(printers: [ReplayPrinter], prefixes: [String]) {
        self.printers = printers
        self.prefixes = prefixes
    }

    func handle(_ event: ReplayRunner.Event, output: StandardOutput) {
        switch event {
        case .connected:
            break
        case .step(let file, let step):
            let prefix = self.prefixes[file]
            let lines = self.printers[file].lines(for: step)
            output.write(lines: lines.map { $0.isEmpty ? $0 : prefix + $0 })
        case .stopped(let file, let error):
            output.writeError(self.prefixes[file] + "pgreel replay: \(error)")
        }
    }
}
