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

    @Argument(help: ArgumentHelp(
        "Session files, or directories to search for them (recursively); each session on a connection of its own.",
        valueName: "FILE|DIR"))
    var files: [String] = []

    @Option(help: ArgumentHelp("Only the sessions of this pseudo user.", valueName: "NAME"))
    var user: String?

    @Option(help: ArgumentHelp(
        "Only sessions that started at or after TIME (2026-12-02T10:30:00Z, 2026-12-02 10:30, 2026-12-02, or 2h ago).",
        valueName: "TIME"))
    var since: String?

    @Option(help: ArgumentHelp("Only sessions that started before TIME.", valueName: "TIME"))
    var until: String?

    @Option(help: ArgumentHelp(
        "Sessions at once, at most (default: what the target has free, up to 100; with a speed, also no more than "
            + "the recording had).", valueName: "N"))
    var concurrency: Int?

    @Option(help: ArgumentHelp(
        "Run every session N times (a capacity test); only the first copy is compared.", valueName: "N"))
    var scale: Int = 1

    @Option(help: ArgumentHelp("Start copy k of a session k × MS milliseconds after the first.", valueName: "MS"))
    var stagger: Double = 0

    @Option(name: .customLong("db-url"), help: ArgumentHelp("The database to replay against.", valueName: "URL"))
    var dbURL: String?

    @Option(
        name: .customLong("compare-with"),
        help: ArgumentHelp(
            "A second target: each session runs on both at once; results are compared A vs recording, B vs "
                + "recording and A vs B, latencies A vs B.", valueName: "URL"))
    var compareWith: String?

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

    @Option(
        name: .customLong("id-mode"),
        help: ArgumentHelp(
            "map (default): ids generated on the target (RETURNING, currval/lastval/nextval) replace the recorded ones "
                + "in later queries and comparisons; off: send every query as recorded.", valueName: "map|off"))
    var idMode: ReplayOptions.IDMode = .map

    @Flag(help: "Compare rows as a multiset (for queries without ORDER BY).")
    var unordered = false

    @Flag(name: .customLong("stop-on-mismatch"), help: "Stop at the first mismatch or unexpected error.")
    var stopOnMismatch = false

    @Option(help: ArgumentHelp(
        "A query is a latency regression when it runs more than X times slower than recorded (default 2).",
        valueName: "X"))
    var latencyThreshold: Double?

    @Option(help: ArgumentHelp(
        "... and more than MS milliseconds slower (default 1).", valueName: "MS"))
    var latencyFloor: Double?

    @Flag(help: "Latency regressions fail the replay (exit 1; JUnit failures).")
    var failOnRegression = false

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
        guard !self.files.isEmpty else { throw ValidationError("name at least one session file or directory") }
        for (flag, text) in [("--since", self.since), ("--until", self.until)] {
            if let text, TimeArgument.parse(text) == nil {
                throw ValidationError("\(flag) '\(text)' is not \(TimeArgument.accepted)")
            }
        }
        if let concurrency = self.concurrency, concurrency < 1 {
            throw ValidationError("--concurrency must be at least 1")
        }
        if self.compareWith != nil, self.scale != 1 {
            throw ValidationError("--scale and --compare-with do not go together yet: run --scale against each target")
        }
        if self.scale < 1 {
            throw ValidationError("--scale must be at least 1 (1 runs each session once)")
        }
        if !(self.stagger.isFinite && self.stagger >= 0) {
            throw ValidationError("--stagger must be a number of milliseconds, 0 or more")
        }
        if self.realtime, self.speed != nil {
            throw ValidationError("--realtime is --speed 1: give one of them")
        }
        if let threshold = self.latencyThreshold, !(threshold.isFinite && threshold >= 1) {
            throw ValidationError("--latency-threshold must be a number of at least 1, e.g. 1.5 for 50% slower")
        }
        if let floor = self.latencyFloor, !(floor.isFinite && floor >= 0) {
            throw ValidationError("--latency-floor must be a number of milliseconds, 0 or more")
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
                ("--speed", self.speed != nil), ("--scale", self.scale != 1), ("--concurrency", self.concurrency != nil),
                ("--user", self.user != nil), ("--since", self.since != nil), ("--until", self.until != nil),
                ("--compare-with", self.compareWith != nil),
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
            pipelineDepth: self.sendsAhead ? Self.pipelineDepth : 0,
            latency: LatencyRule(threshold: self.latencyThreshold ?? 2, floorMS: self.latencyFloor ?? 1),
            idMode: self.idMode)
    }

    /// Whether queries are sent ahead of the answers: not with --no-pipeline, not with --stop-on-mismatch (nothing
    /// may run past the mismatch), and not when latency is to be judged (--fail-on-regression, --latency-threshold,
    /// --latency-floor): sent ahead, answers read in one batch share one arrival time, so a query's own duration is
    /// not measured like the recording's.
    var sendsAhead: Bool {
        !(self.noPipeline || self.stopOnMismatch || self.failOnRegression || self.latencyThreshold != nil
            || self.latencyFloor != nil)
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

        // Everything that can stop the replay from running is checked before anything runs: the paths, each file's
        // head, the targets (reached once each, which also tells how many connections they can take).
        let plan: ReplayPlan
        let targets: [String: ReplayTarget]
        var targetB: ReplayTarget?
        do throws(ReplayError) {
            let filter = SessionFilter(
                user: self.user, since: self.since.flatMap { TimeArgument.parse($0) },
                until: self.until.flatMap { TimeArgument.parse($0) })
            let selection = try ReplaySelection.select(self.files, filter: filter, readTails: options.speed != nil)
            for skipped in selection.skipped {
                output.writeError("pgreel replay: skipped \(skipped)")
            }
            plan = ReplayPlan(
                heads: selection.heads, speed: options.speed, scale: self.scale, stagger: self.stagger / 1000)
            targets = try self.resolveTargets(selection.heads, environment: environment, safety: options.safety)
            if let compareWith = self.compareWith, let first = selection.heads.first {
                targetB = try Self.resolveB(compareWith, head: first, environment: environment, safety: options.safety)
            }
        } catch {
            output.writeError("pgreel replay: \(error)")
            throw ExitCode(2)
        }
        let budgets: [ConnectionBudget]
        do throws(ReplayError) {
            budgets = try await Self.probe(Array(targets.values) + (targetB.map { [$0] } ?? []))
        } catch {
            output.writeError("pgreel replay: \(error)")
            // The reports still say what happened, so a CI job shows the failure.
            let files = plan.jobs.map { job in
                ReplayReport.File(
                    path: job.head.path, target: nil, cut: nil, error: "not run: \(error)", summary: ReplaySummary(),
                    wallTimeMS: 0, queries: [], copy: job.copy)
            }
            try self.writeReports(
                files: files, summary: ReplaySummary(), started: started, wallTime: ContinuousClock.now - clock,
                exitCode: 2, options: options, output: output)
            throw ExitCode(2)
        }
        let (concurrency, concurrencySource) = self.concurrency(plan: plan, budgets: budgets)

        let color = TerminalStyle.shouldUseColor(isTTY: isatty(STDOUT_FILENO) == 1, environment: environment)
        let printer = ReplayPrinter(options: ReplayPrinter.Options(color: color, quiet: self.quiet))
        if !self.quiet {
            output.write(lines: printer.header())
        }
        let printers = ReplayOutput(
            output: output, printer: printer, quiet: self.quiet, plan: plan, safety: options.safety,
            progress: isatty(STDERR_FILENO) == 1 && plan.jobs.count > 1)
        let dbURL = self.dbURL
        let compareWith = self.compareWith
        var runner = ReplayRunner(
            plan: plan, concurrency: concurrency, stopOnMismatch: self.stopOnMismatch,
            collectReport: self.report != nil || self.junit != nil
        ) { (job) throws(ReplayError) in
            var jobOptions = options
            jobOptions.compareResults = job.compared
            return try ReplaySession.load(
                path: job.head.path, dbURL: dbURL, environment: environment, options: jobOptions)
        }
        if let compareWith {
            runner.comparison = options.comparison
            runner.loadB = { (sessionA) throws(ReplayError) in
                var head = SessionFileHead(path: sessionA.path)
                head.sessionStart = sessionA.script.sessionStart
                let target = try Self.resolveB(compareWith, head: head, environment: environment, safety: options.safety)
                return sessionA.on(target)
            }
        }
        let results = await runner.run { event in
            await printers.handle(event)
        }
        await printers.end()

        var summary = ReplaySummary()
        var latency = LatencySamples()
        var summaryB = ReplaySummary()
        var latencyB = LatencySamples()
        var pairs = PairCounts()
        var problems: [String] = []
        for result in results {
            summary.add(result.summary)
            latency.add(result.latency)
            if let b = result.b {
                summaryB.add(b.summary)
                latencyB.add(b.latency)
            }
            pairs.add(result.pairs)
            if let error = result.error {
                problems.append(plan.jobs.count > 1 ? "\(result.path): \(error)" : "\(error)")
            }
        }
        let wallTime = ContinuousClock.now - clock
        // With --compare-with, which sides differ: the report and the exit code say so.
        var sides: [String] = []
        var otherDifferences: [String] = []
        if targetB != nil {
            if !summary.succeeded { sides.append("A vs recording") }
            if !summaryB.succeeded {
                sides.append("B vs recording")
                otherDifferences.append("B: \(summaryB.mismatched) mismatched, \(summaryB.unexpectedErrors) unexpected error(s)")
            }
            if pairs.differing > 0 {
                sides.append("A vs B")
                otherDifferences.append("A vs B: \(pairs.differing) differ")
            }
        }
        let fidelity = ReplayFidelity(plan: plan, results: results, wallTime: wallTime)
        let schedule = printer.scheduleLines(
            sessions: plan.jobs.count, copies: self.scale, concurrency: concurrency,
            concurrencySource: concurrencySource, speed: options.speed, fidelity: fidelity)
        output.write(
            lines: printer.summary(
                summary, wallTime: wallTime, failures: problems, latency: latency,
                latencyRule: options.latency, failOnRegression: self.failOnRegression,
                schedule: plan.jobs.count > 1 || options.speed != nil ? schedule : [],
                notComparedReason: self.scale > 1 ? "--scale copies, or no recorded result" : "no recorded result",
                pipelined: options.pipelines,
                comparison: targetB.map {
                    printer.comparisonLines(
                        targetB: $0.masked, summaryB: summaryB, latencyA: latency, latencyB: latencyB, pairs: pairs)
                } ?? [],
                otherDifferences: otherDifferences))

        var exitCode: Int32 = 0
        if results.contains(where: { $0.error?.preventedReplay == true }) {
            exitCode = 2
        } else if !problems.isEmpty || !summary.succeeded || !otherDifferences.isEmpty
            || (self.failOnRegression && summary.latencyRegressions + summaryB.latencyRegressions > 0)
        {
            exitCode = 1
        }
        let files = results.map { result in
            ReplayReport.File(
                path: result.path, target: result.target, cut: result.cut,
                error: result.error?.description ?? result.notRun, summary: result.summary,
                wallTimeMS: Self.milliseconds(result.wallTime), queries: result.queries, latency: result.latency,
                copy: result.copy)
        }
        try self.writeReports(
            files: files, summary: summary, started: started, wallTime: wallTime, exitCode: exitCode,
            options: options, output: output, latency: latency,
            schedule: ReplayReport.Schedule(
                sessions: plan.jobs.count, scale: self.scale, staggerMS: self.stagger, concurrency: concurrency,
                concurrencySource: concurrencySource, speed: options.speed, fidelity: fidelity),
            comparison: targetB.map {
                ReplayReport.Comparison(
                    targetA: targets.keys.sorted().joined(separator: ", "), targetB: $0.masked, summaryB: summaryB,
                    latencyA: latency, latencyB: latencyB, pairs: pairs, differences: sides)
            })
        if exitCode != 0 {
            throw ExitCode(exitCode)
        }
    }

    /// Each file's target, by its masked URL (with --db-url or DATABASE_URL, one for all).
    private func resolveTargets(
        _ heads: [SessionFileHead], environment: [String: String], safety: ReplayOptions.Safety
    ) throws(ReplayError) -> [String: ReplayTarget] {
        var targets: [String: ReplayTarget] = [:]
        for head in heads {
            let target = try ReplayTarget.resolve(
                dbURL: self.dbURL, environment: environment, head: head, safety: safety)
            targets[target.masked] = targets[target.masked] ?? target
        }
        return targets
    }

    /// `--compare-with URL` as a target (its password from the URL, PGPASSWORD or ~/.pgpass, as for --db-url);
    /// an invalid URL names the option.
    private static func resolveB(
        _ url: String, head: SessionFileHead, environment: [String: String], safety: ReplayOptions.Safety
    ) throws(ReplayError) -> ReplayTarget {
        do throws(ReplayError) {
            return try ReplayTarget.resolve(dbURL: url, environment: environment, head: head, safety: safety)
        } catch .invalidTarget(let message) {
            throw .invalidTarget(message.replacingOccurrences(of: "--db-url", with: "--compare-with"))
        }
    }

    /// Reaches every target once, at the same time; the first that cannot be reached is the error.
    private static func probe(_ targets: [ReplayTarget]) async throws(ReplayError) -> [ConnectionBudget] {
        let outcomes = await withTaskGroup(of: Result<ConnectionBudget, ReplayError>.self) { group in
            for target in targets {
                group.addTask {
                    do throws(ReplayError) {
                        return .success(try await ConnectionBudget.probe(target))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var outcomes: [Result<ConnectionBudget, ReplayError>] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        return try outcomes.map { (outcome) throws(ReplayError) in try outcome.get() }
    }

    /// `--concurrency`, else what every target has free; with a speed, never more than the recording had at once.
    private func concurrency(plan: ReplayPlan, budgets: [ConnectionBudget]) -> (Int, String) {
        if let concurrency = self.concurrency {
            return (concurrency, "--concurrency")
        }
        let tightest = budgets.min { $0.defaultConcurrency < $1.defaultConcurrency }
        var concurrency = tightest?.defaultConcurrency ?? ConnectionBudget.ceiling
        var source = tightest.map {
            "the target has \($0.free) of max_connections \($0.maxConnections) free; --concurrency to change"
        } ?? "default"
        if plan.speed != nil {
            let overlap = plan.recordedOverlap
            if overlap < concurrency {
                concurrency = overlap
                source = "as many as the recording had open at once"
            }
        }
        return (min(concurrency, max(plan.jobs.count, 1)), source)
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
        options: ReplayOptions, output: StandardOutput, latency: LatencySamples = LatencySamples(),
        schedule: ReplayReport.Schedule? = nil, comparison: ReplayReport.Comparison? = nil
    ) throws {
        guard self.report != nil || self.junit != nil else { return }
        let report = ReplayReport(
            startedAt: started, wallTimeMS: Self.milliseconds(wallTime), exitCode: exitCode,
            options: ReplayReport.Options(
                options, stopOnMismatch: self.stopOnMismatch, failOnRegression: self.failOnRegression),
            summary: ReplayReport.Summary(summary), files: files, latency: latency, schedule: schedule,
            comparison: comparison)
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

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1000 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }
}
