import Foundation
import ProxyEngine

/// The human output of `pgreel replay`, in the seed's look (../shared/seed/EXAMPLE_WORKFLOW.txt, step 5).
///
/// Pure apart from remembering whether the last thing printed was a query (for blank lines): events in, lines out.
/// Every piece of text that came from a session file or a server is escaped, so nothing in it can drive the
/// terminal; with `color` off the output holds no escape byte.
///
/// Bounded by what is printed, never by the value, as the headless log is: a one-line text reads at most
/// `maxLineWidth` columns of itself, SQL at most `maxTextLines` lines of them, a differing value a window around
/// its first difference. A client's 50 MB value costs what those show; the session file keeps it whole.
public struct ReplayPrinter: Sendable {
    public struct Options: Sendable, Equatable {
        public var color: Bool
        /// Print only mismatches and unexpected errors (and the summary).
        public var quiet: Bool
        /// Longest value shown in a difference before it is cut around the first differing character.
        public var maxValueWidth: Int
        /// Widest line of SQL, of a message or of any other text, before it is cut with `…`.
        public var maxLineWidth: Int
        /// Lines of SQL shown before the rest is left out.
        public var maxTextLines: Int

        public init(
            color: Bool, quiet: Bool = false, maxValueWidth: Int = 120, maxLineWidth: Int = 2000,
            maxTextLines: Int = 100
        ) {
            self.color = color
            self.quiet = quiet
            self.maxValueWidth = maxValueWidth
            self.maxLineWidth = maxLineWidth
            self.maxTextLines = maxTextLines
        }
    }

    public static let ruleWidth = 53

    public let options: Options
    private var afterQuery = false

    public init(options: Options) {
        self.options = options
    }

    // MARK: - Start

    public func header() -> [String] {
        let width = Self.ruleWidth - 2
        func boxed(_ text: String) -> String {
            "║" + TerminalText.padded(text, toWidth: width) + "║"
        }
        return [
            "╔" + String(repeating: "═", count: width) + "╗",
            boxed("          Session Replay Tool"),
            boxed("          Re-execute recorded queries"),
            "╚" + String(repeating: "═", count: width) + "╝",
            "",
        ]
    }

    public func loaded(path: String, eventCount: Int) -> [String] {
        [self.style("✅ Loaded \(eventCount) event\(eventCount == 1 ? "" : "s") from \(self.clean(path))", .green)]
    }

    /// The one warning for a file cut off by a crash.
    public func cutWarning(path: String, cut: SessionFileContents.CutOff, eventCount: Int) -> String {
        "⚠️  \(self.clean(path)) is cut off at \(self.clean(cut.description)); "
            + "replaying its \(eventCount) complete event\(eventCount == 1 ? "" : "s")"
    }

    public func connected(
        target: ReplayTarget, safety: ReplayOptions.Safety, targetB: ReplayTarget? = nil
    ) -> [String] {
        var lines = [self.style("✅ Connected to database (\(self.clean(target.masked)))", .green)]
        if let targetB {
            lines[0] = self.style("✅ Connected to A (\(self.clean(target.masked)))", .green)
            lines.append(self.style("✅ Connected to B (\(self.clean(targetB.masked)))", .green))
        }
        switch safety {
        case .none:
            break
        case .readOnly:
            lines.append("🔒 Read-only session: statements that write fail, READ WRITE requests are not sent")
        case .rollback:
            lines.append("🔒 Everything runs in one transaction that is rolled back at the end")
        }
        lines.append("")
        return lines
    }

    // MARK: - Steps

    /// The lines for one step; with `quiet`, only mismatches and unexpected errors print. With `--compare-with`,
    /// `paired` is the same step on target B: each verdict line then says its side (A: / B:), and a last line
    /// whether A and B agree.
    public mutating func lines(for step: ReplayStep, paired: PairedStep? = nil) -> [String] {
        switch step {
        case .activity(let item):
            guard !self.options.quiet else { return [] }
            var lines: [String] = []
            if self.afterQuery { lines.append("") }
            self.afterQuery = false
            lines.append("📌 [Event \(item.eventNumber)] Session Activity: \(self.clean(item.activity.activity))")
            return lines
        case .query(let query):
            let problem = query.status == .mismatched || query.unexpectedError || paired?.isProblem == true
            guard !self.options.quiet || problem else { return [] }
            self.afterQuery = true
            guard let paired, let queryB = paired.query else { return self.queryLines(query) }
            var lines = self.queryLines(query, side: "A")
            lines += self.verdictLines(queryB, side: "B")
            lines += self.pairLines(paired)
            return lines
        }
    }

    /// Whether A's and B's results agree.
    private func pairLines(_ paired: PairedStep) -> [String] {
        guard let outcome = paired.versusA else { return [] }
        guard let difference = outcome.difference else {
            return [self.style("   = A and B agree", .green)]
        }
        let values = self.differenceValues(difference)
        return [
            self.style("   ≠ A and B differ: " + self.clean(Self.differenceWhere(difference)), .red),
            "      A: " + values.recorded,
            "      B: " + values.replayed,
        ]
    }

    private func queryLines(_ step: QueryStep, side: String? = nil) -> [String] {
        let query = step.query
        let rule = String(repeating: "━", count: Self.ruleWidth)
        var header =
            "📝 [Event \(step.eventNumber)] Query #\(query.queryNumber) @ "
            + SessionTimestamp.format(step.timestamp)
        if query.redacted { header += " (password masked)" }
        var lines = ["", self.style(header, .bold), rule]
        let sql = TerminalText.escapedLines(
            query.sql, maxLines: self.options.maxTextLines, maxWidth: self.options.maxLineWidth)
        lines += sql.lines
        if sql.isCut {
            lines.append(self.style(TerminalText.cutNote(of: query.sql, what: "SQL"), .dim))
        }
        lines.append(rule)
        if query.queryProtocol == .extended {
            if let name = query.statementName, !name.isEmpty {
                lines.append("   ↳ prepared statement: " + self.clean(name))
            }
            if let parameters = query.parameters, !parameters.isEmpty {
                let shown = parameters.prefix(10).enumerated().map { index, parameter in
                    "$\(index + 1)=" + self.shortValue(parameter.value, binary: parameter.format == .binary)
                }
                lines.append(
                    "   ↳ parameters: " + shown.joined(separator: ", ") + (parameters.count > 10 ? ", …" : ""))
            }
        }

        for substitution in step.substitutions {
            lines.append(
                self.style(
                    "   ↻ id " + self.clean(substitution.recorded) + " → " + self.clean(substitution.replayed) + " ("
                        + self.clean(substitution.place) + ")", .dim))
        }
        var verdict = self.verdictLines(step, side: side)
        for learned in step.learnedIDs.prefix(5) {
            verdict.append(
                self.style(
                    "   ↻ learned id " + self.clean(learned.recorded) + " → " + self.clean(learned.replayed) + " ("
                        + self.clean(learned.place) + ")", .dim))
        }
        if step.learnedIDs.count > 5 {
            verdict.append(self.style("   ↻ … and \(step.learnedIDs.count - 5) more ids learned", .dim))
        }
        return lines + verdict
    }

    /// What the replay of one query gave and how it compares with the recording; `side` ("A", "B") starts each
    /// line's text with `--compare-with`.
    private func verdictLines(_ step: QueryStep, side: String?) -> [String] {
        let mark = side.map { $0 + ": " } ?? ""
        var lines: [String] = []
        switch step.status {
        case .skipped:
            lines.append(self.style("   ⏭  \(mark)Not executed: " + self.clean(step.skipReason ?? "skipped"), .yellow))
        case .matched where !step.executed:
            let note = step.notes.first ?? "not executed, as recorded"
            lines.append(
                self.style("   ✓ \(mark)" + self.clean(note.prefix(1).uppercased() + note.dropFirst()), .green))
            return lines
        default:
            lines += self.executionLines(step, mark: mark)
        }
        switch step.status {
        case .matched:
            lines.append(self.style("   ✓ \(mark)Results match recorded data (\(self.matchText(step)))", .green))
        case .mismatched:
            lines += self.differenceLines(step, mark: mark)
        case .executed:
            if step.notes.contains(ReplaySession.copyNote) { break }
            lines.append(
                self.style("   ⚠️  \(mark)No recorded result to compare with (the file ends before it)", .yellow))
        case .skipped:
            break
        }
        if let regression = step.latencyRegression {
            lines.append(self.style("   ▲ \(mark)" + Self.regressionText(regression), .yellow))
        }
        for note in step.notes where !note.hasPrefix("no recorded result") {
            lines.append(self.style("   ℹ️  \(mark)" + self.clean(note), .dim))
        }
        return lines
    }

    private func executionLines(_ step: QueryStep, mark: String) -> [String] {
        guard let replayed = step.replayed else { return [] }
        if let error = replayed.error {
            return [self.style("   ✗ \(mark)Query failed: " + self.errorText(error), .red)]
        }
        let rows = (replayed.resultSets ?? [replayed.result]).reduce(0) { $0 + $1.rowCount }
        return [self.style("   ✓ \(mark)Query executed: \(ValueText.rows(rows)) returned", .green)]
    }

    private func matchText(_ step: QueryStep) -> String {
        guard let recorded = step.recorded else { return "" }
        if let error = recorded.error {
            return error.code.isEmpty ? "same error" : "same error \(self.clean(error.code))"
        }
        let sets = recorded.resultSets ?? [recorded.result]
        if sets.count > 1 {
            return "\(sets.count) result sets"
        }
        if !recorded.result.columns.isEmpty || recorded.result.rowCount > 0 {
            return ValueText.rows(recorded.result.rowCount)
        }
        return recorded.result.commandTag.map(self.clean) ?? "no result set"
    }

    private func differenceLines(_ step: QueryStep, mark: String) -> [String] {
        guard let difference = step.difference else {
            return [self.style("   ✗ \(mark)Results differ", .red)]
        }
        let values = self.differenceValues(difference)
        var lines = [self.style("   ✗ \(mark)" + self.clean(Self.differenceHeadline(difference)), .red)]
        lines.append("      recorded: " + values.recorded)
        lines.append("      replayed: " + values.replayed)
        if step.differingRows > 1 {
            lines.append("      (\(step.differingRows) of the compared rows differ)")
        }
        return lines
    }

    /// `ERROR 42P01: message`, escaped for one line: only as much of the message is read as can show.
    public func errorText(_ error: RecordedError) -> String {
        var error = error
        error.message = String(Self.head(of: error.message, scalars: self.options.maxLineWidth * 16 + 64).text)
        return self.clean(ValueText.error(error))
    }

    /// `Results differ: row 2, column "value"`: where a difference is (the replay view words it the same way).
    public static func differenceHeadline(_ difference: ResultDifference) -> String {
        "Results differ: " + Self.differenceWhere(difference)
    }

    /// `row 2, column "value"`, or what differs where there is no cell to name.
    static func differenceWhere(_ difference: ResultDifference) -> String {
        let location = difference.location
        if location.isEmpty { return difference.subject }
        return difference.kind == .value ? location : "\(location): \(difference.subject)"
    }

    /// What each side holds, escaped for one line: two differing values longer than `maxValueWidth` cut to a window
    /// around their first difference, anything else as the comparison words it (the replay view shows them so too).
    public func differenceValues(_ difference: ResultDifference) -> (recorded: String, replayed: String) {
        if difference.kind == .value,
            let windows = self.windows(difference.recordedValue, difference.replayedValue, at: difference.differingByte)
        {
            return (self.clean(windows.recorded), self.clean(windows.replayed))
        }
        return (self.clean(difference.recorded), self.clean(difference.replayed))
    }

    /// Characters searched for the first difference of two long values; past them, bytes are compared.
    static let differenceScan = 4096

    /// Two differing cells cut to a window around their first differing character, when either is longer than
    /// `maxValueWidth` (nil otherwise). Only a bounded part of each is read: the first difference is looked for by
    /// character in their first `differenceScan` scalars; further on, by byte (as fast as memory goes), and only
    /// the window around it is read.
    /// `differingByte`: where the values part, as the comparison found it (scanned here when not given).
    private func windows(_ recorded: String?, _ replayed: String?, at differingByte: Int?)
        -> (recorded: String, replayed: String)?
    {
        let width = self.options.maxValueWidth
        guard let recorded, let replayed,
            Self.isLonger(recorded, than: width) || Self.isLonger(replayed, than: width)
        else {
            return nil
        }
        let left = Self.head(of: recorded, scalars: Self.differenceScan)
        let right = Self.head(of: replayed, scalars: Self.differenceScan)
        let common = zip(left.text, right.text).prefix { $0 == $1 }.count
        let counts = (left.text.count, right.text.count)
        // The last character of a head that is not the whole value may be cut short: a difference there is not one.
        func isSure(_ head: (text: Substring, isWhole: Bool), count: Int) -> Bool {
            head.isWhole || common < count - 1
        }
        guard isSure(left, count: counts.0), isSure(right, count: counts.1) else {
            let offset = differingByte ?? ResultDifference.firstDifferentByte(recorded, replayed)
            return (
                Self.window(recorded, aroundByte: offset) + " (differs at byte \(offset + 1))",
                Self.window(replayed, aroundByte: offset)
            )
        }
        let start = max(0, common - 40)
        func window(_ head: (text: Substring, isWhole: Bool), count: Int) -> String {
            let slice = head.text.dropFirst(start).prefix(80)
            let cutAfter = start + slice.count < count || !head.isWhole
            return Self.quotedWindow(slice, cutBefore: start > 0, cutAfter: cutAfter)
        }
        let note = " (differs at character \(common + 1))"
        return (window(left, count: counts.0) + note, window(right, count: counts.1))
    }

    /// Forty characters before byte `offset` of `text` and forty from it, quoted, with `…` where `text` goes on.
    private static func window(_ text: String, aroundByte offset: Int) -> String {
        let utf8 = text.utf8
        let scalars = text.unicodeScalars
        func boundary(_ byte: Int) -> String.Index {
            var index = utf8.index(utf8.startIndex, offsetBy: min(max(byte, 0), utf8.count))
            while String.Index(index, within: scalars) == nil { index = utf8.index(before: index) }
            return index
        }
        // Up to four bytes a character: 160 bytes hold the forty characters before the difference.
        let differs = boundary(offset)
        var before = Substring(scalars[boundary(offset - 160)..<differs])
        before = before.suffix(40)
        let after = Substring(scalars[differs...]).prefix(40)
        return Self.quotedWindow(
            before + after, cutBefore: before.startIndex > text.startIndex, cutAfter: after.endIndex < text.endIndex)
    }

    /// A window of a value in double quotes, with `…` on the sides where the value goes on.
    private static func quotedWindow(_ slice: some StringProtocol, cutBefore: Bool, cutAfter: Bool) -> String {
        (cutBefore ? "…" : "") + ValueText.quoted(String(slice)).dropLast() + "\"" + (cutAfter ? "…" : "")
    }

    /// Whether `text` has more than `count` characters, reading at most 16 scalars a character.
    private static func isLonger(_ text: String, than count: Int) -> Bool {
        let head = Self.head(of: text, scalars: (count + 1) * 16 + 64)
        return !head.isWhole || head.text.count > count
    }

    /// The first `limit` scalars of `text` (all of it when shorter), and whether that is all of it.
    private static func head(of text: String, scalars limit: Int) -> (text: Substring, isWhole: Bool) {
        if text.utf8.count <= limit { return (Substring(text), true) }
        let scalars = text.unicodeScalars
        let end = scalars.index(scalars.startIndex, offsetBy: limit, limitedBy: scalars.endIndex) ?? scalars.endIndex
        return (Substring(scalars[..<end]), end == scalars.endIndex)
    }

    private func shortValue(_ value: String?, binary: Bool) -> String {
        guard let value else { return "NULL" }
        // Base64 is ASCII: its UTF-8 length is its length in characters, and costs nothing to know.
        if binary { return TerminalText.fitted("<binary \(value.utf8.count) base64 chars>", toWidth: 40).text }
        // Quoting only the head that can show (40 columns at most 16 scalars each): the rest would be cut.
        let head = Self.head(of: value, scalars: 40 * 16 + 64)
        var shown = TerminalText.fitted(ValueText.quoted(String(head.text)), toWidth: 40)
        if !head.isWhole, !shown.isCut {
            shown = TerminalText.fitted(ValueText.quoted(String(head.text)), toWidth: max(shown.width, 2) - 1)
            if !shown.isCut { shown.text += "…" }
        }
        return shown.text
    }

    // MARK: - End

    /// The closing summary: the seed's four counts, then what else happened and the time taken.
    /// - Parameter timeLabel: what the time is: the wall time of a headless replay; the step-through view, whose
    ///   wall time is mostly the user's, gives the time spent executing.
    /// The closing summary. With `latency`, the percentiles of the queries that ran on both sides and the worst
    /// regressions come first; `failOnRegression` makes regressions a failure of the replay.
    public func summary(
        _ summary: ReplaySummary, wallTime: Duration, failures: [String], timeLabel: String = "Wall time",
        latency: LatencySamples? = nil, latencyRule: LatencyRule = LatencyRule(), failOnRegression: Bool = false,
        schedule: [String] = [], notComparedReason: String = "no recorded result", pipelined: Bool = false,
        comparison: [String] = [], otherDifferences: [String] = []
    ) -> [String] {
        let rule = String(repeating: "━", count: Self.ruleWidth)
        var lines = ["", rule, self.style("📊 Replay Summary:", .bold)]
        lines += schedule
        lines.append("   Queries executed: \(summary.executed)")
        lines.append("   " + Self.errorsText(summary))
        lines.append("   Results matched: \(summary.matched)")
        lines.append("   Results mismatched: \(summary.mismatched)")
        if summary.notCompared > 0 { lines.append("   Not compared (\(notComparedReason)): \(summary.notCompared)") }
        if summary.skipped > 0 { lines.append("   Not executed: \(summary.skipped)") }
        lines.append("   \(timeLabel): " + Self.format(wallTime))
        if let latency {
            lines += self.latencyLines(latency, rule: latencyRule, pipelined: pipelined)
        }
        lines += comparison
        lines.append(rule)
        lines.append("")
        let regressions = summary.latencyRegressions
        if !failures.isEmpty {
            for failure in failures {
                lines.append(self.style("❌ " + self.clean(failure), .red))
            }
        } else if summary.succeeded, !(failOnRegression && regressions > 0), otherDifferences.isEmpty {
            let note = regressions > 0 ? " (\(regressions) latency regression\(regressions == 1 ? "" : "s"))" : ""
            lines.append(self.style("✅ Session replay completed successfully!" + note, .green))
        } else {
            var what: [String] = []
            if summary.mismatched > 0 { what.append("\(summary.mismatched) mismatched") }
            if summary.unexpectedErrors > 0 { what.append("\(summary.unexpectedErrors) unexpected error(s)") }
            if failOnRegression, regressions > 0 { what.append("\(regressions) latency regression(s)") }
            what += otherDifferences
            lines.append(self.style("❌ Session replay found differences: " + what.joined(separator: ", "), .red))
        }
        return lines
    }

    /// Latency of the queries that ran on both sides: percentiles recorded vs replayed, then the regressions,
    /// worst first (at most `listed`; the JSON report has them all).
    ///
    /// `pipelined`: queries were sent ahead, so each is timed from the previous answer's arrival; answers that came
    /// in one read of the socket share that instant, and a short query can show 0 ms: the percentiles are shown, but
    /// no query is judged a regression.
    public func latencyLines(
        _ samples: LatencySamples, rule: LatencyRule, listed: Int = 10, pipelined: Bool = false
    ) -> [String] {
        guard let latency = samples.summary else { return [] }
        func ratio(_ replayed: Double, _ recorded: Double) -> String {
            LatencySummary.ratio(replayed, recorded).map { String(format: "%.2fx", $0) } ?? "–"
        }
        var lines = [
            "   Latency (\(latency.recorded.count) queries run on both sides):",
            Self.percentilesRow("recorded", latency.recorded),
            Self.percentilesRow("replayed", latency.replayed),
            "     replayed/recorded p50 \(ratio(latency.replayed.p50, latency.recorded.p50)) · "
                + "p95 \(ratio(latency.replayed.p95, latency.recorded.p95)) · "
                + "p99 \(ratio(latency.replayed.p99, latency.recorded.p99))",
        ]
        if pipelined {
            lines.append("   Latency regressions: not judged: queries were sent ahead, answers read together share one time")
            lines.append("     (--no-pipeline, --realtime or --fail-on-regression time each query like the recording)")
            return lines
        }
        let worst = samples.worstRegressions
        let threshold = String(format: "%g", rule.threshold)
        let floor = String(format: "%g", rule.floorMS)
        guard !worst.isEmpty else {
            lines.append("   Latency regressions (over \(threshold)x and \(floor) ms slower): none")
            return lines
        }
        lines.append(
            self.style(
                "   ▲ Latency regressions (over \(threshold)x and \(floor) ms slower): \(worst.count), worst first:",
                .yellow))
        for regression in worst.prefix(listed) {
            // The SQL's start on one line (it is at most 300 characters already).
            let collapsed = regression.sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let sql = TerminalText.fitted(collapsed, toWidth: 60).text
            lines.append(
                "      \(Self.regressionText(regression.latency)) · event \(regression.eventNumber) of "
                    + self.clean(URL(fileURLWithPath: regression.path).lastPathComponent) + " · " + sql)
        }
        if worst.count > listed {
            lines.append("      … and \(worst.count - listed) more (--report lists them all)")
        }
        return lines
    }

    /// `--compare-with`: B against the recording, A against B, and B's speed against A's at each percentile.
    public func comparisonLines(
        targetB: String, summaryB: ReplaySummary, latencyA: LatencySamples, latencyB: LatencySamples,
        pairs: PairCounts
    ) -> [String] {
        var lines = [self.style("   Target B (" + self.clean(targetB) + "):", .bold)]
        lines.append("     Queries executed: \(summaryB.executed)")
        lines.append("     " + Self.errorsText(summaryB))
        lines.append("     Results matched: \(summaryB.matched)")
        lines.append("     Results mismatched: \(summaryB.mismatched)")
        let agree = pairs.compared - pairs.differing
        lines.append(
            self.style(
                "   A vs B: \(agree) of \(pairs.compared) results agree, \(pairs.differing) differ",
                pairs.differing == 0 ? .green : .red))
        if let a = latencyA.summary?.replayed, let b = latencyB.summary?.replayed {
            lines.append("   Latency on A and B (\(a.count) and \(b.count) queries):")
            lines.append(Self.percentilesRow("A", a))
            lines.append(Self.percentilesRow("B", b))
            lines.append("   " + Self.speedText(a: a.p95, b: b.p95, at: "p95") + " · "
                + Self.speedText(a: a.p50, b: b.p50, at: "p50"))
        }
        return lines
    }

    /// `Errors: 3 (2 as recorded)`: how many failed, and how many of them failed when recorded too.
    static func errorsText(_ summary: ReplaySummary) -> String {
        var text = "Errors: \(summary.errors)"
        if summary.errors > 0 {
            let expected = summary.errors - summary.unexpectedErrors
            text += expected == summary.errors ? " (all as recorded)" : " (\(expected) as recorded)"
        }
        return text
    }

    /// `     recorded p50 0.412 ms · p95 1.600 ms · p99 1.852 ms · max 3.158 ms`.
    static func percentilesRow(_ label: String, _ p: LatencyPercentiles) -> String {
        "     \(label) p50 \(Self.ms(p.p50)) · p95 \(Self.ms(p.p95)) · p99 \(Self.ms(p.p99)) · max \(Self.ms(p.max))"
    }

    /// `B is 1.40x slower than A at p95` (or faster, or as fast within 5%).
    static func speedText(a: Double, b: Double, at percentile: String) -> String {
        guard a > 0, b > 0 else { return "B and A not comparable at \(percentile)" }
        let ratio = b / a
        if ratio >= 1.05 { return String(format: "B is %.2fx slower than A at %@", ratio, percentile) }
        if ratio <= 1 / 1.05 { return String(format: "B is %.2fx faster than A at %@", 1 / ratio, percentile) }
        return "B is as fast as A at \(percentile) (within 5%)"
    }

    /// How the sessions ran: how many at once, and with a speed how closely they kept to the recorded schedule.
    public func scheduleLines(
        sessions: Int, copies: Int, concurrency: Int, concurrencySource: String, speed: Double?,
        fidelity: ReplayFidelity?
    ) -> [String] {
        var lines: [String] = []
        let copiesText = copies > 1 ? " (\(sessions / copies) recorded × \(copies) copies; copy 1 compared)" : ""
        lines.append("   Sessions: \(sessions)\(copiesText), at most \(concurrency) at once (\(concurrencySource))")
        if let speed, let fidelity {
            var line = "   Schedule: speed \(String(format: "%g", speed))"
            if let lag = fidelity.lag {
                line += " · late p50 \(Self.ms(lag.p50)) · p95 \(Self.ms(lag.p95)) · max \(Self.ms(lag.max))"
            }
            lines.append(line)
            var rate = "   Throughput: " + String(format: "%.1f", fidelity.achievedQPS) + " queries/s achieved"
            if let scheduled = fidelity.scheduledQPS {
                rate += " vs " + String(format: "%.1f", scheduled) + " scheduled"
            }
            lines.append(rate)
        }
        return lines
    }

    /// `3.20x slower than recorded: 12.10 ms replayed, 3.78 ms recorded`.
    static func regressionText(_ regression: LatencyRegression) -> String {
        let ratio = regression.ratio.isFinite ? String(format: "%.2fx", regression.ratio) : "∞x"
        return "\(ratio) slower than recorded: \(Self.ms(regression.replayedMS)) replayed, "
            + "\(Self.ms(regression.recordedMS)) recorded"
    }

    /// A duration in milliseconds for the latency lines: `0.412 ms`, `12.1 ms`, `1.24 s`.
    static func ms(_ milliseconds: Double) -> String {
        if milliseconds < 10 { return String(format: "%.3f ms", milliseconds) }
        if milliseconds < 1000 { return String(format: "%.1f ms", milliseconds) }
        return String(format: "%.2f s", milliseconds / 1000)
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        return total < 1 ? String(format: "%.1f ms", total * 1000) : String(format: "%.2f s", total)
    }

    // MARK: - Helpers

    /// Text from outside for one line: escaped and cut to `maxLineWidth` columns, reading only what fits.
    private func clean(_ text: String) -> String {
        TerminalText.fitted(text, toWidth: self.options.maxLineWidth).text
    }

    private func style(_ text: String, _ style: TerminalStyle.Style) -> String {
        TerminalStyle.apply(style, to: text, enabled: self.options.color)
    }
}
