import Foundation
import NIOCore
import ProxyEngine
import Testing

/// Bare protocol exchanges, log lines and upstreams of a chosen PostgreSQL major, for the protocol 3.2 and direct TLS
/// tests. Their psql of a chosen major is `ProxyUnderTest.psql(_:client:)` (psql 18 asks for 3.2 with
/// `PGMAXPROTOCOLVERSION`, psql 17 has OpenSSL for direct TLS).
enum ProtocolClients {
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
