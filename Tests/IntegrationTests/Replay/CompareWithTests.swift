import Foundation
import ProxyEngine
import Testing

/// `--compare-with B`: each session runs on A and on B at the same time; every result is compared A vs recording,
/// B vs recording and A vs B, and the latencies of both are set side by side.
@Suite struct CompareWithTests {
    @Test func oneRowChangedAndOneQueryMadeSlowerOnB() async throws {
        let server = try await TestPostgres.shared()
        let databaseA = try await server.makeDatabase()
        let databaseB = try await server.makeDatabase()
        let function = """
            CREATE OR REPLACE FUNCTION lookup(n int) RETURNS int LANGUAGE plpgsql AS
            $$ BEGIN IF n = 3 THEN PERFORM pg_sleep(%@); END IF; RETURN n; END $$
            """
        for database in [databaseA, databaseB] {
            try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: "0"), database: database)
        }
        let file = try await ReplayWorkflowTests.record(
            "SELECT lookup(1);\nSELECT name, value FROM test_data ORDER BY id;\nSELECT lookup(3);\n",
            on: server, database: databaseA)
        // B: the "upgraded" server answers one row differently and runs lookup(3) 300 ms slower.
        try await server.psqlAdmin("UPDATE test_data SET value = value + 1 WHERE id = 2", database: databaseB)
        try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: "0.3"), database: databaseB)

        let report = try makeTemporaryDirectory(prefix: "pgreel-ab") + "/report.json"
        let replay = try await ReplayWorkflowTests.replay(
            [
                file, "--db-url", server.url(user: "postgres", password: false, database: databaseA),
                "--compare-with", server.url(user: "postgres", password: false, database: databaseB),
                "--report", report, "--latency-floor", "100",
            ], password: server.upstreamPassword)
        #expect(replay.status == 1, "B differs: \(replay)")
        let out = replay.stdout
        #expect(out.contains("   ✓ A: Results match recorded data (3 rows)"), "\(out)")
        #expect(out.contains("   ✗ B: Results differ: row 2, column \"value\""), "\(out)")
        #expect(out.contains("   ≠ A and B differ: row 2, column \"value\"\n      A: \"200\"\n      B: \"201\""), "\(out)")
        #expect(out.contains("   = A and B agree"), "\(out)")
        #expect(out.contains("   ▲ B: "), "lookup(3) is a regression on B only: \(out)")
        #expect(out.contains("A vs B: 2 of 3 results agree, 1 differ"), "\(out)")
        #expect(out.contains("B is ") && out.contains("slower than A at p95"), "\(out)")
        #expect(out.contains("❌ Session replay found differences: B: 1 mismatched, 0 unexpected error(s), A vs B: 1 differ"))
        #expect(!out.contains(server.upstreamPassword))

        let json = try ReplayWorkflowTests.json(report)
        let comparison = try #require(json["comparison"] as? [String: Any])
        #expect(comparison["differences"] as? [String] == ["B vs recording", "A vs B"])
        #expect(comparison["differing_results"] as? Int == 1)
        #expect((comparison["summary_b"] as? [String: Any])?["mismatched"] as? Int == 1)
        #expect((json["summary"] as? [String: Any])?["mismatched"] as? Int == 0, "A matches the recording")
        let ratio = try #require(comparison["speed_ratio_p95"] as? Double)
        #expect(ratio > 1.5, "B's slowest query is 300 ms slower")
        let queries = try #require((json["files"] as? [[String: Any]])?.first?["queries"] as? [[String: Any]])
        let b = queries.compactMap { $0["b"] as? [String: Any] }
        #expect(b.map { $0["matches_a"] as? Bool } == [true, false, true])
        #expect((b[1]["versus_a"] as? [String: Any])?["column"] as? String == "value")
    }

    @Test func anUnreachableSecondTargetIsOneLineAndExit2() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await ReplayWorkflowTests.record("SELECT 1 AS one;\n", on: server, database: database)
        let port = try Tools.freePort()
        let replay = try await ReplayWorkflowTests.replay(
            [file, "--compare-with", "postgres://postgres:sekrit@127.0.0.1:\(port)/postgres"],
            password: server.upstreamPassword)
        #expect(replay.status == 2)
        #expect(replay.stdout.isEmpty)
        #expect(
            replay.stderr
                == "pgreel replay: cannot connect to postgres://postgres:***@127.0.0.1:\(port)/postgres: "
                + "could not connect to 127.0.0.1:\(port): connection refused\n")

        let invalid = try await ReplayWorkflowTests.replay([file, "--compare-with", "mysql://x"], password: nil)
        #expect(invalid.status == 2)
        #expect(invalid.stderr.hasPrefix("pgreel replay: --compare-with: "), "\(invalid.stderr)")
    }
}
