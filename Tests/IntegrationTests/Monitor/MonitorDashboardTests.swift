import Foundation
import ProxyEngine
import Testing

/// `pgreel monitor` for real: the built binary in a tmux terminal, psql in a second window, a real PostgreSQL.
@Suite struct MonitorDashboardTests {
    static let seedQueries = [
        "SELECT * FROM test_data;",
        "INSERT INTO test_data (name, value) VALUES ('new_record', 999);",
        "UPDATE test_data SET value = 1000 WHERE name = 'new_record';",
        "SELECT * FROM test_data WHERE value > 500;",
        "DELETE FROM test_data WHERE name = 'new_record';",
    ]

    @Test func theSeedWorkflowOnTheDashboard() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let monitor = try await MonitorInTmux.start(server: server, database: database)
        try await monitor.run { monitor in
            try await self.seedWorkflow(in: monitor, server: server)
        }
    }

    private func seedWorkflow(in monitor: MonitorInTmux, server: TestPostgres) async throws {
        let (tmux, database, port, sessions) = (monitor.tmux, monitor.database, monitor.port, monitor.sessions)
        var screen = try await tmux.waitForScreen(containing: "No connections yet.", "127.0.0.1:\(port)")
        #expect(screen.contains("127.0.0.1:\(port) → "))
        #expect(screen.contains("postgres:***@127.0.0.1:\(server.port)/"))
        #expect(!screen.contains(server.upstreamPassword), "the upstream password never shows")
        #expect(screen.contains("● rec \(sessions)"))

        // psql in a second terminal, as a user would.
        let psqlWindow = try await tmux.newWindow(try monitor.psql(["-P", "pager=off"]) + "; sleep 600")
        try await tmux.waitForScreen(containing: "\(database)=#", target: psqlWindow)
        for query in Self.seedQueries {
            try await tmux.type(query, target: psqlWindow)
            try await tmux.press("Enter", target: psqlWindow)
        }
        try await tmux.waitForScreen(containing: "DELETE 1", target: psqlWindow)

        // The dashboard redraws up to a frame after psql printed DELETE 1: wait until the last result is shown.
        screen = try await tmux.waitForScreen(
            containing: Self.seedQueries.last!, "(5) · following", "── Result #1 query 5 · DELETE 1 · ")
        #expect(screen.contains("#1   pseudo_user → postgres"))
        #expect(screen.contains("1 open · "))
        let connection = try #require(screen.split(separator: "\n").first { $0.hasPrefix("#1 ") })
        #expect(connection.contains("127.0.0.1:"))
        #expect(connection.contains("idle"))
        #expect(connection.contains(" 5 "))
        for query in Self.seedQueries {
            let line = try #require(screen.split(separator: "\n").first { $0.contains(query) }, "\(query) missing")
            #expect(line.hasSuffix("✓"), "\(line)")
        }
        // Following: the newest query (DELETE) is selected and the Result pane shows it.
        #expect(screen.contains("── Result #1 query 5 · DELETE 1 · "))

        // Home: the first query; its three rows as a table.
        try await tmux.press("Home")
        screen = try await tmux.waitForScreen(containing: "Result #1 query 1 · SELECT 3 · 3 rows")
        #expect(screen.contains("(5) · scrolled, f follows"))
        #expect(screen.contains(" id │ name  │ value │ created_at"))
        for (id, name, value) in [(1, "test1", 150), (2, "test2", 200), (3, "test3", 300)] {
            #expect(screen.contains("  \(id) │ \(name) │   \(value) │ 2025-10-07 22:42:12.977496"))
        }

        // Tab: the Result pane gets the focus.
        #expect(screen.contains("─▶ Live queries"))
        try await tmux.press("Tab")
        screen = try await tmux.waitForScreen(containing: "─▶ Result")
        #expect(screen.contains("── Live queries"))

        // Enter: the full-screen detail of the query; Escape closes it.
        try await tmux.press("Enter")
        screen = try await tmux.waitForScreen(containing: "Query detail", "Query 1 of session #1")
        #expect(screen.contains("  SELECT * FROM test_data;"))
        #expect(!screen.contains("── Connections"))
        try await tmux.press("Escape")
        try await tmux.waitForScreen(containing: "── Connections")

        // /: a filter; only the UPDATE remains. Escape clears it.
        try await tmux.press("/")
        try await tmux.type("update")
        try await tmux.press("Enter")
        screen = try await tmux.waitForScreen(containing: "Live queries (1)", "filter \"update\"")
        #expect(screen.contains(Self.seedQueries[2]))
        #expect(!screen.contains(Self.seedQueries[1]))
        try await tmux.press("Escape")
        try await tmux.waitForScreen(containing: "Live queries (5)")

        // q while psql is connected asks first; n keeps the dashboard.
        try await tmux.press("q")
        screen = try await tmux.waitForScreen(containing: "1 connection is open through the proxy.")
        try await tmux.press("n")
        try await tmux.waitForScreen("the question to close") { !$0.contains("connection is open through") }

        // psql leaves: the connection shows closed; then q quits at once and the terminal is given back.
        try await tmux.type("\\q", target: psqlWindow)
        try await tmux.press("Enter", target: psqlWindow)
        try await tmux.waitForScreen(containing: "0 open · ", "closed")
        try await tmux.press("q")
        screen = try await tmux.waitForScreen(containing: "monitor exited with 0")
        #expect(screen.contains("pgreel monitor: 5 queries, 0 errors; sessions recorded in \(sessions)"))
        #expect(!screen.contains("── Connections"), "the dashboard is gone from the terminal")

        // Recording went on underneath: the session file has all five queries.
        let files = try FileManager.default.contentsOfDirectory(atPath: sessions).filter { $0.hasSuffix(".json") }
        #expect(files.count == 1)
        let contents = try SessionFileReader.read(path: sessions + "/" + files[0])
        #expect(contents.events.compactMap(\.query).map(\.sql) == Self.seedQueries)
    }

    @Test func refusesToRunWithoutATerminal() async throws {
        let result = try await ProcessRunner.run(
            try Tools.pgreelBinary, ["monitor", "--listen", "127.0.0.1:\(try Tools.freePort())"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("pgreel monitor needs a terminal; use `pgreel proxy` for headless mode"))
        #expect(result.stdout.isEmpty)
    }
}
