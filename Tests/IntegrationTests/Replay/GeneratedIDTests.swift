import Foundation
import ProxyEngine
import Testing

/// `--id-mode map`: an order inserted RETURNING its id, lines referencing it, then a select of them, recorded with
/// psql (the id as a literal, through `\gset`) and pgbench (the id as a bound parameter), replayed against a target
/// whose sequences are 1,000 ahead.
@Suite struct GeneratedIDTests {
    static let schema = """
        CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL);
        CREATE TABLE lines (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders, qty int NOT NULL);
        """

    @Test func idsGeneratedOnTheTargetAreMappedAndOffNamesThem() async throws {
        let server = try await TestPostgres.shared()
        let recordedOn = try await server.makeDatabase()
        try await server.psqlAdmin(Self.schema, database: recordedOn)
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: recordedOn), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let psql = try await proxy.psql(
            """
            INSERT INTO orders (customer) VALUES ('alice') RETURNING id \\gset
            INSERT INTO lines (order_id, qty) VALUES (:id, 2), (:id, 3);
            SELECT order_id, qty FROM lines WHERE order_id = :id ORDER BY qty;
            """, database: recordedOn)
        #expect(psql.status == 0, "\(psql)")
        let script = try makeTemporaryDirectory(prefix: "pgreel-ids") + "/order.sql"
        try """
            INSERT INTO orders (customer) VALUES ('bob') RETURNING id \\gset
            INSERT INTO lines (order_id, qty) VALUES (:id, 7);
            SELECT order_id, qty FROM lines WHERE order_id = :id;
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let bench = try await proxy.pgbench(["-n", "-M", "extended", "-f", script, "-t", "1"], database: recordedOn)
        #expect(bench.status == 0, "\(bench)")
        _ = try await proxy.finishedSessions(count: 2)
        let files = proxy.sessionFiles()

        // The target: the same schema, its sequences far ahead, so every generated id differs.
        let target = try await server.makeDatabase()
        try await server.psqlAdmin(
            Self.schema + "SELECT setval('orders_id_seq', 1000); SELECT setval('lines_id_seq', 1000);",
            database: target)
        let url = server.url(user: "postgres", database: target)
        let reports = try makeTemporaryDirectory(prefix: "pgreel-ids-report")
        let mapped = try await ReplayWorkflowTests.replay(
            files + ["--db-url", url, "--report", reports + "/map.json"], password: nil)
        #expect(mapped.status == 0, "\(mapped)")
        // The two sessions replay at once, so which order gets 1001 and which 1002 is the target's to decide.
        #expect(mapped.stdout.contains("↻ learned id 1 → 100"), "\(mapped.stdout)")
        #expect(mapped.stdout.contains("(column id)"), "\(mapped.stdout)")
        #expect(mapped.stdout.contains("(SQL literal)"), "\(mapped.stdout)")
        #expect(mapped.stdout.contains("↻ id 2 → 100") && mapped.stdout.contains("(parameter $1)"), "\(mapped.stdout)")
        let rows = try await server.psqlAdmin(
            "SELECT o.customer, l.qty FROM lines l JOIN orders o ON o.id = l.order_id WHERE o.id > 1000 ORDER BY l.qty",
            database: target)
        #expect(rows == "alice|2\nalice|3\nbob|7", "the lines reference the target's own orders")
        let queries = try #require(
            (try ReplayWorkflowTests.json(reports + "/map.json")["files"] as? [[String: Any]])?
                .flatMap { $0["queries"] as? [[String: Any]] ?? [] })
        #expect(queries.contains { ($0["id_substitutions"] as? [[String: Any]])?.first?["place"] as? String == "parameter $1" })
        #expect(queries.contains { ($0["ids_learned"] as? [[String: Any]])?.first?["recorded"] as? String == "1" })

        // --id-mode off: the recorded ids are sent as they were; the difference names them.
        let again = try await server.makeDatabase()
        try await server.psqlAdmin(
            Self.schema + "SELECT setval('orders_id_seq', 1000); SELECT setval('lines_id_seq', 1000);",
            database: again)
        let off = try await ReplayWorkflowTests.replay(
            files + ["--db-url", server.url(user: "postgres", database: again), "--id-mode", "off"], password: nil)
        #expect(off.status == 1, "\(off)")
        #expect(off.stdout.contains("✗ Results differ: row 1, column \"id\""), "\(off.stdout)")
        #expect(off.stdout.contains("recorded: \"1\"") && off.stdout.contains("replayed: \"1001\""), "\(off.stdout)")
        #expect(!off.stdout.contains("↻"))

        let bad = try await ReplayWorkflowTests.replay(files + ["--id-mode", "maybe"], password: nil)
        #expect(bad.status == 64)
    }
}
