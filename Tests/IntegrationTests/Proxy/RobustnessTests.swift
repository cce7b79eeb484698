import Foundation
import NIOCore
import ProxyEngine
import Testing

/// Bad input and crashes: the proxy refuses what is malformed, stays up, and loses no recorded event.
@Suite struct RobustnessTests {
    @Test func malformedMessagesGetFatal08P01AndOtherSessionsGoOn() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }

        // An oversized startup packet is refused before it is read.
        let huge = try await RawConnection.exchange(port: proxy.port, [0x7F, 0xFF, 0xFF, 0xFF, 0, 3, 0, 0])
        #expect(try RawConnection.errorFields(in: huge).code == "08P01")

        // After authentication, a Sync claiming 1 MB is a protocol violation.
        let afterStartup = try await RawConnection.exchange(
            port: proxy.port, RawConnection.startupPacket(user: "pseudo_user") + [UInt8(ascii: "S"), 0, 0x10, 0, 0])
        let fields = try RawConnection.errorFields(in: afterStartup)
        #expect(fields.code == "08P01")
        #expect(fields.severity == "FATAL")

        // A message length below 4.
        let short = try await RawConnection.exchange(
            port: proxy.port, RawConnection.startupPacket(user: "pseudo_user") + [UInt8(ascii: "Q"), 0, 0, 0, 2])
        #expect(try RawConnection.errorFields(in: short).code == "08P01")

        let still = try await proxy.psql("SELECT 1")
        #expect(still.status == 0, "the proxy stays up: \(still.stderr)")
        let sessions = try await proxy.finishedSessions(count: 3)
        let reasons = sessions.compactMap { $0.events.last?.activity?.details.reason }
        #expect(reasons.filter { $0.contains("protocol violation") }.count == 2)
    }

    /// A client may pipeline its first query right behind the startup packet (no password is asked for a trust
    /// user): those bytes must reach the server, whether they arrive in the same read or later.
    @Test func queryPipelinedBehindTheStartupPacketIsRelayed() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        var tail = ByteBuffer()
        QueryMessage.encode("SELECT 'pipelined' AS answer", into: &tail)
        EmptyMessage.encode(id: FrontendMessageID.terminate, into: &tail)
        let answer = try await RawConnection.exchange(port: proxy.port, RawConnection.startupPacket(user: "pseudo_user") + Array(tail.readableBytesView))
        var buffer = ByteBuffer(bytes: answer)
        var decoder = RawMessageDecoder(direction: .backend)
        var values: [String] = []
        while let message = try decoder.decode(buffer: &buffer) {
            guard message.id == BackendMessageID.dataRow else { continue }
            values += try DataRow.values(of: message.payload).compactMap { $0.map { String(buffer: $0) } }
        }
        #expect(values == ["pipelined"])
    }

    @Test func sslAndGSSRequestsAreAnsweredNo() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--no-record"])
        defer { proxy.process.kill() }
        let answer = try await RawConnection.exchange(port: proxy.port, RawConnection.sslRequest + RawConnection.startupPacket(user: "nobody"))
        #expect(answer.first == UInt8(ascii: "N"))
        #expect(try RawConnection.errorFields(in: Array(answer.dropFirst())).code == "28000")
        let required = try await proxy.psql("SELECT 1", arguments: [])
        #expect(required.status == 0)
    }

    @Test func killMinus9LeavesAReadableSessionFile() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }
        let psql = try proxy.psqlInBackground(["SELECT 'before the crash' AS marker", "SELECT pg_sleep(20)"])
        defer { psql.kill() }
        // Wait until the first query's result is on disk, then kill the proxy without warning.
        let deadline = ContinuousClock.now + .seconds(20)
        var contents: SessionFileContents?
        while ContinuousClock.now < deadline {
            if let file = proxy.sessionFiles().first, let read = try? SessionFileReader.read(path: file),
                read.events.contains(where: { $0.result?.result.rows == [["before the crash"]] })
            {
                contents = read
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(contents != nil, "the first result reached the file before the crash")
        try await Task.sleep(for: .milliseconds(200))
        proxy.process.kill()
        _ = try await proxy.process.waitForExit(timeout: .seconds(5))
        let file = try #require(proxy.sessionFiles().first)
        let after = try SessionFileReader.read(path: file)
        #expect(after.cut != nil, "the reader reports that the file was cut off")
        let queries = after.events.compactMap(\.query).map(\.sql)
        #expect(queries == ["SELECT 'before the crash' AS marker", "SELECT pg_sleep(20)"])
        #expect(after.events.compactMap(\.result).count == 1)
        _ = try await psql.waitForExit(timeout: .seconds(10))
    }
}
