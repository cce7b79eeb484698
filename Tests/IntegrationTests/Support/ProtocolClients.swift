import Foundation
import NIOCore
import ProxyEngine
import Testing

/// Clients of a chosen PostgreSQL major pointed at a proxy, and bare protocol exchanges, for the protocol 3.2 and
/// direct TLS tests: psql 18 asks for 3.2 (`PGMAXPROTOCOLVERSION`), psql 17 has OpenSSL for direct TLS.
enum ProtocolClients {
    /// Plain English messages, no ~/.pgpass, no prompt.
    static func environment(_ extra: [String: String], password: String?) -> [String: String] {
        var environment = [
            "LC_ALL": "C", "PGCLIENTENCODING": "UTF8", "PGPASSFILE": "/nonexistent/pgpass", "PGCONNECT_TIMEOUT": "10",
            "PGSSLMODE": "disable",
        ]
        environment["PGPASSWORD"] = password
        return environment.merging(extra) { _, new in new }
    }

    /// Runs SQL with `client`'s psql through the proxy (`-X -A -t -q -w -v ON_ERROR_STOP=1`, SQL on stdin), libpq
    /// settings in `environment` (plain text unless it says otherwise).
    static func psql(
        _ client: PostgresInstallation, port: Int, _ sql: String, user: String = "pseudo_user",
        password: String? = nil, host: String = "127.0.0.1", environment: [String: String] = [:]
    ) async throws -> ProcessResult {
        let command = client.command(
            "psql",
            [
                "-X", "-A", "-t", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", "\(port)", "-U", user, "-d",
                "postgres",
            ])
        return try await ProcessRunner.run(
            command.executable, command.arguments, environment: self.environment(environment, password: password),
            stdin: sql)
    }

    /// Starts `client`'s psql through the proxy running `sql` with `-c`, for a test to interrupt (SIGINT cancels).
    static func psqlInBackground(
        _ client: PostgresInstallation, port: Int, _ sql: String, environment: [String: String] = [:]
    ) throws -> RunningProcess {
        let command = client.command(
            "psql", ["-X", "-h", "127.0.0.1", "-p", "\(port)", "-U", "pseudo_user", "-d", "postgres", "-c", sql])
        return try ProcessRunner.startBackground(
            command.executable, command.arguments, environment: self.environment(environment, password: nil))
    }

    /// Waits until the upstream runs `query` (pg_stat_activity says active).
    static func waitUntilRunning(_ query: String, on server: TestPostgres) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        let quoted = query.replacingOccurrences(of: "'", with: "''")
        while try await server.psqlAdmin(
            "SELECT count(*) FROM pg_stat_activity WHERE query = '\(quoted)' AND state = 'active'") != "1"
        {
            guard ContinuousClock.now < deadline else { throw TestFailure("\(query) never started on the upstream") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until `text` appeared `count` times in the process's standard output (a log line per event).
    static func waitForLines(_ text: String, count: Int, in process: RunningProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while process.stdout.components(separatedBy: text).count - 1 < count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("\(count) × \"\(text)\" never appeared in: \(process.stdout.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What the proxy sends a trust pseudo user asking for `version` (with `parameters` besides user and database)
    /// up to ReadyForQuery or an error: the StartupMessage is followed by Terminate, so the proxy closes after.
    static func greeting(port: Int, version: ProtocolVersion, parameters: [(String, String)] = []) async throws
        -> [RawMessage]
    {
        var bytes = ByteBuffer()
        StartupPacket.startup(
            protocolVersion: version.code, parameters: [("user", "pseudo_user"), ("database", "postgres")] + parameters
        ).encode(into: &bytes)
        bytes.writeBytes([UInt8(ascii: "X"), 0, 0, 0, 4])
        let answer = try await RawConnection.exchange(port: port, Array(bytes.readableBytesView))
        return try RawConnection.messages(in: answer)
    }

    /// `openssl s_client` against the proxy with stdin closed: it shakes hands (offering `alpn` if given), reads what
    /// comes, and quits.
    static func opensslClient(port: Int, alpn: String?) async throws -> ProcessResult {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"]
        if let alpn { arguments += ["-alpn", alpn] }
        return try await ProcessRunner.run(
            try Tools.resolveExecutable("openssl"), arguments, environment: ["LC_ALL": "C"], stdin: "",
            timeout: .seconds(30))
    }

    /// The upstream a test of `major` runs against: the shared server when it is the system's major, else a new
    /// cluster of that major (`stop` destroys it).
    static func upstream(
        major: Int, tls: TestCertificates? = nil, hba: String? = nil, configuration: [String: String] = [:]
    ) async throws -> (server: TestPostgres, stop: @Sendable () async -> Void) {
        let installation = try PostgresInstallation.major(major)
        if installation == (try PostgresInstallation.system), tls == nil, hba == nil, configuration.isEmpty {
            return (try await TestPostgres.shared(), {})
        }
        let server = try await TestPostgres.start(
            configuration: configuration, hba: hba, tls: tls, installation: installation)
        return (server, { await server.destroy() })
    }
}

extension PostgresInstallation {
    /// Whether every one of `majors` can run here; tests of other majors are skipped without them, with
    /// `missingMessage` saying how to install them.
    static func installed(_ majors: Int...) -> Bool {
        majors.allSatisfy { (try? PostgresInstallation.major($0)) != nil }
    }

    static func missingMessage(_ majors: Int...) -> Comment {
        let names = majors.map(String.init)
        return Comment(
            rawValue: "needs PostgreSQL \(names.joined(separator: ", ")): "
                + "bash scripts/postgres-versions.sh ensure \(names.joined(separator: " "))")
    }
}
