import Foundation

/// `--junit FILE.xml`: the replay as a JUnit test run, so CI systems show it like any test suite.
///
/// One `<testsuite>` per session file, one `<testcase>` per query: a mismatch or an unexpected error is a
/// `<failure>` (so is a latency regression with `--fail-on-regression`), a query not executed is `<skipped>`, and a
/// file whose replay could not run or stopped early gets an `<error>` test case of its own. The layout is the one Jenkins, GitLab and GitHub reporters read.
public enum JUnitReport {
    public static func xml(from report: ReplayReport) -> String {
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        let tests = report.files.reduce(0) { $0 + $1.queries.count + ($1.error == nil ? 0 : 1) }
        let failOnRegression = report.options.failOnRegression
        let failures = report.files.reduce(0) { $0 + self.failureCount($1, failOnRegression: failOnRegression) }
        let errors = report.files.filter { $0.error != nil }.count
        let skipped = report.files.reduce(0) { $0 + $1.queries.filter { $0.status == .skipped }.count }
        lines.append(
            "<testsuites name=\"pgreel replay\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" "
                + "skipped=\"\(skipped)\" time=\"\(self.seconds(report.wallTimeMS))\">")
        for file in report.files {
            lines += self.suite(file, timestamp: report.startedAt, failOnRegression: failOnRegression)
        }
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func failureCount(_ file: ReplayReport.File, failOnRegression: Bool) -> Int {
        file.queries.filter {
            $0.status == .mismatched || $0.unexpectedError || (failOnRegression && $0.latencyRegression)
        }.count
    }

    private static func suite(_ file: ReplayReport.File, timestamp: String, failOnRegression: Bool) -> [String] {
        let tests = file.queries.count + (file.error == nil ? 0 : 1)
        let skipped = file.queries.filter { $0.status == .skipped }.count
        var lines = [
            "  <testsuite name=\"\(self.escape(file.path))\" tests=\"\(tests)\" "
                + "failures=\"\(self.failureCount(file, failOnRegression: failOnRegression))\" "
                + "errors=\"\(file.error == nil ? 0 : 1)\" skipped=\"\(skipped)\" "
                + "time=\"\(self.seconds(file.wallTimeMS))\" timestamp=\"\(self.escape(timestamp))\">"
        ]
        if let target = file.target {
            lines.append("    <properties>")
            lines.append("      <property name=\"target\" value=\"\(self.escape(target))\"/>")
            if let cut = file.cut {
                lines.append("      <property name=\"cut\" value=\"\(self.escape(cut))\"/>")
            }
            lines.append("    </properties>")
        }
        let className = "pgreel.replay." + self.className(for: file.path)
        for query in file.queries {
            let name = "Query #\(query.queryNumber) (event \(query.event)): " + self.oneLine(query.sql, limit: 120)
            let time = self.seconds(query.replayedDurationMS ?? 0)
            let open =
                "    <testcase name=\"\(self.escape(name))\" classname=\"\(self.escape(className))\" time=\"\(time)\""
            switch query.status {
            case .mismatched:
                let message = query.difference?.difference.description ?? "results differ"
                lines.append(open + ">")
                lines.append(
                    "      <failure type=\"mismatch\" message=\"\(self.escape(self.oneLine(message, limit: 500)))\">"
                        + self.escape(self.details(query)) + "</failure>")
                lines.append("    </testcase>")
            case .skipped:
                lines.append(open + ">")
                lines.append("      <skipped message=\"\(self.escape(query.skipReason ?? "not executed"))\"/>")
                lines.append("    </testcase>")
            case .executed where query.unexpectedError:
                let error = query.replayed?.error.map { "\($0.code): \($0.message)" } ?? "error"
                lines.append(open + ">")
                lines.append(
                    "      <failure type=\"unexpected error\" "
                        + "message=\"\(self.escape(self.oneLine(error, limit: 500)))\">"
                        + self.escape(self.details(query)) + "</failure>")
                lines.append("    </testcase>")
            case .matched, .executed:
                guard failOnRegression, query.latencyRegression else {
                    lines.append(open + "/>")
                    break
                }
                lines.append(open + ">")
                lines.append(
                    "      <failure type=\"latency regression\" "
                        + "message=\"\(self.escape(self.regressionText(query)))\">"
                        + self.escape(self.details(query)) + "</failure>")
                lines.append("    </testcase>")
            }
        }
        if let error = file.error {
            lines.append(
                "    <testcase name=\"replay\" classname=\"\(self.escape(className))\" time=\"0\">")
            lines.append("      <error type=\"replay\" message=\"\(self.escape(self.oneLine(error, limit: 500)))\"/>")
            lines.append("    </testcase>")
        }
        lines.append("  </testsuite>")
        return lines
    }

    private static func details(_ query: ReplayReport.Query) -> String {
        var text = "SQL: \(query.sql)\n"
        if let difference = query.difference?.difference {
            if !difference.location.isEmpty { text += "Where: \(difference.location)\n" }
            text += "Recorded: \(difference.recorded)\nReplayed: \(difference.replayed)\n"
        } else if let error = query.replayed?.error {
            text += "Replayed error: \(error.code): \(error.message)\n"
        }
        if let rows = query.differingRows { text += "Rows differing: \(rows)\n" }
        if query.latencyRegression { text += "Latency: \(self.regressionText(query))\n" }
        for note in query.notes { text += "Note: \(note)\n" }
        return text
    }

    /// `3.20x slower than recorded: 12.100 ms replayed, 3.781 ms recorded`.
    private static func regressionText(_ query: ReplayReport.Query) -> String {
        let ratio = query.latencyRegressionRatio.map { String(format: "%.2fx", $0) } ?? "infinitely"
        let replayed = String(format: "%.3f", query.replayedDurationMS ?? 0)
        let recorded = String(format: "%.3f", query.recordedDurationMS ?? 0)
        return "\(ratio) slower than recorded: \(replayed) ms replayed, \(recorded) ms recorded"
    }

    private static func className(for path: String) -> String {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
    }

    private static func oneLine(_ text: String, limit: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }

    private static func seconds(_ milliseconds: Double) -> String {
        String(format: "%.3f", milliseconds / 1000)
    }

    /// XML text: markup characters escaped, and characters XML 1.0 forbids (most controls) written as `\u{..}`.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n": result += "&#10;"
            case "\t": result += "&#9;"
            case "\r": result += "&#13;"
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF {
                    result += "\\u{" + String(value, radix: 16) + "}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
