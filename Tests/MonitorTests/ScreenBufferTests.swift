import Monitor
import Testing

@Suite struct ScreenBufferTests {
    @Test func wideCharactersTakeTwoCells() {
        var screen = ScreenBuffer(size: ScreenSize(columns: 6, rows: 1))
        #expect(screen.write("a東b", row: 0, column: 0) == 4)
        #expect(screen[0, 1].character == "東")
        #expect(screen[0, 2].isContinuation)
        #expect(screen[0, 3].character == "b")
        #expect(screen.line(0) == "a東b  ")
    }

    @Test func aWideCharacterNeverStraddlesAnEdge() {
        var screen = ScreenBuffer(size: ScreenSize(columns: 4, rows: 1))
        screen.write("abc東", row: 0, column: 0)
        #expect(screen.line(0) == "abc ")
        // Cut by the left edge when scrolled one column into it.
        screen.write(StyledLine("東京x"), row: 0, column: 0, skip: 1)
        #expect(screen.line(0) == " 京x")
        // Overwriting half of a wide character clears the other half.
        screen.write("東京", row: 0, column: 0)
        screen.write("z", row: 0, column: 1)
        #expect(screen.line(0) == " z京")
    }

    @Test func combiningMarksStayWithTheirLetterAndControlsAreEscaped() {
        var screen = ScreenBuffer(size: ScreenSize(columns: 12, rows: 1))
        screen.write("e\u{301}t\u{1B}[2J\n", row: 0, column: 0)
        #expect(screen[0, 0].character == "e\u{301}")
        #expect(screen.line(0) == "ét\\u{1B}[2J\\")
    }

    @Test func writingOutsideTheGridIsIgnored() {
        var screen = ScreenBuffer(size: ScreenSize(columns: 3, rows: 2))
        screen.write("hello", row: 5, column: 0)
        screen.write("hello", row: -1, column: 0)
        screen.write("hello", row: 1, column: 2)
        screen.fill(row: 0, column: -4, width: 100, style: .dim)
        #expect(screen.text == "\n  h")
        #expect(screen.styleLine(0) == "ddd")
    }
}

@Suite struct QueryHistoryTests {
    func entry(_ sql: String, visible: Bool = true) -> QueryEntry {
        QueryEntry(
            seq: 0, sessionID: "s", sessionNumber: 1, pseudoUser: "u", realUser: "r",
            query: .init(queryNumber: 1, sql: sql), startedAt: .init(timeIntervalSince1970: 0), outcome: .running,
            resultBytes: 0, rowsReleased: false, isVisible: visible)
    }

    @Test func aFullRingDropsTheOldest() {
        var history = QueryHistory(capacity: 3)
        for index in 1...5 {
            let evicted = history.append(self.entry("q\(index)"))
            #expect((evicted?.query.sql) == (index > 3 ? "q\(index - 3)" : nil))
        }
        #expect(history.count == 3)
        #expect(history.firstSeq == 3)
        #expect((3...5).map { history[$0]?.query.sql } == ["q3", "q4", "q5"])
        #expect(history[2] == nil)
        #expect(history[6] == nil)
    }

    @Test func visibleNavigationSkipsHiddenEntries() {
        var history = QueryHistory(capacity: 10)
        for index in 1...6 { history.append(self.entry("q\(index)", visible: index % 2 == 0)) }
        #expect(history.visible(before: nil) == 6)
        #expect(history.visible(after: nil) == 2)
        #expect(history.visible(after: 2) == 4)
        #expect(history.visible(before: 4) == 2)
        #expect(history.visible(from: 2, moving: 5) == 6)
        #expect(history.visible(from: 6, moving: -1) == 4)
        #expect(history.visibleCount == 3)
    }
}

@Suite struct DisplayTextTests {
    @Test func formats() {
        #expect(DisplayText.duration(milliseconds: 0.4) == "0.40 ms")
        #expect(DisplayText.duration(milliseconds: 12.4) == "12 ms")
        #expect(DisplayText.duration(milliseconds: 1340) == "1.3 s")
        #expect(DisplayText.duration(milliseconds: 125_000) == "2m05s")
        #expect(DisplayText.age(seconds: 3725) == "1h02m")
        #expect(DisplayText.count(1_234_567) == "1,234,567")
        #expect(DisplayText.count(1, "row") == "1 row")
        #expect(DisplayText.clock(EventScript.start, milliseconds: true) == "21:30:15.123")
        #expect(DisplayText.oneLine("SELECT\n  1,\t2\r\n", maxColumns: 100) == "SELECT 1, 2")
        #expect(DisplayText.oneLine("SELECT '\u{1B}'", maxColumns: 100) == "SELECT '\\u{1B}'")
        #expect(DisplayText.oneLine(String(repeating: "x", count: 50), maxColumns: 10) == "xxxxxxxxx…")
    }
}
