import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

/// Client-side and upstream-side authentication through the real binary, with psql and pgreel's own client.
@Suite struct AuthenticationTests {
    /// Connects to the proxy with pgreel's own frontend code and returns the server's answer to the startup.
    private func connect(port: Int, user: String, password: String?, database: String = "postgres") async throws
        -> Result<UpstreamConnection, UpstreamError>
    {
        let target = UpstreamTarget(host: "127.0.0.1", port: port, user: user, password: password, database: database)
        do {
            let connection = try await UpstreamConnector.connect(target, on: MultiThreadedEventLoopGroup.singleton.next())
                .get()
            try await connection.channel.close()
            return .success(connection)
        } catch let error as UpstreamError {
            return .failure(error)
        }
    }

    @Test func scramPseudoUserWithRightAndWrongPasswords() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), users: ["alice:wonderland"])
        defer { proxy.process.kill() }

        let good = try await proxy.psql("SELECT current_user", user: "alice", password: "wonderland", arguments: ["-A", "-t"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "postgres", "runs as the real user")

        let bad = try await proxy.psql("SELECT 1", user: "alice", password: "rabbit")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("password authentication failed for user \"alice\""))

        // SQLSTATEs, read with pgreel's own client.
        guard case .failure(.authenticationFailed(let fields)) = try await self.connect(
            port: proxy.port, user: "alice", password: "rabbit")
        else { Issue.record("a wrong password must fail authentication"); return }
        #expect(fields.code == "28P01")
        #expect(fields.severity == "FATAL")
        #expect(fields.message == "password authentication failed for user \"alice\"")

        guard case .failure(.authenticationFailed(let unknown)) = try await self.connect(
            port: proxy.port, user: "mallory", password: "x")
        else { Issue.record("an unknown user must be refused"); return }
        #expect(unknown.code == "28000")
        #expect(unknown.message == "role \"mallory\" does not exist")

        guard case .success(let connection) = try await self.connect(port: proxy.port, user: "alice", password: "wonderland")
        else { Issue.record("the right password must pass"); return }
        // The client sees the real backend pid but never the upstream's key.
        #expect(connection.handshake.backendKey != nil)
        #expect(connection.handshake.parameters.contains { $0.name == "server_version" })
    }

    @Test func md5AndCleartextPseudoUsersFromAConfigFile() async throws {
        let server = try await TestPostgres.shared()
        let directory = try makeTemporaryDirectory(prefix: "pgreel-config")
        let config = directory + "/pgreel.toml"
        try """
            [upstreams.main]
            url = "\(server.url(password: false))"

            [[users]]
            name = "bob"
            password = "md5-secret"
            auth = "md5"
            upstream = "main"

            [[users]]
            name = "carol"
            password = "clear-secret"
            auth = "password"
            upstream = "main"
            databases = ["postgres"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(password: false), arguments: ["--config", config],
            environment: ["PGPASSWORD": server.upstreamPassword])
        defer { proxy.process.kill() }

        let bob = try await proxy.psql("SELECT 1", user: "bob", password: "md5-secret")
        #expect(bob.status == 0, "\(bob.stderr)")
        let bobBad = try await proxy.psql("SELECT 1", user: "bob", password: "nope")
        #expect(bobBad.stderr.contains("password authentication failed for user \"bob\""))
        let carol = try await proxy.psql("SELECT 1", user: "carol", password: "clear-secret")
        #expect(carol.status == 0, "\(carol.stderr)")
        let carolElsewhere = try await proxy.psql("SELECT 1", user: "carol", password: "clear-secret", database: "template1")
        #expect(carolElsewhere.status == 2)
        #expect(carolElsewhere.stderr.contains("not allowed to connect to database \"template1\""))
        #expect(!proxy.process.stdout.contains(server.upstreamPassword))
    }

    /// Each upstream authentication method: trust, cleartext, md5 and SCRAM-SHA-256.
    @Test(arguments: [TestPostgres.trustRole, TestPostgres.cleartextRole, TestPostgres.md5Role, TestPostgres.adminRole])
    func everyUpstreamMethod(role: String) async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(user: role, password: role != TestPostgres.trustRole))
        defer { proxy.process.kill() }
        let result = try await proxy.psql("SELECT current_user", arguments: ["-A", "-t"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == role)
        if let password = server.password(for: role) {
            #expect(!proxy.process.stdout.contains(password))
        }
    }

    @Test func upstreamDownOrRefusingGivesFatal08006AndTheProxyStaysUp() async throws {
        let server = try await TestPostgres.shared()
        let deadPort = try Tools.freePort()
        let directory = try makeTemporaryDirectory(prefix: "pgreel-config")
        let config = directory + "/pgreel.toml"
        try """
            [[users]]
            name = "down"
            upstream = "postgres://postgres:s3cret-down@127.0.0.1:\(deadPort)/postgres"

            [[users]]
            name = "wrongpw"
            upstream = "postgres://postgres:not-the-password@127.0.0.1:\(server.port)/postgres"

            [[users]]
            name = "good"
            upstream = "\(server.url())"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--config", config])
        defer { proxy.process.kill() }

        let down = try await proxy.psql("SELECT 1", user: "down")
        #expect(down.status == 2)
        #expect(down.stderr.contains("postgres://postgres:***@127.0.0.1:\(deadPort)/postgres"))
        #expect(down.stderr.contains("connection refused"))
        #expect(!down.stderr.contains("s3cret-down"))
        guard case .failure(.serverError(let fields)) = try await self.connect(port: proxy.port, user: "down", password: nil)
        else { Issue.record("expected a FATAL"); return }
        #expect(fields.code == "08006")

        let wrong = try await proxy.psql("SELECT 1", user: "wrongpw")
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("password authentication failed for user \"postgres\""))
        #expect(!wrong.stderr.contains("not-the-password"))

        let good = try await proxy.psql("SELECT 1", user: "good")
        #expect(good.status == 0, "the proxy stays up: \(good.stderr)")
        #expect(!proxy.process.stdout.contains("s3cret-down") && !proxy.process.stdout.contains("not-the-password"))
    }
}
