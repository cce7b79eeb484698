import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// Real workloads through the proxy: pgbench in every protocol mode, COPY both ways, cancel.
@Suite(.serialized) struct WorkloadTests {
    private func pgbenchCounts(_ output: String) throws -> (processed: Int, failed: Int) {
        try #require(PgbenchOutput.counts(output), "pgbench printed no count:\n\(output)")
    }

    @Test(arguments: ["extended", "prepared", "simple"])
    func pgbenchSelectOnlyIsRelayedAndEveryTransactionRecorded(mode: String) async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let pgbench = try Tools.pgbench
        let common = ["-h", "127.0.0.1", "-p", "\(proxy.port)", "-U", "pseudo_user"]

        // pgbench -i loads its tables with COPY FROM STDIN through the proxy.
        let initialize = try await ProcessRunner.run(pgbench, ["-i", "-s", "1", "-q"] + common + [database])
        #expect(initialize.status == 0, "pgbench -i failed: \(initialize.stderr)")

        let run = try await ProcessRunner.run(
            pgbench, ["-S", "-M", mode, "-c", "4", "-j", "2", "-T", "3", "-n"] + common + [database],
            timeout: .seconds(60))
        #expect(run.status == 0, "pgbench failed: \(run.stderr)")
        let counts = try self.pgbenchCounts(run.stdout)
        #expect(counts.failed == 0)
        #expect(counts.processed > 100)

        // 1 session for -i, 4 for the run; every SELECT of the run is in a file with its result.
        let sessions = try await proxy.finishedSessions(count: 5, timeout: .seconds(30))
        let selects = sessions.flatMap(\.events).compactMap(\.result).filter { result in
            result.result.commandTag == "SELECT 1" && result.error == nil
        }
        let selectQueries = sessions.flatMap(\.events).compactMap(\.query).filter {
            $0.sql.contains("SELECT abalance FROM pgbench_accounts WHERE aid = ")
        }
        #expect(selectQueries.count == counts.processed)
        #expect(selects.count >= counts.processed)
        if mode != "simple" {
            #expect(selectQueries.allSatisfy { $0.queryProtocol == .extended && $0.parameters?.count == 1 })
        }
        if mode == "prepared" {
            #expect(selectQueries.allSatisfy { $0.statementName?.isEmpty == false })
        }
        let copy = sessions.flatMap(\.events).compactMap(\.result).first { $0.result.commandTag == "COPY 100000" }
        #expect(copy != nil, "pgbench -i's COPY of 100000 accounts is recorded")
    }

    @Test func copyHundredThousandRowsInAndOut() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let directory = try makeTemporaryDirectory(prefix: "pgreel-copy")
        let input = directory + "/in.tsv"
        let output = directory + "/out.tsv"
        var text = ""
        text.reserveCapacity(3_000_000)
        for index in 1...100_000 { text += "\(index)\trow \(index)\t\(index % 7 == 0 ? "\\N" : "v\(index)")\n" }
        try text.write(toFile: input, atomically: true, encoding: .utf8)

        let result = try await proxy.psql(
            """
            CREATE TABLE copied (id int, name text, extra text);
            \\copy copied FROM '\(input)'
            \\copy (SELECT * FROM copied ORDER BY id) TO '\(output)'
            SELECT count(*), count(extra) FROM copied;
            """, database: database, arguments: ["-A", "-t"], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("100000|85715"))
        #expect(try String(contentsOfFile: output, encoding: .utf8) == text, "COPY TO returns exactly what went in")

        let events = try await proxy.finishedSessions(count: 1).flatMap(\.events)
        let results = events.compactMap(\.result)
        let copyIn = try #require(results.first { $0.result.commandTag == "COPY 100000" && $0.copyData != nil })
        #expect(copyIn.copyData?.joined() == text, "the COPY data is recorded for replay")
        let copyOut = try #require(results.last { $0.result.commandTag == "COPY 100000" })
        #expect(copyOut.result.rowCount == 100_000)
        #expect(copyOut.result.rows.count == 1000)
        #expect(copyOut.result.rowsTruncated)
        #expect(copyOut.result.rowsDigest?.hasPrefix("sha256:") == true)
    }

    @Test func sigintInPsqlCancelsTheRunningQueryThroughTheProxy() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql = try proxy.psqlInBackground(["SELECT pg_sleep(30)"])
        defer { psql.kill() }
        // Wait until the query runs on the server, then press Ctrl-C.
        try await server.waitForActiveQuery("SELECT pg_sleep(30)")
        let started = ContinuousClock.now
        psql.send(SIGINT)
        let result = try await psql.waitForExit(timeout: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(result.stderr.contains("canceling statement due to user request"))
        _ = try await proxy.process.waitForOutput(containing: "Cancel request forwarded", in: .stdout)
        let events = try await proxy.finishedSessions(count: 1).flatMap(\.events)
        #expect(events.compactMap(\.result).first?.error?.code == "57014")
    }

    @Test func aCancelWithAWrongKeyCancelsNothing() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let target = UpstreamTarget(host: "127.0.0.1", port: proxy.port, user: "pseudo_user", password: nil, database: "postgres")
        let connection = try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next()).get()
        defer { connection.channel.close(promise: nil) }
        let key = try #require(connection.handshake.backendKey)
        // The pid is the real backend's.
        let pids = try await server.psqlAdmin("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'")
        #expect(pids.split(separator: "\n").contains(Substring(String(key.processID))))
        try await UpstreamConnector.sendCancel(
            host: "127.0.0.1", port: proxy.port, key: BackendKeyData(processID: key.processID, secretKey: key.secretKey.map { $0 ^ 0xFF }),
            on: MultiThreadedEventLoopGroup.singleton.next()
        ).get()
        _ = try await proxy.process.waitForOutput(containing: "Cancel request refused", in: .stdout)
    }
}
