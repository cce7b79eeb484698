import Foundation
import ProxyEngine
import Testing

/// Steps 1 to 4 of the seed workflow, for real: psql through the pgreel binary to a real PostgreSQL.
@Suite struct SeedWorkflowTests {
    static let seedQueries = """
        SELECT * FROM test_data;
        INSERT INTO test_data (name, value) VALUES ('new_record', 999);
        UPDATE test_data SET value = 1000 WHERE name = 'new_record';
        SELECT * FROM test_data WHERE value > 500;
        DELETE FROM test_data WHERE name = 'new_record';
        """

    @Test func psqlRunsTheSeedQueriesAndTheSessionFileHoldsThem() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(user: "postgres", database: database))
        defer { proxy.process.kill() }

        let psql = try await proxy.psql(Self.seedQueries, database: database)
        #expect(psql.status == 0, "psql failed: \(psql.stderr)")
        #expect(psql.stdout.contains("test1"))
        #expect(psql.stdout.contains("INSERT 0 1"))
        #expect(psql.stdout.contains("DELETE 1"))

        let sessions = try await proxy.finishedSessions(count: 1)
        let events = try #require(sessions.first).events
        let file = try #require(proxy.sessionFiles().first)
        #expect(URL(fileURLWithPath: file).lastPathComponent.hasPrefix("pseudo_user_"))

        // session_start, connection, 5 × (query, query_result), session_end
        #expect(events.count == 13)
        let start = try #require(events.first?.activity)
        #expect(start.activity == "session_start")
        #expect(start.details.pseudoUser == "pseudo_user")
        #expect(start.details.formatVersion == sessionFormatVersion)
        let connection = try #require(events[1].activity)
        #expect(connection.activity == "connection")
        #expect(connection.details.realUser == "postgres")
        #expect(connection.details.database == database)
        #expect(connection.details.realDBPort == String(server.port))

        let queries = events.compactMap(\.query)
        #expect(queries.map(\.sql) == Self.seedQueries.split(separator: "\n").map(String.init))
        #expect(queries.map(\.queryNumber) == [1, 2, 3, 4, 5])
        let results = events.compactMap(\.result)
        #expect(results.map(\.result.commandTag) == ["SELECT 3", "INSERT 0 1", "UPDATE 1", "SELECT 1", "DELETE 1"])
        #expect(results[0].result.columns == ["id", "name", "value", "created_at"])
        #expect(
            results[0].result.rows == [
                ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
                ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
                ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
            ])
        #expect(results[0].result.rowCount == 3)
        #expect(results[3].result.rows.first?[1] == "new_record")
        #expect(results[3].result.rows.first?[2] == "1000")
        #expect(results.allSatisfy { $0.error == nil && $0.durationMS > 0 })
        let end = try #require(events.last?.activity)
        #expect(end.activity == "session_end")
        #expect(end.details.queryCount == 5)

        // Step 3: the live log shows the queries and the result table as in the seed.
        let log = try await proxy.process.waitForOutput(containing: "Connection closed", in: .stdout)
        #expect(log.contains("🔗 New connection from 127.0.0.1"))
        #expect(log.contains("👤 Pseudo user attempting connection: pseudo_user (database: \(database))"))
        #expect(log.contains("✅ Credentials mapped: pseudo_user → postgres"))
        #expect(log.contains("📝 Query #1 @ "))
        #expect(log.contains("SELECT * FROM test_data;"))
        #expect(log.contains("│ 1    │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │"))
        #expect(log.contains("3 row(s)"))
        #expect(log.contains("✓ SELECT 3"))
        #expect(log.contains("→ No result set"))
        #expect(log.contains("✓ INSERT 0 1"))
        #expect(!log.contains("\u{1B}"), "no escape codes when stdout is not a terminal")

        // Step 4: the finished file is one JSON array that the seed's jq recipes read, private to its owner.
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == 13)
        #expect(array.filter { $0["type"] as? String == "query" }.count == 5)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directory = try FileManager.default.attributesOfItem(atPath: proxy.sessionsDirectory)
        #expect((directory[.posixPermissions] as? Int) == 0o700)

        // No secret anywhere: not in the log, not in the file.
        #expect(!proxy.process.stdout.contains(server.upstreamPassword))
        #expect(!proxy.process.stderr.contains(server.upstreamPassword))
        #expect(!String(decoding: data, as: UTF8.self).contains(server.upstreamPassword))
        #expect(proxy.process.stdout.contains("postgres://postgres:***@127.0.0.1:\(server.port)/\(database)"))
    }

    @Test func jsonLogFormatPrintsOneObjectPerEvent() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(), arguments: ["--log-format", "json", "--no-record"])
        defer { proxy.process.kill() }
        let psql = try await proxy.psql("SELECT 41 + 1 AS answer;")
        #expect(psql.status == 0, "\(psql.stderr)")
        _ = try await proxy.process.waitForOutput(containing: "\"connection_closed\"", in: .stdout)
        let objects = proxy.process.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == proxy.process.stdout.split(separator: "\n").count, "every line is JSON")
        let result = try #require(objects.first { ($0["type"] as? String) == "query_result" })
        let data = try #require(result["data"] as? [String: Any])
        #expect(data["rows"] as? [[String]] == [["42"]])
        #expect(data["command_tag"] as? String == "SELECT 1")
        #expect(proxy.sessionFiles().isEmpty, "--no-record writes no session file")
    }
}
