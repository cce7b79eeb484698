import Foundation
import ProxyEngine
import Replay

/// A query's verdict in words, as the replay view's lower pane and the detail show it: whether it matched, and if
/// not, the first difference with both values (the headless replay's wording).
enum ReplayVerdict {
    /// The headless replay's wording of errors and differences, bounded as it is.
    private static let printer = ReplayPrinter(options: ReplayPrinter.Options(color: false))

    static func lines(_ row: ReplayRow, isNext: Bool) -> [StyledLine] {
        var lines: [StyledLine] = []
        let status = row.status
        guard let step = row.step else {
            if let failure = row.failure {
                lines.append(StyledLine("! Could not run: " + DisplayText.clean(failure), .failure))
            } else {
                lines.append(
                    StyledLine(isNext ? "▶ Not replayed yet: it runs next (n)." : "· Not replayed yet.", .dim))
            }
            lines.append(StyledLine("Recorded: " + Self.resultSummary(row.recorded, recorded: true), .dim))
            return lines
        }
        switch status {
        case .skipped:
            lines.append(
                StyledLine("⊘ Not executed: " + DisplayText.clean(step.skipReason ?? "skipped"), .dim))
        case .matched where !step.executed:
            let note = step.notes.first ?? "not executed, as recorded"
            lines.append(StyledLine("✓ " + DisplayText.clean(note.prefix(1).uppercased() + note.dropFirst()), .success))
            return lines
        case .matched:
            lines.append(StyledLine("✓ Results match recorded data (\(Self.matchText(step)))", .success))
        case .mismatched, .error:
            if let error = step.replayed?.error, status == .error {
                lines.append(StyledLine("! Query failed: " + Self.printer.errorText(error), .failure))
            }
            lines += self.differenceLines(step, status: status)
        case .notCompared:
            lines.append(
                StyledLine(
                    "? Executed: " + Self.resultSummary(step.replayed, recorded: false)
                        + "; the file holds no result to compare with", .running))
        case .pending:
            break
        }
        if step.executed {
            var durations = StyledLine(Self.durations(step), .dim)
            if let regression = step.latencyRegression {
                durations.append(" · ", .dim)
                durations.append(Self.regressionMark(regression) + " slower than recorded", .failure)
            }
            lines.append(durations)
        }
        for note in step.notes where !note.hasPrefix("no recorded result") {
            lines.append(StyledLine("ℹ " + DisplayText.clean(note), .dim))
        }
        return lines
    }

    /// `✗ Results differ: row 2, column "value"` and both sides, as the headless replay prints them.
    static func differenceLines(_ step: QueryStep, status: ReplayRowStatus) -> [StyledLine] {
        guard let difference = step.difference else {
            return status == .error ? [] : [StyledLine("✗ Results differ", .failure)]
        }
        // The headless replay's words, and its window around the first difference of two long values.
        let values = Self.printer.differenceValues(difference)
        var lines = [
            StyledLine("✗ " + DisplayText.clean(ReplayPrinter.differenceHeadline(difference)), .failure),
            StyledLine([Span("   recorded: ", .dim), Span(values.recorded)]),
            StyledLine([Span("   replayed: ", .dim), Span(values.replayed)]),
        ]
        if step.differingRows > 1 {
            lines.append(StyledLine("   (\(step.differingRows) of the compared rows differ)", .dim))
        }
        return lines
    }

    /// `recorded 0.41 ms · replayed 0.38 ms`.
    static func durations(_ step: QueryStep) -> String {
        var parts: [String] = []
        if let recorded = step.recorded {
            parts.append("recorded " + DisplayText.duration(milliseconds: recorded.durationMS))
        }
        if let replayed = step.replayed {
            parts.append("replayed " + DisplayText.duration(milliseconds: replayed.durationMS))
        }
        return "Duration: " + parts.joined(separator: " · ")
    }

    /// `▲ 3.2x`: how many times slower a latency regression ran, short enough for the list's time column.
    static func regressionMark(_ regression: LatencyRegression) -> String {
        let ratio = regression.ratio
        guard ratio.isFinite else { return "▲ ∞x" }
        if ratio < 10 { return "▲ " + String(format: "%.1f", ratio) + "x" }
        return ratio < 10_000 ? "▲ \(Int(ratio.rounded()))x" : "▲ >9999x"
    }

    /// What matched, in a few words: `3 rows`, `same error 42P01`, `INSERT 0 1`.
    static func matchText(_ step: QueryStep) -> String {
        guard let recorded = step.recorded else { return "" }
        if let error = recorded.error {
            return error.code.isEmpty ? "same error" : "same error " + DisplayText.clean(error.code)
        }
        let sets = recorded.resultSets ?? [recorded.result]
        if sets.count > 1 { return "\(sets.count) result sets" }
        if !recorded.result.columns.isEmpty || recorded.result.rowCount > 0 {
            return ValueText.rows(recorded.result.rowCount)
        }
        return recorded.result.commandTag.map { DisplayText.clean($0) } ?? "no result set"
    }

    /// A result in one line: `SELECT 3 · 3 rows · 0.41 ms`, `ERROR 42P01: ...`.
    static func resultSummary(_ result: RecordedResult?, recorded: Bool) -> String {
        guard let result else {
            return recorded ? "no result in the file (cut off)" : "not executed"
        }
        var parts: [String] = []
        if let error = result.error {
            parts.append(Self.printer.errorText(error))
        } else {
            let sets = result.resultSets ?? [result.result]
            if sets.count > 1 { parts.append("\(sets.count) result sets") }
            if let tag = result.result.commandTag { parts.append(DisplayText.clean(tag)) }
            if !result.result.columns.isEmpty { parts.append(DisplayText.count(result.result.rowCount, "row")) }
        }
        parts.append(DisplayText.duration(milliseconds: result.durationMS))
        return parts.joined(separator: " · ")
    }

    /// The short form the query list shows in its recorded and replayed columns.
    static func cell(_ result: RecordedResult?) -> (text: String, style: CellStyle) {
        guard let result else { return ("", .dim) }
        if let error = result.error {
            return ("✗ " + DisplayText.clean(error.code.isEmpty ? "error" : error.code), .failure)
        }
        let sets = result.resultSets ?? [result.result]
        if sets.count > 1 { return ("\(sets.count) sets", .normal) }
        if !result.result.columns.isEmpty { return (DisplayText.count(result.result.rowCount, "row"), .normal) }
        return (DisplayText.clean(result.result.commandTag ?? "done"), .normal)
    }
}
