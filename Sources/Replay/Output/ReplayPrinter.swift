import Foundation
import ProxyEngine

/// The human output of `pgreel replay`, in the seed's look (../shared/seed/EXAMPLE_WORKFLOW.txt, step 5).
///
/// Pure apart from remembering whether the last thing printed was a query (for blank lines): events in, lines out.
/// Every piece of text that came from a session file or a server is escaped (`TerminalText.escaped`), so nothing
/// in it can drive the terminal; with `color` off the output holds no escape byte.
public struct ReplayPrinter: Sendable {
    public struct Options: Sendable, Equatable {
        public var color: Bool
        /// Print only mismatches and unexpected errors (and the summary).
        public var quiet: Bool
        /// Longest value shown in a difference before it is cut around the first differing character.
        public var maxValueWidth: Int

        public init(color: Bool, quiet: Bool = false, maxValueWidth: Int = 120) {
            self.color = color
            self.quiet = quiet
            self.maxValueWidth = maxValueWidth
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

    public func connected(target: ReplayTarget, safety: ReplayOptions.Safety) -> [String] {
        var lines = [self.style("✅ Connected to database (\(self.clean(target.masked)))", .green)]
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

    /// The lines for one step; with `quiet`, only mismatches and unexpected errors print.
    public mutating func lines(for step: ReplayStep) -> [String] {
        switch step {
        case .activity(let item):
            guard !self.options.quiet else { return [] }
            var lines: [String] = []
            if self.afterQuery { lines.append("") }
            self.afterQuery = false
            lines.append("📌 [Event \(item.eventNumber)] Session Activity: \(self.clean(item.activity.activity))")
            return lines
        case .query(let query):
            guard !self.options.quiet || query.status == .mismatched || query.unexpectedError else { return [] }
            self.afterQuery = true
            return self.queryLines(query)
        }
    }

    private func queryLines(_ step: QueryStep) -> [String] {
        let query = step.query
        let rule = String(repeating: "━", count: Self.ruleWidth)
        var header =
            "📝 [Event \(step.eventNumber)] Query #\(query.queryNumber) @ "
            + SessionTimestamp.format(step.timestamp)
        if query.redacted { header += " (password masked)" }
        var lines = ["", self.style(header, .bold), rule]
        lines += TerminalText.escapedLines(query.sql)
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

        switch step.status {
        case .skipped:
            lines.append(self.style("   ⏭  Not executed: " + self.clean(step.skipReason ?? "skipped"), .yellow))
        case .matched where !step.executed:
            let note = step.notes.first ?? "not executed, as recorded"
            lines.append(self.style("   ✓ " + self.clean(note.prefix(1).uppercased() + note.dropFirst()), .green))
            return lines
        default:
            lines += self.executionLines(step)
        }
        switch step.status {
        case .matched:
            lines.append(self.style("   ✓ Results match recorded data (\(self.matchText(step)))", .green))
        case .mismatched:
            lines += self.differenceLines(step)
        case .executed:
            lines.append(self.style("   ⚠️  No recorded result to compare with (the file ends before it)", .yellow))
        case .skipped:
            break
        }
        for note in step.notes where !note.hasPrefix("no recorded result") {
            lines.append(self.style("   ℹ️  " + self.clean(note), .dim))
        }
        return lines
    }

    private func executionLines(_ step: QueryStep) -> [String] {
        guard let replayed = step.replayed else { return [] }
        if let error = replayed.error {
            return [self.style("   ✗ Query failed: " + self.clean(ValueText.error(error)), .red)]
        }
        let rows = (replayed.resultSets ?? [replayed.result]).reduce(0) { $0 + $1.rowCount }
        return [self.style("   ✓ Query executed: \(ValueText.rows(rows)) returned", .green)]
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

    private func differenceLines(_ step: QueryStep) -> [String] {
        guard let difference = step.difference else {
            return [self.style("   ✗ Results differ", .red)]
        }
        let location = difference.location
        var head = "   ✗ Results differ: "
        if location.isEmpty {
            head += difference.subject
        } else {
            head += difference.kind == .value ? location : "\(location): \(difference.subject)"
        }
        var lines = [self.style(self.clean(head), .red)]
        var recorded = difference.recorded
        var replayed = difference.replayed
        if difference.kind == .value {
            (recorded, replayed) = self.valuePair(difference.recordedValue, difference.replayedValue)
        }
        lines.append("      recorded: " + self.clean(recorded))
        lines.append("      replayed: " + self.clean(replayed))
        if step.differingRows > 1 {
            lines.append("      (\(step.differingRows) of the compared rows differ)")
        }
        return lines
    }

    /// Two differing cells for display; long ones cut to a window around the first differing character.
    private func valuePair(_ recorded: String?, _ replayed: String?) -> (String, String) {
        guard let recorded, let replayed,
            recorded.count > self.options.maxValueWidth || replayed.count > self.options.maxValueWidth
        else {
            return (ValueText.value(recorded), ValueText.value(replayed))
        }
        let common = zip(recorded, replayed).prefix { $0 == $1 }.count
        let start = max(0, common - 40)
        func window(_ text: String) -> String {
            let slice = text.dropFirst(start).prefix(80)
            return (start > 0 ? "…" : "") + ValueText.quoted(String(slice)).dropLast() + "\""
                + (start + slice.count < text.count ? "…" : "")
        }
        let note = " (differs at character \(common + 1))"
        return (window(recorded) + note, window(replayed))
    }

    private func shortValue(_ value: String?, binary: Bool) -> String {
        guard let value else { return "NULL" }
        let text = binary ? "<binary \(value.count) base64 chars>" : ValueText.quoted(value)
        return TerminalText.truncated(self.clean(text), toWidth: 40)
    }

    // MARK: - End

    /// The closing summary: the seed's four counts, then what else happened and the time taken.
    /// - Parameter timeLabel: what the time is: the wall time of a headless replay; the step-through view, whose
    ///   wall time is mostly the user's, gives the time spent executing.
    public func summary(
        _ summary: ReplaySummary, files: Int, wallTime: Duration, failures: [String], timeLabel: String = "Wall time"
    ) -> [String] {
        let rule = String(repeating: "━", count: Self.ruleWidth)
        var lines = ["", rule, self.style("📊 Replay Summary:", .bold)]
        if files > 1 { lines.append("   Session files: \(files)") }
        lines.append("   Queries executed: \(summary.executed)")
        var errors = "   Errors: \(summary.errors)"
        if summary.errors > 0 {
            let expected = summary.errors - summary.unexpectedErrors
            errors += expected == summary.errors ? " (all as recorded)" : " (\(expected) as recorded)"
        }
        lines.append(errors)
        lines.append("   Results matched: \(summary.matched)")
        lines.append("   Results mismatched: \(summary.mismatched)")
        if summary.notCompared > 0 { lines.append("   Not compared (no recorded result): \(summary.notCompared)") }
        if summary.skipped > 0 { lines.append("   Not executed: \(summary.skipped)") }
        lines.append("   \(timeLabel): " + Self.format(wallTime))
        lines.append(rule)
        lines.append("")
        if !failures.isEmpty {
            for failure in failures {
                lines.append(self.style("❌ " + self.clean(failure), .red))
            }
        } else if summary.succeeded {
            lines.append(self.style("✅ Session replay completed successfully!", .green))
        } else {
            var what: [String] = []
            if summary.mismatched > 0 { what.append("\(summary.mismatched) mismatched") }
            if summary.unexpectedErrors > 0 { what.append("\(summary.unexpectedErrors) unexpected error(s)") }
            lines.append(self.style("❌ Session replay found differences: " + what.joined(separator: ", "), .red))
        }
        return lines
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        return total < 1 ? String(format: "%.1f ms", total * 1000) : String(format: "%.2f s", total)
    }

    // MARK: - Helpers

    private func clean(_ text: String) -> String {
        TerminalText.escaped(text)
    }

    private func style(_ text: String, _ style: TerminalStyle.Style) -> String {
        TerminalStyle.apply(style, to: text, enabled: self.options.color)
    }
}
