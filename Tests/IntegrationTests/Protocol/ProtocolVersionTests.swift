import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// Protocol 3.2 served to clients whatever the upstream speaks: PostgreSQL 18's own psql asking for it, through
/// pgreel to a PostgreSQL 15 (which answers 3.0) and a PostgreSQL 18 (which speaks 3.2), and the raw greeting a
/// 3.0, a 3.2 and a 3.3 client get.
@Suite(.enabled(if: PostgresInstallation.installed(18), PostgresInstallation.missingMessage(18)))
struct ProtocolVersionTests {
    /// psql's output as bare values (`name|15`).
    private static let unaligned = ["-A", "-t", "-q"]

    /// Before the fix, psql 18 said "server requested downgrade to pre-3.0 protocol version".
    @Test(arguments: [15, 18]) func psql18AskingForThreeTwoIsServedAndRecorded(upstreamMajor: Int) async throws {
        let (server, stopServer) = try await ProtocolClients.upstream(major: upstreamMajor)
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql18 = try PostgresInstallation.major(18)
        let asks = [
            ("max", ["PGMAXPROTOCOLVERSION": "3.2"]), ("min", ["PGMINPROTOCOLVERSION": "3.2"]),
            ("both", ["PGMINPROTOCOLVERSION": "3.2", "PGMAXPROTOCOLVERSION": "3.2"]),
        ]
        for (name, versions) in asks {
            let sql = "SELECT '\(name)', current_setting('server_version_num')::int / 10000"
            let result = try await proxy.psql(
                sql, arguments: Self.unaligned,
                environment: versions.merging(["PGSSLMODE": "disable"]) { _, new in new }, client: psql18)
            #expect(result.status == 0, "\(name) 3.2 to PostgreSQL \(upstreamMajor): \(result.stderr)")
            #expect(result.stdout == "\(name)|\(upstreamMajor)\n")
        }
        // psql 18 reports the version it runs: pgreel's, not the upstream's.
        let conninfo = try await proxy.psql(
            "\\conninfo", arguments: Self.unaligned,
            environment: ["PGMAXPROTOCOLVERSION": "3.2", "PGSSLMODE": "disable"], client: psql18)
        #expect(conninfo.stdout.contains("Protocol Version|3.2\n"), "\(conninfo.stdout)")

        let sessions = try await proxy.finishedSessions(count: asks.count + 1)
        let recorded = sessions.flatMap(\.events).compactMap(\.query).map(\.sql)
        for (name, _) in asks {
            #expect(recorded.contains { $0.hasPrefix("SELECT '\(name)'") }, "the \(name) session is recorded")
        }
        #expect(sessions.flatMap(\.events).compactMap(\.result).allSatisfy { $0.error == nil })
        await proxy.stop()
        await stopServer()
    }

    /// What a client of each version reads, byte for byte, in front of PostgreSQL 15 (3.0 only): the version it
    /// asked for (capped at 3.2), NegotiateProtocolVersion only when due, and a key as long as its version wants.
    @Test func rawClientsGetTheirVersionsGreetingInFrontOfAThreeZeroUpstream() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }

        let old = try await ProtocolClients.greeting(port: proxy.port, version: .v3_0)
        #expect(old.first?.id == BackendMessageID.authentication, "no negotiation for 3.0")
        let oldKey = try BackendKeyData.decode(from: try Self.payload(of: BackendMessageID.backendKeyData, in: old))
        #expect(oldKey.secretKey.count == 4)

        let current = try await ProtocolClients.greeting(port: proxy.port, version: .v3_2)
        #expect(current.first?.id == BackendMessageID.authentication, "no negotiation for 3.2: it is served as asked")
        #expect(current.last?.id == BackendMessageID.readyForQuery)
        let key = try BackendKeyData.decode(from: try Self.payload(of: BackendMessageID.backendKeyData, in: current))
        #expect(key.secretKey.count == 32, "a 3.2 client holds a 32-byte key even in front of PostgreSQL 15")

        let newer = try await ProtocolClients.greeting(
            port: proxy.port, version: ProtocolVersion(major: 3, minor: 7),
            parameters: [("_pq_.compression", "on"), ("application_name", "raw"), ("_pq_.other", "1")])
        let negotiation = try #require(newer.first)
        #expect(negotiation.id == BackendMessageID.negotiateProtocolVersion)
        #expect(
            try NegotiateProtocolVersion.decode(from: negotiation.payload)
                == NegotiateProtocolVersion(version: .v3_2, unsupportedOptions: ["_pq_.compression", "_pq_.other"]))
        #expect(newer.last?.id == BackendMessageID.readyForQuery, "then the session starts as usual")

        let unsupported = try await ProtocolClients.greeting(
            port: proxy.port, version: ProtocolVersion(major: 4, minor: 0))
        let error = try ErrorFields.decode(from: try Self.payload(of: BackendMessageID.errorResponse, in: unsupported))
        #expect(error.message == "unsupported frontend protocol 4.0: server supports 3.0 to 3.2")
        let still = try await proxy.psql("SELECT 1")
        #expect(still.status == 0, "\(still.stderr)")
    }

    private static func payload(of id: UInt8, in messages: [RawMessage]) throws -> ByteBuffer {
        try #require(messages.first { $0.id == id }, "no \(Character(Unicode.Scalar(id))) in the answer").payload
    }

    /// pgreel itself asks every upstream for 3.2: PostgreSQL 15 negotiates down to 3.0 and a 4-byte key,
    /// PostgreSQL 18 runs 3.2 with a 32-byte key.
    @Test(arguments: [15, 18]) func pgreelSpeaksToEachUpstreamItsNewestVersion(upstreamMajor: Int) async throws {
        let (server, stopServer) = try await ProtocolClients.upstream(major: upstreamMajor)
        let target = UpstreamTarget(
            host: server.host, port: server.port, user: TestPostgres.adminRole,
            password: server.password(for: TestPostgres.adminRole), database: "postgres")
        let connection = try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next())
            .get()
        try? await connection.channel.close()
        #expect(connection.handshake.protocolVersion == (upstreamMajor >= 18 ? .v3_2 : .v3_0))
        #expect(connection.handshake.backendKey?.secretKey.count == (upstreamMajor >= 18 ? 32 : 4))

        // max_protocol_version=3.0 in the URL (for a pooler that refuses 3.2): asked for 3.0, given 3.0.
        var capped = target
        capped.maxProtocolVersion = .v3_0
        let old = try await UpstreamConnector.connect(capped, on: MultiThreadedEventLoopGroup.singleton.next()).get()
        try? await old.channel.close()
        #expect(old.handshake.protocolVersion == .v3_0)
        #expect(old.handshake.backendKey?.secretKey.count == 4)
        // Through the proxy, clients are served 3.2 all the same.
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url() + "?max_protocol_version=3.0", arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let psql = try await proxy.psql(
            "SELECT 1", arguments: Self.unaligned, environment: ["PGMINPROTOCOLVERSION": "3.2", "PGSSLMODE": "disable"],
            client: try PostgresInstallation.major(18))
        #expect(psql.status == 0, "\(psql.stderr)")
        await proxy.stop()
        await stopServer()
    }
}
