import Foundation
import ProxyEngine

#if canImport(Glibc)
import Glibc
#endif

/// A real `pgreel proxy` process, started from the built binary on a free port with its own sessions directory.
struct ProxyUnderTest {
    let process: RunningProcess
    let port: Int
    let sessionsDirectory: String

    /// Starts the proxy and waits until its banner says it listens.
    /// A free port can be taken by another test between choosing it and binding it: then the proxy exits saying
    /// it cannot listen, and a new port is tried (a few times).
    /// `launcher` runs the proxy through another program (e.g. `["/usr/bin/prlimit", "--fsize=65536", "--"]`).
    static func start(
        upstream: String, users: [String] = [], arguments: [String] = [], environment: [String: String] = [:],
        launcher: [String] = []
    ) async throws -> ProxyUnderTest {
        for _ in 1..<3 {
            do {
                return try await self.startOnce(
                    upstream: upstream, users: users, arguments: arguments, environment: environment,
                    launcher: launcher)
            } catch ProcessRunnerError.outputNotSeen(_, _, true, _, let stderr) where stderr.contains("cannot listen") {
                continue
            }
        }
        return try await self.startOnce(
            upstream: upstream, users: users, arguments: arguments, environment: environment, launcher: launcher)
    }

    private static func startOnce(
        upstream: String, users: [String], arguments: [String], environment: [String: String], launcher: [String]
    ) async throws -> ProxyUnderTest {
        let port = try Tools.freePort()
        let sessions = try makeTemporaryDirectory(prefix: "pgreel-sessions") + "/sessions"
        var args = ["proxy", "--listen", "127.0.0.1:\(port)", "--upstream", upstream, "--sessions", sessions]
        for user in users { args += ["--user", user] }
        args += arguments
        var env = environment
        env["NO_COLOR"] = env["NO_COLOR"] ?? "1"
        let process =
            launcher.isEmpty
            ? try ProcessRunner.startBackground(try Tools.pgreelBinary, args, environment: env)
            : try ProcessRunner.startBackground(
                launcher[0], Array(launcher.dropFirst()) + [try Tools.pgreelBinary] + args, environment: env)
        do {
            try await process.waitForOutput(containing: "127.0.0.1:\(port)", in: .stdout, timeout: .seconds(30))
        } catch {
            process.kill()
            throw error
        }
        return ProxyUnderTest(process: process, port: port, sessionsDirectory: sessions)
    }

    var url: String { "127.0.0.1:\(self.port)" }

    /// Runs psql through the proxy.
    ///
    /// - Parameters:
    ///   - host: what psql connects to (`localhost` to check a certificate's host name).
    ///   - environment: extra libpq settings (`PGSSLMODE`, `PGSSLROOTCERT`, `PGCHANNELBINDING` ...).
    ///   - client: whose psql runs (`PostgresInstallation.major(18)`); the system's by default.
    func psql(
        _ sql: String, user: String = "pseudo_user", password: String? = nil, database: String = "postgres",
        arguments: [String] = [], host: String = "127.0.0.1", environment extra: [String: String] = [:],
        timeout: Duration = .seconds(60), client: PostgresInstallation? = nil
    ) async throws -> ProcessResult {
        var args = ["-X", "-h", host, "-p", "\(self.port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1"]
        if password == nil { args.append("-w") }
        let psql = try Tools.clientCommand("psql", args + arguments, client: client)
        return try await ProcessRunner.run(
            psql.executable, psql.arguments, environment: Self.clientEnvironment(password: password, extra),
            stdin: sql, timeout: timeout)
    }

    /// Runs pgbench through the proxy (`-h`, `-p`, `-U` and the database are added after `arguments`).
    func pgbench(
        _ arguments: [String], database: String, user: String = "pseudo_user", password: String? = nil,
        environment extra: [String: String] = [:], timeout: Duration = .seconds(120),
        client: PostgresInstallation? = nil
    ) async throws -> ProcessResult {
        let args = arguments + ["-h", "127.0.0.1", "-p", "\(self.port)", "-U", user, database]
        let pgbench = try Tools.clientCommand("pgbench", args, client: client)
        return try await ProcessRunner.run(
            pgbench.executable, pgbench.arguments, environment: Self.clientEnvironment(password: password, extra),
            timeout: timeout)
    }

    /// Starts psql through the proxy in the background, running each command with `-c` (for tests that act while
    /// a query runs: cancel, crash, terminate). The caller kills it when done.
    func psqlInBackground(
        _ commands: [String], user: String = "pseudo_user", database: String = "postgres",
        environment extra: [String: String] = [:], client: PostgresInstallation? = nil
    ) throws -> RunningProcess {
        let args = ["-X", "-h", "127.0.0.1", "-p", "\(self.port)", "-U", user, "-d", database]
        let psql = try Tools.clientCommand("psql", args + commands.flatMap { ["-c", $0] }, client: client)
        return try ProcessRunner.startBackground(
            psql.executable, psql.arguments, environment: Self.clientEnvironment(password: nil, extra))
    }

    /// libpq's settings for a client of the proxy: a connect timeout, `sslmode=prefer`, the password as
    /// PGPASSWORD when there is one, then `extra` over them.
    private static func clientEnvironment(password: String?, _ extra: [String: String]) -> [String: String] {
        var environment = ["PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "prefer"]
        if let password { environment["PGPASSWORD"] = password }
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Session files written so far, oldest name first.
    func sessionFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.sessionsDirectory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { self.sessionsDirectory + "/" + $0 }
    }

    /// Reads every session file once all of them end with session_end (sessions close asynchronously).
    func finishedSessions(count: Int, timeout: Duration = .seconds(20)) async throws -> [SessionFileContents] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let files = self.sessionFiles()
            let contents = files.compactMap { try? SessionFileReader.read(path: $0) }
            let finished = contents.filter { $0.cut == nil && $0.events.last?.isSessionEnd == true }
            if finished.count >= count, contents.count == files.count, finished.count == contents.count {
                return contents
            }
            if ContinuousClock.now > deadline {
                throw TestFailure(
                    "expected \(count) finished session files in \(self.sessionsDirectory), found \(finished.count) of \(files.count)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func stop() async {
        self.process.stop()
        _ = try? await self.process.waitForExit(timeout: .seconds(10))
        self.process.kill()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A fresh directory under /tmp, removed when the test process exits (thousands of runs used to leave thousands
/// of them behind).
func makeTemporaryDirectory(prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
    guard let pointer = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
    let path = String(cString: pointer)
    _ = HarnessExit.register { try? FileManager.default.removeItem(atPath: path) }
    return path
}

extension SessionEvent {
    var isSessionEnd: Bool {
        if case .activity(let activity) = self.payload { return activity.activity == SessionActivity.sessionEnd }
        return false
    }

    var query: RecordedQuery? {
        if case .query(let query) = self.payload { return query }
        return nil
    }

    var result: RecordedResult? {
        if case .result(let result) = self.payload { return result }
        return nil
    }

    var activity: SessionActivity? {
        if case .activity(let activity) = self.payload { return activity }
        return nil
    }
}

extension TestPostgres {
    /// A fresh database holding the seed's test_data table, so tests that write never disturb each other.
    func makeDatabase() async throws -> String {
        try await DatabaseTemplate.shared.ensure(on: self)
        let name = "t_\(UInt32.random(in: 0...UInt32.max))_\(UInt32.random(in: 0...UInt32.max))"
        try await self.psqlAdmin("CREATE DATABASE \(name) TEMPLATE pgreel_seed")
        return name
    }
}

/// Creates, once per server, a template database nobody connects to, holding the seed's table.
actor DatabaseTemplate {
    static let shared = DatabaseTemplate()
    /// One creation task per server port; later callers await the same task (an actor is reentrant across awaits).
    private var creations: [Int: Task<Void, any Error>] = [:]

    func ensure(on server: TestPostgres) async throws {
        if let creation = self.creations[server.port] {
            return try await creation.value
        }
        let creation = Task {
            try await server.psqlAdmin("CREATE DATABASE pgreel_seed")
            try await server.psqlAdmin(
                """
                CREATE TABLE test_data (id serial PRIMARY KEY, name text, value int, created_at timestamp DEFAULT now());
                INSERT INTO test_data (name, value, created_at) VALUES
                  ('test1', 150, '2025-10-07 22:42:12.977496'), ('test2', 200, '2025-10-07 22:42:12.977496'),
                  ('test3', 300, '2025-10-07 22:42:12.977496');
                GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC;
                GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
                GRANT ALL ON SCHEMA public TO PUBLIC;
                """, database: "pgreel_seed")
        }
        self.creations[server.port] = creation
        try await creation.value
    }
}
