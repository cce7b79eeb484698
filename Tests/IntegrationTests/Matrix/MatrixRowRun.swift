import Foundation
import ProxyEngine

#if canImport(Glibc)
import Glibc
#endif

/// The checks of one row, run one after the other against the row's upstream cluster, each through a pgreel of its
/// own (so its session files are its own) with the row's psql and pgbench.
///
/// A check passes by returning `.ok`, does not apply with `.notApplicable(reason)`, and fails by throwing (its
/// reason is the error's description).
struct MatrixRowRun {
    enum Verdict {
        case ok
        case notApplicable(String)
    }

    let row: MatrixRow
    let cluster: MatrixClusters.Cluster
    let client: PostgresInstallation
    let clientHasTLS: Bool
    let certificates: TestCertificates
    /// Filled by `pgbench -i`, read by the `-S` checks.
    private var pgbenchDatabase: String?

    init(row: MatrixRow, cluster: MatrixClusters.Cluster, client: PostgresInstallation, clientHasTLS: Bool,
         certificates: TestCertificates) {
        self.row = row
        self.cluster = cluster
        self.client = client
        self.clientHasTLS = clientHasTLS
        self.certificates = certificates
    }

    private var server: TestPostgres { self.cluster.server }

    mutating func run(_ check: MatrixCheck) async throws -> Verdict {
        switch check {
        case .connect: return try await self.connect()
        case .seed: return try await self.seed()
        case .pgbenchInit: return try await self.pgbenchInit()
        case .selectSimple: return try await self.selectOnly(mode: "simple")
        case .selectExtended: return try await self.selectOnly(mode: "extended")
        case .selectPrepared: return try await self.selectOnly(mode: "prepared")
        case .copy: return try await self.copy()
        case .notify: return try await self.notify()
        case .cancel: return try await self.cancel()
        case .scram: return try await self.scram()
        case .scramPlus: return try await self.scramPlus()
        case .replay: return try await self.replay()
        case .stepThrough: return try await self.stepThrough()
        }
    }

    // MARK: - Helpers

    /// A pgreel in front of `database`; with a certificate when the row connects with direct TLS or `tls` asks.
    private func startProxy(
        database: String = "postgres", upstreamParameters: String = "", users: [String] = [], tls: Bool = false,
        record: Bool = true, quiet: Bool = true
    ) async throws -> ProxyUnderTest {
        var arguments: [String] = []
        if tls || self.row.connection == .directTLS {
            arguments += ["--tls-cert", self.certificates.certificate, "--tls-key", self.certificates.key]
        }
        if !record { arguments.append("--no-record") }
        if quiet { arguments.append("--quiet") }
        return try await ProxyUnderTest.start(
            upstream: self.server.url(database: database) + upstreamParameters, users: users, arguments: arguments)
    }

    /// psql of the row's client through `proxy` (`-A -t -q`: values only), with the row's connection settings;
    /// returns stdout without its trailing newlines, throws with psql's complaint when it fails.
    private func psql(
        _ proxy: ProxyUnderTest, _ sql: String, database: String = "postgres", user: String = "pseudo_user",
        password: String? = nil, environment: [String: String] = [:], arguments: [String] = ["-A", "-t", "-q"]
    ) async throws -> String {
        let result = try await proxy.psql(
            sql, user: user, password: password, database: database, arguments: arguments,
            environment: self.row.connection.environment.merging(environment) { _, new in new },
            timeout: .seconds(120), client: self.client)
        try matrixRequire(result.succeeded, "psql \(result.failureSummary)")
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    private func pgbench(_ proxy: ProxyUnderTest, _ arguments: [String], database: String) async throws -> String {
        let result = try await proxy.pgbench(
            arguments, database: database, environment: self.row.connection.environment, client: self.client)
        try matrixRequire(result.succeeded, "pgbench \(arguments.joined(separator: " ")) \(result.failureSummary)")
        return result.stdout
    }

    /// The queries and results of the session files, once `count` sessions have finished.
    private func recorded(_ proxy: ProxyUnderTest, sessions count: Int) async throws
        -> (queries: [RecordedQuery], results: [RecordedResult])
    {
        let events = try await proxy.finishedSessions(count: count, timeout: .seconds(30)).flatMap(\.events)
        return (events.compactMap(\.query), events.compactMap(\.result))
    }

    // MARK: - Checks

    /// psql reaches the upstream through pgreel and sees its version (ParameterStatus relayed); the row's way of
    /// connecting really took place: protocol 3.2 negotiated, TLS without SSLRequest.
    private func connect() async throws -> Verdict {
        let proxy = try await self.startProxy(record: false)
        defer { proxy.process.kill() }
        let version = try await self.psql(proxy, "SHOW server_version")
        try matrixRequire(
            MatrixBuild.versionNumber(version) == self.cluster.version,
            "psql saw server_version '\(version)', the upstream is \(self.cluster.version)")
        let info = try await self.psql(proxy, "\\conninfo")
        switch self.row.connection {
        case .plain:
            break
        case .protocol32:
            // psql 18's \conninfo is a table: "Protocol Version|3.2".
            try matrixRequire(
                info.contains("Protocol Version|3.2"), "psql did not get protocol 3.2: \(info.split(separator: "\n"))")
        case .directTLS:
            // psql 17: "SSL connection (protocol: TLSv1.3, ...)"; psql 18: "SSL Connection|true".
            try matrixRequire(
                info.contains("SSL connection (") || info.contains("SSL Connection|true"),
                "psql's connection is not encrypted: \(info.split(separator: "\n"))")
        }
        return .ok
    }

    /// The seed workflow (shared/seed/EXAMPLE_WORKFLOW.txt): its five queries through pgreel, the session file
    /// holding them with their results, then `pgreel replay` of the seed's own example file against this major.
    private func seed() async throws -> Verdict {
        let database = try await self.server.makeDatabase()
        let proxy = try await self.startProxy(database: database, quiet: false)
        defer { proxy.process.kill() }
        let output = try await self.psql(
            proxy, SeedWorkflowTests.seedQueries, database: database, arguments: [])
        for expected in ["test1", "INSERT 0 1", "UPDATE 1", "DELETE 1"] {
            try matrixRequire(output.contains(expected), "psql's output lacks '\(expected)': \(output)")
        }
        let (queries, results) = try await self.recorded(proxy, sessions: 1)
        let seedLines = SeedWorkflowTests.seedQueries.split(separator: "\n").map(String.init)
        try matrixRequire(queries.map(\.sql) == seedLines, "recorded queries \(queries.map(\.sql))")
        let tags = results.map(\.result.commandTag)
        try matrixRequire(
            tags == ["SELECT 3", "INSERT 0 1", "UPDATE 1", "SELECT 1", "DELETE 1"], "recorded command tags \(tags)")
        try matrixRequire(
            results.first?.result.rows.first == ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
            "recorded first row \(String(describing: results.first?.result.rows.first))")
        _ = try await proxy.process.waitForOutput(containing: "✓ DELETE 1", in: .stdout, timeout: .seconds(10))

        let file = try makeTemporaryDirectory(prefix: "pgreel-matrix-seed") + "/pseudo_user_2025-10-07_21-30-15.json"
        try SeedExampleFile.text.write(toFile: file, atomically: true, encoding: .utf8)
        let replay = try await ReplayWorkflowTests.replay(
            [file, "--db-url", self.server.url(database: database)], password: nil)
        try matrixRequire(replay.status == 0, "replay of the seed's example file: \(replay.failureSummary)")
        try matrixRequire(
            replay.stdout.contains("   Results matched: 1\n   Results mismatched: 0"),
            "replay of the seed's example file did not match: \(replay.stdout.suffix(300))")
        return .ok
    }

    /// `pgbench -i -s 1` through pgreel: its COPY of 100,000 accounts arrives and is recorded.
    private mutating func pgbenchInit() async throws -> Verdict {
        let database = try await self.server.makeDatabase()
        let proxy = try await self.startProxy(database: database)
        defer { proxy.process.kill() }
        _ = try await self.pgbench(proxy, ["-i", "-s", "1", "-q"], database: database)
        let accounts = try await self.server.psqlAdmin("SELECT count(*) FROM pgbench_accounts", database: database)
        try matrixRequire(accounts == "100000", "pgbench_accounts holds \(accounts) rows")
        let (_, results) = try await self.recorded(proxy, sessions: 1)
        try matrixRequire(
            results.contains { $0.result.commandTag == "COPY 100000" && $0.error == nil },
            "no recorded COPY 100000 among \(results.compactMap(\.result.commandTag))")
        self.pgbenchDatabase = database
        return .ok
    }

    /// `pgbench -S -M mode`, 2 clients × 50 transactions: none fails, and every SELECT is recorded in that protocol.
    private func selectOnly(mode: String) async throws -> Verdict {
        guard let database = self.pgbenchDatabase else {
            throw MatrixCheckFailure("needs the tables of pgbench -i, which failed")
        }
        let proxy = try await self.startProxy(database: database)
        defer { proxy.process.kill() }
        let output = try await self.pgbench(
            proxy, ["-S", "-M", mode, "-c", "2", "-j", "2", "-t", "50", "-n"], database: database)
        guard let counts = PgbenchOutput.counts(output) else {
            throw MatrixCheckFailure("pgbench printed no transaction count: \(output.suffix(300))")
        }
        try matrixRequire(counts.processed == 100 && counts.failed == 0, "pgbench: \(counts) of 100 transactions")
        let (queries, results) = try await self.recorded(proxy, sessions: 2)
        let selects = queries.filter { $0.sql.contains("SELECT abalance FROM pgbench_accounts WHERE aid = ") }
        try matrixRequire(selects.count == 100, "\(selects.count) SELECTs recorded, pgbench ran 100")
        try matrixRequire(
            results.filter { $0.result.commandTag == "SELECT 1" && $0.error == nil }.count >= 100,
            "fewer than 100 successful results recorded")
        let expected: QueryProtocol = mode == "simple" ? .simple : .extended
        try matrixRequire(
            selects.allSatisfy { $0.queryProtocol == expected }, "SELECTs not all recorded as \(expected) protocol")
        if mode == "prepared" {
            try matrixRequire(
                selects.allSatisfy { $0.statementName?.isEmpty == false }, "SELECTs not all on a named statement")
        }
        return .ok
    }

    /// `\copy` of 20,000 rows (with NULLs) in and back out through pgreel: out is byte for byte what went in, and
    /// the session file holds the COPY data and the copied-out rows' count.
    private func copy() async throws -> Verdict {
        let database = try await self.server.makeDatabase()
        let proxy = try await self.startProxy(database: database)
        defer { proxy.process.kill() }
        let directory = try makeTemporaryDirectory(prefix: "pgreel-matrix-copy")
        let input = directory + "/in.tsv"
        let output = directory + "/out.tsv"
        let text = (1...20_000).map { "\($0)\trow \($0)\t\($0 % 7 == 0 ? "\\N" : "v\($0)")\n" }.joined()
        try text.write(toFile: input, atomically: true, encoding: .utf8)
        let counts = try await self.psql(
            proxy,
            """
            CREATE TABLE copied (id int, name text, extra text);
            \\copy copied FROM '\(input)'
            \\copy (SELECT * FROM copied ORDER BY id) TO '\(output)'
            SELECT count(*), count(extra) FROM copied;
            """, database: database)
        try matrixRequire(counts == "20000|17143", "count(*), count(extra) gave \(counts)")
        try matrixRequire(
            (try? String(contentsOfFile: output, encoding: .utf8)) == text, "COPY TO did not return what went in")
        let (_, results) = try await self.recorded(proxy, sessions: 1)
        let copyIn = results.first { $0.result.commandTag == "COPY 20000" && $0.copyData != nil }
        try matrixRequire(copyIn?.copyData?.joined() == text, "the COPY FROM STDIN data is not recorded whole")
        try matrixRequire(
            results.last { $0.result.commandTag == "COPY 20000" }?.result.rowCount == 20_000,
            "the COPY TO STDOUT rows are not counted")
        return .ok
    }

    /// A session LISTENs through pgreel while another NOTIFYs through pgreel: the listener's psql prints it.
    private func notify() async throws -> Verdict {
        let proxy = try await self.startProxy(record: false)
        defer { proxy.process.kill() }
        // Rows of the same upstream run at once: a channel and a query text of this check's own.
        let channel = "matrix_channel_\(UInt32.random(in: 0...UInt32.max))"
        let sleep = "SELECT pg_sleep(2) AS matrix_listen_\(UInt32.random(in: 0...UInt32.max))"
        let listener = try proxy.psqlInBackground(
            ["LISTEN \(channel)", sleep, "SELECT 1"], environment: self.row.connection.environment,
            client: self.client)
        defer { listener.kill() }
        try await self.server.waitForActiveQuery(sleep, sentBy: listener)
        _ = try await self.psql(proxy, "NOTIFY \(channel), 'from another session'")
        let result = try await listener.waitForExit(timeout: .seconds(30))
        try matrixRequire(result.succeeded, "the listening psql: \(result.failureSummary)")
        let expected = "Asynchronous notification \"\(channel)\" with payload \"from another session\" received"
        try matrixRequire(result.stdout.contains(expected), "the listener printed no notification: \(result.stdout)")
        return .ok
    }

    /// Ctrl-C (SIGINT) in psql during `pg_sleep(30)`: the cancel request goes through pgreel to the right backend,
    /// psql gets 57014 within seconds, and the session file records it.
    private func cancel() async throws -> Verdict {
        let proxy = try await self.startProxy(quiet: false)
        defer { proxy.process.kill() }
        let sleep = "SELECT pg_sleep(30) AS matrix_cancel_\(UInt32.random(in: 0...UInt32.max))"
        let psql = try proxy.psqlInBackground(
            [sleep], environment: self.row.connection.environment, client: self.client)
        defer { psql.kill() }
        try await self.server.waitForActiveQuery(sleep, sentBy: psql)
        let started = ContinuousClock.now
        psql.send(SIGINT)
        let result = try await psql.waitForExit(timeout: .seconds(20))
        let took = ContinuousClock.now - started
        try matrixRequire(
            result.stderr.contains("canceling statement due to user request"),
            "psql was not canceled: \(result.failureSummary)")
        try matrixRequire(took < .seconds(10), "the cancel took \(took)")
        let (_, results) = try await self.recorded(proxy, sessions: 1)
        try matrixRequire(
            results.first?.error?.code == "57014",
            "recorded \(String(describing: results.first?.error?.code)), not 57014")
        return .ok
    }

    /// A SCRAM-SHA-256 pseudo user (`--user alice:wonderland`) with the right and a wrong password; pgreel itself
    /// logs in to the upstream with SCRAM-SHA-256 (the cluster's pg_hba.conf).
    private func scram() async throws -> Verdict {
        let proxy = try await self.startProxy(users: ["alice:wonderland"], record: false)
        defer { proxy.process.kill() }
        let user = try await self.psql(proxy, "SELECT current_user", user: "alice", password: "wonderland")
        try matrixRequire(user == "postgres", "current_user is '\(user)', not the real user postgres")
        let wrong = try await proxy.psql(
            "SELECT 1", user: "alice", password: "rabbit", environment: self.row.connection.environment,
            client: self.client)
        try matrixRequire(
            wrong.status == 2 && wrong.stderr.contains("password authentication failed for user \"alice\""),
            "a wrong password was not refused: \(wrong.failureSummary)")
        return .ok
    }

    /// SCRAM-SHA-256-PLUS on both legs: psql with `channel_binding=require` to pgreel (which has a certificate),
    /// pgreel with `sslmode=require&channel_binding=require` to the upstream. Needs SSL in both builds.
    private func scramPlus() async throws -> Verdict {
        guard self.clientHasTLS else {
            return .notApplicable("the PostgreSQL \(self.row.client) build's libpq has no SSL")
        }
        guard self.cluster.hasTLS else {
            return .notApplicable("the PostgreSQL \(self.row.upstream) server build has no SSL")
        }
        let proxy = try await self.startProxy(
            upstreamParameters: "?sslmode=require&channel_binding=require", users: ["alice:wonderland"], tls: true,
            record: false)
        defer { proxy.process.kill() }
        let ssl = try await self.psql(
            proxy, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", user: "alice", password: "wonderland",
            environment: ["PGSSLMODE": "require", "PGCHANNELBINDING": "require"])
        try matrixRequire(ssl == "t", "the upstream session is not encrypted (pg_stat_ssl.ssl = '\(ssl)')")
        return .ok
    }

    /// The step-through view against this major: a psql session recorded through pgreel, then
    /// `pgreel replay FILE --tui` in a tmux terminal, `r` to run it all: the view reports every query matched.
    /// The view does not depend on the client, so it runs once per upstream (the plain row of its own client).
    private func stepThrough() async throws -> Verdict {
        guard self.row.connection == .plain, self.row.client == self.row.upstream else {
            return .notApplicable("the view is checked once per upstream, on the row of its own client")
        }
        let database = try await self.server.makeDatabase()
        let proxy = try await self.startProxy(database: database)
        defer { proxy.process.kill() }
        let queries = "SELECT count(*) FROM test_data;\nSELECT name FROM test_data ORDER BY id;\nSELECT version();\n"
        _ = try await self.psql(proxy, queries, database: database)
        _ = try await self.recorded(proxy, sessions: 1)
        guard let file = proxy.sessionFiles().first else { throw MatrixCheckFailure("no session file") }
        // version() differs between the client and server builds only if they differ: the same cluster answers.
        let command = try ReplayDashboardTests.command(
            ["replay", file, "--tui", "--db-url", self.server.url(database: database)], password: "")
        let tmux = try await TmuxSession.start(command)
        defer { Task { await tmux.kill() } }
        _ = try await tmux.waitForScreen(containing: "● connected")
        try await tmux.press("r")
        let screen = try await tmux.waitForScreen(containing: "Replay finished", "Results matched: 3")
        try matrixRequire(screen.contains("3 queries  ✓ 3  ✗ 0"), "the view: \(screen.suffix(600))")
        return .ok
    }

    /// Records the seed workflow (psql, simple protocol) and a pgbench session of prepared statements with
    /// parameters through pgreel, then `pgreel replay` of both files against the same database with
    /// `--compare-with` a copy of the starting data on the shared PostgreSQL 15 (the system's): every result matches
    /// on both, and both agree (created_at, the INSERT's now(), is left out of the comparison).
    private func replay() async throws -> Verdict {
        let database = try await self.server.makeDatabase()
        let proxy = try await self.startProxy(database: database)
        defer { proxy.process.kill() }
        _ = try await self.psql(proxy, SeedWorkflowTests.seedQueries, database: database, arguments: [])
        let script = try makeTemporaryDirectory(prefix: "pgreel-matrix-replay") + "/select.sql"
        try "\\set id random(1, 3)\nSELECT id, name, value FROM test_data WHERE id = :id;\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        _ = try await self.pgbench(proxy, ["-n", "-f", script, "-M", "prepared", "-c", "1", "-t", "20"], database: database)
        let (queries, _) = try await self.recorded(proxy, sessions: 2)

        // The INSERT used id 4 of the sequence: give it back, so the replayed INSERT gets the same id.
        try await self.server.psqlAdmin("SELECT setval('test_data_id_seq', 3)", database: database)
        let fifteen = try await TestPostgres.shared()
        let copy = try await fifteen.makeDatabase()
        let report = try makeTemporaryDirectory(prefix: "pgreel-matrix-replay") + "/report.json"
        let replay = try await ReplayWorkflowTests.replay(
            proxy.sessionFiles() + [
                "--db-url", self.server.url(database: database), "--compare-with", fifteen.url(database: copy),
                "--ignore-column", "created_at", "--quiet", "--report", report,
            ], password: nil)
        try matrixRequire(replay.status == 0, "pgreel replay \(replay.failureSummary) \(replay.stdout.suffix(400))")
        let json = try ReplayWorkflowTests.json(report)
        let summary = json["summary"] as? [String: Any] ?? [:]
        let executed = summary["executed"] as? Int ?? -1
        let matched = summary["matched"] as? Int ?? -1
        try matrixRequire(
            executed == queries.count && matched == queries.count && summary["mismatched"] as? Int == 0,
            "replayed \(executed) of \(queries.count) recorded queries, \(matched) matched")
        let comparison = json["comparison"] as? [String: Any] ?? [:]
        try matrixRequire(
            comparison["compared_results"] as? Int == queries.count && comparison["differing_results"] as? Int == 0,
            "--compare-with PostgreSQL \(fifteen.major): \(comparison["differing_results"] ?? "?") of "
                + "\(comparison["compared_results"] ?? "?") results differ")
        return .ok
    }
}
