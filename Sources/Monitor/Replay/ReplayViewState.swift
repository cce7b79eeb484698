import Foundation
import ProxyEngine
import Replay

/// The step-through replay of one session file, as one value: the recorded queries with their verdicts, the
/// selection, what is running. Changed only by `handle(_:)` (keys) and `apply(_:)` (what the replay session did),
/// which are pure and return the `ReplayViewCommand`s to carry out; `ReplayViewRenderer` draws it.
///
/// A run (`r`, `m`) is a chain of single steps: each `stepped` event decides whether the next step follows, so Esc,
/// a breakpoint or a mismatch stops it between two queries and keys keep working while one executes. Esc on a query
/// with nothing after it to stop (a single step, or a run already stopping) cancels it on the target.
public struct ReplayViewState: Sendable, Equatable {
    /// What a replay view starts from: the file, its queries and the target.
    public struct Setup: Sendable, Equatable {
        public var path: String
        public var rows: [ReplayRow]
        /// Where the file was cut off, when it was.
        public var cut: String?
        /// The target with its password masked, and where it came from.
        public var target: String
        public var targetSource: String
        public var safety: ReplayOptions.Safety
        public var comparison: ComparisonOptions
        /// When a replayed query counts as a latency regression (what `QueryStep.latencyRegression` was judged by).
        public var latencyRule: LatencyRule
        /// Problems worth telling (an ignored password file ...).
        public var warnings: [String]
        public var openedAt: Date

        public init(
            path: String, script: ReplayScript, cut: String?, target: String, targetSource: String,
            safety: ReplayOptions.Safety, comparison: ComparisonOptions = ComparisonOptions(),
            latencyRule: LatencyRule = LatencyRule(), warnings: [String] = [], openedAt: Date
        ) {
            self.path = path
            self.rows = script.items.enumerated().compactMap { index, item in
                guard case .query(let query) = item else { return nil }
                return ReplayRow(
                    itemIndex: index, eventNumber: query.eventNumber, timestamp: query.timestamp, query: query.query,
                    recorded: query.recorded)
            }
            self.cut = cut
            self.target = target
            self.targetSource = targetSource
            self.safety = safety
            self.comparison = comparison
            self.latencyRule = latencyRule
            self.warnings = warnings
            self.openedAt = openedAt
        }

        /// The setup of a loaded replay session.
        public init(session: ReplaySession, openedAt: Date) {
            self.init(
                path: session.path, script: session.script, cut: session.cut?.description,
                target: session.target.masked, targetSource: session.target.source.rawValue,
                safety: session.options.safety, comparison: session.options.comparison,
                latencyRule: session.options.latency, warnings: session.target.warnings, openedAt: openedAt)
        }
    }

    public enum Connection: Sendable, Equatable {
        case connecting
        case connected
        /// Not connected, and why (the next step or `R` tries again).
        case failed(String)
        case closed
    }

    /// What the replay session is doing for the view; one thing at a time.
    public enum Work: Sendable, Equatable {
        case connecting
        case stepping(row: Int)
        case skipping(row: Int)
        case restarting
        case changingSafety
        case closing
    }

    /// A run: steps follow each other until the end, a breakpoint, Esc, or (`toProblem`) a mismatch or error.
    public enum RunMode: Sendable, Equatable {
        case toEnd
        case toProblem
    }

    public enum Overlay: Sendable, Equatable {
        /// The selected query in full: SQL, parameters, recorded versus replayed.
        case detail
        /// The end-of-replay summary.
        case summary
        case help
    }

    /// A line in the footer until the next key.
    public struct Notice: Sendable, Equatable {
        public var text: String
        public var isWarning: Bool
    }

    public let path: String
    public let cut: String?
    public let target: String
    public let targetSource: String
    public let comparison: ComparisonOptions
    public let latencyRule: LatencyRule
    public private(set) var safety: ReplayOptions.Safety
    public private(set) var rows: [ReplayRow]
    public private(set) var counts = ReplayStatusCounts()
    public private(set) var breakpointCount = 0
    /// The counts as the headless replay keeps them (for the summary and the report).
    public private(set) var summary = ReplaySummary()
    /// Both durations of every query replayed since the view opened or restarted, for the summary's percentiles.
    public private(set) var latency = LatencySamples()
    /// The row the next step executes (`▶`); nil when every query has been replayed or skipped.
    public private(set) var nextRow: Int?
    public private(set) var connection = Connection.connecting
    public private(set) var work: Work? = .connecting
    public private(set) var run: RunMode?
    /// Esc was pressed during a run: it ends after the current query.
    public private(set) var stopRequested = false
    /// Esc asked the target to cancel the running query; the step ends with its answer (57014, or the result when
    /// the query finished first).
    public private(set) var cancelling = false
    /// Steps asked for (`n`) while connecting or while a step ran: each follows the one before.
    public private(set) var queuedSteps = 0
    /// The selected query and the first one the list shows.
    public private(set) var list = ListViewport()
    /// The selection moves to each query as it is replayed (until the user moves it).
    public private(set) var follow = true
    public private(set) var overlay: Overlay?
    public private(set) var detailScroll = DocumentScroll()
    public private(set) var notice: Notice?
    /// `q` was pressed: the connection closes, then the view goes.
    public private(set) var isLeaving = false
    public private(set) var isClosed = false
    /// When the current run started (opened or restarted), for the report.
    public private(set) var startedAt: Date
    /// Wall time spent executing steps since then.
    public private(set) var executingMS: Double = 0
    /// Steps taken since the view opened or restarted; the safety mode can change only before the first.
    public private(set) var stepsTaken = 0
    /// The last step failure not resolved by a later step (for the report).
    public private(set) var lastFailure: String?
    public private(set) var size: ScreenSize
    /// Leaving the view ends the program (`pgreel replay --tui`) rather than going back to another view.
    public let quitsOnLeave: Bool

    public init(setup: Setup, size: ScreenSize, quitsOnLeave: Bool = false) {
        self.quitsOnLeave = quitsOnLeave
        self.path = setup.path
        self.cut = setup.cut
        self.target = setup.target
        self.targetSource = setup.targetSource
        self.comparison = setup.comparison
        self.latencyRule = setup.latencyRule
        self.safety = setup.safety
        self.rows = setup.rows
        self.startedAt = setup.openedAt
        self.size = size
        self.counts.add(.pending, setup.rows.count)
        self.summary.queries = setup.rows.count
        self.nextRow = setup.rows.isEmpty ? nil : 0
        var warnings = setup.warnings
        if let cut = setup.cut {
            warnings.insert("⚠ the file is cut off at \(cut): every complete event replays", at: 0)
        }
        if let first = warnings.first {
            self.notice = Notice(text: first, isWarning: true)
        }
    }

    public var layout: ReplayViewLayout { ReplayViewLayout(size: self.size) }

    /// The file's name, without its directory.
    public var fileName: String { URL(fileURLWithPath: self.path).lastPathComponent }

    /// Every query has been replayed or skipped.
    public var isFinished: Bool { self.nextRow == nil && !self.rows.isEmpty }

    /// The safety mode can change only before the first step (and after `R`), while nothing runs.
    public var canChangeSafety: Bool { self.stepsTaken == 0 && self.work == nil && !self.isLeaving }

    /// Where `w` writes the report: beside the session file, `NAME.replay.json` (the session browser skips it).
    public var reportPath: String {
        let base = self.path.hasSuffix(".json") ? String(self.path.dropLast(5)) : self.path
        return base + ".replay.json"
    }

    /// The selected query's index in `rows`.
    public var selected: Int { self.list.selected }

    public var selectedRow: ReplayRow? {
        self.rows.indices.contains(self.selected) ? self.rows[self.selected] : nil
    }

    // MARK: - Reducer: size

    public mutating func resize(to size: ScreenSize) {
        self.size = size
        self.list.reveal(count: self.rows.count, height: self.listHeight)
        self.clampDetailScroll()
    }

    // MARK: - Reducer: keys

    public mutating func handle(_ key: ViewKey) -> [ReplayViewCommand] {
        guard !self.isLeaving else { return [] }
        self.notice = nil
        switch self.overlay {
        case .help:
            self.overlay = nil
            return []
        case .summary:
            switch key {
            case .character("w"):
                return self.writeReport()
            case .escape, .enter, .character("q"), .character(" "):
                self.overlay = nil
                return []
            default:
                self.overlay = nil
                return self.handleMain(key)
            }
        case .detail:
            if self.handleDetail(key) { return [] }
            return self.handleMain(key)
        case nil:
            return self.handleMain(key)
        }
    }

    private mutating func handleMain(_ key: ViewKey) -> [ReplayViewCommand] {
        switch key {
        case .character("n"), .character(" "): return self.step()
        case .character("r"): return self.startRun(.toEnd)
        case .character("m"): return self.startRun(.toProblem)
        case .character("s"): return self.skip()
        case .character("b"): self.toggleBreakpoint()
        case .character("R"): return self.restart()
        case .character("t"): return self.changeSafety()
        case .character("w"): return self.writeReport()
        case .character("?"): self.overlay = .help
        case .enter:
            if self.overlay == .detail {
                self.overlay = nil
            } else if self.selectedRow != nil {
                self.overlay = .detail
                self.detailScroll = DocumentScroll()
            }
        case .escape:
            if (self.run != nil && !self.stopRequested) || self.queuedSteps > 0 {
                self.stopRequested = self.run != nil
                self.queuedSteps = 0
                self.notice = Notice(text: "Stopping after the current query… (Esc again cancels it)", isWarning: false)
            } else if case .stepping(let row) = self.work {
                return self.cancel(row: row)
            } else if self.overlay != nil {
                self.overlay = nil
            } else {
                return self.leave()
            }
        case .character("q"):
            if self.overlay != nil {
                self.overlay = nil
            } else {
                return self.leave()
            }
        case .mouse(let action): self.handleMouse(action)
        default:
            if let move = ListViewport.Move(key, page: max(self.layout.list.height - 1, 1)) {
                self.moveSelection(move)
            }
        }
        return []
    }

    /// Scroll keys of the detail; true when the key was one.
    private mutating func handleDetail(_ key: ViewKey) -> Bool {
        if key == .escape || key == .character("q") {
            if self.run != nil || self.queuedSteps > 0 || self.isStepping, key == .escape { return false }
            self.overlay = nil
            return true
        }
        return self.detailScroll.handle(key, page: max(self.detailRows - 1, 1), within: self.detailLimits)
    }

    /// Rows the detail shows (under its title).
    private var detailRows: Int { max(self.layout.overlayRows.count - 1, 1) }

    /// How far the detail of the selected query can scroll.
    private var detailLimits: DocumentScroll.Limits {
        guard let document = self.detailDocument() else {
            return DocumentScroll.Limits(rows: -self.detailRows, columns: -self.size.columns)
        }
        return DocumentScroll.Limits(document, viewRows: self.detailRows, viewColumns: self.size.columns)
    }

    /// The detail of the selected query as it is drawn at the current width.
    func detailDocument() -> ReplayDetailDocument? {
        guard let row = self.selectedRow else { return nil }
        return ReplayDetailDocument.make(
            row: row, number: self.selected + 1, of: self.rows.count, isNext: self.selected == self.nextRow,
            width: self.size.columns)
    }

    // MARK: Actions

    /// The most `n` presses kept while a query runs.
    static let maximumQueuedSteps = 1000

    private mutating func step() -> [ReplayViewCommand] {
        // n pressed faster than queries run (or before the connection is up) is not lost: it waits its turn.
        if self.run == nil, self.nextRow != nil {
            switch self.work {
            case .connecting, .stepping, .skipping:
                self.queuedSteps = min(self.queuedSteps + 1, Self.maximumQueuedSteps)
                self.follow = true
                return []
            default:
                break
            }
        }
        guard let next = self.readyRow() else { return [] }
        self.work = .stepping(row: next)
        self.follow = true
        return [.step]
    }

    private mutating func startRun(_ mode: RunMode) -> [ReplayViewCommand] {
        guard let next = self.readyRow() else { return [] }
        self.run = mode
        self.stopRequested = false
        self.work = .stepping(row: next)
        self.follow = true
        return [.step]
    }

    private mutating func skip() -> [ReplayViewCommand] {
        guard let next = self.readyRow() else { return [] }
        self.work = .skipping(row: next)
        self.follow = true
        return [.skip]
    }

    /// The next row, when a step may start now; otherwise nil, with a notice saying why.
    private mutating func readyRow() -> Int? {
        if let work = self.work {
            self.notice = Notice(text: Self.busyText(work, running: self.run != nil), isWarning: true)
            return nil
        }
        guard let next = self.nextRow else {
            self.notice = Notice(
                text: self.rows.isEmpty ? "The file holds no query to replay." : "Every query has been replayed: R restarts.",
                isWarning: true)
            return nil
        }
        return next
    }

    static func busyText(_ work: Work, running: Bool) -> String {
        switch work {
        case .connecting: return "Connecting… (wait a moment)"
        case .stepping, .skipping:
            return running ? "Running: Esc stops after the current query." : "A query is running…"
        case .restarting: return "Restarting…"
        case .changingSafety: return "Changing the safety mode…"
        case .closing: return "Closing…"
        }
    }

    /// A query executes on the target (not skipped, not connecting).
    var isStepping: Bool {
        if case .stepping = self.work { return true }
        return false
    }

    /// Esc on the running query: the target is asked to cancel it; the step ends when it answers.
    private mutating func cancel(row: Int) -> [ReplayViewCommand] {
        guard !self.cancelling else {
            self.notice = Notice(text: "Cancelling query \(row + 1)… (waiting for the target)", isWarning: false)
            return []
        }
        self.cancelling = true
        self.run = nil
        self.stopRequested = false
        self.queuedSteps = 0
        self.notice = Notice(text: "Cancelling query \(row + 1) on the target…", isWarning: false)
        return [.cancel]
    }

    private mutating func toggleBreakpoint() {
        guard self.rows.indices.contains(self.selected) else { return }
        self.rows[self.selected].breakpoint.toggle()
        self.breakpointCount += self.rows[self.selected].breakpoint ? 1 : -1
    }

    private mutating func restart() -> [ReplayViewCommand] {
        if let work = self.work {
            self.notice = Notice(text: Self.busyText(work, running: self.run != nil), isWarning: true)
            return []
        }
        self.work = .restarting
        self.overlay = self.overlay == .summary ? nil : self.overlay
        return [.restart]
    }

    private mutating func changeSafety() -> [ReplayViewCommand] {
        guard self.canChangeSafety else {
            let text =
                self.work != nil
                ? Self.busyText(self.work!, running: self.run != nil)
                : "The safety mode changes only before the first step: R restarts, then t."
            self.notice = Notice(text: text, isWarning: true)
            return []
        }
        let next: ReplayOptions.Safety
        switch self.safety {
        case .none: next = .readOnly
        case .readOnly: next = .rollback
        case .rollback: next = .none
        }
        self.work = .changingSafety
        return [.setSafety(next)]
    }

    private mutating func writeReport() -> [ReplayViewCommand] {
        guard self.rows.contains(where: { $0.step != nil }) else {
            self.notice = Notice(text: "Nothing replayed yet: no report to write.", isWarning: true)
            return []
        }
        return [.writeReport(path: self.reportPath, report: self.report())]
    }

    private mutating func leave() -> [ReplayViewCommand] {
        self.isLeaving = true
        self.run = nil
        self.queuedSteps = 0
        self.overlay = nil
        self.notice = Notice(text: "Closing the replay connection…", isWarning: false)
        return [.close]
    }

    // MARK: Selection

    /// Rows the list shows.
    private var listHeight: Int { max(self.layout.list.height, 1) }

    /// The user moves the selection: it no longer follows the replay.
    private mutating func moveSelection(_ move: ListViewport.Move) {
        guard !self.rows.isEmpty else { return }
        self.list.apply(move, count: self.rows.count, height: self.listHeight)
        self.follow = false
        self.detailScroll = DocumentScroll()
    }

    private mutating func clampDetailScroll() {
        guard self.overlay == .detail else { return }
        self.detailScroll = self.detailScroll.clamped(to: self.detailLimits)
    }

    private mutating func handleMouse(_ action: MouseAction) {
        let frame = self.layout.list
        switch action.kind {
        case .wheelUp: self.moveSelection(.by(-3))
        case .wheelDown: self.moveSelection(.by(3))
        case .press, .doubleClick:
            let offset = action.row - frame.top
            guard let index = self.list.row(atOffset: offset, count: self.rows.count, height: frame.height) else {
                return
            }
            self.moveSelection(.to(index))
            if action.kind == .doubleClick {
                self.overlay = .detail
            }
        }
    }

    // MARK: - Reducer: what the session did

    public mutating func apply(_ event: ReplayViewEvent) -> [ReplayViewCommand] {
        switch event {
        case .connected:
            self.connection = .connected
            if self.work == .connecting || self.work == .changingSafety { self.work = nil }
            return self.nextQueuedStep()
        case .connectionFailed(let reason):
            self.connection = .failed(reason)
            self.queuedSteps = 0
            if self.work == .connecting || self.work == .changingSafety { self.work = nil }
            if !self.isLeaving {
                self.notice = Notice(text: "R tries again · " + reason, isWarning: true)
            }
        case .stepped(let step, let elapsedMS, let marks):
            return self.stepped(step, elapsedMS: elapsedMS, marks: marks)
        case .cancelFailed:
            guard self.cancelling else { return [] }
            self.cancelling = false
            if self.isStepping, !self.isLeaving {
                self.notice = Notice(
                    text: "The target could not be asked to cancel (no cancel key): the query runs on.", isWarning: true)
            }
        case .reachedEnd:
            self.cancelling = false
            self.work = nil
            self.run = nil
            self.queuedSteps = 0
            self.nextRow = nil
        case .stepFailed(let reason):
            if case .stepping(let row) = self.work, self.rows.indices.contains(row) {
                self.update(row) { $0.failure = reason }
            }
            self.work = nil
            self.run = nil
            self.queuedSteps = 0
            self.stopRequested = false
            self.cancelling = false
            self.lastFailure = reason
            self.connection = .failed(reason)
            if !self.isLeaving {
                self.notice = Notice(text: "n tries the query again, R restarts · " + reason, isWarning: true)
            }
        case .restarted(let at):
            self.reset(at: at)
            self.connection = .connected
            if !self.isLeaving { self.notice = Notice(text: "Restarted on a fresh connection.", isWarning: false) }
        case .restartFailed(let at, let reason):
            self.reset(at: at)
            self.connection = .failed(reason)
            if !self.isLeaving { self.notice = Notice(text: "R tries again · " + reason, isWarning: true) }
        case .safetyChanged(let safety):
            self.safety = safety
            self.connection = .connecting
        case .reportWritten(let path):
            self.notice = Notice(text: "Report written to " + path, isWarning: false)
        case .reportFailed(let reason):
            self.notice = Notice(text: "Cannot write the report: " + reason, isWarning: true)
        case .closed:
            self.connection = .closed
            self.work = nil
            if self.isLeaving { self.isClosed = true }
        }
        return []
    }

    private mutating func stepped(
        _ step: QueryStep, elapsedMS: Double, marks: [CellDifferences]
    ) -> [ReplayViewCommand] {
        let expected: Int?
        switch self.work {
        case .stepping(let row), .skipping(let row): expected = row
        default: expected = nil
        }
        self.work = nil
        let cancelled = self.cancelling
        self.cancelling = false
        guard let index = self.rowIndex(ofItem: step.index, expected: expected) else { return [] }
        self.update(index) { row in
            row.step = step
            row.marks = marks
            row.failure = nil
        }
        self.lastFailure = nil
        self.summary.add(step)
        self.latency.add(step, path: self.path)
        self.executingMS += elapsedMS
        self.stepsTaken += 1
        self.nextRow = index + 1 < self.rows.count ? index + 1 : nil
        if self.connection != .closed { self.connection = .connected }
        if self.follow {
            self.list.apply(.to(index), count: self.rows.count, height: self.listHeight)
            self.detailScroll = DocumentScroll()
        }
        if cancelled, !self.isLeaving {
            let code = step.replayed?.error?.code
            self.notice = Notice(
                text: code == "57014"
                    ? "Query \(index + 1) cancelled on the target (57014)." : "Query \(index + 1) finished before the cancel.",
                isWarning: code == "57014")
        }
        if let run = self.run {
            let status = self.rows[index].status
            if self.isLeaving {
                self.run = nil
            } else if self.stopRequested {
                self.run = nil
                self.notice = Notice(text: "Stopped after query \(index + 1).", isWarning: false)
            } else if let next = self.nextRow {
                if run == .toProblem, status == .mismatched || status == .error {
                    self.run = nil
                    self.notice = Notice(text: "Stopped at a \(status == .error ? "failed" : "mismatched") query.", isWarning: true)
                } else if self.rows[next].breakpoint {
                    self.run = nil
                    self.notice = Notice(text: "Stopped at the breakpoint before query \(next + 1).", isWarning: false)
                    if self.follow {
                        self.list.apply(.to(next), count: self.rows.count, height: self.listHeight)
                    }
                } else {
                    self.work = .stepping(row: next)
                    return [.step]
                }
            } else {
                self.run = nil
            }
            self.stopRequested = false
        }
        if self.nextRow == nil, !self.isLeaving {
            self.queuedSteps = 0
            self.overlay = .summary
        }
        return self.nextQueuedStep()
    }

    /// The next of the steps `n` queued, when nothing else runs.
    private mutating func nextQueuedStep() -> [ReplayViewCommand] {
        guard self.queuedSteps > 0, self.work == nil, self.run == nil, !self.isLeaving else { return [] }
        guard let next = self.nextRow else {
            self.queuedSteps = 0
            return []
        }
        self.queuedSteps -= 1
        self.work = .stepping(row: next)
        return [.step]
    }

    private func rowIndex(ofItem item: Int, expected: Int?) -> Int? {
        if let expected, self.rows.indices.contains(expected), self.rows[expected].itemIndex == item {
            return expected
        }
        return self.rows.firstIndex { $0.itemIndex == item }
    }

    /// Changes a row, keeping the counts right.
    private mutating func update(_ index: Int, _ body: (inout ReplayRow) -> Void) {
        let before = self.rows[index].status
        body(&self.rows[index])
        self.counts.move(from: before, to: self.rows[index].status)
    }

    /// Every query pending again, breakpoints kept.
    private mutating func reset(at date: Date) {
        for index in self.rows.indices {
            self.rows[index].step = nil
            self.rows[index].marks = []
            self.rows[index].failure = nil
        }
        self.counts = ReplayStatusCounts()
        self.counts.add(.pending, self.rows.count)
        self.summary = ReplaySummary()
        self.summary.queries = self.rows.count
        self.latency = LatencySamples()
        self.cancelling = false
        self.nextRow = self.rows.isEmpty ? nil : 0
        self.work = nil
        self.run = nil
        self.queuedSteps = 0
        self.stopRequested = false
        self.stepsTaken = 0
        self.executingMS = 0
        self.startedAt = date
        self.lastFailure = nil
        self.follow = true
        self.list = ListViewport()
        if self.overlay == .summary { self.overlay = nil }
    }

    // MARK: - The report

    /// The report `w` writes: the JSON of `pgreel replay --report`, for the queries replayed since the view opened
    /// (or restarted).
    public func report() -> ReplayReport {
        var error = self.lastFailure
        if error == nil, let next = self.nextRow {
            error = "not finished: \(next) of \(self.rows.count) queries replayed when the report was written"
        }
        let exitCode = self.exitCode
        let wallTime = (self.executingMS * 1000).rounded() / 1000
        let options = ReplayOptions(safety: self.safety, comparison: self.comparison, latency: self.latencyRule)
        let file = ReplayReport.File(
            path: self.path, target: self.target, cut: self.cut, error: error, summary: self.summary,
            wallTimeMS: wallTime, queries: self.rows.compactMap(\.step).map { ReplayReport.Query($0) },
            latency: self.latency)
        return ReplayReport(
            startedAt: self.startedAt, wallTimeMS: wallTime, exitCode: exitCode,
            options: ReplayReport.Options(options, stopOnMismatch: false), summary: ReplayReport.Summary(self.summary),
            files: [file], latency: self.latency)
    }

    /// As the headless replay: 0 when every query was replayed and everything matched, 1 otherwise (a mismatch, an
    /// unexpected error, a lost connection, or a replay not finished).
    public var exitCode: Int32 {
        self.lastFailure != nil || self.nextRow != nil || !self.summary.succeeded ? 1 : 0
    }

    /// The summary lines of the headless replay, for the end of the view (and after `pgreel replay --tui`).
    public func summaryLines() -> [String] {
        let printer = ReplayPrinter(options: ReplayPrinter.Options(color: false))
        let wallTime = Duration.nanoseconds(Int64((self.executingMS * 1_000_000).rounded()))
        var failures = self.lastFailure.map { [$0] } ?? []
        if failures.isEmpty, let next = self.nextRow {
            failures.append("not finished: \(next) of \(self.rows.count) queries replayed")
        }
        // The wall time of a replay stepped by hand is mostly the user's: the time spent executing is what says
        // something.
        // One query at a time (the view never sends ahead), so both durations are measured alike and judged.
        return printer.summary(
            self.summary, wallTime: wallTime, failures: failures, timeLabel: "Time executing",
            latency: self.latency, latencyRule: self.latencyRule)
    }
}
