import Foundation
import Monitor
import ProxyEngine

/// The dashboard states the render snapshots show.
enum Scenarios {
    static let seedSessionID = "session_1795912708134905346"

    /// Nothing connected yet.
    static func empty(size: ScreenSize = .minimum) -> DashboardState {
        DashboardState.make(size: size)
    }

    /// The seed's five queries, then the first one selected (its three-row table in the Result pane).
    static func seedFirstQuery(size: ScreenSize = .minimum) -> DashboardState {
        var script = EventScript()
        var state = DashboardState.make(size: size)
        state.apply(script.seedSession(self.seedSessionID))
        state.tick(now: script.time, droppedEvents: 0)
        state.press(.home)
        return state
    }

    /// A failed query (with the error's position), a query still running in a second session, a closed third one.
    static func errorResult(size: ScreenSize = .minimum) -> DashboardState {
        var script = EventScript()
        var state = DashboardState.make(size: size)
        state.apply(script.connect("s1"))
        state.apply(script.run("s1", 1, "SELECT 1;", result: RecordedResultSet(
            columns: ["?column?"], columnTypes: [23], rows: [["1"]], rowCount: 1, commandTag: "SELECT 1")))
        state.apply(script.connect("s2", user: "alice", realUser: "app_rw", port: 53500))
        state.apply(script.connect("s3", port: 53501))
        state.apply(script.run("s3", 1, "BEGIN;", result: RecordedResultSet(commandTag: "BEGIN"),
            transaction: .inTransaction))
        state.apply([script.close("s3")])
        script.advance(1)
        state.apply([script.query("s2", 1, "SELECT pg_sleep(30);")])
        script.advance(2)
        state.apply(script.run(
            "s1", 2, "SELECT * FROM nope WHERE id = 1;",
            error: RecordedError(
                severity: "ERROR", code: "42P01", message: "relation \"nope\" does not exist",
                hint: "Check the table name.", position: "15"),
            duration: 0.61, transaction: .idle))
        state.tick(now: script.time, droppedEvents: 0)
        return state
    }

    /// A long multi-line SQL and a result with wide, combining and emoji characters, NULL and an empty string.
    static func wideCharacters(size: ScreenSize = ScreenSize(columns: 120, rows: 40)) -> DashboardState {
        var script = EventScript()
        var state = DashboardState.make(size: size)
        state.apply(script.connect("s1", user: "東京ユーザー", realUser: "postgres"))
        let sql = """
            SELECT id,\tcity, note, label
            FROM cities   -- 都市の一覧
            WHERE note IS DISTINCT FROM '' AND label <> 'x' AND id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
            ORDER BY id;
            """
        let rows: [[String?]] = [
            ["1", "東京", "café", "🐘 elephant"],
            ["2", "Zürich", nil, ""],
            ["3", "서울", "e\u{301}te\u{301}", "tab\there"],
            ["4", "München", "", nil],
        ]
        state.apply(script.run("s1", 1, sql, result: RecordedResultSet(
            columns: ["id", "city", "note", "label"], columnTypes: [23, 25, 25, 25], rows: rows, rowCount: 4,
            commandTag: "SELECT 4"), duration: 12.5))
        state.tick(now: script.time, droppedEvents: 0)
        return state
    }
}
