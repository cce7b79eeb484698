import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a throwaway PostgreSQL server could not be set up or used.
public enum TestPostgresError: Error, CustomStringConvertible {
    case noPostgresUser
    case temporaryDirectory(String)
    case setupFailed(step: String, detail: String)
    case psqlFailed(sql: String, status: Int32, stderr: String)

    public var description: String {
        switch self {
        case .noPostgresUser:
            return "running as root, but there is no 'postgres' user to run the PostgreSQL server as "
                + "(PostgreSQL refuses to run as root); install Debian's 'postgresql' package, which creates it"
        case .temporaryDirectory(let reason):
            return "could not create the server's temporary directory: \(reason)"
        case .setupFailed(let step, let detail):
            return "test PostgreSQL: \(step) failed:\n\(detail)"
        case .psqlFailed(let sql, let status, let stderr):
            return "psql (exit \(status)) failed running:\n\(sql)\n\(stderr)"
        }
    }
}

/// A real, throwaway PostgreSQL server for integration tests (no mocks).
///
/// Each server lives in its own temporary directory (data directory, unix socket, log), listens on 127.0.0.1 only, on
/// a free port. Authentication is set per role in pg_hba.conf so every method a client can meet is covered:
///
/// | role            | TCP method                            | password                    |
/// |-----------------|---------------------------------------|-----------------------------|
/// | `postgres`      | scram-sha-256                          | `upstreamPassword`          |
/// | `pgreel_trust`  | trust (superuser)                      | none                        |
/// | `pgreel_md5`    | md5 (stored as MD5)                    | `password(for: "pgreel_md5")` |
/// | `pgreel_clear`  | password (cleartext; stored as SCRAM)  | `password(for: "pgreel_clear")` |
///
/// The unix socket trusts everyone; `psqlAdmin` uses it. Database `postgres` holds the seed's `test_data` table
/// with rows ('test1', 150), ('test2', 200), ('test3', 300).
///
/// Servers are stopped (`pg_ctl stop -m immediate`) and their directories removed when the test process exits
/// normally. A test process killed outright leaves them behind in `/tmp/pgreel-test-*`.
public final class TestPostgres: Sendable {
    public static let adminRole = "postgres"
    public static let trustRole = "pgreel_trust"
    public static let md5Role = "pgreel_md5"
    public static let cleartextRole = "pgreel_clear"

    /// Always 127.0.0.1: no test server listens anywhere else.
    public let host = "127.0.0.1"
    public let port: Int
    /// The temporary directory: holds the unix socket, `data/` and `server.log`.
    public let socketDirectory: String
    public let dataDirectory: String
    public let logFile: String
    /// The major's programs this server runs (initdb, pg_ctl, postgres) and whose psql it uses by default.
    public let installation: PostgresInstallation
    /// Where initdb, pg_ctl, postgres and psql were found.
    public var binDirectory: String { self.installation.binDirectory }
    /// The server's major version (15, 16, ...).
    public var major: Int { self.installation.major }
    /// The SCRAM password of the `postgres` superuser (the "real" upstream credentials a proxy maps to).
    public let upstreamPassword: String

    private let passwords: [String: String]
    private let exitActionID: UInt64

    private static let sharedServer = HarnessLock<Task<TestPostgres, any Error>?>(nil)

    private init(
        port: Int,
        directory: String,
        installation: PostgresInstallation,
        passwords: [String: String],
        exitActionID: UInt64
    ) {
        self.port = port
        self.socketDirectory = directory
        self.dataDirectory = directory + "/data"
        self.logFile = directory + "/server.log"
        self.installation = installation
        self.passwords = passwords
        self.upstreamPassword = passwords[Self.adminRole] ?? ""
        self.exitActionID = exitActionID
    }

    // MARK: - Starting

    /// The server shared by every test in this process: started on first use (concurrent callers wait for the same
    /// start), stopped at process exit. Do not stop or restart it: use `start()` for a server of your own.
    /// If the start fails, every caller gets the same error.
    public static func shared() async throws -> TestPostgres {
        let task = self.sharedServer.withLock { current -> Task<TestPostgres, any Error> in
            if let current {
                return current
            }
            let task = Task { try await TestPostgres.start() }
            current = task
            return task
        }
        return try await task.value
    }

    /// Starts a new server that belongs to the caller (who may stop, restart or `destroy()` it).
    ///
    /// - Parameters:
    ///   - configuration: extra `postgresql.conf` settings, written verbatim as `key = value`
    ///     (quote string values yourself, e.g. `["log_statement": "'all'"]`).
    ///   - hba: a `pg_hba.conf` replacing the harness's own.
    ///   - tls: a certificate and key for the server: `ssl = on` with them.
    ///   - installation: the major to run (`PostgresInstallation.major(18)`); the system's by default.
    static func start(
        configuration: [String: String] = [:], hba: String? = nil, tls: TestCertificates? = nil,
        installation: PostgresInstallation? = nil
    ) async throws -> TestPostgres {
        let installation = try installation ?? PostgresInstallation.system
        let owner = try ServerOwner.current()
        let directory = try Self.makeTemporaryDirectory(owner: owner)
        let dataDirectory = directory + "/data"
        let logFile = directory + "/server.log"
        let cleanup = ServerCleanup(
            installation: installation,
            directory: directory,
            dataDirectory: dataDirectory,
            asPostgres: owner != nil
        )
        let exitActionID = HarnessExit.register { cleanup.run() }
        do {
            let initdb = try await Self.runServerTool(
                "initdb",
                [
                    "-D", dataDirectory, "-U", Self.adminRole, "--auth-local=trust", "--auth-host=scram-sha-256",
                    "-E", "UTF8", "--locale=C", "--no-sync",
                ],
                installation: installation,
                owner: owner,
                directory: directory,
                timeout: .seconds(120)
            )
            guard initdb.succeeded else {
                throw TestPostgresError.setupFailed(step: "initdb", detail: initdb.description)
            }
            try Self.writeFile(dataDirectory + "/pg_hba.conf", hba ?? Self.hbaConfiguration, owner: owner)
            var configuration = configuration
            if let tls {
                // The server reads its key only if no one else may (0600, its own user).
                try Self.writeFile(
                    dataDirectory + "/server.crt", String(contentsOfFile: tls.certificate, encoding: .utf8), owner: owner)
                try Self.writeFile(
                    dataDirectory + "/server.key", String(contentsOfFile: tls.key, encoding: .utf8), owner: owner)
                chmod(dataDirectory + "/server.key", 0o600)
                configuration["ssl"] = "on"
                configuration["ssl_cert_file"] = "'server.crt'"
                configuration["ssl_key_file"] = "'server.key'"
            }
            let baseConfiguration = try String(contentsOfFile: dataDirectory + "/postgresql.conf", encoding: .utf8)

            // The free port can be taken between our probe and the server's bind: retry with a new one.
            var startedPort: Int?
            for attempt in 1...3 {
                let port = try Tools.freePort()
                let settings = Self.settings(port: port, socketDirectory: directory, extra: configuration)
                try Self.writeFile(dataDirectory + "/postgresql.conf", baseConfiguration + settings, owner: owner)
                let started = try await Self.runServerTool(
                    "pg_ctl",
                    ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "start"],
                    installation: installation,
                    owner: owner,
                    directory: directory,
                    timeout: .seconds(90)
                )
                if started.succeeded {
                    startedPort = port
                    break
                }
                let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                if attempt < 3 && log.contains("Address already in use") {
                    continue
                }
                throw TestPostgresError.setupFailed(
                    step: "pg_ctl start",
                    detail: "\(started)\nserver log (\(logFile)):\n\(log.suffix(4000))"
                )
            }
            guard let port = startedPort else {
                throw TestPostgresError.setupFailed(step: "pg_ctl start", detail: "no free port after 3 tries")
            }

            let passwords = [
                Self.adminRole: Self.randomPassword(),
                Self.md5Role: Self.randomPassword(),
                Self.cleartextRole: Self.randomPassword(),
            ]
            let server = TestPostgres(
                port: port,
                directory: directory,
                installation: installation,
                passwords: passwords,
                exitActionID: exitActionID
            )
            _ = try await server.psqlAdmin(Self.bootstrapSQL(passwords: passwords))
            return server
        } catch {
            HarnessExit.unregister(exitActionID)
            cleanup.run()
            throw error
        }
    }

    // MARK: - Credentials

    /// The password of one of the roles above; nil for `pgreel_trust` and unknown roles.
    public func password(for role: String) -> String? {
        self.passwords[role]
    }

    /// `postgres://user:password@127.0.0.1:port/database`; without the password part when `password` is false or
    /// the role has none.
    public func url(user: String = TestPostgres.adminRole, password: Bool = true, database: String = "postgres")
        -> String
    {
        if password, let secret = self.passwords[user] {
            return "postgres://\(user):\(secret)@\(self.host):\(self.port)/\(database)"
        }
        return "postgres://\(user)@\(self.host):\(self.port)/\(database)"
    }

    // MARK: - Clients

    /// Runs SQL as `postgres` over the unix socket (trust) with `psql -X -A -t -q -v ON_ERROR_STOP=1`, the SQL fed
    /// on stdin. Returns stdout (unaligned, tuples only, `|` between columns, one row a line) without its trailing
    /// newline; throws `TestPostgresError.psqlFailed` with stderr when psql fails.
    @discardableResult
    public func psqlAdmin(_ sql: String, database: String = "postgres") async throws -> String {
        let psql = self.installation.command(
            "psql",
            [
                "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", self.socketDirectory, "-p", String(self.port), "-U", Self.adminRole, "-d", database,
            ])
        let result = try await ProcessRunner.run(
            psql.executable,
            psql.arguments,
            environment: self.clientEnvironment(password: nil),
            stdin: sql
        )
        guard result.succeeded else {
            throw TestPostgresError.psqlFailed(sql: sql, status: result.status, stderr: result.stderr)
        }
        var output = result.stdout
        while output.hasSuffix("\n") {
            output.removeLast()
        }
        return output
    }

    /// Runs SQL with psql over TCP as `user`, exactly as a client would (`-X -A -t -q -w -v ON_ERROR_STOP=1`, SQL on
    /// stdin), and returns the result without judging it, so tests can check failures too.
    ///
    /// - Parameters:
    ///   - password: sent as PGPASSWORD; nil means the role's own password (none for `pgreel_trust`).
    ///   - host, port: default to this server; point them at a proxy to go through it.
    ///   - environment: extra environment for psql (e.g. `PGSSLMODE`).
    ///   - client: whose psql runs; this server's own major by default.
    public func psql(
        _ sql: String,
        user: String,
        password: String? = nil,
        database: String = "postgres",
        host: String? = nil,
        port: Int? = nil,
        environment: [String: String] = [:],
        timeout: Duration = .seconds(60),
        client: PostgresInstallation? = nil
    ) async throws -> ProcessResult {
        let secret = password ?? self.passwords[user]
        let psql = (client ?? self.installation).command(
            "psql",
            [
                "-X", "-A", "-t", "-q", "-w", "-v", "ON_ERROR_STOP=1",
                "-h", host ?? self.host, "-p", String(port ?? self.port), "-U", user, "-d", database,
            ])
        return try await ProcessRunner.run(
            psql.executable,
            psql.arguments,
            environment: self.clientEnvironment(password: secret).merging(environment) { _, new in new },
            stdin: sql,
            timeout: timeout
        )
    }

    /// Waits until a session runs exactly `query` (`state = 'active'` in pg_stat_activity): a query sent in the
    /// background has reached the server. Throws after `timeout`, or at once when `client` (the program that sends
    /// the query) exits first, with what it printed. Give the query a marker of its own (`SELECT pg_sleep(30) AS
    /// my_marker`) when other tests may run the same text on the same server.
    public func waitForActiveQuery(
        _ query: String, sentBy client: RunningProcess? = nil, timeout: Duration = .seconds(15)
    ) async throws {
        let literal = query.replacingOccurrences(of: "'", with: "''")
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = '\(literal)'"
        let deadline = ContinuousClock.now + timeout
        while try await self.psqlAdmin(sql) == "0" {
            if let client, !client.isRunning {
                let result = try await client.waitForExit()
                throw TestFailure("the client exited before its query ran: \(result.stderr)")
            }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("no session ran '\(query)' within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The server's log so far (log lines carry the SQLSTATE: `%m [%p] %e %u@%d`).
    public func serverLog() -> String {
        (try? String(contentsOfFile: self.logFile, encoding: .utf8)) ?? ""
    }

    // MARK: - Stopping and starting

    /// Whether the postmaster is running (`pg_ctl status`).
    public func isRunning() async -> Bool {
        let result = try? await self.serverTool("pg_ctl", ["-D", self.dataDirectory, "status"])
        return result?.status == 0
    }

    /// Clean shutdown (`pg_ctl stop -m fast`): sessions are ended, the data is kept; `startAgain()` brings it back.
    public func stop() async throws {
        try await self.checkedServerTool("pg_ctl stop -m fast", ["-D", self.dataDirectory, "-m", "fast", "-w", "stop"])
    }

    /// Crash-like shutdown (`pg_ctl stop -m immediate`): every backend dies at once, as when the server is lost.
    public func stopImmediate() async throws {
        try await self.checkedServerTool(
            "pg_ctl stop -m immediate",
            ["-D", self.dataDirectory, "-m", "immediate", "-w", "stop"]
        )
    }

    /// Starts a stopped server again, on the same port, with the same data and passwords.
    public func startAgain() async throws {
        try await self.checkedServerTool(
            "pg_ctl start",
            ["-D", self.dataDirectory, "-l", self.logFile, "-w", "-t", "60", "start"]
        )
    }

    /// `pg_ctl restart -m fast`: existing connections are dropped, new ones work once it returns.
    public func restart() async throws {
        try await self.checkedServerTool(
            "pg_ctl restart",
            ["-D", self.dataDirectory, "-l", self.logFile, "-m", "fast", "-w", "-t", "60", "restart"]
        )
    }

    /// Stops the server at once and removes its directory now rather than at process exit.
    /// Never call it on `shared()`.
    public func destroy() async {
        HarnessExit.unregister(self.exitActionID)
        _ = try? await self.serverTool("pg_ctl", ["-D", self.dataDirectory, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: self.socketDirectory)
    }

    // MARK: - Internals

    private func serverTool(_ tool: String, _ arguments: [String]) async throws -> ProcessResult {
        try await Self.runServerTool(
            tool,
            arguments,
            installation: self.installation,
            owner: try ServerOwner.current(),
            directory: self.socketDirectory,
            timeout: .seconds(90)
        )
    }

    private func checkedServerTool(_ step: String, _ arguments: [String]) async throws {
        let result = try await self.serverTool("pg_ctl", arguments)
        guard result.succeeded else {
            throw TestPostgresError.setupFailed(
                step: step,
                detail: "\(result)\nserver log (\(self.logFile)):\n\(self.serverLog().suffix(4000))"
            )
        }
    }

    /// Runs initdb / pg_ctl as the `postgres` user when we are root (PostgreSQL refuses root), directly otherwise.
    /// The working directory is the server's own, which that user can always enter.
    private static func runServerTool(
        _ tool: String,
        _ arguments: [String],
        installation: PostgresInstallation,
        owner: ServerOwner?,
        directory: String,
        timeout: Duration
    ) async throws -> ProcessResult {
        let (path, arguments) = installation.command(tool, arguments)
        if owner != nil {
            return try await ProcessRunner.run(
                try Tools.resolveExecutable("runuser"),
                ["-u", ServerOwner.userName, "--", path] + arguments,
                environment: ["LC_ALL": "C"],
                workingDirectory: directory,
                timeout: timeout
            )
        }
        return try await ProcessRunner.run(
            path,
            arguments,
            environment: ["LC_ALL": "C"],
            workingDirectory: directory,
            timeout: timeout
        )
    }

    /// Plain English messages, UTF-8, no prompt, and no ~/.pgpass (a file that does not exist is silently skipped).
    private func clientEnvironment(password: String?) -> [String: String] {
        var environment = [
            "LC_ALL": "C",
            "PGCLIENTENCODING": "UTF8",
            "PGPASSFILE": self.socketDirectory + "/no-pgpass",
            "PGCONNECT_TIMEOUT": "10",
            "PGPASSWORD": "",
        ]
        if let password {
            environment["PGPASSWORD"] = password
        }
        return environment
    }

    private static let hbaConfiguration = """
        # pgreel test harness: one role per authentication method, everything else SCRAM.
        local   all   all            trust
        host    all   pgreel_trust   127.0.0.1/32   trust
        host    all   pgreel_md5     127.0.0.1/32   md5
        host    all   pgreel_clear   127.0.0.1/32   password
        host    all   all            127.0.0.1/32   scram-sha-256

        """

    private static func settings(port: Int, socketDirectory: String, extra: [String: String]) -> String {
        var lines = [
            "",
            "# pgreel test harness",
            "listen_addresses = '127.0.0.1'",
            "port = \(port)",
            "unix_socket_directories = '\(socketDirectory)'",
            // fsync off is safe here: a crash of the server process (stopImmediate) keeps the OS page cache. Commits
            // stay synchronous, or a crash test would lose its last committed rows.
            "fsync = off",
            "full_page_writes = off",
            "max_connections = 200",
            "shared_buffers = '32MB'",
            "log_line_prefix = '%m [%p] %e %q%u@%d '",
        ]
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
            lines.append("\(key) = \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func bootstrapSQL(passwords: [String: String]) -> String {
        let admin = passwords[Self.adminRole] ?? ""
        let md5 = passwords[Self.md5Role] ?? ""
        let clear = passwords[Self.cleartextRole] ?? ""
        return """
            ALTER ROLE postgres PASSWORD '\(admin)';
            CREATE ROLE pgreel_trust LOGIN SUPERUSER;
            SET password_encryption = 'md5';
            CREATE ROLE pgreel_md5 LOGIN PASSWORD '\(md5)';
            SET password_encryption = 'scram-sha-256';
            CREATE ROLE pgreel_clear LOGIN PASSWORD '\(clear)';
            CREATE TABLE test_data (
                id serial PRIMARY KEY, name text, value int, created_at timestamp DEFAULT now()
            );
            INSERT INTO test_data (name, value) VALUES ('test1', 150), ('test2', 200), ('test3', 300);
            GRANT ALL ON SCHEMA public TO pgreel_md5, pgreel_clear;
            GRANT ALL ON ALL TABLES IN SCHEMA public TO pgreel_md5, pgreel_clear;
            GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO pgreel_md5, pgreel_clear;
            """
    }

    /// 24 letters and digits: strong enough, and safe inside SQL literals and URLs without escaping.
    private static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<24).map { _ in alphabet.randomElement()! })
    }

    /// A fresh 0700 directory under $PGREEL_TEST_TMPDIR or /tmp (short, so the socket path fits in 107 bytes, and
    /// reachable by the postgres user), owned by that user when we are root.
    private static func makeTemporaryDirectory(owner: ServerOwner?) throws -> String {
        let base = ProcessInfo.processInfo.environment["PGREEL_TEST_TMPDIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/tmp"
        var template = Array((base + "/pgreel-test-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in
            mkdtemp(buffer.baseAddress!) != nil
        }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard created else {
            throw TestPostgresError.temporaryDirectory("mkdtemp(\(path)): \(String(cString: strerror(errno)))")
        }
        if let owner, chown(path, owner.uid, owner.gid) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: path)
            throw TestPostgresError.temporaryDirectory("chown \(path) to postgres: \(reason)")
        }
        return path
    }

    /// Writes a file in the data directory and gives it back to the postgres user (the server must read it).
    private static func writeFile(_ path: String, _ contents: String, owner: ServerOwner?) throws {
        do {
            try contents.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw TestPostgresError.setupFailed(step: "writing \(path)", detail: "\(error)")
        }
        if let owner, chown(path, owner.uid, owner.gid) != 0 {
            throw TestPostgresError.setupFailed(
                step: "chown \(path)",
                detail: String(cString: strerror(errno))
            )
        }
    }
}

/// The OS user the server runs as when we are root; nil when we are not (then the server runs as us).
private struct ServerOwner: Sendable {
    static let userName = "postgres"
    let uid: uid_t
    let gid: gid_t

    static func current() throws -> ServerOwner? {
        guard Tools.isRoot else { return nil }
        guard let entry = getpwnam(Self.userName) else {
            throw TestPostgresError.noPostgresUser
        }
        return ServerOwner(uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }
}

/// What runs at process exit for a server still alive: `pg_ctl stop -m immediate`, then the directory goes.
/// Synchronous (spawn + waitpid), since Swift concurrency is of no use inside atexit.
private struct ServerCleanup: Sendable {
    let installation: PostgresInstallation
    let directory: String
    let dataDirectory: String
    let asPostgres: Bool

    func run() {
        if FileManager.default.fileExists(atPath: self.dataDirectory + "/postmaster.pid") {
            var (path, arguments) = self.installation.command(
                "pg_ctl", ["-D", self.dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"])
            if self.asPostgres, let runuser = Tools.which("runuser") {
                arguments = ["-u", ServerOwner.userName, "--", path] + arguments
                path = runuser
            }
            // pg_ctl's chatter would land in the test output after the summary: send it to /dev/null.
            if let devNull = try? Spawn.openDevNull(O_RDWR) {
                defer { close(devNull) }
                if let pid = try? Spawn.start(
                    path: path,
                    arguments: arguments,
                    environment: ProcessInfo.processInfo.environment,
                    descriptors: .init(input: devNull, output: devNull, error: devNull),
                    workingDirectory: self.directory
                ) {
                    _ = Spawn.waitForExit(pid)
                }
            }
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
