import Foundation
import Monitor
import ProxyEngine
import Testing

/// Rendering beyond the snapshots: styles, resizing, sizes no layout expects, alignment.
@Suite struct RenderTests {
    @Test func resizingRedrawsForTheNewSize() {
        var state = Scenarios.seedFirstQuery(size: ScreenSize(columns: 120, rows: 40))
        state.resize(to: .minimum)
        #expect(state.screen.text == Scenarios.seedFirstQuery().screen.text)
        state.resize(to: ScreenSize(columns: 50, rows: 10))
        #expect(state.screen.line(0).hasPrefix("50x10 is too small: 80x24 shows every pane"))
        state.resize(to: ScreenSize(columns: 120, rows: 40))
        #expect(state.screen.text == Scenarios.seedFirstQuery(size: ScreenSize(columns: 120, rows: 40)).screen.text)
    }

    @Test(arguments: [(0, 0), (1, 1), (2, 1), (1, 30), (5, 3), (10, 4), (79, 24), (80, 23), (300, 2), (20, 100)])
    func anySizeRendersWithoutCrashing(columns: Int, rows: Int) {
        let size = ScreenSize(columns: columns, rows: rows)
        for var state in [Scenarios.errorResult(size: size), Scenarios.wideCharacters(size: size)] {
            for key: ViewKey in [.enter, .escape, .character("?"), .escape, .character("s"), .escape, .character("q")] {
                state.press(key)
                let screen = state.screen
                #expect(screen.size == size)
                #expect(screen.text.split(separator: "\n", omittingEmptySubsequences: false).count == max(rows, 1)
                    || rows == 0)
            }
        }
    }

    /// Every row of the result table has its `│` separators at the same display columns.
    @Test func wideCharactersKeepTableColumnsAligned() {
        let screen = Scenarios.wideCharacters().screen
        let frame = DashboardLayout(size: screen.size).result!
        var separatorColumns: Set<[Int]> = []
        for row in [frame.top] + Array((frame.top + 2)..<(frame.top + 6)) {
            var columns: [Int] = []
            for column in 0..<screen.size.columns where screen[row, column].character == "│" {
                columns.append(column)
            }
            separatorColumns.insert(columns)
        }
        #expect(separatorColumns.count == 1)
        #expect(separatorColumns.first?.count == 3)
        // And a wide character takes two cells: its own and a continuation.
        let tokyo = frame.top + 2
        let column = (0..<screen.size.columns).first { screen[tokyo, $0].character == "東" }!
        #expect(screen[tokyo, column + 1].isContinuation)
    }

    @Test func nullIsStyledAndAnEmptyStringIsBlank() {
        let screen = Scenarios.wideCharacters().screen
        let frame = DashboardLayout(size: screen.size).result!
        let zurich = frame.top + 3
        let line = screen.line(zurich)
        let nullColumn = line.distance(from: line.startIndex, to: line.range(of: "NULL")!.lowerBound)
        #expect(screen[zurich, nullColumn].style == .null)
        // Row 4's note is '' (blank, normal style) and its label NULL.
        let munich = screen.line(frame.top + 5)
        #expect(munich.contains("München │      │ NULL"))
    }

    @Test func selectionAndFocusAreHighlighted() {
        var state = Scenarios.seedFirstQuery()
        let queries = state.layout.queries!
        var screen = state.screen
        #expect(screen.styleLine(queries.top).allSatisfy { $0 == "#" })
        #expect(screen[queries.titleRow, 3].style == .titleFocused)
        state.press(.tab)  // focus: Result
        screen = state.screen
        #expect(screen.styleLine(queries.top).allSatisfy { $0 == "=" })
        #expect(screen[state.layout.result!.titleRow, 3].style == .titleFocused)
    }

    @Test func statusBarShowsDroppedEventsAndPause() {
        var state = Scenarios.seedFirstQuery()
        state.tick(now: state.now, droppedEvents: 1234)
        state.press(.character("p"))
        var script = EventScript()
        script.advance(10)
        state.apply([script.query(Scenarios.seedSessionID, 6, "SELECT 6;")])
        // At 80 columns the warnings push the last totals out; at 120 everything fits.
        let narrow = state.screen.line(1)
        #expect(narrow.contains("⏸ PAUSED (+1 queries)"))
        #expect(narrow.contains("⚠ 1,234 events dropped"))
        #expect(narrow.hasSuffix("? help "))
        state.resize(to: ScreenSize(columns: 120, rows: 40))
        let wide = state.screen.line(1)
        #expect(wide.contains("6 queries · 0 errors · 4 rows"))
        #expect(wide.contains("⏸ PAUSED (+1 queries)  ⚠ 1,234 events dropped  ? help"))
    }

    @Test func longResultsScrollBothWays() {
        var script = EventScript()
        var state = DashboardState.make()
        state.apply(script.connect("s1"))
        let columns = (1...12).map { "column_number_\($0)" }
        let rows = (1...50).map { row in columns.indices.map { Optional("value \(row)-\($0)") } }
        state.apply(script.run("s1", 1, "SELECT wide;", result: RecordedResultSet(
            columns: columns, columnTypes: Array(repeating: 25, count: 12), rows: rows, rowCount: 50,
            commandTag: "SELECT 50")))
        let frame = state.layout.result!
        #expect(state.screen.line(frame.titleRow).contains("lines 1–7 of 52"))
        state.press(.tab, .pageDown)  // Result pane, a page down
        #expect(state.screen.line(frame.titleRow).contains("lines 7–13 of 52"))
        #expect(state.screen.line(frame.top).contains("value 5-0"))
        state.press(.end, .right, .right)
        let screen = state.screen
        #expect(screen.line(frame.titleRow).contains("lines 46–52 of 52"))
        #expect(screen.line(frame.titleRow).contains("→16"))
        #expect(screen.line(frame.top + 6).contains("50-1"))
        #expect(!screen.line(frame.top + 6).contains("value 50-0 "))
    }
}
