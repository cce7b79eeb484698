import Foundation
import Testing

/// Proves the harness itself: the real server, its roles and authentication methods, and the process runner.
@Suite("Test harness")
struct HarnessTests {
    @Test("shared() starts one server per process and seeds test_data")
    func sharedServerIsSeeded() async throws {
        async let first = TestPostgres.shared()
        async let second = TestPostgres.shared()
        let (a, b) = try await (first, second)
        #expect(a === b)
        #expect(a.host == "127.0.0.1")

        let rows = try await a.psqlAdmin("SELECT name, value FROM test_data ORDER BY id")
        #expect(rows == "test1|150\ntest2|200\ntest3|300")
        let count = try await a.psqlAdmin("SELECT count(*) FROM test_data")
        #expect(count == "3")
        let listen = try await a.psqlAdmin("SHOW listen_addresses")
        #expect(listen == "127.0.0.1")
    }

    @Test(
        "each role logs in over TCP with its own password and method",
        arguments: [TestPostgres.adminRole, TestPostgres.md5Role, TestPostgres.cleartextRole, TestPostgres.trustRole]
    )
    func roleLogsIn(role: String) async throws {
        let server = try await TestPostgres.shared()
        let result = try await server.psql("SELECT current_user, count(*) FROM test_data", user: role)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "\(role)|3\n")
    }

    @Test("many clients at once")
    func concurrentClients() async throws {
        let server = try await TestPostgres.shared()
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<24 {
                group.addTask {
                    let role = index.isMultiple(of: 2) ? TestPostgres.md5Role : TestPostgres.cleartextRole
                    let result = try await server.psql("SELECT \(index), count(*) FROM test_data", user: role)
                    return result.stdout
                }
            }
            var collected: [String] = []
            for try await output in group {
                collected.append(output)
            }
            return collected
        }
        #expect(Set(outputs) == Set((0..<24).map { "\($0)|3\n" }))
    }

    @Test("roles are stored and authenticated the way the proxy's tests need")
    func authenticationSetup() async throws {
        let server = try await TestPostgres.shared()
        let stored = try await server.psqlAdmin(
            """
            SELECT rolname, left(rolpassword, 14) FROM pg_authid
            WHERE rolname IN ('postgres', 'pgreel_md5', 'pgreel_clear', 'pgreel_trust') ORDER BY rolname
            """
        )
        let lines = stored.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.contains("pgreel_clear|SCRAM-SHA-256$"))
        #expect(lines.contains { $0.hasPrefix("pgreel_md5|md5") })
        #expect(lines.contains("pgreel_trust|"))
        #expect(lines.contains("postgres|SCRAM-SHA-256$"))

        let rules = try await server.psqlAdmin(
            "SELECT type, user_name[1], auth_method FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number"
        )
        #expect(
            rules == """
                local|all|trust
                host|pgreel_trust|trust
                host|pgreel_md5|md5
                host|pgreel_clear|password
                host|all|scram-sha-256
                """
        )
        #expect(server.password(for: TestPostgres.trustRole) == nil)
        #expect(server.password(for: TestPostgres.adminRole) == server.upstreamPassword)
        #expect(
            server.url(user: "pgreel_md5", database: "postgres")
                == "postgres://pgreel_md5:\(server.password(for: "pgreel_md5")!)@127.0.0.1:\(server.port)/postgres"
        )
        #expect(server.url(password: false) == "postgres://postgres@127.0.0.1:\(server.port)/postgres")
    }

    /// psql does not print the SQLSTATE of a failed connection, so the 28P01 is read from the server log, whose lines
    /// carry it (`%e` in log_line_prefix).
    @Test(
        "a wrong password is refused with 28P01",
        arguments: [TestPostgres.adminRole, TestPostgres.md5Role, TestPostgres.cleartextRole]
    )
    func wrongPasswordFails(role: String) async throws {
        let server = try await TestPostgres.shared()
        let result = try await server.psql("SELECT 1", user: role, password: "not-the-password")
        #expect(result.status == 2)
        #expect(result.stderr.contains("password authentication failed for user \"\(role)\""), "\(result)")
        #expect(result.stdout.isEmpty)
        let refusal = server.serverLog().split(separator: "\n").contains { line in
            line.contains(" 28P01 ") && line.contains("password authentication failed for user \"\(role)\"")
        }
        #expect(refusal, "no 28P01 line for \(role) in \(server.logFile)")
    }

    @Test("a server of one's own can be crashed, started again and restarted, keeping its data")
    func ownServerLifecycle() async throws {
        let server = try await TestPostgres.start(configuration: ["work_mem": "'7MB'"])
        let shared = try await TestPostgres.shared()
        #expect(server.port != shared.port)
        #expect(try await server.psqlAdmin("SHOW work_mem") == "7MB")
        try await server.psqlAdmin("INSERT INTO test_data (name, value) VALUES ('kept', 1)")

        try await server.stopImmediate()
        #expect(await server.isRunning() == false)
        let refused = try await server.psql("SELECT 1", user: TestPostgres.adminRole)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("Connection refused"), "\(refused)")

        try await server.startAgain()
        #expect(await server.isRunning())
        #expect(try await server.psqlAdmin("SELECT count(*) FROM test_data") == "4")

        try await server.restart()
        let afterRestart = try await server.psql("SELECT count(*) FROM test_data", user: TestPostgres.md5Role)
        #expect(afterRestart.stdout == "4\n", "\(afterRestart)")

        try await server.stop()
        #expect(await server.isRunning() == false)
        await server.destroy()
        #expect(FileManager.default.fileExists(atPath: server.socketDirectory) == false)
    }

    @Test("tools are found")
    func toolsAreFound() throws {
        let psql = try Tools.psql
        let pgbench = try Tools.pgbench
        let pgreel = try Tools.pgreelBinary
        #expect(psql.hasSuffix("/psql") && FileManager.default.isExecutableFile(atPath: psql))
        #expect(pgbench.hasSuffix("/pgbench") && FileManager.default.isExecutableFile(atPath: pgbench))
        #expect(pgreel.hasSuffix("/pgreel") && FileManager.default.isExecutableFile(atPath: pgreel))
        let port = try Tools.freePort()
        #expect((1024...65535).contains(port))
    }
}

@Suite("Process runner")
struct ProcessRunnerTests {
    @Test("megabytes on stdout and stderr at once do not deadlock")
    func bigOutputs() async throws {
        let result = try await ProcessRunner.run(
            "/bin/sh",
            ["-c", "head -c 3000000 /dev/zero | tr '\\0' a >&2 & head -c 3000000 /dev/zero | tr '\\0' b; wait"],
            timeout: .seconds(30)
        )
        #expect(result.status == 0)
        #expect(result.stdout.utf8.count == 3_000_000)
        #expect(result.stderr.utf8.count == 3_000_000)
        #expect(result.stdout.allSatisfy { $0 == "b" })
    }

    @Test("stdin is fed while output is drained, and the environment is merged")
    func stdinAndEnvironment() async throws {
        let input = String(repeating: "0123456789abcdef\n", count: 200_000)
        let echoed = try await ProcessRunner.run("cat", [], stdin: input)
        #expect(echoed.stdout == input)

        let env = try await ProcessRunner.run(
            "/bin/sh",
            ["-c", "printf '%s|%s' \"$HARNESS_VALUE\" \"$PATH\"; exit 3"],
            environment: ["HARNESS_VALUE": "yes"]
        )
        #expect(env.status == 3)
        #expect(env.stdout == "yes|\(ProcessInfo.processInfo.environment["PATH"] ?? "")")
    }

    @Test("a process past its timeout is killed and the error says so")
    func timeoutKills() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await ProcessRunner.run("/bin/sh", ["-c", "echo begun; exec sleep 30"], timeout: .milliseconds(500))
            Issue.record("expected a timeout")
        } catch let error as ProcessRunnerError {
            guard case .timedOut(_, _, let stdout, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(stdout == "begun\n")
            #expect("\(error)".contains("was killed"))
        }
        // Killed, not waited for: `sleep 30` would have taken 30 seconds.
        #expect(clock.now - started < .seconds(25))
    }

    @Test("runChecked throws with stderr on a non-zero exit")
    func runCheckedThrows() async throws {
        await #expect(throws: ProcessRunnerError.self) {
            try await ProcessRunner.runChecked("/bin/sh", ["-c", "echo broken >&2; exit 1"])
        }
        await #expect(throws: ProcessRunnerError.self) {
            try await ProcessRunner.run("pgreel-no-such-program", [])
        }
    }

    @Test("a background process is watched, stopped and killed")
    func background() async throws {
        let process = try ProcessRunner.startBackground(
            "/bin/sh",
            ["-c", "echo ready; echo warming >&2; exec sleep 60"]
        )
        #expect(process.pid > 0)
        let out = try await process.waitForOutput(containing: "ready", in: .stdout, timeout: .seconds(10))
        #expect(out == "ready\n")
        try await process.waitForOutput(containing: "warming", timeout: .seconds(10))
        #expect(process.isRunning)
        await #expect(throws: ProcessRunnerError.self) {
            try await process.waitForExit(timeout: .milliseconds(100))
        }
        process.stop()
        let result = try await process.waitForExit(timeout: .seconds(10))
        #expect(result.signal == SIGTERM)
        #expect(result.status == 128 + SIGTERM)
        #expect(process.isRunning == false)

        let stubborn = try ProcessRunner.startBackground(
            "/bin/sh",
            ["-c", "trap '' TERM; echo up; while :; do sleep 0.1; done"]
        )
        try await stubborn.waitForOutput(containing: "up")
        stubborn.kill()
        let killed = try await stubborn.waitForExit(timeout: .seconds(10))
        #expect(killed.signal == SIGKILL)

        let quitter = try ProcessRunner.startBackground("/bin/sh", ["-c", "echo bye"])
        do {
            try await quitter.waitForOutput(containing: "never printed", timeout: .seconds(20))
            Issue.record("expected outputNotSeen")
        } catch ProcessRunnerError.outputNotSeen(_, _, let exited, let stdout, _) {
            #expect(exited)
            #expect(stdout == "bye\n")
        }
    }
}
