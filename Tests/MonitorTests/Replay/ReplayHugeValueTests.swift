import Foundation
import ProxyEngine
import Replay
import Testing

@testable import Monitor

/// A 50 MB value in the step-through replay: the list, the verdict and the detail show it cut, the difference at
/// its very end is found and marked (worked out once, when the step arrives), and nothing reads it while drawing.
@Suite struct ReplayHugeValueTests {
    static let unit = HugeValueRenderTests.unit
    static let huge = HugeValueRenderTests.huge

    static func short(_ count: Int) -> String {
        HugeValueRenderTests.short(count)
    }

    static func result(_ value: String) -> RecordedResult {
        RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: ["huge"], columnTypes: [25], rows: [[value]], rowCount: 1, commandTag: "SELECT 1"),
            durationMS: 0.3)
    }

    /// Query 1 returns the huge value ending in x, replayed it ends in y; query 2's SQL is the huge text.
    ///
    /// The step is made here rather than by `ResultComparison`, which spells both values out whole in the
    /// difference's text (quoting 50 MB takes it many seconds; the replay view never shows that text for a value).
    static func stepped() -> ReplayViewState {
        var state = ReplayFixtures.connectedState(
            size: ScreenSize(columns: 120, rows: 40),
            queries: [
                ("SELECT huge;", Self.result(Self.huge + "x")),
                (Self.huge, RecordedResult(queryNumber: 2, result: RecordedResultSet(commandTag: "SELECT 0"))),
            ])
        #expect(state.handle(.character("n")) == [.step])
        let row = state.rows[0]
        let difference = ResultDifference(
            kind: .value, row: 1, column: "huge", recordedValue: Self.huge + "x", replayedValue: Self.huge + "y",
            recorded: "(the recorded value)", replayed: "(the replayed value)")
        let step = QueryStep(
            index: row.itemIndex, eventNumber: row.eventNumber, timestamp: row.timestamp, query: row.query,
            recorded: row.recorded, replayed: Self.result(Self.huge + "y"), status: .mismatched,
            difference: difference, differingRows: 1)
        let marks = CellDifferences.marks(of: step, options: state.comparison)
        #expect(state.apply(.stepped(step, elapsedMS: 0.5, marks: marks)).isEmpty)
        return state
    }

    @Test func theLastCharacterDiffersAndIsFound() throws {
        let state = Self.stepped()
        let row = try #require(state.selectedRow)
        #expect(row.status == .mismatched)
        #expect(row.marks.count == 1)
        #expect(row.marks.first?.recorded.cells == [CellDifferences.Cell(row: 0, column: 0)])
        #expect(row.marks.first?.replayed.cells == [CellDifferences.Cell(row: 0, column: 0)])

        // The verdict: the headless replay's window around the difference (found by byte, far past the first
        // characters it compares one by one): the last 40 characters, then the one that differs.
        let lines = ReplayVerdict.lines(row, isNext: false).map(\.plainText)
        let window = TerminalText.escaped(Self.short(5))
        #expect(lines.contains("✗ Results differ: row 1, column \"huge\""))
        #expect(lines.contains("   recorded: …\"" + window + "x\" (differs at byte 52000001)"))
        #expect(lines.contains("   replayed: …\"" + window + "y\""))
        let pane = state.screen.text
        #expect(pane.contains(" ✗ Results differ: row 1, column \"huge\""))
        #expect(pane.contains("    recorded: …\"a\\tb\\n\\u{01}é世éa"))
    }

    @Test func theDetailShowsBothValuesCutAndMarked() throws {
        var state = Self.stepped()
        state.press(.enter)
        // Side by side, each cell cut at the pane's cap of 60 columns.
        let document = try #require(state.detailDocument())
        #expect(document.sideBySide)
        let cell = TerminalText.truncated(TerminalText.escaped(Self.short(10)), toWidth: 60)
        let index = try #require(
            (0..<document.lineCount).first { index in
                guard case .split(let left, _)? = document.line(index) else { return false }
                return left?.plainText.contains("世") == true
            })
        guard case .split(let left?, let right?)? = document.line(index) else {
            Issue.record("no recorded and replayed row")
            return
        }
        #expect(left.plainText == "  " + cell)
        #expect(right.plainText == "  " + cell)
        // On screen, both halves of the row are marked from the cell's first column to the half's edge.
        let screen = state.screen
        let row = try #require((0..<40).first { screen.line($0).hasPrefix("  a\\tb\\n\\u{01}é世é") })
        let styles = Array(screen.styleLine(row))
        let half = document.halfWidth
        #expect(styles[2..<half].allSatisfy { $0 == "D" })
        #expect(styles[(half + 5)..<(2 * half + 3)].allSatisfy { $0 == "D" })
    }

    @Test func aHugeStatementShowsCutInTheListTheVerdictAndTheDetail() throws {
        var state = Self.stepped()
        state.press(.down)
        let screen = state.screen
        let line = try #require(screen.text.split(separator: "\n").first { $0.hasPrefix("  ▶  2 ") })
        #expect(line.hasPrefix("  ▶  2 a b \\u{01}é世éa b \\u{01}é世é"))
        // The verdict pane: as many lines of the SQL as it has rows.
        let frame = try #require(state.layout.verdict)
        #expect(screen.line(frame.top + 3).hasPrefix("   a    b"))
        #expect(screen.line(frame.top + frame.height - 1).hasPrefix("   \\u{01}é世éa    b"))

        state.press(.enter)
        let document = try #require(state.detailDocument())
        let lines = (0..<document.lineCount).compactMap { index -> String? in
            guard case .full(let line)? = document.line(index) else { return nil }
            return line.plainText
        }
        let sql = try #require(lines.firstIndex(of: "SQL")) + 1
        #expect(lines[sql] == "  a    b")
        let note = "  … (SQL cut here: 52,000,000 bytes in all; the session file has it whole)"
        #expect(lines[sql + TextLines.maxLines] == note)
    }
}
