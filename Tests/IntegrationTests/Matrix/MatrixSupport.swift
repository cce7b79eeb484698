import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One cluster per upstream major, shared by every row of that major, with SSL on when its build has it; started
/// on first use (concurrent callers wait for the same start) and stopped at process exit like every `TestPostgres`.
enum MatrixClusters {
    struct Cluster: Sendable {
        let server: TestPostgres
        /// `SHOW server_version`'s number: "15.14", "18.6".
        let version: String
        let hasTLS: Bool
    }

    private static let started = HarnessLock<[Int: Task<Cluster, any Error>]>([:])

    static func cluster(major: Int) async throws -> Cluster {
        let task = self.started.withLock { started -> Task<Cluster, any Error> in
            if let task = started[major] { return task }
            let task = Task {
                let installation = try PostgresInstallation.major(major)
                let hasTLS = try await MatrixBuild.hasTLS(installation)
                let server = try await TestPostgres.start(
                    tls: hasTLS ? try await MatrixCertificates.shared() : nil, installation: installation)
                let version = try await server.psqlAdmin("SHOW server_version")
                return Cluster(server: server, version: MatrixBuild.versionNumber(version), hasTLS: hasTLS)
            }
            started[major] = task
            return task
        }
        return try await task.value
    }
}

/// One test CA and certificate (localhost, 127.0.0.1) for every TLS server of the matrix: the clusters with SSL
/// and the proxies that offer TLS.
enum MatrixCertificates {
    private static let made = HarnessLock<Task<TestCertificates, any Error>?>(nil)

    static func shared() async throws -> TestCertificates {
        let task = self.made.withLock { made -> Task<TestCertificates, any Error> in
            if let made { return made }
            let task = Task { try await TestCertificates.make() }
            made = task
            return task
        }
        return try await task.value
    }
}

/// What a PostgreSQL build is: its version, whether it was built with SSL.
enum MatrixBuild {
    /// Whether the build was configured with OpenSSL (`pg_config --configure`: `--with-openssl` or
    /// `--with-ssl=openssl`). Server and libpq come from the same configure, so this answers for both psql's TLS
    /// and the server's.
    static func hasTLS(_ installation: PostgresInstallation) async throws -> Bool {
        let command = installation.command("pg_config", ["--configure"])
        let result = try await ProcessRunner.run(command.executable, command.arguments)
        guard result.succeeded else { throw TestFailure("pg_config --configure of \(installation): \(result)") }
        return result.stdout.contains("--with-openssl") || result.stdout.contains("--with-ssl=openssl")
    }

    /// `psql --version` of the installation: "18.6".
    static func clientVersion(_ installation: PostgresInstallation) async throws -> String {
        let command = installation.command("psql", ["--version"])
        let result = try await ProcessRunner.run(command.executable, command.arguments)
        guard result.succeeded else { throw TestFailure("psql --version of \(installation): \(result)") }
        return self.versionNumber(result.stdout)
    }

    /// The first word that starts with a digit: "psql (PostgreSQL) 15.14 (Debian ...)" -> "15.14".
    static func versionNumber(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.first?.isNumber == true }.map(String.init)
            ?? text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// At most `MatrixSettings.jobs` rows run at once: Swift Testing starts every argument of a parameterized test
/// together, and a dozen pgbench runs on two cores would turn timing into noise.
actor MatrixGate {
    static let shared = MatrixGate(limit: MatrixSettings.jobs)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.free = limit
    }

    nonisolated func run<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        await self.acquire()
        do {
            let result = try await body()
            await self.release()
            return result
        } catch {
            await self.release()
            throw error
        }
    }

    private func acquire() async {
        if self.free > 0 {
            self.free -= 1
            return
        }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    private func release() {
        if self.waiting.isEmpty {
            self.free += 1
        } else {
            self.waiting.removeFirst().resume()
        }
    }
}

/// How one check of one row ended, as appended to `MatrixSettings.resultsFile` (one JSON object a line), which
/// scripts/matrix-table.py turns into the table.
struct MatrixResult: Codable, Sendable {
    enum Status: String, Codable, Sendable {
        case ok
        case failed
        case notApplicable = "n/a"
    }

    /// The row's place in `MatrixRow.all` and the check's in `MatrixCheck.allCases`: the table's order.
    var rowIndex: Int
    var row: String
    var upstream: Int
    var upstreamVersion: String
    var client: Int
    var clientVersion: String
    var connection: String
    var checkIndex: Int
    var check: String
    var status: Status
    /// Why it failed or does not apply.
    var reason: String?
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case rowIndex = "row_index"
        case row, upstream
        case upstreamVersion = "upstream_version"
        case client
        case clientVersion = "client_version"
        case connection
        case checkIndex = "check_index"
        case check, status, reason, seconds
    }

    private static let writeLock = HarnessLock<Void>(())

    /// Appends this result as one line (the directory is created when missing).
    func append() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = try encoder.encode(self) + Data("\n".utf8)
        let path = MatrixSettings.resultsFile
        try Self.writeLock.withLock { _ in
            try FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard descriptor >= 0 else { throw TestFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else { throw TestFailure("cannot append to \(path)") }
        }
    }
}

/// A check that did not pass: the reason goes to the table's failure lines.
struct MatrixCheckFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Throws `MatrixCheckFailure(reason)` unless `condition` holds.
func matrixRequire(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
    if !condition { throw MatrixCheckFailure(reason()) }
}

extension ProcessResult {
    /// "exit 2: <the first lines of stderr>", short enough for one line of the table's failure list.
    var failureSummary: String {
        let lines = (self.stderr.isEmpty ? self.stdout : self.stderr).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let text = lines.prefix(3).joined(separator: " / ")
        let status = self.signal.map { "signal \($0)" } ?? "exit \(self.status)"
        return "\(status): \(text.count > 400 ? String(text.prefix(400)) + "…" : text)"
    }
}
