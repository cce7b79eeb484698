import Foundation
import ProxyEngine
import Replay

/// Prints the runner's events as they come: per job, the seed's lines through a `ReplayPrinter` of its own (each
/// remembers its blank-line state), prefixed with `[file]` (`[file #2]` for a `--scale` copy) when several run;
/// and, on a terminal, one progress line on stderr (sessions done of all, queries/s, mismatches so far), kept
/// below the output: it is wiped before other lines are written and drawn again after, at most 5 times a second.
actor ReplayOutput {
    private let output: StandardOutput
    private let template: ReplayPrinter
    private let quiet: Bool
    private let labels: [String]
    private var printers: [Int: ReplayPrinter] = [:]
    private let safety: ReplayOptions.Safety

    private let progress: Bool
    private var progressShown = false
    private var lastDrawn: ContinuousClock.Instant?
    private let started = ContinuousClock.now
    private var finished = 0
    private var executed = 0
    private var mismatched = 0
    private var failed = 0

    init(
        output: StandardOutput, printer: ReplayPrinter, quiet: Bool, plan: ReplayPlan, safety: ReplayOptions.Safety,
        progress: Bool
    ) {
        self.output = output
        self.template = printer
        self.quiet = quiet
        self.safety = safety
        self.progress = progress
        self.labels = Self.labels(for: plan)
    }

    func handle(_ event: ReplayRunner.Event) {
        switch event {
        case .started(let job, let session, let sessionB):
            var errors: [String] = []
            if let cut = session.cut {
                errors.append(
                    self.template.cutWarning(path: session.path, cut: cut, eventCount: session.script.eventCount))
            }
            errors += session.target.warnings.map { "⚠️  " + $0 }
            var lines: [String] = []
            if !self.quiet {
                lines = self.template.loaded(path: session.path, eventCount: session.script.eventCount)
                lines += self.template.connected(target: session.target, safety: self.safety, targetB: sessionB?.target)
            }
            if let sessionB {
                errors += sessionB.target.warnings.map { "⚠️  B: " + $0 }
            }
            self.write(lines: lines, errors: errors, job: job)
        case .step(let job, let step, let paired):
            if case .query(let query) = step {
                if query.executed { self.executed += 1 }
                if query.status == .mismatched || query.unexpectedError || paired?.isProblem == true {
                    self.mismatched += 1
                }
            }
            var printer = self.printers[job] ?? self.template
            let lines = printer.lines(for: step, paired: paired)
            self.printers[job] = printer
            self.write(lines: lines, errors: [], job: job)
        case .stopped(let job, let error):
            self.failed += 1
            self.write(lines: [], errors: ["pgreel replay: \(error)"], job: job)
        case .finished(let job, _):
            self.finished += 1
            self.printers[job] = nil
            self.drawProgress(force: false)
        }
    }

    /// Wipes the progress line for good (before the summary).
    func end() {
        self.wipeProgress()
    }

    private func write(lines: [String], errors: [String], job: Int) {
        guard !lines.isEmpty || !errors.isEmpty else {
            self.drawProgress(force: false)
            return
        }
        self.wipeProgress()
        let prefix = self.labels[job]
        for error in errors {
            self.output.writeError(prefix + error)
        }
        self.output.write(lines: lines.map { $0.isEmpty ? $0 : prefix + $0 })
        self.drawProgress(force: true)
    }

    private func drawProgress(force: Bool) {
        guard self.progress else { return }
        let now = ContinuousClock.now
        if !force, let last = self.lastDrawn, now - last < .milliseconds(200) { return }
        self.lastDrawn = now
        let elapsed = now - self.started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(self.executed) / seconds : 0
        var line = "⏳ sessions \(TerminalText.grouped(self.finished))/\(TerminalText.grouped(self.labels.count))"
            + " · \(TerminalText.grouped(self.executed)) queries · \(String(format: "%.0f", rate)) q/s"
            + " · \(TerminalText.grouped(self.mismatched)) mismatched"
        if self.failed > 0 { line += " · \(TerminalText.grouped(self.failed)) stopped" }
        self.output.writeErrorRaw("\r\u{1B}[K" + line)
        self.progressShown = true
    }

    private func wipeProgress() {
        guard self.progressShown else { return }
        self.output.writeErrorRaw("\r\u{1B}[K")
        self.progressShown = false
    }

    /// With several jobs, each line says which one it is about.
    private static func labels(for plan: ReplayPlan) -> [String] {
        guard plan.jobs.count > 1 else { return plan.jobs.map { _ in "" } }
        return plan.jobs.map { job in
            let name = TerminalText.escaped(URL(fileURLWithPath: job.head.path).lastPathComponent)
            return job.copy > 0 ? "[\(name) #\(job.copy + 1)] " : "[\(name)] "
        }
    }
}
