import Foundation
import Monitor
import ProxyEngine
import Testing

/// What the dashboard draws, as text snapshots (trailing spaces ignored). Styles are checked separately.
@Suite struct RenderSnapshotTests {
    /// Nothing connected: the connect hint and empty panes.
    @Test func emptyStateAt80x24() {
        expectScreen(
            Scenarios.empty().screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             0 open · 0.0 q/s · 0 queries · 0 errors · 0 rows                        ? help
            ── Connections 0 open ───── client ──────── state ─────────────── queries ─ age
              No connections yet.
              Connect: psql -h 127.0.0.1 -p 5433 -U pseudo_user -d postgres


            ─▶ Live queries (0) · following ─────────────────────── duration ── rows status
              No queries yet.






            ── Result ──────────────────────────────────────────────────────────────────────
              The selected query's result shows here.






            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// The seed's queries with the first one selected: its three rows as a table.
    @Test func seedResultTableAt80x24() {
        expectScreen(
            Scenarios.seedFirstQuery().screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 1.3 q/s · 5 queries · 0 errors · 4 rows                        ? help
            ── Connections 1 open ───── client ──────── state ─────────────── queries ─ age
            #1   pseudo_user → postgres 127.0.0.1:53422 idle                       5      2s



            ─▶ Live queries (5) · scrolled, f follows ───────────── duration ── rows status
            21:30:15 #1   SELECT * FROM test_data;                   0.40 ms       3 ✓
            21:30:15 #1   INSERT INTO test_data (name, value) VAL…   1.80 ms       1 ✓
            21:30:16 #1   UPDATE test_data SET value = 1000 WHERE…   1.20 ms       1 ✓
            21:30:16 #1   SELECT * FROM test_data WHERE value > 5…   0.35 ms       1 ✓
            21:30:17 #1   DELETE FROM test_data WHERE name = 'new…   0.90 ms       1 ✓


            ── Result #1 query 1 · SELECT 3 · 3 rows · 0.40 ms ─────────────────────────────
             id │ name  │ value │ created_at
             ───┼───────┼───────┼───────────────────────────
              1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
              2 │ test2 │   200 │ 2025-10-07 22:42:12.977496
              3 │ test3 │   300 │ 2025-10-07 22:42:12.977496


            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// The same at 120x40: milliseconds, the database column, taller panes.
    @Test func seedResultTableAt120x40() {
        expectScreen(
            Scenarios.seedFirstQuery(size: ScreenSize(columns: 120, rows: 40)).screen,
            #"""
             pgreel monitor  127.0.0.1:5433 → postgres://postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 1.3 q/s · 5 queries · 0 errors · 4 rows                                                                ? help
            ── Connections 1 open ────────────────────── client ────────────── database ─────── state ─────────────── queries ─ age
            #1   pseudo_user → postgres                  127.0.0.1:53422       postgres         idle                       5      2s







            ─▶ Live queries (5) · scrolled, f follows ───────────────────────────────────────────────────── duration ── rows status
            21:30:15.123 #1   SELECT * FROM test_data;                                                       0.40 ms       3 ✓
            21:30:15.623 #1   INSERT INTO test_data (name, value) VALUES ('new_record', 999);                1.80 ms       1 ✓
            21:30:16.125 #1   UPDATE test_data SET value = 1000 WHERE name = 'new_record';                   1.20 ms       1 ✓
            21:30:16.626 #1   SELECT * FROM test_data WHERE value > 500;                                     0.35 ms       1 ✓
            21:30:17.126 #1   DELETE FROM test_data WHERE name = 'new_record';                               0.90 ms       1 ✓








            ── Result #1 query 1 · SELECT 3 · 3 rows · 0.40 ms ─────────────────────────────────────────────────────────────────────
             id │ name  │ value │ created_at
             ───┼───────┼───────┼───────────────────────────
              1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
              2 │ test2 │   200 │ 2025-10-07 22:42:12.977496
              3 │ test3 │   300 │ 2025-10-07 22:42:12.977496








            Tab pane  ↑↓ select  Enter detail  / filter  s session  f follow  p pause  o replay  ? help  q quit
            """#)
    }

    /// A failed query shows its SQLSTATE, hint and position; a running query its elapsed time.
    @Test func errorResultAt80x24() {
        expectScreen(
            Scenarios.errorResult().screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             2 open · 0.3 q/s · 4 queries · 1 error · 1 row                          ? help
            ── Connections 2 open ───── client ──────── state ─────────────── queries ─ age
            #1   pseudo_user → postgres 127.0.0.1:53422 idle                       2      4s
            #2   alice → app_rw         127.0.0.1:53500 active                     1      4s
            #3   pseudo_user → postgres 127.0.0.1:53501 closed                     1      0s

            ─▶ Live queries (4) · following ─────────────────────── duration ── rows status
            21:30:15 #1   SELECT 1;                                  0.42 ms       1 ✓
            21:30:15 #3   BEGIN;                                     0.42 ms         ✓
            21:30:17 #2   SELECT pg_sleep(30);                         2.5 s         …
            21:30:19 #1   SELECT * FROM nope WHERE id = 1;           0.61 ms         ✗ 42P01



            ── Result #1 query 2 · failed · 0.61 ms ────────────────────────────────────────
             ✗ ERROR 42P01: relation "nope" does not exist
             HINT: Check the table name.
             LINE 1: SELECT * FROM nope WHERE id = 1;
                                   ^



            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// Wide, combining and emoji characters keep the columns aligned; NULL differs from ''.
    @Test func wideCharactersAt120x40() {
        expectScreen(
            Scenarios.wideCharacters().screen,
            #"""
             pgreel monitor  127.0.0.1:5433 → postgres://postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 0.0 q/s · 1 query · 0 errors · 4 rows                                                                  ? help
            ── Connections 1 open ────────────────────── client ────────────── database ─────── state ─────────────── queries ─ age
            #1   東京ユーザー → postgres                 127.0.0.1:53422       postgres         idle                       1      0s







            ─▶ Live queries (1) · following ─────────────────────────────────────────────────────────────── duration ── rows status
            21:30:15.123 #1   SELECT id, city, note, label FROM cities -- 都市の一覧 WHERE note IS DISTIN…     13 ms       4 ✓












            ── Result #1 query 1 · SELECT 4 · 4 rows · 13 ms ───────────────────────────────────────────────────────────────────────
             id │ city    │ note │ label
             ───┼─────────┼──────┼────────────
              1 │ 東京    │ café │ 🐘 elephant
              2 │ Zürich  │ NULL │
              3 │ 서울    │ été  │ tab\there
              4 │ München │      │ NULL







            Tab pane  ↑↓ select  Enter detail  / filter  s session  f follow  p pause  o replay  ? help  q quit
            """#)
    }

    /// The same cut to 80 columns: long SQL and user names end with an ellipsis.
    @Test func wideCharactersAt80x24() {
        expectScreen(
            Scenarios.wideCharacters(size: .minimum).screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 0.0 q/s · 1 query · 0 errors · 4 rows                          ? help
            ── Connections 1 open ───── client ──────── state ─────────────── queries ─ age
            #1   東京ユーザー → postgr… 127.0.0.1:53422 idle                       1      0s



            ─▶ Live queries (1) · following ─────────────────────── duration ── rows status
            21:30:15 #1   SELECT id, city, note, label FROM citie…     13 ms       4 ✓






            ── Result #1 query 1 · SELECT 4 · 4 rows · 13 ms ───────────────────────────────
             id │ city    │ note │ label
             ───┼─────────┼──────┼────────────
              1 │ 東京    │ café │ 🐘 elephant
              2 │ Zürich  │ NULL │
              3 │ 서울    │ été  │ tab\there
              4 │ München │      │ NULL

            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// Enter opens the full-screen detail: who, when, the whole SQL and the whole result.
    @Test func queryDetailAt80x24() {
        var state = Scenarios.seedFirstQuery()
        state.press(.enter)
        expectScreen(
            state.screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 1.3 q/s · 5 queries · 0 errors · 4 rows                        ? help
            ─▶ Query detail #1 query 1 · Esc closes · ↑↓ PgUp PgDn ←→ scroll ───────────────
            Query 1 of session #1 (session_1795912708134905346) · pseudo_user → postgres
            Started 21:30:15.123 UTC · took 0.40 ms · simple protocol

            SQL
              SELECT * FROM test_data;

            Result · SELECT 3 · 3 rows
              id │ name  │ value │ created_at
              ───┼───────┼───────┼───────────────────────────
               1 │ test1 │   150 │ 2025-10-07 22:42:12.977496
               2 │ test2 │   200 │ 2025-10-07 22:42:12.977496
               3 │ test3 │   300 │ 2025-10-07 22:42:12.977496








            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// Long SQL lines wrap in the detail view; tabs become spaces, wide characters stay whole.
    @Test func wideCharacterDetailAt80x24() {
        var state = Scenarios.wideCharacters(size: .minimum)
        state.press(.enter)
        expectScreen(
            state.screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 open · 0.0 q/s · 1 query · 0 errors · 4 rows                          ? help
            ─▶ Query detail #1 query 1 · Esc closes · ↑↓ PgUp PgDn ←→ scroll ───────────────
            Query 1 of session #1 (s1) · 東京ユーザー → postgres
            Started 21:30:15.123 UTC · took 13 ms · simple protocol

            SQL
              SELECT id,    city, note, label
              FROM cities   -- 都市の一覧
              WHERE note IS DISTINCT FROM '' AND label <> 'x' AND id IN (1, 2, 3, 4, 5, 6, 7
              , 8, 9, 10, 11, 12, 13, 14, 15, 16)
              ORDER BY id;

            Result · SELECT 4 · 4 rows
              id │ city    │ note │ label
              ───┼─────────┼──────┼────────────
               1 │ 東京    │ café │ 🐘 elephant
               2 │ Zürich  │ NULL │
               3 │ 서울    │ été  │ tab\there
               4 │ München │      │ NULL



            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// `?` draws the keys over the panes.
    @Test func helpOverlayAt80x24() {
        var state = Scenarios.seedFirstQuery()
        state.press(.character("?"))
        expectScreen(
            state.screen,
            #"""
             pgreel  127.0.0.1:5433 → postgres:***@127.0.0.1:5432/postgres  ● rec ./sessions
             1 o┌─ Keys ───────────────────────────────────────────────────────────────┐elp
            ── C│ Tab  Shift-Tab  next / previous pane                                 │age
            #1  │ ↑ ↓  j k        move the selection (Result pane: scroll)             │  2s
                │ PgUp PgDn       a page up / down                                     │
                │ Home End  g G   first / last; End in Live queries follows again      │
                │ ← →  h l        scroll the result sideways                           │
            ── L│ Enter           query: full-screen detail, SQL and whole result      │tus
            21:3│                 connection: only its queries (again: all)            │
            21:3│ /               filter: text, user:NAME or session:N                 │
            21:3│ s               pick a session to show only its queries              │
            21:3│ f               follow the newest query on / off                     │
            21:3│ p               pause the display (the proxy keeps running)          │
                │ v               Result pane: the full SQL instead of the result      │
                │ o               session files: pick one and replay it step by step   │
            ── R│ Esc             clear the filter and the session choice              │────
             id │ Ctrl-L          redraw the screen                                    │
             ───│ q               quit (asks while connections are open)               │
              1 │                                                                      │
              2 │ Mouse: click selects, double-click opens, the wheel scrolls.         │
              3 │ Times are UTC, as in the session files. NULL is styled; '' is blank. │
                └──────────────────────────────────────────────────────────────────────┘

            Tab pane  Enter detail  / filter  s session  f follow  p pause  ? help  q quit
            """#)
    }

    /// Below 80x24 the dashboard says so and keeps showing the newest queries.
    @Test func smallTerminalDegradesWithAMessage() {
        var state = Scenarios.errorResult()
        state.resize(to: ScreenSize(columns: 60, rows: 20))
        expectScreen(
            state.screen,
            #"""
            60x20 is too small: 80x24 shows every pane · q quits
            2 open · 0.3 q/s · 4 queries · 1 error
            ─▶ Live queries (4) · following ─── duration ── rows status
            21:30:15 #1   SELECT 1;              0.42 ms       1 ✓
            21:30:15 #3   BEGIN;                 0.42 ms         ✓
            21:30:17 #2   SELECT pg_sleep(30);     2.5 s         …
            21:30:19 #1   SELECT * FROM nope …   0.61 ms         ✗ 42P01
            """#)
    }
}
