import Foundation
import ProxyEngine
import Testing

@testable import Replay

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The seed-style text, the JSON report and the JUnit XML for the same steps.
@Suite struct ReplayOutputTests {
    static let timestamp = Date(timeIntervalSince1970: 1_759_872_615)

    static let recordedRows: [[String?]] = [["1", "test1", "150"], ["2", "test2", "200"], ["3", "test3", "300"]]

    static func result(_ rows: [[String?]], tag: String? = nil) -> RecordedResult {
        RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: ["id", "name", "value"], rows: rows, rowCount: rows.count,
                commandTag: tag ?? "SELECT \(rows.count)"),
            durationMS: 0.4)
    }

    static var matched: QueryStep {
        QueryStep(
            index: 2, eventNumber: 3, timestamp: Self.timestamp,
            query: RecordedQuery(queryNumber: 1, sql: "SELECT * FROM test_data;"),
            recorded: Self.result(Self.recordedRows), replayed: Self.result(Self.recordedRows), status: .matched)
    }

    static var mismatched: QueryStep {
        var rows = Self.recordedRows
        rows[0][2] = nil
        let recorded = Self.result(Self.recordedRows)
        let replayed = Self.result(rows)
        let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed)
        return QueryStep(
            index: 4, eventNumber: 5, timestamp: Self.timestamp,
            query: RecordedQuery(queryNumber: 2, sql: "SELECT * FROM test_data\nWHERE \u{1B}[31m <> '<&>'"),
            recorded: recorded, replayed: replayed, status: .mismatched, difference: outcome.difference,
            differingRows: outcome.differingRows)
    }

    @Test func printsTheSeedsLinesForAMatch() {
        var printer = ReplayPrinter(options: .init(color: false))
        let lines = printer.lines(for: .query(Self.matched))
        #expect(
            lines == [
                "",
                "📝 [Event 3] Query #1 @ 2025-10-07T21:30:15.000000Z",
                String(repeating: "━", count: 53),
                "SELECT * FROM test_data;",
                String(repeating: "━", count: 53),
                "   ✓ Query executed: 3 rows returned",
                "   ✓ Results match recorded data (3 rows)",
            ])
        let header = printer.header()
        #expect(header[1] == "║          Session Replay Tool                      ║")
        #expect(header.allSatisfy { TerminalText.displayWidth(of: $0) == 0 || TerminalText.displayWidth(of: $0) == 53 })
    }

    @Test func printsTheFirstDifferencePreciselyAndEscapesWhatCameFromTheFile() {
        var printer = ReplayPrinter(options: .init(color: false))
        let text = printer.lines(for: .query(Self.mismatched)).joined(separator: "\n")
        #expect(
            text.contains(
                "   ✗ Results differ: row 1, column \"value\"\n      recorded: \"150\"\n      replayed: NULL")
        )
        #expect(!text.contains("\u{1B}"), "an escape sequence in the SQL is shown, not sent to the terminal")
        #expect(text.contains("WHERE \\u{1B}[31m"))
        var quiet = ReplayPrinter(options: .init(color: false, quiet: true))
        #expect(quiet.lines(for: .query(Self.matched)).isEmpty)
        #expect(!quiet.lines(for: .query(Self.mismatched)).isEmpty)
    }

    @Test func summarisesLikeTheSeed() {
        var summary = ReplaySummary()
        summary.queries = 2
        summary.add(Self.matched)
        summary.add(Self.mismatched)
        #expect(!summary.succeeded)
        let lines = ReplayPrinter(options: .init(color: false)).summary(
            summary, wallTime: .milliseconds(1500), failures: [])
        #expect(lines.contains("📊 Replay Summary:"))
        #expect(lines.contains("   Queries executed: 2"))
        #expect(lines.contains("   Errors: 0"))
        #expect(lines.contains("   Results matched: 1"))
        #expect(lines.contains("   Results mismatched: 1"))
        #expect(lines.contains("   Wall time: 1.50 s"))
        #expect(lines.last == "❌ Session replay found differences: 1 mismatched")
    }

    static func report() -> ReplayReport {
        var summary = ReplaySummary()
        summary.add(Self.matched)
        summary.add(Self.mismatched)
        let skipped = QueryStep(
            index: 6, eventNumber: 7, timestamp: Self.timestamp,
            query: RecordedQuery(queryNumber: 3, sql: "COPY t FROM STDIN"), recorded: nil, replayed: nil,
            status: .skipped, skipReason: "its COPY data was not fully recorded")
        summary.add(skipped)
        let file = ReplayReport.File(
            path: "sessions/a.json", target: "postgres://u:***@h:5432/d", cut: nil, error: nil, summary: summary,
            wallTimeMS: 12.5, queries: [Self.matched, Self.mismatched, skipped].map { ReplayReport.Query($0) })
        return ReplayReport(
            startedAt: Self.timestamp, wallTimeMS: 20, exitCode: 1,
            options: .init(ReplayOptions(safety: .rollback), stopOnMismatch: false),
            summary: .init(summary), files: [file])
    }

    @Test func theJSONReportHoldsEveryQueryWithItsDifference() throws {
        let data = try Self.report().json()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["exit_code"] as? Int == 1)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["matched"] as? Int == 1)
        #expect(summary["mismatched"] as? Int == 1)
        #expect(summary["skipped"] as? Int == 1)
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["safety"] as? String == "rollback")
        let files = try #require(object["files"] as? [[String: Any]])
        let queries = try #require(files.first?["queries"] as? [[String: Any]])
        #expect(queries.map { $0["status"] as? String } == ["matched", "mismatched", "skipped"])
        let difference = try #require(queries[1]["difference"] as? [String: Any])
        #expect(difference["kind"] as? String == "value")
        #expect(difference["row"] as? Int == 1)
        #expect(difference["column"] as? String == "value")
        #expect(difference["recorded_value"] as? String == "150")
        #expect(difference["replayed_value"] is NSNull, "SQL NULL is written as null, not left out")
        let replayed = try #require(queries[1]["replayed"] as? [String: Any])
        #expect(replayed["row_count"] as? Int == 3)
        #expect(replayed["command_tag"] as? String == "SELECT 3")
        #expect(queries[0]["recorded_duration_ms"] as? Double == 0.4)
        #expect(queries[2]["skip_reason"] as? String == "its COPY data was not fully recorded")
    }

    @Test func theJUnitReportHasOneTestCasePerQuery() throws {
        let xml = JUnitReport.xml(from: Self.report())
        #expect(
            xml.hasPrefix(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    + "<testsuites name=\"pgreel replay\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""
            ))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 3)
        #expect(
            xml.contains(
                "<failure type=\"mismatch\" "
                    + "message=\"row 1, column &quot;value&quot;: recorded &quot;150&quot;, replayed NULL\">"
            ))
        #expect(xml.contains("<skipped message=\"its COPY data was not fully recorded\"/>"))
        #expect(xml.contains("&lt;&amp;&gt;"))
        #expect(!xml.contains("\u{1B}"), "XML 1.0 cannot hold control characters")
        // Well-formed: Foundation's parser reads it.
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    }

    // MARK: - A client's 50 MB value

    /// A tab, a newline, a control, a precomposed é, a wide 世, an e with a combining acute: 13 bytes; 52 MB in all.
    static let unit = "a\tb\n\u{01}é世e\u{301}"
    static let huge = String(repeating: Self.unit, count: 4_000_000)

    static func short(_ count: Int) -> String {
        String(repeating: Self.unit, count: count)
    }

    /// A mismatch of one value, made by hand: `ResultComparison` would spell both values out whole.
    static func valueMismatch(sql: String = "SELECT v;", recorded: String, replayed: String) -> QueryStep {
        let difference = ResultDifference(
            kind: .value, row: 1, column: "v", recordedValue: recorded, replayedValue: replayed,
            recorded: "(not shown)", replayed: "(not shown)")
        return QueryStep(
            index: 0, eventNumber: 1, timestamp: Self.timestamp, query: RecordedQuery(queryNumber: 1, sql: sql),
            recorded: nil, replayed: nil, status: .mismatched, difference: difference, differingRows: 1)
    }

    @Test func aHugeStatementPrintsItsFirstLinesAndANote() {
        var printer = ReplayPrinter(options: .init(color: false))
        let lines = printer.lines(for: .query(Self.valueMismatch(sql: Self.huge, recorded: "1", replayed: "2")))
        let expected = TerminalText.escapedLines(Self.short(200), maxLines: 100, maxWidth: 2000).lines
        #expect(Array(lines[3..<103]) == expected)
        #expect(lines[3] == "a\tb")
        #expect(lines[103] == "… (SQL cut here: 52,000,000 bytes in all; the session file has it whole)")
        #expect(lines[104] == String(repeating: "━", count: 53))
    }

    @Test func hugeValuesShowAWindowAroundTheirFirstDifference() throws {
        var printer = ReplayPrinter(options: .init(color: false))
        // Near the start: found character by character, numbered so, as for any long value.
        let early = printer.lines(
            for: .query(Self.valueMismatch(recorded: "abX" + Self.huge, replayed: "abY" + Self.huge)))
        let oracle = printer.lines(
            for: .query(Self.valueMismatch(recorded: "abX" + Self.short(20), replayed: "abY" + Self.short(20))))
        #expect(early == oracle)
        let recordedLine = try #require(early.first { $0.hasPrefix("      recorded: ") })
        #expect(recordedLine.hasPrefix("      recorded: \"abXa\\tb\\n\\u{01}é世é"))
        #expect(recordedLine.hasSuffix("\"… (differs at character 3)"))
        // At the very end: found by byte, the window read around it alone.
        let late = printer.lines(for: .query(Self.valueMismatch(recorded: Self.huge + "x", replayed: Self.huge + "y")))
        let window = TerminalText.escaped(Self.short(5))
        #expect(late.contains("      recorded: …\"" + window + "x\" (differs at byte 52000001)"))
        #expect(late.contains("      replayed: …\"" + window + "y\""))
        // One ends where the other goes on.
        let prefix = printer.lines(for: .query(Self.valueMismatch(recorded: Self.huge, replayed: Self.huge + "z")))
        #expect(prefix.contains("      recorded: …\"" + window + "\" (differs at byte 52000001)"))
        #expect(prefix.contains("      replayed: …\"" + window + "z\""))
    }

    @Test func hugeParametersAndMessagesAreCutToALine() {
        var printer = ReplayPrinter(options: .init(color: false))
        let query = RecordedQuery(
            queryNumber: 1, sql: "SELECT $1", queryProtocol: .extended, statementName: Self.huge,
            parameters: [RecordedParameter(value: Self.huge, format: .text)])
        let failed = RecordedResult(
            queryNumber: 1, error: RecordedError(severity: "ERROR", code: "22000", message: Self.huge), durationMS: 1)
        let step = QueryStep(
            index: 0, eventNumber: 1, timestamp: Self.timestamp, query: query, recorded: failed, replayed: failed,
            status: .matched)
        let lines = printer.lines(for: .query(step))
        let line = TerminalText.truncated(TerminalText.escaped(Self.short(200)), toWidth: 2000)
        #expect(lines.contains("   ↳ prepared statement: " + line))
        let value = TerminalText.truncated(TerminalText.escaped(ValueText.quoted(Self.short(10))), toWidth: 40)
        #expect(lines.contains("   ↳ parameters: $1=" + value))
        #expect(lines.contains("   ✗ Query failed: " + TerminalText.truncated("ERROR 22000: " + line, toWidth: 2000)))
    }
}
