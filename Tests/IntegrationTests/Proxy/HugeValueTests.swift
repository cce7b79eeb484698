import Foundation
import ProxyEngine
import Testing

/// A client's huge value never stalls the headless log or the proxy's exit: the log shows a cut cell at once, the
/// session file keeps the value whole, and SIGTERM ends the process in time (issue 12: a 4 MB value used to keep the
/// log thread busy for minutes and SIGTERM did nothing).
@Suite struct HugeValueTests {
    /// `repeat(unit, count)`: controls (tab, newline, \x01), a precomposed and a combining accent, a wide character.
    static let unit = #"a\tb\n\x01é\u0301世"#
    /// 12 bytes of UTF-8 a unit: about 50 MB in all, under the tap's 64 MiB so the row is recorded whole.
    static let count = 4_200_000
    static let sql = "SELECT repeat(E'\(unit)', \(count)) AS huge, 'after' AS next"

    @Test func theTextLogShowsACutCellAndSIGTERMStillEndsTheProxy() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url())
        defer { proxy.process.kill() }

        let result = try await proxy.psql(Self.sql, arguments: ["-o", "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        // The cell is cut to the log's 40 columns, escapes included, and the table goes on to the next column.
        let unit = #"a\tb\n\u{01}"# + "\u{E9}\u{301}世"
        let cell = unit + unit + #"a\tb\n\u{…"#
        let log = try await proxy.process.waitForOutput(
            containing: "│ \(cell) │ after │", in: .stdout, timeout: .seconds(20))
        #expect(log.contains("✓ SELECT 1"))

        let started = ContinuousClock.now
        proxy.process.stop()
        let exit = try await proxy.process.waitForExit(timeout: .seconds(10))
        let took = ContinuousClock.now - started
        #expect(exit.status == 0, "\(exit.stderr)")
        // --shutdown-timeout is 0: the proxy closes the (already ended) sessions, flushes the files, and gives the
        // log at most a second more.
        #expect(took < .seconds(5), "SIGTERM took \(took)")

        let file = try #require(proxy.sessionFiles().first)
        let contents = try await onOwnThread { try SessionFileReader.read(path: file) }
        let row = try #require(contents.events.compactMap(\.result).first?.result.rows.first)
        #expect(row[0]?.utf8.count == Self.count * 12, "the session file keeps the value whole")
        #expect(row[1] == "after")
    }

    @Test func theJSONLogCutsTheValueAndSaysSo() async throws {
        let server = try await TestPostgres.shared()
        let proxy = try await ProxyUnderTest.start(upstream: server.url(), arguments: ["--log-format", "json"])
        defer { proxy.process.kill() }

        let result = try await proxy.psql(Self.sql, arguments: ["-o", "/dev/null"])
        #expect(result.status == 0, "\(result.stderr)")
        let log = try await proxy.process.waitForOutput(containing: "\"log_cut\"", in: .stdout, timeout: .seconds(20))
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"log_cut\"") })
        #expect(line.utf8.count < 16 * 1024, "one cut value and a few fields")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["log_cut"] as? [String: Int] == ["values": 1, "rows": 0])
        let rows = try #require((object["data"] as? [String: Any])?["rows"] as? [[Any]])
        let cell = try #require(rows.first?.first as? String)
        #expect(cell.hasPrefix("a\tb\n\u{01}é\u{301}世") && cell.hasSuffix("…"))
        #expect(rows.first?.last as? String == "after")
    }
}
