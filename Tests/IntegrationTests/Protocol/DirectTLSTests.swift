import Foundation
import ProxyEngine
import Testing

/// PostgreSQL 17's direct TLS (`sslnegotiation=direct`) through pgreel: psql 17 starting TLS at once toward the
/// proxy, SCRAM-SHA-256-PLUS bound inside it, and the proxy starting TLS at once toward a PostgreSQL 17 that
/// accepts only TLS.
@Suite(.enabled(if: PostgresInstallation.installed(17), PostgresInstallation.missingMessage(17)))
struct DirectTLSTests {
    private static let direct = ["PGSSLMODE": "require", "PGSSLNEGOTIATION": "direct"]
    /// psql's output as bare values.
    private static let unaligned = ["-A", "-t", "-q"]

    @Test func psql17WithDirectTLSAndChannelBinding() async throws {
        let server = try await TestPostgres.shared()
        let certificates = try await TestCertificates.make()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(), users: ["alice:wonderland", "seed"],
            arguments: ["--tls-cert", certificates.certificate, "--tls-key", certificates.key])
        defer { proxy.process.kill() }
        let psql17 = try PostgresInstallation.major(17)

        let conninfo = try await proxy.psql(
            "\\conninfo", user: "seed", arguments: Self.unaligned, environment: Self.direct, client: psql17)
        #expect(conninfo.status == 0, "\(conninfo.stderr)")
        #expect(conninfo.stdout.contains("SSL connection (protocol: TLSv1.3"), "\(conninfo.stdout)")
        #expect(conninfo.stdout.contains("ALPN: postgresql"), "\(conninfo.stdout)")

        // psql insists on SCRAM-SHA-256-PLUS: pgreel must offer it inside direct TLS and check the binding.
        let bound = try await proxy.psql(
            "SELECT 'bound'", user: "alice", password: "wonderland", arguments: Self.unaligned,
            environment: Self.direct.merging(["PGCHANNELBINDING": "require"]) { _, new in new }, client: psql17)
        #expect(bound.status == 0, "\(bound.stderr)")
        #expect(bound.stdout == "bound\n")

        // verify-full checks the proxy's certificate and name as after an SSLRequest.
        let verified = try await proxy.psql(
            "SELECT 'verified'", user: "seed", arguments: Self.unaligned, host: "localhost",
            environment: [
                "PGSSLMODE": "verify-full", "PGSSLNEGOTIATION": "direct", "PGSSLROOTCERT": certificates.authority,
            ], client: psql17)
        #expect(verified.status == 0, "\(verified.stderr)")

        // The SSLRequest path now offers ALPN too (libpq 17 asks for it).
        let classic = try await proxy.psql(
            "\\conninfo", user: "seed", arguments: Self.unaligned, environment: ["PGSSLMODE": "require"],
            client: psql17)
        #expect(classic.status == 0, "\(classic.stderr)")
        #expect(classic.stdout.contains("ALPN: postgresql"), "\(classic.stdout)")

        let sessions = try await proxy.finishedSessions(count: 4)
        let recorded = sessions.flatMap(\.events).compactMap(\.query).map(\.sql)
        #expect(recorded.contains("SELECT 'bound'") && recorded.contains("SELECT 'verified'"))
    }

    /// `--tls-required` is satisfied by direct TLS, as by an SSLRequest.
    @Test func directTLSCountsAsEncryptedForTLSRequired() async throws {
        let server = try await TestPostgres.shared()
        let certificates = try await TestCertificates.make()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(),
            arguments: [
                "--tls-cert", certificates.certificate, "--tls-key", certificates.key, "--tls-required", "--no-record",
            ])
        defer { proxy.process.kill() }
        let psql17 = try PostgresInstallation.major(17)
        let direct = try await proxy.psql(
            "SELECT 1", arguments: Self.unaligned, environment: Self.direct, client: psql17)
        #expect(direct.status == 0, "\(direct.stderr)")
        let plain = try await proxy.psql(
            "SELECT 1", arguments: Self.unaligned, environment: ["PGSSLMODE": "disable"], client: psql17)
        #expect(plain.stderr.contains("pgreel accepts only encrypted connections"), "\(plain.stderr)")
    }

    /// `sslnegotiation=direct` in the upstream URL: TLS at once toward a PostgreSQL 17 that rejects plain text, so
    /// a session that works was encrypted; the server's own trace says the connection was direct.
    @Test func anUpstreamURLAskingForDirectTLS() async throws {
        let certificates = try await TestCertificates.make()
        let (server, stopServer) = try await ProtocolClients.upstream(
            major: 17, tls: certificates, hba: TLSTestServer.hba,
            configuration: ["trace_connection_negotiation": "on"])
        let password = try #require(server.password(for: TestPostgres.adminRole))
        let url =
            "postgres://postgres:\(password)@127.0.0.1:\(server.port)/postgres?sslmode=verify-full"
            + "&sslrootcert=\(certificates.authority)&sslnegotiation=direct&channel_binding=require"
        let proxy = try await ProxyUnderTest.start(upstream: url, arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let result = try await proxy.psql(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", arguments: ["-A", "-t"],
            environment: ["PGSSLMODE": "disable"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "t|TLSv1.3")
        #expect(server.serverLog().contains("direct SSL connection accepted"), "PostgreSQL saw a direct connection")
        #expect(!server.serverLog().contains("SSLRequest accepted"), "no SSLRequest was sent")
        await proxy.stop()
        await stopServer()
    }

    /// A server before 17 cannot speak direct TLS: it hangs up, and the client is told so.
    @Test func directTLSToAnOldServerSaysWhy() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url() + "?sslmode=require&sslnegotiation=direct", arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let refused = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "disable"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("sslnegotiation=direct needs PostgreSQL 17 or later"), "\(refused.stderr)")
        #expect(server.major < 17)
    }
}
