import Foundation
import NIOPosix
import ProxyEngine
import Testing

/// TLS between the proxy and the real server: sslmode, sslrootcert and channel_binding in the upstream URL, against
/// a PostgreSQL that rejects every plain-text connection (so a session that works was encrypted).
@Suite struct UpstreamTLSTests {
    private static let sslOfBackend = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

    private func query(_ proxy: ProxyUnderTest, _ sql: String = Self.sslOfBackend) async throws -> ProcessResult {
        try await proxy.psql(sql, arguments: ["-A", "-t"], environment: ["PGSSLMODE": "disable"])
    }

    @Test func preferIsTheDefaultAndEncrypts() async throws {
        let tls = try await TLSTestServer.get()
        let proxy = try await ProxyUnderTest.start(
            upstream: "postgres://postgres:\(tls.server.upstreamPassword)@127.0.0.1:\(tls.server.port)/postgres",
            arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let result = try await self.query(proxy)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "t|TLSv1.3")
    }

    @Test func preferFallsBackToPlainTextAndRequireRefuses() async throws {
        let server = try await TestPostgres.shared()
        let prefer = try await ProxyUnderTest.start(upstream: server.url() + "?sslmode=prefer", arguments: ["--no-record"])
        defer { prefer.process.kill() }
        let plain = try await self.query(prefer)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("f|"))

        let require = try await ProxyUnderTest.start(upstream: server.url() + "?sslmode=require", arguments: ["--no-record"])
        defer { require.process.kill() }
        let refused = try await self.query(require, "SELECT 1")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("08006") || refused.stderr.contains("could not connect to the upstream"))
        #expect(refused.stderr.contains("does not support SSL, but sslmode=require requires it"), "\(refused.stderr)")
    }

    @Test func verifyCAChecksTheChainAndVerifyFullTheHostName() async throws {
        let tls = try await TLSTestServer.get()
        let root = "sslrootcert=\(tls.certificates.authority)"
        let cases: [(url: String, works: Bool, error: String)] = [
            (tls.url("sslmode=verify-ca&\(root)"), true, ""),
            (tls.url(host: "localhost", "sslmode=verify-full&\(root)"), true, ""),
            // The certificate names localhost only.
            (tls.url("sslmode=verify-full&\(root)"), false, "does not match host name"),
            // sslmode=require with a root file checks the chain too, as libpq does.
            (tls.url("sslmode=require&\(root)"), true, ""),
            // disable never asks for TLS, and this server's pg_hba.conf rejects plain text.
            (tls.url("sslmode=disable"), false, "no encryption"),
        ]
        for item in cases {
            let proxy = try await ProxyUnderTest.start(upstream: item.url, arguments: ["--no-record"])
            defer { proxy.process.kill() }
            let result = try await self.query(proxy)
            if item.works {
                #expect(result.status == 0, "\(item.url): \(result.stderr)")
                #expect(result.stdout.hasPrefix("t|"))
            } else {
                #expect(result.status == 2, "\(item.url) must fail")
                #expect(result.stderr.contains(item.error), "\(item.url): \(result.stderr)")
            }
        }

        let other = try await TestCertificates.make()
        let wrongCA = try await ProxyUnderTest.start(
            upstream: tls.url("sslmode=verify-ca&sslrootcert=\(other.authority)"), arguments: ["--no-record"])
        defer { wrongCA.process.kill() }
        let refused = try await self.query(wrongCA)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("certificate verify failed"), "\(refused.stderr)")
    }

    /// pgreel's own connector against PostgreSQL's SCRAM-SHA-256-PLUS: the server checks the binding against its
    /// own certificate, so a wrong hash would fail authentication.
    @Test func scramIsChannelBoundToTheRealServer() async throws {
        let tls = try await TLSTestServer.get()
        let settings = UpstreamTLSSettings(
            mode: .verifyFull, rootCertificates: .file(tls.certificates.authority), channelBinding: .require)
        let target = UpstreamTarget(
            host: "localhost", port: tls.server.port, user: "postgres", password: tls.server.upstreamPassword,
            database: "postgres", tls: try UpstreamTLS(settings))
        let connection = try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next())
            .get()
        try await connection.channel.close()
        #expect(connection.handshake.authentication == "SCRAM-SHA-256-PLUS")
        #expect(connection.handshake.tlsVersion == "TLSv1.3")

        // The same through the proxy binary: with channel_binding=require nothing but PLUS can succeed.
        let proxy = try await ProxyUnderTest.start(
            upstream: tls.url("sslmode=require&channel_binding=require"), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let result = try await self.query(proxy)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("t|TLSv1.3"))
    }

    @Test func channelBindingRequiredRefusesWhatCannotBind() async throws {
        let tls = try await TLSTestServer.get()
        let plainServer = try await TestPostgres.shared()
        let cases: [(url: String, error: String)] = [
            // md5 over TLS: the password would go to a server that proved nothing.
            (tls.url(user: TestPostgres.md5Role, "channel_binding=require"), "the server asked for an md5 password"),
            // No TLS, so nothing to bind to.
            (plainServer.url() + "?channel_binding=require", "the connection is not encrypted"),
        ]
        for item in cases {
            let proxy = try await ProxyUnderTest.start(upstream: item.url, arguments: ["--no-record"])
            defer { proxy.process.kill() }
            let result = try await self.query(proxy, "SELECT 1")
            #expect(result.status == 2, "\(item.url) must fail")
            #expect(result.stderr.contains("channel binding is required"), "\(result.stderr)")
            #expect(result.stderr.contains(item.error), "\(result.stderr)")
        }
    }

    /// Replay connects with the same code, so it gets the same TLS: a session recorded through a TLS upstream
    /// replays against it with verify-full and channel binding required.
    @Test func replayUsesTheUpstreamTLSToo() async throws {
        let tls = try await TLSTestServer.get()
        let proxy = try await ProxyUnderTest.start(upstream: tls.url("sslmode=require"))
        defer { proxy.process.kill() }
        let recorded = try await proxy.psql(Self.sslOfBackend, environment: ["PGSSLMODE": "disable"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let file = try #require(try await proxy.finishedSessions(count: 1).first.map { _ in proxy.sessionFiles()[0] })

        let url = tls.url(
            host: "localhost", "sslmode=verify-full&sslrootcert=\(tls.certificates.authority)&channel_binding=require")
        let replay = try await ProcessRunner.run(try Tools.pgreelBinary, ["replay", file, "--db-url", url])
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("Results match recorded data"), "\(replay.stdout)")
    }
}
