import Foundation
import Monitor
import ProxyEngine
import Replay
import Testing

/// What the replay view draws, as text snapshots (trailing spaces ignored); highlighting is checked through the
/// cells' styles (`ScreenBuffer.styleLine`: `D` is a differing value, `x` a failure).
@Suite struct ReplayViewSnapshotTests {
    /// Query 1 stepped with n, then m ran to the mismatch of query 3 (selected), the notice cleared.
    static func mismatchSelected(size: ScreenSize = .minimum) -> ReplayViewState {
        var state = ReplayFixtures.connectedState(size: size)
        var session = FakeReplaySession()
        session.press(.character("n"), on: &state)
        session.press(.character("m"), on: &state)
        state.press(.character("?"), .character("?"))  // any key clears the notice; ? opens and closes the help
        return state
    }

    /// The list with every status so far, the counts, and the mismatch's first difference below.
    @Test func theListAfterAMismatchAt80x24() {
        let screen = Self.mismatchSelected().screen
        expectScreen(
            screen,
            #"""
             pgreel replay  pseudo_user_2025-10-07_21-30-15.json  → postgres://postgres:***…
             5 queries  ✓ 2  ✗ 1  ! 0  ⊘ 0  · 2 pending           safety: none  ● connected
            ─▶ Queries (5) · next 4 ──────────────────────────────── recorded ── replayed ──
              ✓  1 SELECT count(*) FROM test_data;                   1 row       1 row
              ✓  2 UPDATE test_data SET value = value WHERE id = 3;  UPDATE 1    UPDATE 1
              ✗  3 SELECT * FROM test_data ORDER BY id;              3 rows      3 rows
              ▶  4 SELECT * FROM nope;                               ✗ 42P01
              ·  5 SELECT value FROM test_data WHERE id = 1;         1 row








            ── Query 3 · #3 in the session · event 7 · mismatched ────────── Enter: detail ─
             ✗ Results differ: row 2, column "value"
                recorded: "200"
                replayed: "151"
             Duration: recorded 0.52 ms · replayed 0.38 ms

               SELECT * FROM test_data ORDER BY id;
            n step  r run  m to mismatch  b break  s skip  R restart  Enter detail  q back
            """#)
        // ✓ green, ✗ red, ▶ (the next query) running-yellow; the selected row is highlighted.
        #expect(screen.styleLine(3).hasPrefix("..+"))
        #expect(screen.styleLine(6).hasPrefix("..r"))
        #expect(screen.styleLine(5).allSatisfy { $0 == "#" }, "query 3 is selected")
    }

    /// Enter: recorded and replayed side by side on a wide terminal, the differing cell highlighted on both sides.
    @Test func theDetailSideBySideAt120x40() {
        var state = Self.mismatchSelected(size: ScreenSize(columns: 120, rows: 40))
        state.press(.enter)
        let screen = state.screen
        expectScreen(
            screen,
            #"""
             pgreel replay  pseudo_user_2025-10-07_21-30-15.json  → postgres://postgres:***@127.0.0.1:5432/postgres
             5 queries  ✓ 2  ✗ 1  ! 0  ⊘ 0  · 2 pending                                                   safety: none  ● connected
            ─▶ Replay detail Esc back · ↑↓ PgUp PgDn ←→ scroll · side by side ──────────────────────────────────────────────────────
            Query 3 of 5 · #3 in the session · event 7 · recorded 21:30:16.635 UTC · simple protocol
            ✗ Results differ: row 2, column "value"
               recorded: "200"
               replayed: "151"
            Duration: recorded 0.52 ms · replayed 0.38 ms

            SQL
              SELECT * FROM test_data ORDER BY id;

            Recorded · SELECT 3 · 3 rows · 0.52 ms                     │ Replayed · SELECT 3 · 3 rows · 0.38 ms
              id │ name  │ value │ created_at                          │   id │ name  │ value │ created_at
              ───┼───────┼───────┼───────────────────────────          │   ───┼───────┼───────┼───────────────────────────
               1 │ test1 │   150 │ 2025-10-07 22:42:12.977496          │    1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
               2 │ test2 │   200 │ 2025-10-07 22:42:12.977496          │    2 │ test2 │   151 │ 2025-10-07 22:42:12.977496
               3 │ test3 │   300 │ 2025-10-07 22:42:12.977496          │    3 │ test3 │   300 │ 2025-10-07 22:42:12.977496





















            ↑↓ scroll  ←→ sideways  n step  Esc back to the list
            """#)
        let row = 16  // row 2 of both tables
        let line = screen.line(row)
        let styles = Array(screen.styleLine(row))
        let recorded = line.distance(from: line.startIndex, to: line.range(of: "200")!.lowerBound)
        let replayed = line.distance(from: line.startIndex, to: line.range(of: "151")!.lowerBound)
        #expect(styles[recorded] == "D" && styles[replayed] == "D")
        #expect(styles.filter { $0 == "D" }.count == 10, "only the value cells (5 columns each side) are marked")
        #expect(!screen.styleLine(15).contains("D") && !screen.styleLine(17).contains("D"))
    }

    /// The same detail on a narrow terminal: the replayed result under the recorded one.
    @Test func theDetailOneAboveTheOtherAt80x24() throws {
        var state = Self.mismatchSelected()
        state.press(.enter)
        expectScreen(
            state.screen,
            #"""
             pgreel replay  pseudo_user_2025-10-07_21-30-15.json  → postgres://postgres:***…
             5 queries  ✓ 2  ✗ 1  ! 0  ⊘ 0  · 2 pending           safety: none  ● connected
            ─▶ Replay detail Esc back · ↑↓ PgUp PgDn ←→ scroll · lines 1–20 of 22 ──────────
            Query 3 of 5 · #3 in the session · event 7 · recorded 21:30:16.635 UTC · simple
            ✗ Results differ: row 2, column "value"
               recorded: "200"
               replayed: "151"
            Duration: recorded 0.52 ms · replayed 0.38 ms

            SQL
              SELECT * FROM test_data ORDER BY id;

            Recorded · SELECT 3 · 3 rows · 0.52 ms
              id │ name  │ value │ created_at
              ───┼───────┼───────┼───────────────────────────
               1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
               2 │ test2 │   200 │ 2025-10-07 22:42:12.977496
               3 │ test3 │   300 │ 2025-10-07 22:42:12.977496

            Replayed · SELECT 3 · 3 rows · 0.38 ms
              id │ name  │ value │ created_at
              ───┼───────┼───────┼───────────────────────────
               1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
            ↑↓ scroll  ←→ sideways  n step  Esc back to the list
            """#)
        // Scrolling down shows the replayed table with its differing cell marked.
        state.press(.end)
        let screen = state.screen
        let row = try #require((0..<24).first { screen.line($0).contains("│   151 │") })
        #expect(screen.styleLine(row).contains("DDDDD"))
    }

    /// At the end: the headless replay's summary.
    @Test func theSummaryAtTheEndAt80x24() {
        var state = Self.mismatchSelected()
        var session = FakeReplaySession()
        session.position = 3
        session.press(.character("r"), on: &state)
        expectScreen(
            state.screen,
            #"""
             pgreel replay  pseudo_user_2025-10-07_21-30-15.json  → postgres://postgres:***…
             5 queries  ✓ 4  ✗ 1  ! 0  ⊘ 0  · 0 pending            safety: none  ■ finished
            ── Queries (5) ───────────────────────────────────────── recorded ── replayed ──
              ┌─ Replay finished ───────────────────────────────────────────────────────┐
              │ 📊 Replay Summary:                                                      │
              │    Queries executed: 5                                                  │
              │    Errors: 1 (all as recorded)                                          │
              │    Results matched: 4                                                   │
              │    Results mismatched: 1                                                │
              │    Time executing: 2.5 ms                                               │
              │    Latency (5 queries run on both sides):                               │
              │      recorded p50 0.410 ms · p95 1.200 ms · p99 1.200 ms · max 1.200 ms │
              │      replayed p50 0.380 ms · p95 0.380 ms · p99 0.380 ms · max 0.380 ms │
              │      replayed/recorded p50 0.93x · p95 0.32x · p99 0.32x                │
              │    Latency regressions (over 2x and 1 ms slower): none                  │
              │                                                                         │
            ──│ ❌ Session replay found differences: 1 mismatched                       │l ─
             ✓│                                                                         │
             D│ w writes the report   R restarts   Esc closes                           │
              └─────────────────────────────────────────────────────────────────────────┘
               SELECT value FROM test_data WHERE id = 1;


            n step  r run  m to mismatch  b break  s skip  R restart  Enter detail  q back
            """#)
    }

    /// Both sides failed, with different SQLSTATEs: each side shows its own error, next to each other.
    @Test func errorsShowTheirSQLSTATEOnBothSides() throws {
        var state = ReplayFixtures.connectedState(size: ScreenSize(columns: 140, rows: 40))
        var session = FakeReplaySession()
        session.answer = { row in
            guard row.query.queryNumber == 4 else { return row.recorded }
            return RecordedResult(
                queryNumber: 4,
                error: RecordedError(severity: "ERROR", code: "42501", message: "permission denied for table nope"),
                durationMS: 0.1)
        }
        session.press(.character("r"), on: &state)
        state.press(.escape, .home, .down, .down, .down, .enter)
        let screen = state.screen.text
        #expect(screen.contains("✗ Results differ: error"))
        let line = try #require(screen.split(separator: "\n").first { $0.contains("✗ ERROR 42501") })
        #expect(line.contains("✗ ERROR 42P01: relation \"nope\" does not exist"))
        #expect(line.contains("  │   ✗ ERROR 42501: permission denied for table nope"))
        #expect(screen.contains("Recorded · failed · 0.20 ms"))
        #expect(screen.contains("Replayed · failed · 0.10 ms"))
        #expect(screen.contains("Duration: recorded 0.20 ms · replayed 0.10 ms"))
    }

    /// An unexpected error: the recorded table on one side, the error on the other, and `!` in the list.
    @Test func anUnexpectedErrorNextToTheRecordedRows() throws {
        var state = ReplayFixtures.connectedState(size: ScreenSize(columns: 120, rows: 40))
        var session = FakeReplaySession()
        session.answer = { row in
            guard row.query.queryNumber == 3 else { return row.recorded }
            return RecordedResult(
                queryNumber: 3,
                error: RecordedError(severity: "ERROR", code: "42P01", message: "relation \"test_data\" does not exist"))
        }
        session.press(.character("r"), on: &state)
        state.press(.escape)
        let list = state.screen
        let row = try #require((0..<40).first { list.line($0).contains("SELECT * FROM test_data ORDER BY id;") })
        #expect(list.line(row).hasPrefix("  !  3 "))
        #expect(list.line(row).contains("✗ 42P01"))
        state.press(.home, .down, .down)
        #expect(state.screen.text.contains("! Query failed: ERROR 42P01: relation \"test_data\" does not exist"))
        state.press(.enter)
        let detail = state.screen.text.split(separator: "\n").map(String.init)
        let error = try #require(detail.firstIndex { $0.contains("✗ ERROR 42P01") })
        #expect(detail[error + 1].contains("id │ name  │ value │ created_at"), "the recorded table starts beside it")
    }

    @Test(arguments: [(0, 0), (1, 1), (5, 3), (20, 6), (40, 12), (79, 24), (80, 13), (200, 60)])
    func anySizeRendersWithoutCrashing(columns: Int, rows: Int) {
        let size = ScreenSize(columns: columns, rows: rows)
        var state = Self.mismatchSelected(size: size)
        for key: ViewKey in [.enter, .end, .right, .escape, .character("?"), .up, .character("b"), .pageDown] {
            state.press(key)
            let screen = state.screen
            #expect(screen.size == size)
        }
    }
}
