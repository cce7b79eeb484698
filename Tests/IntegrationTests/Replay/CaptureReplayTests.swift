import Foundation
import ProxyEngine
import Testing

/// A whole capture replayed: `pgreel replay DIR`, its filters, a connection budget that fits the target, recorded
/// overlap kept with `--realtime`, and `--scale` copies.
@Suite struct CaptureReplayTests {
    /// Many more sessions than the target's max_connections replay to the end with no option given; opening them
    /// all at once (what replay did before) is refused by the server.
    @Test func aDirectoryOfManySessionsReplaysWithinTheTargetsConnections() async throws {
        let server = try await TestPostgres.start(configuration: ["max_connections": "20"])
        defer { Task { await server.destroy() } }
        let file = try await ReplayWorkflowTests.record(
            "SELECT 1 AS one;\nSELECT pg_sleep(0.2);\n", on: server, database: "postgres")
        let capture = try makeTemporaryDirectory(prefix: "pgreel-capture")
        let count = 120
        for index in 0..<count {
            let folder = capture + (index % 2 == 0 ? "/even" : "/odd/deeper")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: folder + "/session_\(index).json")
        }
        try "not a session file".write(toFile: capture + "/notes.txt", atomically: true, encoding: .utf8)

        let replay = try await ReplayWorkflowTests.replay(
            [capture, "--quiet", "--report", capture + "/report.json"], password: server.upstreamPassword)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("Results matched: \(count * 2)"), "\(replay.stdout)")
        #expect(replay.stdout.contains("Sessions: \(count), at most "), "\(replay.stdout)")
        #expect(replay.stdout.contains("of max_connections 20 free"), "\(replay.stdout)")
        let report = try ReplayWorkflowTests.json(capture + "/report.json")
        let schedule = try #require(report["schedule"] as? [String: Any])
        let concurrency = try #require(schedule["concurrency"] as? Int)
        #expect(concurrency >= 1 && concurrency <= 15, "max_connections 20 less 3 reserved, 1 in use, 2 spare")
        #expect((report["files"] as? [[String: Any]])?.count == count)
        #expect(!server.serverLog().contains("too many clients"))

        // What replay did before: every session at once.
        let flood = try await ReplayWorkflowTests.replay(
            [capture, "--quiet", "--concurrency", "\(count)"], password: server.upstreamPassword)
        #expect(flood.status != 0)
        #expect(flood.stdout.contains("too many clients") || flood.stderr.contains("too many clients"), "\(flood)")
    }

    @Test func filtersChooseSessionsByUserAndStartTime() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await ReplayWorkflowTests.record("SELECT 42 AS answer;\n", on: server, database: database)
        let capture = try makeTemporaryDirectory(prefix: "pgreel-filter")
        try FileManager.default.copyItem(atPath: file, toPath: capture + "/pseudo.json")
        // A JSON file left beside the sessions that is not one: skipped with a warning, the others replay.
        try #"{"tool": "something else"}"#.write(toFile: capture + "/report.json", atomically: true, encoding: .utf8)
        let reports = try makeTemporaryDirectory(prefix: "pgreel-filter-reports")
        // The same session as another pseudo user logged in.
        let recorded = try String(contentsOfFile: file, encoding: .utf8)
        try recorded.replacingOccurrences(of: "\"pseudo_user\":\"pseudo_user\"", with: "\"pseudo_user\":\"alice\"")
            .write(toFile: capture + "/alice.json", atomically: true, encoding: .utf8)

        let alice = try await ReplayWorkflowTests.replay(
            [capture, "--user", "alice", "--quiet", "--report", reports + "/alice.json"],
            password: server.upstreamPassword)
        #expect(alice.status == 0, "\(alice)")
        #expect(alice.stderr.hasPrefix("pgreel replay: skipped \(capture)/report.json:1: not a session file"), "\(alice)")
        let files = try #require(try ReplayWorkflowTests.json(reports + "/alice.json")["files"] as? [[String: Any]])
        #expect(files.map { ($0["path"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } } == ["alice.json"])

        let recent = try await ReplayWorkflowTests.replay(
            [capture, "--since", "1h", "--quiet"], password: server.upstreamPassword)
        #expect(recent.status == 0, "\(recent)")
        #expect(recent.stdout.contains("Sessions: 2, at most"), "\(recent.stdout)")

        let future = try await ReplayWorkflowTests.replay(
            [capture, "--since", "2999-01-01", "--quiet"], password: server.upstreamPassword)
        #expect(future.status == 2)
        #expect(future.stderr == "pgreel replay: no session of the 2 found matches --since 2999-01-01T00:00:00.000000Z\n")

        let nobody = try await ReplayWorkflowTests.replay([capture, "--user", "mallory"], password: nil)
        #expect(nobody.status == 2)
        #expect(nobody.stderr.contains("matches --user mallory"))

        let badTime = try await ReplayWorkflowTests.replay([capture, "--until", "yesterday"], password: nil)
        #expect(badTime.status == 64)
        #expect(badTime.stderr.contains("--until 'yesterday' is not a time such as"))
    }

    @Test func aMissingOrEmptyDirectoryIsOneLineAndExit2() async throws {
        let empty = try makeTemporaryDirectory(prefix: "pgreel-empty")
        let emptyRun = try await ReplayWorkflowTests.replay([empty], password: nil)
        #expect(emptyRun.status == 2)
        #expect(emptyRun.stderr == "pgreel replay: \(empty) holds no session files (*.json)\n")
        #expect(emptyRun.stdout.isEmpty)

        let missing = empty + "/nowhere"
        let missingRun = try await ReplayWorkflowTests.replay([missing], password: nil)
        #expect(missingRun.status == 2)
        #expect(missingRun.stderr == "pgreel replay: session file \(missing) does not exist\n")
    }

    /// Sessions recorded at the same time through the proxy overlap again with --realtime: each of four sessions
    /// waits for the same instant, then sleeps 0.6 s; replayed at recorded timing, every query is sent about on
    /// schedule (one session at a time, the last would be 1.8 s late), and no more connections are opened than the
    /// recording had.
    @Test func realtimeKeepsTheRecordedOverlap() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        let instant = SessionTimestamp.format(Date().addingTimeInterval(3))
        var clients: [RunningProcess] = []
        for _ in 0..<4 {
            clients.append(
                try proxy.psqlInBackground(
                    ["SELECT pg_sleep_until('\(instant)')", "SELECT pg_sleep(0.6)"], database: database))
        }
        for client in clients {
            let result = try await client.waitForExit(timeout: .seconds(30))
            #expect(result.status == 0, "\(result)")
        }
        _ = try await proxy.finishedSessions(count: 4)

        let report = try makeTemporaryDirectory(prefix: "pgreel-realtime") + "/report.json"
        let replay = try await ReplayWorkflowTests.replay(
            [proxy.sessionsDirectory, "--realtime", "--quiet", "--report", report], password: server.upstreamPassword)
        #expect(replay.status == 0, "\(replay)")
        let schedule = try #require(try ReplayWorkflowTests.json(report)["schedule"] as? [String: Any])
        #expect(schedule["concurrency"] as? Int == 4, "\(schedule)")
        #expect(schedule["concurrency_source"] as? String == "as many as the recording had open at once")
        let lag = try #require(schedule["lag"] as? [String: Any])
        #expect(lag["count"] as? Int == 8)
        let late = try #require(lag["max_ms"] as? Double)
        // One session after another, the last would start 1.8 s late (3 × 0.6 s); connecting on a loaded machine
        // may take a second, so the bound sits between the two.
        #expect(late < 1200, "sent on schedule, not after other sessions' 0.6 s sleeps: \(lag)")
        #expect(replay.stdout.contains("Schedule: speed 1 · late p50 "), "\(replay.stdout)")
        #expect(replay.stdout.contains("queries/s achieved vs "), "\(replay.stdout)")
    }

    /// `--scale 3`: every session three times; the first copy is compared, the others count for latency and errors.
    @Test func scaleRunsCopiesAndComparesTheFirst() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let file = try await ReplayWorkflowTests.record(
            "SELECT 1 AS one;\nSELECT now() AS changes;\n", on: server, database: database)
        let directory = try makeTemporaryDirectory(prefix: "pgreel-scale")
        let replay = try await ReplayWorkflowTests.replay(
            [file, "--scale", "3", "--stagger", "20", "--ignore-column", "changes", "--report", directory + "/r.json"],
            password: server.upstreamPassword)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("Sessions: 3 (1 recorded × 3 copies; copy 1 compared)"), "\(replay.stdout)")
        #expect(replay.stdout.contains("Results matched: 2\n"), "\(replay.stdout)")
        #expect(replay.stdout.contains("Queries executed: 6\n"), "\(replay.stdout)")
        #expect(replay.stdout.contains("#3] "), "copies are labelled: \(replay.stdout)")
        let files = try #require(try ReplayWorkflowTests.json(directory + "/r.json")["files"] as? [[String: Any]])
        #expect(files.map { $0["copy"] as? Int } == [0, 1, 2])
        #expect(files.map { ($0["summary"] as? [String: Any])?["not_compared"] as? Int } == [0, 2, 2])
    }
}

/// A session the server ended (pg_terminate_backend, a FATAL) matches when the replay ends the same way.
@Suite struct ServerEndedSessionTests {
    @Test func aSessionThatEndedItselfReplaysToTheSameEnd() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(user: "postgres", database: database), arguments: ["--quiet"])
        defer { proxy.process.kill() }
        _ = try await proxy.psql(
            "SELECT 1 AS before;\nSELECT pg_terminate_backend(pg_backend_pid());\n", database: database)
        let contents = try #require(try await proxy.finishedSessions(count: 1).first)
        let recorded = contents.events.compactMap(\.result)
        #expect(recorded.last?.error?.code == "57P01", "the recording holds the FATAL: \(recorded)")
        let file = try #require(proxy.sessionFiles().first)

        let replay = try await ReplayWorkflowTests.replay([file], password: server.upstreamPassword)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("Results matched: 2"), "\(replay.stdout)")
        #expect(!replay.stdout.contains("lost the connection") && !replay.stderr.contains("lost the connection"))
    }
}
