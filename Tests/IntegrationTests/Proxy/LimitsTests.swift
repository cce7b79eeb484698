import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// `--max-connections`, the pseudo users' `max_connections` and `--auth-timeout`, through the real binary.
@Suite struct LimitsTests {
    /// A session opened with pgreel's own client and kept open, or the error the proxy refused it with.
    private func open(port: Int, user: String, database: String) async throws -> Result<UpstreamConnection, UpstreamError> {
        let target = UpstreamTarget(host: "127.0.0.1", port: port, user: user, password: nil, database: database)
        do {
            return .success(
                try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next()).get())
        } catch let error as UpstreamError {
            return .failure(error)
        }
    }

    private func backends(on server: TestPostgres, database: String) async throws -> String {
        try await server.psqlAdmin("SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)'")
    }

    @Test func maxConnectionsRefusesTheNextClientWith53300AndNothingElse() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--max-connections", "2"])
        defer { proxy.process.kill() }

        var open: [UpstreamConnection] = []
        for _ in 0..<2 {
            open.append(try await self.open(port: proxy.port, user: "pseudo_user", database: database).get())
        }
        guard case .failure(.serverError(let fields)) = try await self.open(
            port: proxy.port, user: "pseudo_user", database: database)
        else { Issue.record("the third client must be refused"); return }
        #expect(fields.code == "53300")
        #expect(fields.severity == "FATAL")
        #expect(fields.message == "sorry, too many clients already")
        #expect(try await self.backends(on: server, database: database) == "2", "no upstream connection was opened")
        #expect(proxy.sessionFiles().count == 2, "no session file for the refused client")

        // A closed session gives its slot back (the close is asynchronous: retry until it is seen).
        try await open.removeFirst().channel.close()
        let deadline = ContinuousClock.now + .seconds(20)
        var again = try await self.open(port: proxy.port, user: "pseudo_user", database: database)
        while case .failure = again, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            again = try await self.open(port: proxy.port, user: "pseudo_user", database: database)
        }
        let reopened = try again.get()
        for connection in open + [reopened] { try await connection.channel.close() }
    }

    @Test func perUserMaxConnectionsIsEnforced() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let directory = try makeTemporaryDirectory(prefix: "pgreel-config")
        let config = directory + "/pgreel.toml"
        try """
            upstream = "\(server.url())"
            [[users]]
            name = "bob"
            auth = "trust"
            max_connections = 1
            [[users]]
            name = "carol"
            auth = "trust"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--config", config, "--no-record"])
        defer { proxy.process.kill() }

        let bob = try await self.open(port: proxy.port, user: "bob", database: database).get()
        guard case .failure(.serverError(let fields)) = try await self.open(
            port: proxy.port, user: "bob", database: database)
        else { Issue.record("bob's second session must be refused"); return }
        #expect(fields.code == "53300")
        #expect(fields.message == "too many connections for role \"bob\"")
        #expect(try await self.backends(on: server, database: database) == "1")
        let carol = try await self.open(port: proxy.port, user: "carol", database: database).get()
        try await bob.channel.close()
        try await carol.channel.close()
    }

    @Test(.timeLimit(.minutes(2))) func anUnauthenticatedClientIsClosedAfterTheAuthTimeout() async throws {
        let server = try await TestPostgres.shared()
        let certificates = try await TestCertificates.make()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(), users: ["alice:wonderland"],
            arguments: [
                "--auth-timeout", "1", "--no-record", "--tls-cert", certificates.certificate, "--tls-key",
                certificates.key,
            ])
        defer { proxy.process.kill() }

        // Asked for a SCRAM exchange, the client never answers.
        let stalled = try await RawConnection.exchange(port: proxy.port, RawConnection.startupPacket(user: "alice"))
        let messages = try RawConnection.messages(in: stalled)
        #expect(messages.map(\.id) == [BackendMessageID.authentication, BackendMessageID.errorResponse])
        let fields = try RawConnection.errorFields(in: stalled)
        #expect(fields.code == "57014")
        #expect(fields.severity == "FATAL")
        #expect(fields.message == "canceling authentication due to timeout")

        // A client that sends nothing at all gets the same.
        let silent = try await RawConnection.exchange(port: proxy.port, [])
        #expect(try RawConnection.errorFields(in: silent).code == "57014")

        // One that stops in the middle of the TLS negotiation is closed without a plain-text message.
        let handshake = try await RawConnection.exchange(port: proxy.port, RawConnection.sslRequest)
        #expect(handshake == [UInt8(ascii: "S")])

        let still = try await proxy.psql("SELECT 1", user: "alice", password: "wonderland")
        #expect(still.status == 0, "\(still.stderr)")
    }
}
