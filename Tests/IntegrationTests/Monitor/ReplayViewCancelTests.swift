import Foundation
import ProxyEngine
import Testing

/// The step-through view against a target slower than the recording, for real: a plpgsql function recorded fast
/// through the proxy, then made slow with psql before `pgreel replay FILE --tui` runs in tmux. A query that hangs is
/// cancelled on the target with Esc (no 30 s wait), and a slower one shows `▲` with its ratio.
@Suite struct ReplayViewCancelTests {
    static let queries = ["SELECT 1 AS one;", "SELECT slow();", "SELECT 3 AS three;"]

    /// Records the three queries with `slow()` taking no time, then redefines it to sleep `seconds` on the target.
    static func recordThenSlowDown(_ server: TestPostgres, database: String, seconds: String) async throws -> String {
        let function = """
            CREATE OR REPLACE FUNCTION slow() RETURNS int LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_sleep(%@); RETURN 2; END $$
            """
        try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: "0"), database: database)
        let file = try await ReplayWorkflowTests.record(
            Self.queries.joined(separator: "\n"), on: server, database: database)
        try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: seconds), database: database)
        return file
    }

    static func open(_ file: String, server: TestPostgres) async throws -> TmuxSession {
        let tmux = try await TmuxSession.start(
            try ReplayDashboardTests.command(["replay", file, "--tui"], password: server.upstreamPassword))
        try await tmux.waitForScreen(containing: "3 queries", "● connected")
        return tmux
    }

    @Test func escapeCancelsAQueryThatHangsOnTheTargetAndTheNextStepWorks() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await Self.recordThenSlowDown(server, database: database, seconds: "30")
        let tmux = try await Self.open(file, server: server)
        do {
            try await tmux.press("n")
            try await tmux.waitForScreen(containing: "3 queries  ✓ 1  ✗ 0  ! 0")
            // n: slow() now sleeps 30 s on the target; the status bar says Esc cancels it.
            try await tmux.press("n")
            try await tmux.waitForScreen(containing: "▶ query 2… (Esc cancels)")
            let pressed = ContinuousClock.now
            try await tmux.press("Escape")
            var screen = try await tmux.waitForScreen(
                containing: "Query 2 cancelled on the target (57014).", "3 queries  ✓ 1  ✗ 0  ! 1",
                timeout: .seconds(10))
            let took = ContinuousClock.now - pressed
            #expect(took < .seconds(10), "the cancel took \(took)")
            #expect(try ReplayDashboardTests.row(screen, Self.queries[1]).hasPrefix("  !  2 "))
            #expect(screen.contains("57014"), "the verdict names the target's error")
            #expect(!screen.contains("pgreel exited"), "Esc on a running query does not leave the view")
            let running = try await server.psqlAdmin(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    + "AND query = 'SELECT slow();' AND state = 'active'",
                database: database)
            #expect(running == "0", "the target no longer runs the query")

            // The connection is still usable: the next step matches.
            try await tmux.press("n")
            screen = try await tmux.waitForScreen(containing: "3 queries  ✓ 2  ✗ 0  ! 1", "Replay finished")
            #expect(try ReplayDashboardTests.row(screen, Self.queries[2]).contains("✓  3 "))
            try await tmux.press("Escape")
            try await tmux.press("q")
            try await tmux.waitForScreen(containing: "pgreel exited with 1")
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }

    @Test func aQuerySlowerThanRecordedShowsItsRatioAndTheSummaryItsPercentiles() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await Self.recordThenSlowDown(server, database: database, seconds: "0.3")
        let tmux = try await Self.open(file, server: server)
        do {
            try await tmux.press("r")
            let screen = try await tmux.waitForScreen(containing: "Replay finished", "Latency (3 queries run on both sides):")
            let row = try ReplayDashboardTests.row(screen, Self.queries[1])
            #expect(row.contains("✓  2 "), "slower, but the same result: \(row)")
            #expect(
                row.range(of: #"▲ (>?\d+(\.\d)?|∞)x"#, options: .regularExpression) != nil,
                "the time column shows how many times slower: \(row)")
            #expect(screen.contains("Latency regressions (over 2x and 1 ms slower):"))
            #expect(screen.contains("slower than recorded"))

            // The verdict of the slow query has both durations and the ratio.
            try await tmux.press("Escape")
            try await tmux.press("Up")
            let verdict = try await tmux.waitForScreen("the durations of slow()") { screen in
                screen.contains("Duration: recorded ") && screen.contains("slower than recorded")
                    && screen.contains("2 · #2 in the session")
            }
            let durations = try #require(verdict.split(separator: "\n").first { $0.contains("Duration: recorded ") })
            #expect(
                durations.range(of: #" · replayed (\d{3} ms|\d+\.\d s)"#, options: .regularExpression) != nil,
                "300 ms or more: \(durations)")
            try await tmux.press("q")
            try await tmux.waitForScreen(containing: "pgreel exited with 0")
        } catch {
            await tmux.kill()
            throw error
        }
        await tmux.kill()
    }
}
