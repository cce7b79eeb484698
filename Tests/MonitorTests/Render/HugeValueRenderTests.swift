import Foundation
import ProxyEngine
import Testing

@testable import Monitor

/// A client's 50 MB value in every place the live view shows one: cut to what the place shows, and shown exactly as
/// the same value cut short would be (reading it whole would freeze the terminal thread for minutes).
@Suite struct HugeValueRenderTests {
    /// A tab, a newline, a control, a precomposed é, a wide 世, an e with a combining acute: 13 bytes, 16 columns
    /// escaped.
    static let unit = "a\tb\n\u{01}é世e\u{301}"
    /// 52,000,000 bytes.
    static let huge = String(repeating: Self.unit, count: 4_000_000)

    /// The same text, cut to `count` units: long enough to be cut wherever the huge one is.
    static func short(_ count: Int) -> String {
        String(repeating: Self.unit, count: count)
    }

    /// One query in session s1 whose result is `value` in a column `huge`, then a NULL beside it.
    static func state(
        value: String, sql: String = "SELECT huge;", size: ScreenSize = ScreenSize(columns: 120, rows: 40)
    ) -> DashboardState {
        var script = EventScript()
        var state = DashboardState.make(size: size)
        state.apply(script.connect("s1"))
        state.apply(
            script.run(
                "s1", 1, sql,
                result: RecordedResultSet(
                    columns: ["huge", "other"], columnTypes: [25, 25], rows: [[value, nil]], rowCount: 1,
                    commandTag: "SELECT 1")))
        return state
    }

    @Test func aHugeCellIsCutInTheResultPaneAndTheDetail() throws {
        var huge = Self.state(value: Self.huge)
        var short = Self.state(value: Self.short(300))
        #expect(huge.screen.text == short.screen.text)
        let row = huge.screen.line(huge.layout.result!.top + 2)
        let cell = TerminalText.truncated(TerminalText.escaped(Self.short(10)), toWidth: 60)
        #expect(row.hasPrefix(" " + cell + " │ NULL"), "cut at the pane's cap of 60 columns: \(row)")
        #expect(cell.hasSuffix("…"))

        // The detail: cut at 400 columns, and scrolled to the right the cell's end shows.
        huge.press(.enter)
        short.press(.enter)
        #expect(huge.screen.text == short.screen.text)
        #expect(huge.screen.text.contains("  " + String(cell.dropLast())))
        for _ in 0..<40 { huge.press(.right) }
        let document = DetailDocument.make(entry: huge.currentQuery!, width: 120)
        #expect(document.width == 2 + 400 + 3 + 5, "the cell at its cap, the separator, NULL under `other`")
        #expect(huge.detailScroll.column == document.width - 120)
        let end = TerminalText.truncated(TerminalText.escaped(Self.short(40)), toWidth: 400)
        let lines = (0..<document.lineCount).compactMap { document.line($0)?.plainText }
        #expect(lines.filter { $0.contains("世") } == ["  " + end + " │ NULL "])
        let screen = huge.screen.text.split(separator: "\n")
        #expect(screen.contains { $0.hasSuffix(String(end.suffix(20)) + " │ NULL") }, "the cell's end on screen")
    }

    @Test func aHugeStatementIsCutInTheListTheSQLViewAndTheDetail() throws {
        var huge = Self.state(value: "1", sql: Self.huge)
        let short = Self.state(value: "1", sql: Self.short(300))
        #expect(huge.screen.text == short.screen.text, "the Live queries pane shows its start on one line")
        let queries = huge.layout.queries!
        #expect(huge.screen.line(queries.top).contains("a b \\u{01}é世éa b"))

        // v: the SQL in the Result pane, its first 500 lines and a note.
        let sql = ResultDocument.make(entry: huge.currentQuery!, showSQL: true, cellCap: 60)
        #expect(sql.lineCount == TextLines.maxLines + 1)
        #expect(sql.line(0)?.plainText == "a    b")
        #expect(sql.line(1)?.plainText == "\\u{01}é世éa    b")
        #expect(
            sql.line(TextLines.maxLines)?.plainText
                == "… (SQL cut here: 52,000,000 bytes in all; the session file has it whole)")

        // The detail: wrapped at its width, 500 lines of it, then the same note.
        huge.press(.enter)
        let document = DetailDocument.make(entry: huge.currentQuery!, width: 120)
        let lines = (0..<document.lineCount).compactMap { document.line($0)?.plainText }
        let first = try #require(lines.firstIndex(of: "SQL")) + 1
        #expect(lines[first] == "  a    b")
        #expect(lines[first + 500] == "  … (SQL cut here: 52,000,000 bytes in all; the session file has it whole)")
        let expected = TextLines.wrapped(Self.short(1000), width: 118).lines
        #expect(Array(lines[first..<(first + 500)]) == expected.map { "  " + $0 })
        #expect(huge.screen.text.contains(" of \(document.lineCount) "))
    }

    @Test func hugeParametersAndMessagesAreCutToALine() {
        var script = EventScript()
        var state = DashboardState.make(size: ScreenSize(columns: 120, rows: 40))
        state.apply(script.connect("s1"))
        let query = RecordedQuery(
            queryNumber: 1, sql: "SELECT $1::text, $2::text FROM nope", queryProtocol: .extended,
            parameters: [
                RecordedParameter(value: Self.huge, format: .text), RecordedParameter(value: nil, format: .text),
            ])
        state.apply([script.event("s1", .recorded(SessionEvent(timestamp: script.time, payload: .query(query))))])
        let error = RecordedError(
            severity: "ERROR", code: "42P01", message: Self.huge, detail: Self.huge, hint: "short", position: "31")
        let notice = RecordedError(severity: "NOTICE", code: "00000", message: Self.huge)
        state.apply([
            script.result(
                "s1", RecordedResult(queryNumber: 1, error: error, notices: [notice], durationMS: 1))
        ])
        let document = DetailDocument.make(entry: state.currentQuery!, width: 120)
        let lines = (0..<document.lineCount).compactMap { document.line($0)?.plainText }
        let cut = TerminalText.truncated(TerminalText.escaped(Self.short(200)), toWidth: 2000)
        #expect(cut.hasSuffix("…"))
        #expect(lines.contains("  $1 = '" + cut + "'"))
        #expect(lines.contains("  $2 = NULL"))
        #expect(lines.contains("✗ ERROR 42P01: " + cut))
        #expect(lines.contains("DETAIL: " + cut))
        #expect(lines.contains("HINT: short"))
        #expect(lines.contains("NOTICE: " + cut))
        #expect(lines.contains("LINE 1: SELECT $1::text, $2::text FROM nope"))
        #expect(lines.contains(String(repeating: " ", count: 8 + 30) + "^"))
        #expect(document.width == 2000 + "✗ ERROR 42P01: ".count)
    }

    @Test func anErrorPositionInAHugeStatementReadsOnlyUpToIt() {
        // Position 20 ends the third line of the statement (lines of 3, 7, 7 ... characters).
        let near = ResultDocument.positionLines(sql: Self.huge, position: 20)
        #expect(near == ResultDocument.positionLines(sql: Self.short(10), position: 20))
        #expect(near.first?.plainText == "LINE 3: \\u{01}é世éa\\tb")
        #expect(near.last?.plainText == String(repeating: " ", count: 8 + 14) + "^")
        // Far into it: no caret rather than reading 50 MB to find the line.
        #expect(ResultDocument.positionLines(sql: Self.huge, position: 10_000_000).isEmpty)
        // A line longer than a screen line is cut like any other.
        let long = String(repeating: "x", count: 10_000) + Self.huge
        let far = ResultDocument.positionLines(sql: long, position: 3)
        let xs = TerminalText.truncated(String(repeating: "x", count: 3000), toWidth: 2000)
        #expect(far.first?.plainText == "LINE 1: " + xs)
        #expect(far.last?.plainText == String(repeating: " ", count: 10) + "^")
    }

    @Test func oneLineReadsOnlyWhatItShows() {
        #expect(DisplayText.oneLine(Self.huge, maxColumns: 40) == DisplayText.oneLine(Self.short(40), maxColumns: 40))
        // Whitespace past the part read: what shows ends with `…`, since more follows.
        let spaces = String(repeating: " \n\t", count: 10_000_000) + "SELECT 1"
        #expect(DisplayText.oneLine(spaces, maxColumns: 20) == "…")
        #expect(DisplayText.oneLine("SELECT" + spaces, maxColumns: 20) == "SELECT…")
    }

    @Test func aHugeSpanIsWrittenAsFarAsTheRowGoes() {
        var huge = ScreenBuffer(size: ScreenSize(columns: 80, rows: 2))
        var short = huge
        huge.write(StyledLine([Span("x "), Span(Self.huge)]), row: 0, column: 0, skip: 5)
        short.write(StyledLine([Span("x "), Span(Self.short(20))]), row: 0, column: 0, skip: 5)
        #expect(huge == short)
        #expect(huge.line(0).hasPrefix("b\\n\\u{01}é世é"))
    }

    @Test func theFilterSearchesTheStartOfAStatement() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        state.apply(script.run("s1", 1, "SELECT * FROM needle_table WHERE v = '" + Self.huge + "'"))
        state.apply(script.run("s1", 2, "SELECT '" + Self.huge + "' FROM needle_table"))
        state.press(.character("/"))
        state.type("needle_table")
        #expect(state.shown.history.visibleCount == 1, "the SQL's first 8,192 characters are searched, no further")
        #expect(state.currentQuery?.query.queryNumber == 1)
    }
}
