import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// TLS between clients and the proxy (`--tls-cert`, `--tls-key`, `--tls-required`), with real psql and a test CA.
@Suite struct ClientTLSTests {
    private func startProxy(
        certificates: TestCertificates, required: Bool = false, users: [String] = [], record: Bool = false
    ) async throws -> ProxyUnderTest {
        let server = try await TestPostgres.shared()
        var arguments = ["--tls-cert", certificates.certificate, "--tls-key", certificates.key]
        if required { arguments.append("--tls-required") }
        if !record { arguments.append("--no-record") }
        return try await ProxyUnderTest.start(upstream: server.url(), users: users, arguments: arguments)
    }

    @Test func psqlWithSSLModeRequireAndVerifyFull() async throws {
        let certificates = try await TestCertificates.make()
        let proxy = try await self.startProxy(certificates: certificates, users: ["alice:wonderland", "seed"])
        defer { proxy.process.kill() }
        #expect(proxy.process.stdout.contains("TLS on (optional"), "the banner says TLS is on")

        let require = try await proxy.psql(
            "\\conninfo", user: "alice", password: "wonderland", environment: ["PGSSLMODE": "require"])
        #expect(require.status == 0, "\(require.stderr)")
        #expect(require.stdout.contains("SSL connection (protocol: TLSv1.3"), "\(require.stdout)")

        // verify-full checks the chain against the test CA and the host name against the certificate's names.
        for host in ["localhost", "127.0.0.1"] {
            let full = try await proxy.psql(
                "\\conninfo", user: "alice", password: "wonderland", host: host,
                environment: ["PGSSLMODE": "verify-full", "PGSSLROOTCERT": certificates.authority])
            #expect(full.status == 0, "verify-full to \(host): \(full.stderr)")
            #expect(full.stdout.contains("SSL connection"), "\(full.stdout)")
        }

        // psql insists on SCRAM-SHA-256-PLUS: it only succeeds if pgreel offers it and checks the binding.
        let bound = try await proxy.psql(
            "SELECT 1", user: "alice", password: "wonderland",
            environment: ["PGSSLMODE": "require", "PGCHANNELBINDING": "require"])
        #expect(bound.status == 0, "\(bound.stderr)")

        // Plain text stays possible when TLS is not required.
        let plain = try await proxy.psql("\\conninfo", user: "seed", environment: ["PGSSLMODE": "disable"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(!plain.stdout.contains("SSL connection"))

        // A client trusting another CA refuses the proxy's certificate.
        let other = try await TestCertificates.make()
        let untrusted = try await proxy.psql(
            "SELECT 1", user: "alice", password: "wonderland",
            environment: ["PGSSLMODE": "verify-full", "PGSSLROOTCERT": other.authority])
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("certificate verify failed"), "\(untrusted.stderr)")
    }

    @Test func tlsRequiredRefusesPlainTextClients() async throws {
        let certificates = try await TestCertificates.make()
        let proxy = try await self.startProxy(certificates: certificates, required: true)
        defer { proxy.process.kill() }

        let plain = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "disable"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("pgreel accepts only encrypted connections"), "\(plain.stderr)")
        // The SQLSTATE, read with pgreel's own (plain-text) client.
        let target = UpstreamTarget(
            host: "127.0.0.1", port: proxy.port, user: "pseudo_user", password: nil, database: "postgres")
        do {
            let connection = try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next())
                .get()
            try? await connection.channel.close()
            Issue.record("a plain-text client must be refused")
        } catch UpstreamError.authenticationFailed(let fields) {
            #expect(fields.code == "28000")
            #expect(fields.severity == "FATAL")
        }

        let encrypted = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "require"])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        // A cancel request is not a session: it is honoured in plain text, as PostgreSQL does.
        let cancel = try await RawConnection.exchange(port: proxy.port, [0, 0, 0, 16, 0x04, 0xD2, 0x16, 0x2E, 0, 0, 0, 1, 0, 0, 0, 2])
        #expect(cancel.isEmpty, "a cancel gets no answer, only the close")
    }

    /// CVE-2021-23214: a man in the middle appends a startup and a query to the client's SSLRequest, hoping the
    /// server reads them as if they had come through TLS. They must never run.
    @Test(.timeLimit(.minutes(2))) func bytesAfterSSLRequestAreRefusedNeverExecuted() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let certificates = try await TestCertificates.make()
        let proxy = try await self.startProxy(certificates: certificates, record: true)
        defer { proxy.process.kill() }
        let injected = RawConnection.startupPacket(user: "pseudo_user", database: database)
            + RawConnection.query("CREATE TABLE injected_by_mitm ()")
        let tableExists = "SELECT count(*) FROM pg_tables WHERE tablename = 'injected_by_mitm'"

        let answer = try await RawConnection.exchange(port: proxy.port, RawConnection.sslRequest + injected)
        #expect(answer.first == UInt8(ascii: "S"))
        let fields = try RawConnection.errorFields(in: Array(answer.dropFirst()))
        #expect(fields.code == "08P01")
        #expect(fields.message == "received unencrypted data after SSL request")
        #expect(try RawConnection.messages(in: Array(answer.dropFirst())).map(\.id) == [BackendMessageID.errorResponse])
        #expect(try await server.psqlAdmin(tableExists, database: database) == "0", "the injected query never ran")
        #expect(proxy.sessionFiles().isEmpty, "no session was started")

        // The same bytes without the SSLRequest are an ordinary session: the check above could have failed.
        _ = try await RawConnection.exchange(port: proxy.port, injected + [UInt8(ascii: "X"), 0, 0, 0, 4])
        #expect(try await server.psqlAdmin(tableExists, database: database) == "1")
    }

    /// After 'S' only TLS records are read: a plain startup is a failed handshake, never a session.
    @Test(.timeLimit(.minutes(2))) func plainTextAfterTheSAnswerIsAFailedHandshake() async throws {
        let certificates = try await TestCertificates.make()
        let proxy = try await self.startProxy(certificates: certificates)
        defer { proxy.process.kill() }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: proxy.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let answer = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: RawConnection.sslRequest))
            var iterator = inbound.makeAsyncIterator()
            let first = try await iterator.next()
            try await outbound.write(ByteBuffer(bytes: RawConnection.startupPacket(user: "pseudo_user")))
            var rest: [UInt8] = []
            while let chunk = try await iterator.next() { rest += Array(chunk.readableBytesView) }
            return (first.map { Array($0.readableBytesView) } ?? [], rest)
        }
        #expect(answer.0 == [UInt8(ascii: "S")])
        // At most a TLS alert record (content type 21); never a PostgreSQL message such as AuthenticationOk.
        #expect(answer.1.isEmpty || answer.1.first == 21, "got \(answer.1.prefix(8))")
        let still = try await proxy.psql("SELECT 1", environment: ["PGSSLMODE": "require"])
        #expect(still.status == 0, "\(still.stderr)")
    }
}
