import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// Cancel in every combination of client and upstream protocol: psql 18 as a 3.0 client (4-byte key) and as a 3.2
/// client (32-byte key), through pgreel to PostgreSQL 15 (4-byte key) and 18 (32-byte key). Ctrl-C in psql sends
/// the CancelRequest with the key pgreel gave it; pgreel forwards it with the upstream's own key.
@Suite(.enabled(if: PostgresInstallation.installed(18), PostgresInstallation.missingMessage(18)))
struct CancelMatrixTests {
    @Test(arguments: [15, 18]) func sigintInPsql18CancelsForThreeZeroAndThreeTwoClients(upstreamMajor: Int)
        async throws
    {
        let (server, stopServer) = try await ProtocolClients.upstream(major: upstreamMajor)
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql18 = try PostgresInstallation.major(18)
        let versions = ["3.0", "3.2"]
        for (index, version) in versions.enumerated() {
            let sql = "SELECT pg_sleep(30) /* protocol \(version) to \(upstreamMajor) */"
            let psql = try proxy.psqlInBackground(
                [sql],
                environment: ["PGMAXPROTOCOLVERSION": version, "PGMINPROTOCOLVERSION": version, "PGSSLMODE": "disable"],
                client: psql18)
            defer { psql.kill() }
            try await server.waitForActiveQuery(sql, sentBy: psql)
            let started = ContinuousClock.now
            psql.send(SIGINT)
            let result = try await psql.waitForExit(timeout: .seconds(15))
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(
                result.stderr.contains("canceling statement due to user request"),
                "a \(version) client to PostgreSQL \(upstreamMajor): \(result.stderr)")
            try await ProtocolClients.waitForLines("Cancel request forwarded", count: index + 1, in: proxy.process)
        }
        let sessions = try await proxy.finishedSessions(count: versions.count)
        let codes = sessions.flatMap(\.events).compactMap(\.result).compactMap(\.error?.code)
        #expect(codes == ["57014", "57014"], "each session recorded its cancelled query")
        await proxy.stop()
        await stopServer()
    }

    /// The same with pgreel's own raw client holding a 32-byte key, and a wrong key of the right length that
    /// cancels nothing.
    @Test func aThirtyTwoByteKeyCancelsAndAWrongOneDoesNot() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let target = UpstreamTarget(
            host: "127.0.0.1", port: proxy.port, user: "pseudo_user", password: nil, database: "postgres")
        // pgreel's connector asks for 3.2, so the proxy serves it a 32-byte key.
        let connection = try await UpstreamConnector.connect(target, on: loop).get()
        defer { connection.channel.close(promise: nil) }
        let key = try #require(connection.handshake.backendKey)
        #expect(connection.handshake.protocolVersion == .v3_2)
        #expect(key.secretKey.count == 32)

        let sql = "SELECT pg_sleep(30) /* raw 3.2 */"
        var query = ByteBuffer()
        QueryMessage.encode(sql, into: &query)
        try await connection.channel.writeAndFlush(query).get()
        try await server.waitForActiveQuery(sql)

        var wrong = key
        wrong.secretKey[31] ^= 0x01
        try await UpstreamConnector.sendCancel(host: "127.0.0.1", port: proxy.port, key: wrong, on: loop).get()
        _ = try await proxy.process.waitForOutput(containing: "Cancel request refused", in: .stdout)
        try await Task.sleep(for: .milliseconds(300))
        let running = "SELECT count(*) FROM pg_stat_activity WHERE query = '\(sql)' AND state = 'active'"
        #expect(try await server.psqlAdmin(running) == "1", "a key one bit off cancels nothing")

        try await UpstreamConnector.sendCancel(host: "127.0.0.1", port: proxy.port, key: key, on: loop).get()
        _ = try await proxy.process.waitForOutput(containing: "Cancel request forwarded", in: .stdout)
        let deadline = ContinuousClock.now + .seconds(10)
        while try await server.psqlAdmin(running) != "0" {
            #expect(ContinuousClock.now < deadline, "the query was never cancelled")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
