import Foundation

/// A PostgreSQL that accepts only TLS (`hostnossl ... reject`), with a certificate from a test CA naming
/// `localhost` only (no IP address), so verify-full passes for `localhost` and fails for `127.0.0.1`. Started
/// once per test process, on first use; the shared plain-text server stays as fast as before.
struct TLSTestServer: Sendable {
    let server: TestPostgres
    let certificates: TestCertificates

    private static let shared = HarnessLock<Task<TLSTestServer, any Error>?>(nil)

    static let hba = """
        # TLS or nothing: a plain-text connection is rejected, so a session that works was encrypted.
        local     all   all            trust
        hostnossl all   all            127.0.0.1/32   reject
        hostssl   all   pgreel_trust   127.0.0.1/32   trust
        hostssl   all   pgreel_md5     127.0.0.1/32   md5
        hostssl   all   all            127.0.0.1/32   scram-sha-256

        """

    static func get() async throws -> TLSTestServer {
        let task = Self.shared.withLock { current -> Task<TLSTestServer, any Error> in
            if let current { return current }
            let task = Task {
                let certificates = try await TestCertificates.make(names: ["DNS:localhost"])
                let server = try await TestPostgres.start(hba: Self.hba, tls: certificates)
                return TLSTestServer(server: server, certificates: certificates)
            }
            current = task
            return task
        }
        return try await task.value
    }

    /// `postgres://postgres:PASSWORD@HOST:PORT/postgres?PARAMETERS`.
    func url(host: String = "127.0.0.1", user: String = TestPostgres.adminRole, _ parameters: String) -> String {
        let password = self.server.password(for: user).map { ":\($0)" } ?? ""
        return "postgres://\(user)\(password)@\(host):\(self.server.port)/postgres?\(parameters)"
    }
}
