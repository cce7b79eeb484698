import Foundation
import ProxyEngine
import Testing

/// The step-through replay for real: a session recorded through the pgreel proxy with psql, one row changed with
/// psql, then the built binary in a tmux terminal (`pgreel replay FILE --tui`, and `o` in `pgreel monitor`)
/// against a real PostgreSQL.
@Suite struct ReplayDashboardTests {
    /// Four reads, the third showing the row the test changes before replaying, and a write: it shows that a step
    /// executes the query stepped to and nothing after it.
    static let queries = [
        "SELECT count(*) FROM test_data WHERE id <= 3;",
        "SELECT name FROM test_data WHERE id = 1;",
        "SELECT id, name, value FROM test_data ORDER BY id;",
        "SELECT value FROM test_data WHERE id = 3;",
        "INSERT INTO test_data (name, value) VALUES ('again', 1);",
    ]

    static func insertedRows(_ server: TestPostgres, _ database: String) async throws -> String {
        try await server.psqlAdmin("SELECT count(*) FROM test_data WHERE name = 'again'", database: database)
    }

    /// Records the four queries through a proxy, then changes row 2 (value 200 → 151) with psql.
    static func recordAndChange(_ server: TestPostgres, database: String) async throws -> (file: String, directory: String) {
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let psql = try await proxy.psql(Self.queries.joined(separator: "\n"), database: database)
        #expect(psql.status == 0, "psql failed: \(psql.stderr)")
        _ = try await proxy.finishedSessions(count: 1)
        let file = try #require(proxy.sessionFiles().first)
        try await server.psqlAdmin("UPDATE test_data SET value = 151 WHERE id = 2", database: database)
        return (file, proxy.sessionsDirectory)
    }

    /// A shell command that runs pgreel with the recorded connection's password in PGPASSWORD, then says how it
    /// ended and keeps the window open.
    static func command(_ arguments: [String], password: String) throws -> String {
        let pgreel = ([try Tools.pgreelBinary] + arguments).map(TmuxSession.shellQuoted).joined(separator: " ")
        return "PGPASSWORD=\(TmuxSession.shellQuoted(password)) DATABASE_URL= \(pgreel); "
            + "echo \"pgreel exited with $?\"; sleep 600"
    }

    /// The screen line of the query list that shows `sql`.
    static func row(_ screen: String, _ sql: String) throws -> String {
        try #require(screen.split(separator: "\n").map(String.init).first { $0.contains(sql) }, "\(sql) missing")
    }

    @Test func stepAndRunToTheChangedRow() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let (file, _) = try await Self.recordAndChange(server, database: database)
        let tmux = try await TmuxSession.start(
            try Self.command(["replay", file, "--tui"], password: server.upstreamPassword))
        do {
            try await self.stepThrough(tmux, server: server, database: database, file: file)
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }

    private func stepThrough(_ tmux: TmuxSession, server: TestPostgres, database: String, file: String) async throws {
        let name = URL(fileURLWithPath: file).lastPathComponent
        var screen = try await tmux.waitForScreen(containing: "pgreel replay  \(name)", "● connected")
        #expect(screen.contains("postgres://postgres:***@127.0.0.1:\(server.port)/\(database)"))
        #expect(!screen.contains(server.upstreamPassword), "the password never shows")
        #expect(screen.contains("safety: none"))
        #expect(screen.contains("5 queries  ✓ 0  ✗ 0  ! 0  ⊘ 0  · 5 pending"))
        #expect(try Self.row(screen, Self.queries[0]).hasPrefix("  ▶  1 "))
        #expect(try Self.row(screen, Self.queries[1]).hasPrefix("  ·  2 "))

        // n: the first query, executed and matched; the second is next.
        try await tmux.press("n")
        // (A frame reaches tmux in pieces, top first: wait for its lowest change.)
        screen = try await tmux.waitForScreen(containing: "5 queries  ✓ 1  ✗ 0", "✓ Results match recorded data (1 row)")
        #expect(try Self.row(screen, Self.queries[0]).hasPrefix("  ✓  1 "))
        #expect(try Self.row(screen, Self.queries[1]).hasPrefix("  ▶  2 "))
        #expect(screen.contains("✓ Results match recorded data (1 row)"))

        // m: runs on to the changed row and stops there, its difference named with both values.
        try await tmux.press("m")
        screen = try await tmux.waitForScreen(containing: "5 queries  ✓ 2  ✗ 1", "Stopped at a mismatched query.")
        #expect(try Self.row(screen, Self.queries[1]).hasPrefix("  ✓  2 "))
        #expect(try Self.row(screen, Self.queries[2]).hasPrefix("  ✗  3 "))
        #expect(try Self.row(screen, Self.queries[3]).hasPrefix("  ▶  4 "), "query 4 did not run")
        #expect(try await Self.insertedRows(server, database) == "1", "the INSERT ran when recorded, not yet again")
        #expect(screen.contains("✗ Results differ: row 2, column \"value\""))
        #expect(screen.contains("   recorded: \"200\""))
        #expect(screen.contains("   replayed: \"151\""))

        // Enter: recorded and replayed side by side (120 columns), the changed value on each side.
        try await tmux.press("Enter")
        screen = try await tmux.waitForScreen("the changed row side by side") { screen in
            screen.contains("Replay detail")
                && screen.split(separator: "\n").contains { $0.contains("2 │ test2 │   200") && $0.contains("2 │ test2 │   151") }
        }
        #expect(screen.contains("side by side"))
        try await tmux.press("Escape")
        try await tmux.waitForScreen(containing: "─▶ Queries (5)")

        // r: the rest; at the end the summary, with the right counts.
        try await tmux.press("r")
        screen = try await tmux.waitForScreen(
            containing: "Replay finished", "Results mismatched: 1", "❌ Session replay found differences: 1 mismatched")
        #expect(try Self.row(screen, Self.queries[3]).contains("✓  4 "))
        #expect(screen.contains("5 queries  ✓ 4  ✗ 1  ! 0  ⊘ 0  · 0 pending"))
        #expect(screen.contains("Queries executed: 5"))
        #expect(screen.contains("Results matched: 4"))
        #expect(try await Self.insertedRows(server, database) == "2", "without --rollback the replayed INSERT stays")

        // w: the JSON report beside the session file, as `pgreel replay --report` writes it.
        try await tmux.press("w")
        let report = String(file.dropLast(5)) + ".replay.json"
        try await tmux.waitForScreen(containing: "Report written to \(report)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(json["tool"] as? String == "pgreel replay")
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["matched"] as? Int == 4)
        #expect(summary["mismatched"] as? Int == 1)
        let queries = try #require((json["files"] as? [[String: Any]])?.first?["queries"] as? [[String: Any]])
        #expect(queries.map { $0["status"] as? String } == ["matched", "matched", "mismatched", "matched", "matched"])
        let attributes = try FileManager.default.attributesOfItem(atPath: report)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // q: the terminal is given back, with the summary and exit code 1 (a mismatch).
        try await tmux.press("Escape")
        try await tmux.press("q")
        screen = try await tmux.waitForScreen(containing: "pgreel exited with 1")
        #expect(screen.contains("   Results matched: 4\n   Results mismatched: 1"))
        #expect(!screen.contains("─▶ Queries"), "the replay view is gone from the terminal")
    }

    @Test func theMonitorListsTheRecordedFileAndReplaysIt() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let (file, sessions) = try await Self.recordAndChange(server, database: database)
        let name = URL(fileURLWithPath: file).lastPathComponent
        let port = try Tools.freePort()
        let tmux = try await TmuxSession.start(
            try Self.command(
                [
                    "monitor", "--listen", "127.0.0.1:\(port)", "--upstream",
                    server.url(user: "postgres", database: database), "--sessions", sessions,
                ], password: server.upstreamPassword))
        do {
            try await tmux.waitForScreen(containing: "No connections yet.")
            try await tmux.press("o")
            // The list comes first, each file's details (user, query count) once it has been read.
            let screen = try await tmux.waitForScreen("\(name) with its details") { screen in
                screen.contains("pgreel sessions")
                    && screen.split(separator: "\n").contains {
                        $0.contains(name) && $0.contains("pseudo_user") && $0.contains(" 5 ")
                    }
            }
            let line = try Self.row(screen, name)
            #expect(line.contains(" 5 "), "five queries: \(line)")
            #expect(screen.contains("1 session file, newest first"))

            // Enter replays it; the first step matches; q goes back to the browser, q again to the live view.
            try await tmux.press("Enter")
            try await tmux.waitForScreen(containing: "pgreel replay  \(name)", "● connected")
            try await tmux.press("n")
            try await tmux.waitForScreen(containing: "5 queries  ✓ 1")
            try await tmux.press("q")
            try await tmux.waitForScreen(containing: "pgreel sessions")
            try await tmux.press("q")
            try await tmux.waitForScreen(containing: "── Connections")
            try await tmux.press("q")
            try await tmux.waitForScreen(containing: "pgreel exited with 0")
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }
}
