import Foundation
import ProxyEngine
import Testing

/// When session files cannot be written the proxy keeps running, says so loudly, and never lets a session go on
/// unrecorded: a new session is refused (FATAL 58030), a session whose file fails mid-way is closed (FATAL 58030).
@Suite struct RecordingFailureTests {
    @Test func aSessionsDirectoryReplacedByAFileRefusesNewSessionsUntilItIsBack() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }

        // A session opened while recording works, and stays open through the failure.
        let first = try await proxy.psql("SELECT 'recorded' AS answer")
        #expect(first.status == 0, "\(first.stderr)")
        let open = try proxy.psqlInBackground(["SELECT pg_sleep(3) AS marker_open", "SELECT 'still served' AS answer"])
        defer { open.kill() }
        _ = try await proxy.process.waitForOutput(containing: "marker_open", in: .stdout)

        // We are root, so permissions cannot stop us: the directory is replaced by a regular file instead.
        try FileManager.default.removeItem(atPath: proxy.sessionsDirectory)
        try "not a directory".write(toFile: proxy.sessionsDirectory, atomically: false, encoding: .utf8)

        let refused = try await proxy.psql("SELECT 1")
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains(
                "FATAL:  pgreel could not record this session: cannot record sessions in \(proxy.sessionsDirectory): "
                    + "it exists but is not a directory"), "\(refused.stderr)")
        _ = try await proxy.process.waitForOutput(containing: "❌ Recording failed: cannot record sessions in", in: .stdout)

        // The open session is served to its end (its file descriptor still works).
        let openResult = try await open.waitForExit(timeout: .seconds(30))
        #expect(openResult.status == 0, "\(openResult.stderr)")
        #expect(openResult.stdout.contains("still served"))

        // Put a directory back: sessions are recorded again, without a restart.
        try FileManager.default.removeItem(atPath: proxy.sessionsDirectory)
        try FileManager.default.createDirectory(atPath: proxy.sessionsDirectory, withIntermediateDirectories: false)
        let again = try await proxy.psql("SELECT 'recorded again' AS answer")
        #expect(again.status == 0, "\(again.stderr)")
        let sessions = try await proxy.finishedSessions(count: 1)
        #expect(sessions.flatMap(\.events).contains { $0.result?.result.rows == [["recorded again"]] })
    }

    @Test func aSessionWhoseFileFailsMidwayIsClosedWithFatal58030AndOthersGoOn() async throws {
        let server = try await TestPostgres.shared()
        // Every file the proxy writes may hold at most 64 KiB: the big result below cannot be recorded whole.
        let proxy = try await ProxyUnderTest.start(
            upstream: server.url(), launcher: ["/usr/bin/prlimit", "--fsize=65536", "--"])
        defer { proxy.process.kill() }

        let big = try await proxy.psql(
            "SELECT 'before' AS answer;\nSELECT repeat('x', 1000) FROM generate_series(1, 200);\nSELECT 'after';\n")
        #expect(big.status != 0)
        #expect(big.stderr.contains("FATAL:  pgreel could not record this session: cannot write session file "), "\(big.stderr)")
        #expect(big.stderr.contains("File too large"), "\(big.stderr)")
        #expect(!big.stdout.contains("after"), "nothing runs unrecorded after the failure")
        _ = try await proxy.process.waitForOutput(containing: "❌ Recording failed: cannot write session file", in: .stdout)

        // The proxy did not die of SIGXFSZ, and a small session is recorded as usual.
        #expect(proxy.process.isRunning)
        let small = try await proxy.psql("SELECT 'small' AS answer")
        #expect(small.status == 0, "\(small.stderr)")
        #expect(small.stdout.contains("small"))

        // The failed file keeps every event written before the failure, and reads as cut off.
        let files = proxy.sessionFiles()
        #expect(files.count == 2)
        let failed = try #require(try files.map { try SessionFileReader.read(path: $0) }.first { $0.cut != nil })
        #expect(failed.events.contains { $0.result?.result.rows == [["before"]] })
    }
}
