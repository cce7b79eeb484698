import Foundation
import ProxyEngine
import Testing

/// "Will it be as fast on the new server?": a target made slower for one query flags that query as a latency
/// regression (text, JSON report, JUnit), and only that one; `--fail-on-regression` makes it fail the replay.
@Suite struct LatencyRegressionTests {
    @Test func aQueryMadeSlowerOnTheTargetIsFlaggedAndTheOthersAreNot() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        // Both functions are plpgsql from the start, so the recording and the replay pay the same first-call costs.
        let function = """
            CREATE OR REPLACE FUNCTION lookup(n int) RETURNS int LANGUAGE plpgsql AS
            $$ BEGIN IF n = 3 THEN PERFORM pg_sleep(%@); END IF; RETURN n; END $$
            """
        try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: "0"), database: database)
        let file = try await ReplayWorkflowTests.record(
            "SELECT lookup(1);\nSELECT 2 AS two;\nSELECT lookup(3);\nSELECT name FROM test_data WHERE id = 1;\n",
            on: server, database: database)

        // The "new server": the same function now takes 400 ms for 3. The floor is 100 ms so that a loaded test
        // machine's noise on the other queries (a few ms) is not a regression; the default rule (2x and 1 ms) is
        // unit-tested in LatencyTests.
        try await server.psqlAdmin(function.replacingOccurrences(of: "%@", with: "0.4"), database: database)
        let rule = ["--latency-floor", "100"]
        let directory = try makeTemporaryDirectory(prefix: "pgreel-latency")
        let report = directory + "/report.json"
        let junit = directory + "/junit.xml"
        let replay = try await ReplayWorkflowTests.replay(
            [file, "--report", report, "--junit", junit] + rule, password: server.upstreamPassword)
        #expect(replay.status == 0, "a regression alone does not fail the replay: \(replay)")
        let lines = replay.stdout.split(separator: "\n")
        #expect(
            lines.filter { $0.contains("slower than recorded") }.count == 2,
            "the query's own line (▲) and the summary's list: \(replay.stdout)")
        #expect(lines.contains { $0.hasPrefix("   ▲ ") && $0.contains("slower than recorded") })
        #expect(replay.stdout.contains("Latency regressions (over 2x and 100 ms slower): 1, worst first:"))
        #expect(replay.stdout.contains("Latency (4 queries run on both sides):"))
        #expect(replay.stdout.contains("(1 latency regression)"))

        let json = try ReplayWorkflowTests.json(report)
        let regressions = try #require(json["latency_regressions"] as? [[String: Any]])
        #expect(regressions.count == 1)
        #expect(regressions.first?["sql"] as? String == "SELECT lookup(3);")
        let replayedMS = try #require(regressions.first?["replayed_ms"] as? Double)
        // 400 ms on the server; pipelined, the query is timed from the previous answer's arrival, which the event
        // loop may stamp a little after the server started it.
        #expect(replayedMS >= 350)
        let latency = try #require(json["latency"] as? [String: Any])
        #expect((latency["replayed"] as? [String: Any])?["count"] as? Int == 4)
        #expect((json["summary"] as? [String: Any])?["latency_regressions"] as? Int == 1)
        let queries = try #require((json["files"] as? [[String: Any]])?.first?["queries"] as? [[String: Any]])
        #expect(queries.map { $0["latency_regression"] as? Bool } == [false, false, true, false])
        #expect(!(try String(contentsOfFile: junit, encoding: .utf8)).contains("latency regression"))

        // --fail-on-regression: exit 1, the summary says why, JUnit has the failure.
        let failing = try await ReplayWorkflowTests.replay(
            [file, "--fail-on-regression", "--junit", junit, "--quiet"] + rule, password: server.upstreamPassword)
        #expect(failing.status == 1, "\(failing)")
        #expect(failing.stdout.contains("❌ Session replay found differences: 1 latency regression(s)"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("failures=\"1\""))
        #expect(xml.contains("<failure type=\"latency regression\" message=\""))

        // A threshold above what the slow query shows flags nothing.
        let lenient = try await ReplayWorkflowTests.replay(
            [file, "--fail-on-regression", "--latency-floor", "10000", "--quiet"], password: server.upstreamPassword)
        #expect(lenient.status == 0, "\(lenient)")
        #expect(lenient.stdout.contains("Latency regressions (over 2x and 10000 ms slower): none"))
    }

    @Test func badLatencyOptionsAreRefused() async throws {
        for arguments in [["--latency-threshold", "0.5"], ["--latency-floor", "-1"], ["--latency-threshold", "nan"]] {
            let result = try await ReplayWorkflowTests.replay(["x.json"] + arguments, password: nil)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains("--latency-"), "\(result.stderr)")
        }
    }
}
