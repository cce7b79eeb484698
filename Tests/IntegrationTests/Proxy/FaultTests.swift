import Foundation
import NIOCore
import NIOPosix
import ProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults the proxy must survive without a restart: the upstream server dies and comes back, clients vanish in
/// the middle of a query or a COPY, the proxy itself is stopped (SIGTERM) or killed (SIGKILL), and a hundred
/// cancels arrive at once.
@Suite struct FaultTests {
    /// Polls `condition` every 100 ms until it holds; fails with `what` after `timeout` (a bound, not a measure).
    private func waitUntil(
        _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(try await condition()) {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Open file descriptors of a process (`/proc/PID/fd`).
    private func descriptorCount(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    private func activeBackends(_ server: TestPostgres, matching pattern: String) async throws -> Int {
        Int(
            try await server.psqlAdmin(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '\(pattern)' AND pid <> pg_backend_pid()")
        ) ?? -1
    }

    // MARK: - The upstream server dies

    @Test func upstreamStoppedMidQueryGivesAnErrorAndNewSessionsWorkOnceItIsBack() async throws {
        let server = try await TestPostgres.start()
        defer { Task { await server.destroy() } }
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }

        let psql = try proxy.psqlInBackground(["SELECT pg_sleep(60) AS marker_upstream_dies"])
        defer { psql.kill() }
        try await self.waitUntil("the query runs") {
            try await self.activeBackends(server, matching: "SELECT pg_sleep(60) AS marker_upstream_dies%") == 1
        }
        try await server.stopImmediate()

        // The client in the middle of its query gets an error and psql fails.
        let cut = try await psql.waitForExit(timeout: .seconds(20))
        #expect(cut.status != 0)
        #expect(!cut.stderr.isEmpty, "psql says why: \(cut.stderr)")

        // While the server is down, a new session is refused with 08006 naming the (masked) upstream.
        let down = try await proxy.psql("SELECT 1")
        #expect(down.status != 0)
        #expect(down.stderr.contains("pgreel could not connect to the upstream"), "\(down.stderr)")
        #expect(!down.stderr.contains(server.upstreamPassword))

        // Back up: the same proxy process serves again.
        try await server.startAgain()
        let again = try await proxy.psql("SELECT 'back again' AS answer")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("back again"))
        #expect(proxy.process.isRunning)

        // The interrupted session's file is whole and says what happened to the query.
        let sessions = try await proxy.finishedSessions(count: 2)
        let interrupted = try #require(
            sessions.first { $0.events.contains { $0.query?.sql.contains("marker_upstream_dies") == true } })
        let result = try #require(interrupted.events.compactMap(\.result).first)
        #expect(result.error != nil)
        #expect(interrupted.events.last?.activity?.details.reason == "server closed the connection")
    }

    // MARK: - Clients vanish

    @Test func aClientVanishingMidQueryOrMidCopyClosesItsUpstreamAndLeaksNoDescriptor() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        // A backend busy in pg_sleep only notices that its client left when it checks (PostgreSQL 14+).
        try await server.psqlAdmin("ALTER DATABASE \(database) SET client_connection_check_interval = '100ms'")
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }

        // Warm up (event loops, the writer thread), then take the baseline with no session open.
        let warm = try await proxy.psql("SELECT 1", database: database)
        #expect(warm.status == 0, "\(warm.stderr)")
        _ = try await proxy.finishedSessions(count: 1)
        let baseline = self.descriptorCount(proxy.process.pid)
        #expect(baseline > 0)

        // Mid-query: the client sends a long query and disappears (no Terminate).
        let queryPID = try await RawClient.withSession(port: proxy.port, database: database) { client in
            try await client.send { QueryMessage.encode("SELECT pg_sleep(60) AS marker_vanish", into: &$0) }
            try await self.waitUntil("the query runs") {
                try await self.activeBackends(server, matching: "SELECT pg_sleep(60) AS marker_vanish%") == 1
            }
            return try #require(client.key).processID
        }
        // Mid-COPY: COPY FROM STDIN, some rows, then gone.
        let copyPID = try await RawClient.withSession(port: proxy.port, database: database) { client in
            try await client.send { QueryMessage.encode("COPY test_data (name, value) FROM STDIN", into: &$0) }
            _ = try await client.readUntil(BackendMessageID.copyInResponse)
            for row in 0..<100 {
                try await client.send {
                    $0.writeMessage(id: FrontendMessageID.copyData) { $0.writeString("vanished\(row)\t\(row)\n") }
                }
            }
            return try #require(client.key).processID
        }

        // Both backends go away: the proxy closed its upstream connections.
        for pid in [queryPID, copyPID] {
            try await self.waitUntil("backend \(pid) is gone") {
                try await server.psqlAdmin("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)") == "0"
            }
        }
        // The COPY was not committed.
        #expect(try await server.psqlAdmin("SELECT count(*) FROM test_data WHERE name LIKE 'vanished%'", database: database) == "0")
        let sessions = try await proxy.finishedSessions(count: 3)
        let reasons = sessions.compactMap { $0.events.last?.activity?.details.reason }
        #expect(reasons.filter { $0 == "client disconnected" }.count == 2)
        // And every descriptor the two sessions used (client socket, upstream socket, session file) is closed.
        try await self.waitUntil("descriptors return to \(baseline)") {
            self.descriptorCount(proxy.process.pid) <= baseline
        }
    }

    // MARK: - The proxy is stopped or killed

    @Test func sigtermLetsSessionsFinishWithinTheTimeoutThenClosesTheRestWithWholeFiles() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--shutdown-timeout", "4"])
        defer { proxy.process.kill() }
        let quick = try proxy.psqlInBackground(["SELECT pg_sleep(1) AS marker_quick", "SELECT 'quick done' AS answer"])
        defer { quick.kill() }
        let slow = try proxy.psqlInBackground(["SELECT pg_sleep(60) AS marker_slow"])
        defer { slow.kill() }
        try await self.waitUntil("both queries run") {
            try await self.activeBackends(server, matching: "SELECT pg_sleep(%) AS marker_%") == 2
        }
        proxy.process.send(SIGTERM)

        // The quick session finishes normally inside the grace period.
        let quickResult = try await quick.waitForExit(timeout: .seconds(20))
        #expect(quickResult.status == 0, "\(quickResult.stderr)")
        #expect(quickResult.stdout.contains("quick done"))
        // By then the proxy no longer accepts anyone.
        let refused = try await proxy.psql("SELECT 1")
        #expect(refused.status != 0)
        // The slow one is closed when the grace period ends, and the proxy exits cleanly.
        let slowResult = try await slow.waitForExit(timeout: .seconds(20))
        #expect(slowResult.status != 0)
        let exit = try await proxy.process.waitForExit(timeout: .seconds(20))
        #expect(exit.status == 0, "\(exit.stderr)")
        #expect(exit.stderr.contains("Received SIGTERM, shutting down."))

        // Both files are finished JSON arrays, for pgreel's reader and for jq.
        let files = proxy.sessionFiles()
        #expect(files.count == 2)
        for file in files {
            let contents = try SessionFileReader.read(path: file)
            #expect(contents.cut == nil, "\(file) is closed")
            #expect(contents.events.last?.isSessionEnd == true)
            let jq = try await ProcessRunner.run("/usr/bin/env", ["jq", "-e", "length > 0", file])
            #expect(jq.status == 0, "jq reads \(file): \(jq.stderr)")
        }
        let all = try files.map { try SessionFileReader.read(path: $0).events }
        let slowEvents = try #require(all.first { $0.contains { $0.query?.sql.contains("marker_slow") == true } })
        #expect(slowEvents.last?.activity?.details.reason == "pgreel shut down")
        #expect(slowEvents.compactMap(\.result).first?.error?.code == "08006")
        let quickEvents = try #require(all.first { $0.contains { $0.query?.sql.contains("marker_quick") == true } })
        #expect(quickEvents.compactMap(\.result).allSatisfy { $0.error == nil })
        #expect(quickEvents.compactMap(\.result).count == 2)
    }

    @Test func sigkillLeavesEveryFileReadableAndReplayableUpToItsLastEvent() async throws {
        let server = try await TestPostgres.shared()
        let database = try await server.makeDatabase()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql = try proxy.psqlInBackground(
            ["SELECT name, value FROM test_data ORDER BY id", "SELECT count(*) FROM test_data", "SELECT pg_sleep(2) AS marker_killed"],
            database: database)
        defer { psql.kill() }
        try await self.waitUntil("the last query is on disk") {
            guard let file = proxy.sessionFiles().first, let contents = try? SessionFileReader.read(path: file) else {
                return false
            }
            return contents.events.contains { $0.query?.sql.contains("marker_killed") == true }
        }
        proxy.process.send(SIGKILL)
        _ = try await proxy.process.waitForExit(timeout: .seconds(10))

        let file = try #require(proxy.sessionFiles().first)
        let contents = try SessionFileReader.read(path: file)
        #expect(contents.cut != nil, "the reader reports the cut")
        #expect(contents.events.compactMap(\.result).count >= 2)
        // Replay runs every recorded query again and matches every recorded result.
        let replay = try await ProcessRunner.run(
            try Tools.pgreelBinary, ["replay", file, "--db-url", server.url(database: database)],
            environment: ["NO_COLOR": "1"], timeout: .seconds(60))
        #expect(replay.status == 0, "\(replay.stdout)\n\(replay.stderr)")
        #expect(replay.stderr.contains("cut off") || replay.stderr.contains(file), "the replay warns about the cut")
        _ = try await psql.waitForExit(timeout: .seconds(10))
    }

    // MARK: - A hundred cancels at once

    @Test func aHundredConcurrentCancelsEachCancelTheirOwnQueryAndNoOther() async throws {
        let server = try await TestPostgres.start(configuration: ["max_connections": "160"])
        defer { Task { await server.destroy() } }
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let count = 100
        let keys = KeyBox()

        let (codes, control) = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<count {
                group.addTask {
                    try await RawClient.withSession(port: proxy.port) { client in
                        await keys.put(index, try #require(client.key))
                        let answer = try await client.query("SELECT pg_sleep(60) AS marker_\(index)")
                        // The session stays usable after its cancel.
                        let after = try await client.query("SELECT \(index)")
                        #expect(try RawClient.errorCode(in: after) == nil)
                        return (index, try RawClient.errorCode(in: answer))
                    }
                }
            }
            try await self.waitUntil("all \(count) queries run", timeout: .seconds(120)) {
                try await self.activeBackends(server, matching: "SELECT pg_sleep(60) AS marker_%") == count
            }
            // A control session that nobody cancels, running through the whole storm.
            let control = try proxy.psqlInBackground(["SELECT pg_sleep(20) AS marker_control", "SELECT 'control done'"])
            try await self.waitUntil("the control query runs") {
                try await self.activeBackends(server, matching: "SELECT pg_sleep(20) AS marker_control%") == 1
            }
            // Every cancel at once, each with its session's key.
            let all = await keys.all()
            #expect(all.count == count)
            try await withThrowingTaskGroup(of: Void.self) { cancels in
                for key in all.values {
                    cancels.addTask {
                        try await UpstreamConnector.sendCancel(
                            host: "127.0.0.1", port: proxy.port, key: key, on: MultiThreadedEventLoopGroup.singleton.next()
                        ).get()
                    }
                }
                try await cancels.waitForAll()
            }
            var codes: [Int: String?] = [:]
            for try await (index, code) in group { codes[index] = code }
            return (codes, control)
        }
        defer { control.kill() }
        #expect(codes.count == count)
        #expect(codes.values.allSatisfy { $0 == "57014" }, "every session got query_canceled: \(codes)")

        // The control query was not cancelled by anyone else's cancel.
        let controlResult = try await control.waitForExit(timeout: .seconds(60))
        #expect(!controlResult.stderr.contains("canceling statement"), "\(controlResult.stderr)")
        #expect(controlResult.stdout.contains("control done"))

        // The session files say the same, one cancelled query per session.
        let sessions = try await proxy.finishedSessions(count: count + 1, timeout: .seconds(60))
        var cancelled = Set<String>()
        for session in sessions {
            let queries = session.events.compactMap(\.query)
            let results = session.events.compactMap(\.result)
            guard let marker = queries.first(where: { $0.sql.contains("marker_") }) else { continue }
            let result = try #require(results.first { $0.queryNumber == marker.queryNumber })
            if marker.sql.contains("marker_control") {
                #expect(result.error == nil)
            } else {
                #expect(result.error?.code == "57014", "\(marker.sql)")
                cancelled.insert(marker.sql)
            }
        }
        #expect(cancelled.count == count)
    }
}

/// The keys of the hundred sessions, filled in as they log in.
private actor KeyBox {
    private var keys: [Int: BackendKeyData] = [:]

    func put(_ index: Int, _ key: BackendKeyData) {
        self.keys[index] = key
    }

    func all() -> [Int: BackendKeyData] {
        self.keys
    }
}
