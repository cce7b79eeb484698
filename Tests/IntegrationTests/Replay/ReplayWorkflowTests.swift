import Foundation
import ProxyEngine
import Testing

/// Steps 5 and 6 of the seed workflow, for real: sessions recorded through the pgreel proxy (psql, pgbench) and
/// replayed with the `pgreel replay` binary against a real PostgreSQL.
@Suite struct ReplayWorkflowTests {
    static let seedQueries = SeedWorkflowTests.seedQueries

    /// The seed's test_data as the template database holds it.
    static let seedTable = """
        1|test1|150
        2|test2|200
        3|test3|300
        """

    /// Runs `pgreel replay` with the given arguments; the recorded connection's password comes from PGPASSWORD.
    static func replay(_ arguments: [String], password: String?, timeout: Duration = .seconds(120)) async throws
        -> ProcessResult
    {
        var environment = ["NO_COLOR": "1", "DATABASE_URL": ""]
        if let password { environment["PGPASSWORD"] = password }
        return try await ProcessRunner.run(
            try Tools.pgreelBinary, ["replay"] + arguments, environment: environment, timeout: timeout)
    }

    /// Records `sql` run by psql through a fresh proxy in front of `database`, and returns the session file.
    static func record(
        _ sql: String, on server: TestPostgres, database: String, psqlArguments: [String] = []
    ) async throws -> String {
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let psql = try await proxy.psql(sql, database: database, arguments: psqlArguments)
        #expect(psql.status == 0, "psql failed: \(psql.stderr)")
        _ = try await proxy.finishedSessions(count: 1)
        return try #require(proxy.sessionFiles().first)
    }

    static func table(_ server: TestPostgres, _ database: String) async throws -> String {
        try await server.psqlAdmin("SELECT id, name, value FROM test_data ORDER BY id", database: database)
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    // MARK: - Matching replays

    @Test func theSeedSessionReplaysAgainstTheRecordedConnection() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await Self.record(Self.seedQueries, on: server, database: database)
        // The session's net effect on test_data is nothing, but it used one id of the sequence: give it back.
        let resetSequence = "SELECT setval('test_data_id_seq', 3)"

        // created_at of the inserted row is now(): the only difference, in the exact cell.
        try await server.psqlAdmin(resetSequence, database: database)
        let strict = try await Self.replay([file], password: server.upstreamPassword)
        #expect(strict.status == 1, "\(strict)")
        #expect(strict.stdout.contains("   ✗ Results differ: row 1, column \"created_at\""))
        #expect(strict.stdout.contains("   Results matched: 4\n   Results mismatched: 1\n"))

        // --ignore-column created_at turns that timestamp-only difference into a match.
        try await server.psqlAdmin(resetSequence, database: database)
        let result = try await Self.replay([file, "--ignore-column", "created_at"], password: server.upstreamPassword)
        #expect(result.status == 0, "\(result)")
        let out = result.stdout
        #expect(out.contains("║          Session Replay Tool                      ║"))
        #expect(out.contains("✅ Loaded 13 events from \(file)"))
        let masked = "postgres://postgres:***@127.0.0.1:\(server.port)/\(database)"
        #expect(out.contains("✅ Connected to database (\(masked))"))
        #expect(
            out.contains("📌 [Event 1] Session Activity: session_start\n📌 [Event 2] Session Activity: connection"))
        #expect(out.contains("📝 [Event 3] Query #1 @ "))
        #expect(
            out.contains(
                "SELECT * FROM test_data;\n\(String(repeating: "━", count: 53))\n"
                    + "   ✓ Query executed: 3 rows returned\n   ✓ Results match recorded data (3 rows)\n"))
        #expect(out.contains("   ✓ Results match recorded data (INSERT 0 1)"))
        #expect(out.contains("   Queries executed: 5\n   Errors: 0\n   Results matched: 5\n   Results mismatched: 0\n"))
        #expect(out.contains("   Wall time: "))
        #expect(out.contains("✅ Session replay completed successfully!"))
        #expect(!out.contains("\u{1B}"), "no colour when stdout is not a terminal")
        #expect(!out.contains(server.upstreamPassword) && !result.stderr.contains(server.upstreamPassword))
        #expect(try await Self.table(server, database) == Self.seedTable)
    }

    @Test func aPgbenchPreparedSessionReplaysWithItsStatementsAndParameters() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let pgbench = try Tools.pgbench
        let direct = ["-h", server.host, "-p", "\(server.port)", "-U", "postgres"]
        let initialize = try await ProcessRunner.run(
            pgbench, ["-i", "-s", "1", "-q"] + direct + [database], environment: ["PGPASSWORD": server.upstreamPassword]
        )
        #expect(initialize.status == 0, "\(initialize.stderr)")

        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let run = try await ProcessRunner.run(
            pgbench,
            [
                "-S", "-M", "prepared", "-t", "40", "-c", "2", "-n", "-h", "127.0.0.1", "-p", "\(proxy.port)", "-U",
                "pseudo_user", database,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let sessions = try await proxy.finishedSessions(count: 3)
        let selects = sessions.flatMap(\.events).compactMap(\.query).filter { $0.sql.contains("WHERE aid = $1") }
        #expect(selects.count == 80)
        #expect(selects.allSatisfy { $0.queryProtocol == .extended && $0.statementName?.isEmpty == false })

        let directory = try makeTemporaryDirectory(prefix: "pgreel-replay")
        let report = directory + "/report.json"
        let junit = directory + "/junit.xml"
        let result = try await Self.replay(
            proxy.sessionFiles() + ["--quiet", "--report", report, "--junit", junit], password: server.upstreamPassword)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("   Sessions: \(sessions.count), at most \(sessions.count) at once"))
        #expect(result.stdout.contains("   Latency regressions: not judged: queries were sent ahead"), "\(result.stdout)")
        #expect(result.stdout.contains("   Results mismatched: 0"))
        #expect(!result.stdout.contains("📝"), "--quiet prints no matching query")

        let json = try Self.json(report)
        #expect(json["exit_code"] as? Int == 0)
        let summary = try #require(json["summary"] as? [String: Any])
        let queries = (try #require(json["files"] as? [[String: Any]])).flatMap {
            ($0["queries"] as? [[String: Any]]) ?? []
        }
        #expect(summary["executed"] as? Int == queries.count)
        #expect(summary["matched"] as? Int == queries.count)
        #expect(summary["mismatched"] as? Int == 0)
        let replayedSelects = queries.filter { ($0["sql"] as? String)?.contains("WHERE aid = $1") == true }
        #expect(replayedSelects.count == 80)
        #expect(replayedSelects.allSatisfy { $0["protocol"] as? String == "extended" && $0["statement_name"] != nil })
        #expect(
            replayedSelects.allSatisfy { ($0["replayed"] as? [String: Any])?["command_tag"] as? String == "SELECT 1" })

        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(
            xml.contains("<testsuites name=\"pgreel replay\" tests=\"\(queries.count)\" failures=\"0\" errors=\"0\""))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == queries.count)
    }

    @Test func theSeedsOwnExampleFileReplays() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try makeTemporaryDirectory(prefix: "pgreel-seed") + "/pseudo_user_2025-10-07_21-30-15.json"
        try SeedExample.file.write(toFile: file, atomically: true, encoding: .utf8)
        // The file records localhost:5432; --db-url points it at the test database.
        let result = try await Self.replay(
            [file, "--db-url", server.url(user: "postgres", database: database)], password: nil)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("✅ Loaded 4 events from \(file)"))
        #expect(result.stdout.contains("📝 [Event 3] Query #1 @ 2025-10-07T21:30:15.000000Z"))
        #expect(
            result.stdout.contains(
                "   ✓ Query executed: 3 rows returned\n   ✓ Results match recorded data (3 rows)"))
        #expect(result.stdout.contains("   Results matched: 1\n   Results mismatched: 0"))
    }

    /// The extended protocol as drivers use it, written out by hand: a named statement parsed once and bound twice,
    /// parameter type OIDs (without them `$1 + $2` is `unknown + unknown` and fails), binary parameters and
    /// results, a portal read two rows at a time (max_rows), and a pipeline whose second query the server skipped.
    @Test func extendedProtocolDetailsReplayAsRecorded() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        func query(_ number: Int, _ fields: String) -> String {
            #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":\#(number),\#(fields)}}"#
        }
        func result(_ number: Int, _ fields: String) -> String {
            #"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":\#(number),\#(fields)}}"#
        }
        let series =
            #""sql":"SELECT generate_series(1, $1) AS n","protocol":"extended","statement_name":"s1","#
            + #""portal_name":"c1","parameters":[{"value":"3","format":"text"}],"parameter_types":[23],"max_rows":2"#
        let plus =
            #""sql":"SELECT $1::int4 + 1 AS n","protocol":"extended","statement_name":"s2","#
            + #""parameter_types":[23],"result_formats":[1],"parameters":[{"value":"#
        let binaryRows = #""columns":["n"],"column_types":[23],"row_count":1,"command_tag":"SELECT 1","rows":"#
        let divisionByZero = #""code":"22012","severity":"ERROR","message":"division by zero""#
        let events = [
            query(1, #""sql":"BEGIN""#),
            result(1, #""columns":[],"rows":[],"row_count":0,"command_tag":"BEGIN""#),
            query(2, series),
            result(2, #""columns":["n"],"column_types":[23],"rows":[["1"],["2"]],"row_count":2,"command_tag":null"#),
            query(3, series),
            result(3, #""columns":["n"],"column_types":[23],"rows":[["3"]],"row_count":1,"command_tag":"SELECT 1""#),
            query(4, #""sql":"COMMIT""#),
            result(4, #""columns":[],"rows":[],"row_count":0,"command_tag":"COMMIT""#),
            query(
                5,
                #""sql":"SELECT $1 + $2 AS sum","protocol":"extended","statement_name":"","parameter_types":[23,23],"#
                    + #""parameters":[{"value":"1","format":"text"},{"value":"2","format":"text"}]"#),
            result(5, #""columns":["sum"],"rows":[["3"]],"row_count":1,"command_tag":"SELECT 1""#),
            query(6, plus + #""AAAAKQ==","format":"binary"}]"#),
            result(6, binaryRows + #"[["AAAAKg=="]]"#),
            query(7, plus + #""AAAAAQ==","format":"binary"}]"#),
            result(7, binaryRows + #"[["AAAAAg=="]]"#),
            query(8, #""sql":"SELECT 1/0","protocol":"extended","statement_name":"""#),
            result(8, #""columns":[],"rows":[],"row_count":0,"command_tag":null,"error":{"# + divisionByZero + "}"),
            query(9, #""sql":"SELECT 2","protocol":"extended","statement_name":"""#),
            result(
                9,
                #""columns":[],"rows":[],"row_count":0,"command_tag":null,"error":{"# + divisionByZero
                    + #","detail":"not executed: an earlier message of the same pipeline failed"}"#),
            query(10, #""sql":"SELECT 3 AS x","protocol":"extended","statement_name":"""#),
            result(10, #""columns":["x"],"rows":[["3"]],"row_count":1,"command_tag":"SELECT 1""#),
        ]
        let file = try makeTemporaryDirectory(prefix: "pgreel-extended") + "/extended.json"
        try ("[\n" + events.joined(separator: ",\n") + "\n]\n").write(toFile: file, atomically: true, encoding: .utf8)
        let url = server.url(user: "postgres", database: database)
        for mode in [[], ["--rollback"], ["--no-pipeline"]] {
            let result = try await Self.replay([file, "--db-url", url] + mode, password: nil)
            #expect(result.status == 0, "\(result)")
            #expect(
                result.stdout.contains(
                    "   ✓ Not executed, as recorded: an earlier query of the same pipeline failed"))
            #expect(
                result.stdout.contains(
                    "   Queries executed: 9\n   Errors: 1 (all as recorded)\n   Results matched: 10\n"))
        }
    }

    /// Queries sent ahead of the answers (the default) give exactly the verdicts of one-at-a-time replay: the
    /// server runs them in order, an error inside a transaction aborts it for the next ones, a named statement is
    /// parsed before anything that uses it is sent ahead.
    @Test func queriesSentAheadGiveTheSameVerdictsAsOneAtATime() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        var events: [String] = []
        var number = 0
        func add(_ query: String, _ result: String) {
            number += 1
            events.append(
                #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":\#(number),\#(query)}}"#)
            events.append(
                #"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":\#(number),"#
                    + result + "}}")
        }
        func double(_ value: Int) {
            add(
                #""sql":"SELECT $1::int * 2 AS v","protocol":"extended","statement_name":"st","#
                    + #""parameters":[{"value":"\#(value)","format":"text"}]"#,
                #""columns":["v"],"rows":[["\#(value * 2)"]],"row_count":1,"command_tag":"SELECT 1""#)
        }
        let empty = #""columns":[],"rows":[],"row_count":0"#
        let unnamed = #","protocol":"extended","statement_name":"""#
        add(#""sql":"BEGIN""#, empty + #","command_tag":"BEGIN""#)
        for value in 1...100 { double(value) }
        add(
            #""sql":"INSERT INTO test_data (id, name, value) VALUES (10, 'ten', 10)""# + unnamed,
            empty + #","command_tag":"INSERT 0 1""#)
        add(
            #""sql":"SELECT 1/0""# + unnamed,
            empty + #","command_tag":null,"error":{"code":"22012","severity":"ERROR","message":"division by zero"}"#)
        add(
            #""sql":"SELECT 1""# + unnamed,
            empty
                + #","command_tag":null,"error":{"code":"25P02","severity":"ERROR","message":"current transaction "#
                + #"is aborted, commands ignored until end of transaction block"}"#)
        add(#""sql":"ROLLBACK""#, empty + #","command_tag":"ROLLBACK""#)
        add(
            #""sql":"SELECT count(*) AS n FROM test_data; SELECT 7 AS seven""#,
            #""columns":["seven"],"rows":[["7"]],"row_count":1,"command_tag":"SELECT 1","result_sets":["#
                + #"{"columns":["n"],"rows":[["3"]],"row_count":1,"command_tag":"SELECT 1"},"#
                + #"{"columns":["seven"],"rows":[["7"]],"row_count":1,"command_tag":"SELECT 1"}]"#)
        for value in 101...200 { double(value) }
        let file = try makeTemporaryDirectory(prefix: "pgreel-pipeline") + "/pipeline.json"
        try ("[\n" + events.joined(separator: ",\n") + "\n]\n").write(toFile: file, atomically: true, encoding: .utf8)
        let url = server.url(user: "postgres", database: database)
        var statuses: [[String]] = []
        for mode in [[], ["--no-pipeline"]] {
            let report = file + ".\(mode.count).report.json"
            let result = try await Self.replay(
                [file, "--db-url", url, "--quiet", "--report", report] + mode, password: nil)
            #expect(result.status == 0, "\(mode): \(result)")
            #expect(result.stdout.contains("Results matched: \(number)\n"), "\(mode): \(result.stdout)")
            let files = try #require(try Self.json(report)["files"] as? [[String: Any]])
            let queries = try #require(files.first?["queries"] as? [[String: Any]])
            statuses.append(queries.compactMap { $0["status"] as? String })
        }
        #expect(statuses[0].count == number)
        #expect(statuses[0] == statuses[1])
        // The transaction was rolled back: the row inserted inside it is not there.
        #expect(try await Self.table(server, database) == Self.seedTable)
    }

    // MARK: - Mismatches

    @Test func aChangedRowIsReportedWithTheExactCell() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await Self.record("SELECT * FROM test_data ORDER BY id;", on: server, database: database)
        try await server.psqlAdmin("UPDATE test_data SET value = 151 WHERE id = 2", database: database)

        let directory = try makeTemporaryDirectory(prefix: "pgreel-replay")
        let report = directory + "/report.json"
        let junit = directory + "/junit.xml"
        let result = try await Self.replay(
            [file, "--report", report, "--junit", junit], password: server.upstreamPassword)
        #expect(result.status == 1, "\(result)")
        #expect(
            result.stdout.contains(
                "   ✗ Results differ: row 2, column \"value\"\n      recorded: \"200\"\n      replayed: \"151\"\n"))
        #expect(result.stdout.contains("❌ Session replay found differences: 1 mismatched"))

        let json = try Self.json(report)
        #expect(json["exit_code"] as? Int == 1)
        let file0 = try #require((json["files"] as? [[String: Any]])?.first)
        let query = try #require((file0["queries"] as? [[String: Any]])?.first)
        #expect(query["status"] as? String == "mismatched")
        let difference = try #require(query["difference"] as? [String: Any])
        #expect(difference["kind"] as? String == "value")
        #expect(difference["row"] as? Int == 2)
        #expect(difference["column"] as? String == "value")
        #expect(difference["recorded_value"] as? String == "200")
        #expect(difference["replayed_value"] as? String == "151")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("failures=\"1\""))
        #expect(
            xml.contains(
                "<failure type=\"mismatch\" message=\"row 2, column &quot;value&quot;: "
                    + "recorded &quot;200&quot;, replayed &quot;151&quot;\">"
            ))
    }

    @Test func stopOnMismatchStopsAtTheFirstOne() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await Self.record(
            "SELECT value FROM test_data WHERE id = 1;\nSELECT value FROM test_data WHERE id = 2;", on: server,
            database: database)
        try await server.psqlAdmin("UPDATE test_data SET value = value + 1", database: database)
        let result = try await Self.replay([file, "--stop-on-mismatch"], password: server.upstreamPassword)
        #expect(result.status == 1)
        #expect(result.stdout.contains("Query #1"))
        #expect(!result.stdout.contains("Query #2"))
        #expect(result.stdout.contains("   Queries executed: 1\n"))
    }

    // MARK: - Safety

    @Test func rollbackLeavesTheTargetAsItWas() async throws {
        let server = try await TestPostgres.shared()
        let recordedOn = try await server.makeDatabase()
        // An error inside a transaction (then 25P02 until its ROLLBACK), transaction control in one Query
        // message, and changes outside any transaction.
        let first = try await Self.record(
            """
            INSERT INTO test_data (name, value) VALUES ('kept', 1);
            BEGIN;
            UPDATE test_data SET value = 7 WHERE id = 1;
            SELECT 1/0;
            SELECT 1;
            ROLLBACK;
            DELETE FROM test_data WHERE id = 3;
            SELECT id, name, value FROM test_data ORDER BY id;
            """, on: server, database: recordedOn, psqlArguments: ["-v", "ON_ERROR_STOP=0"])
        let second = try await Self.record(
            "", on: server, database: recordedOn,
            psqlArguments: ["-c", "BEGIN; UPDATE test_data SET value = 8 WHERE id = 2; COMMIT;"])

        let target = try await server.makeDatabase()
        let url = server.url(user: "postgres", database: target)
        let result = try await Self.replay([first, second, "--rollback", "--db-url", url], password: nil)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("🔒 Everything runs in one transaction that is rolled back at the end"))
        // With several files every line names its file.
        let prefix = "[\(URL(fileURLWithPath: first).lastPathComponent)] "
        #expect(
            result.stdout.contains(
                "\(prefix)   ✗ Query failed: ERROR 22012: division by zero\n"
                    + "\(prefix)   ✓ Results match recorded data (same error 22012)"))
        #expect(result.stdout.contains("(same error 25P02)"))
        #expect(
            result.stdout.contains("   Queries executed: 9\n   Errors: 2 (all as recorded)\n   Results matched: 9\n"))
        #expect(try await Self.table(server, target) == Self.seedTable, "the target is left as it was")
        #expect(try await server.psqlAdmin("SELECT count(*) FROM pg_prepared_xacts") == "0")

        // Without --rollback the same replays (one after the other, as recorded) change the target. The sequence
        // is not transactional: give back the id the rolled-back INSERT used.
        try await server.psqlAdmin("SELECT setval('test_data_id_seq', 3)", database: target)
        for file in [first, second] {
            let plain = try await Self.replay([file, "--db-url", url], password: nil)
            #expect(plain.status == 0, "\(plain)")
        }
        #expect(try await Self.table(server, target) == "1|test1|150\n2|test2|8\n4|kept|1")
    }

    @Test func aMaskedPasswordIsNeverSentAgain() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let role = "pgreel_replay_\(UInt32.random(in: 0...UInt32.max))"
        // Rolled back when recorded, so the role never exists.
        let file = try await Self.record(
            "BEGIN;\nCREATE ROLE \(role) PASSWORD 'hunter2';\nROLLBACK;", on: server, database: database)
        let result = try await Self.replay([file], password: server.upstreamPassword)
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stdout.contains(
                "CREATE ROLE \(role) PASSWORD '***';\n\(String(repeating: "━", count: 53))\n"
                    + "   ⏭  Not executed: a password in it was masked when it was recorded, "
                    + "so it cannot be sent again"
            ))
        #expect(result.stdout.contains("   Queries executed: 2\n"))
        #expect(result.stdout.contains("   Not executed: 1\n"))
        #expect(try await server.psqlAdmin("SELECT count(*) FROM pg_roles WHERE rolname = '\(role)'") == "0")
    }

    @Test func readOnlyReplaysReadsAndRefusesWrites() async throws {
        let server = try await TestPostgres.shared()
        let recordedOn = try await server.makeDatabase()
        let file = try await Self.record(Self.seedQueries, on: server, database: recordedOn)
        let target = try await server.makeDatabase()
        let result = try await Self.replay(
            [file, "--read-only", "--db-url", server.url(user: "postgres", database: target)], password: nil)
        #expect(result.status == 1)
        #expect(result.stdout.contains("   ✓ Results match recorded data (3 rows)"))
        #expect(result.stdout.contains("ERROR 25006: cannot execute INSERT in a read-only transaction"))
        #expect(try await Self.table(server, target) == Self.seedTable)
    }

    @Test func copyDataIsSentAgainAndCopiedRowsCompared() async throws {
        let server = try await TestPostgres.shared()
        let recordedOn = try await server.makeDatabase()
        let input = try makeTemporaryDirectory(prefix: "pgreel-copy") + "/in.tsv"
        try (1...500).map { "\($0)\tname \($0)\t\($0 % 5 == 0 ? "\\N" : "x")\n" }.joined()
            .write(toFile: input, atomically: true, encoding: .utf8)
        let file = try await Self.record(
            """
            CREATE TABLE copied (id int, name text, extra text);
            \\copy copied FROM '\(input)'
            COPY (SELECT * FROM copied ORDER BY id) TO STDOUT;
            SELECT count(*), count(extra) FROM copied;
            """, on: server, database: recordedOn)
        let target = try await server.makeDatabase()
        let result = try await Self.replay(
            [file, "--rollback", "--db-url", server.url(user: "postgres", database: target)], password: nil)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("   ✓ Results match recorded data (COPY 500)"))
        #expect(
            result.stdout.contains(
                "   ✓ Query executed: 500 rows returned\n   ✓ Results match recorded data (500 rows)"))
        #expect(result.stdout.contains("   Results matched: 4\n"))
        let exists = try await server.psqlAdmin("SELECT to_regclass('copied') IS NULL", database: target)
        #expect(exists == "t", "--rollback removed the table the session created")
    }

    // MARK: - Files and targets

    @Test func aTruncatedFileReplaysItsCompleteEvents() async throws {
        let server = try await TestPostgres.shared()
        let recordedOn = try await server.makeDatabase()
        let file = try await Self.record(Self.seedQueries, on: server, database: recordedOn)
        // Lines: "[", session_start, connection, then query/result pairs. Cut in the middle of query 4's result.
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let cut = file + ".cut.json"
        try (lines[0..<10].joined(separator: "\n") + "\n" + lines[10].prefix(40))
            .write(toFile: cut, atomically: true, encoding: .utf8)

        let target = try await server.makeDatabase()
        let result = try await Self.replay(
            [cut, "--db-url", server.url(user: "postgres", database: target)], password: nil)
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stderr.components(separatedBy: "is cut off at line 11").count == 2, "warned once: \(result.stderr)")
        #expect(result.stderr.contains("replaying its 9 complete events"))
        #expect(result.stdout.contains("📝 [Event 9] Query #4"))
        #expect(result.stdout.contains("   ⚠️  No recorded result to compare with (the file ends before it)"))
        #expect(
            result.stdout.contains(
                "   Queries executed: 4\n   Errors: 0\n   Results matched: 3\n   Results mismatched: 0\n"))
        #expect(result.stdout.contains("   Not compared (no recorded result): 1"))
    }

    @Test func whatCannotRunExitsWithTwoAndOneLine() async throws {
        let directory = try makeTemporaryDirectory(prefix: "pgreel-replay")
        let bad = directory + "/bad.json"
        try [
            "[",
            #"{"type":"session_activity","timestamp":"2025-10-07T21:30:15Z","data":{"activity":"x","details":{}}},"#,
            #"{"type":"querry","timestamp":"2025-10-07T21:30:15Z","data":{}}"#,
            "]",
            "",
        ].joined(separator: "\n")
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await Self.replay([bad], password: nil)
        #expect(refused.status == 2)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr
                == "pgreel replay: \(bad):3: not a session file: \"type\" is \"querry\", "
                + "expected session_activity, query or query_result\n"
        )

        let good = directory + "/seed.json"
        try SeedExample.file.write(toFile: good, atomically: true, encoding: .utf8)
        let port = try Tools.freePort()
        let unreachable = try await Self.replay(
            [good, "--db-url", "postgres://postgres:sekrit@127.0.0.1:\(port)/postgres"], password: nil)
        #expect(unreachable.status == 2)
        #expect(unreachable.stdout.isEmpty)
        #expect(
            unreachable.stderr
                == "pgreel replay: cannot connect to postgres://postgres:***@127.0.0.1:\(port)/postgres: "
                + "could not connect to 127.0.0.1:\(port): connection refused\n")

        let server = try await TestPostgres.shared()
        let wrong = try await Self.replay(
            [good, "--db-url", "postgres://postgres:wrong-password@127.0.0.1:\(server.port)/postgres"], password: nil)
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("password authentication failed for user \"postgres\""))
        #expect(!wrong.stderr.contains("wrong-password"))
        #expect(wrong.stderr.split(separator: "\n").count == 1)
    }

    @Test func realtimeKeepsTheRecordedGapsAndSpeedShortensThem() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try makeTemporaryDirectory(prefix: "pgreel-pacing") + "/paced.json"
        try """
        [
        {"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"sql":"SELECT 1 AS a"}},
        {"type":"query_result","timestamp":"2025-10-07T21:30:15Z",
         "data":{"query_number":1,"columns":["a"],"rows":[["1"]],"row_count":1,"command_tag":"SELECT 1"}},
        {"type":"query","timestamp":"2025-10-07T21:30:19.000Z","data":{"query_number":2,"sql":"SELECT 2 AS a"}},
        {"type":"query_result","timestamp":"2025-10-07T21:30:19.000Z",
         "data":{"query_number":2,"columns":["a"],"rows":[["2"]],"row_count":1,"command_tag":"SELECT 1"}}
        ]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let url = server.url(user: "postgres", database: database)
        // The replay's own wall time (its report), not the process's. It still includes connecting (twice: the
        // target's probe, then the session), which took up to 2 s on a loaded CI machine: hence a 4 s gap, replayed
        // at speed 8 in 0.5 s, with room for that noise between the two.
        let reports = try makeTemporaryDirectory(prefix: "pgreel-pacing-reports")
        func wallTime(_ pacing: [String], _ name: String) async throws -> Double {
            let result = try await Self.replay(
                [file, "--db-url", url, "--quiet", "--report", reports + "/\(name).json"] + pacing, password: nil)
            #expect(result.status == 0, "\(result)")
            return try #require(try Self.json(reports + "/\(name).json")["wall_time_ms"] as? Double)
        }
        let realtime = try await wallTime(["--realtime"], "realtime")
        #expect(realtime >= 4000, "the 4 s gap is kept")
        let fast = try await wallTime(["--speed", "8"], "fast")
        #expect(fast >= 500, "an eighth of it")
        #expect(fast < 3500, "well under the gap: \(fast) ms")
    }
}

/// The session file of the seed's EXAMPLE_WORKFLOW.txt (step 4), written out as the seed shows it: pretty-printed,
/// timestamps without fraction, no protocol, no durations.
enum SeedExample {
    static let file = SeedExampleFile.text
}
