import Foundation
import Testing

@testable import ProxyEngine

/// A file's head (who, when) and last event time, read from its first and last bytes only; and the filters and
/// time arguments that choose files by them.
@Suite struct SessionFileHeadTests {
    static let lines = [
        #"[{"type":"session_activity","timestamp":"2026-12-01T10:00:00.000000Z","data":{"activity":"session_start","details":{"session_id":"s1","pseudo_user":"alice","start_time":"2026-12-01T10:00:00.000000Z"}}},"#,
        #"{"type":"session_activity","timestamp":"2026-12-01T10:00:00.010000Z","data":{"activity":"connection","details":{"pseudo_user":"alice","real_user":"postgres","database":"shop","real_db_host":"127.0.0.1","real_db_port":"5432"}}},"#,
        #"{"type":"query","timestamp":"2026-12-01T10:00:01.000000Z","data":{"query_number":1,"sql":"SELECT 1","protocol":"simple"}},"#,
        #"{"type":"session_activity","timestamp":"2026-12-01T10:00:05.500000Z","data":{"activity":"session_end","details":{"reason":"client disconnected"}}}]"#,
    ]

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("head-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theHeadSaysWhoAndWhenAndTheTailWhenItEnded() throws {
        let path = try self.write(Self.lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let head = try SessionFileHead.read(path: path, readTail: true)
        #expect(head.pseudoUser == "alice")
        #expect(head.sessionID == "s1")
        #expect(head.connection?.database == "shop")
        #expect(head.start == SessionTimestamp.parse("2026-12-01T10:00:00Z"))
        #expect(head.end == SessionTimestamp.parse("2026-12-01T10:00:05.5Z"))
    }

    /// Only the first bytes are parsed: a head limit inside the third event still gives the first two, and a
    /// file cut off by a crash is read the same way.
    @Test func aLimitInsideAnEventKeepsTheEventsBeforeIt() throws {
        let text = Self.lines.joined(separator: "\n")
        let path = try self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let limit = Self.lines[0].utf8.count + Self.lines[1].utf8.count + 30
        let head = try SessionFileHead.read(path: path, byteLimit: limit)
        #expect(head.pseudoUser == "alice")
        #expect(head.connection?.realUser == "postgres")
        #expect(head.end == nil)
    }

    @Test func aFileThatIsNotASessionFileIsRefusedByItsHead() throws {
        let path = try self.write("hello, world\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: SessionFileError.self) { try SessionFileHead.read(path: path) }
        #expect(throws: SessionFileError.notFound(path: path + ".missing")) {
            try SessionFileHead.read(path: path + ".missing")
        }
    }

    @Test func theLastTimestampIsFoundInPrettyPrintedFilesToo() {
        let seed = Array("  {\n    \"type\": \"query\",\n    \"timestamp\": \"2025-10-07T21:30:16.000001Z\",\n  }\n]\n".utf8)
        #expect(SessionFileHead.lastTimestamp(in: seed) == SessionTimestamp.parse("2025-10-07T21:30:16.000001Z"))
        #expect(SessionFileHead.lastTimestamp(in: Array("no time here".utf8)) == nil)
    }

    @Test func filtersJudgeTheHead() {
        var head = SessionFileHead(path: "a.json", start: SessionTimestamp.parse("2026-12-01T10:00:00Z"))
        head.sessionStart = ActivityDetails(pseudoUser: "alice")
        #expect(SessionFilter().accepts(head))
        #expect(SessionFilter(user: "alice").accepts(head))
        #expect(!SessionFilter(user: "bob").accepts(head))
        let at = head.start!
        #expect(SessionFilter(since: at).accepts(head), "since is inclusive")
        #expect(!SessionFilter(until: at).accepts(head), "until is exclusive")
        #expect(SessionFilter(since: at.addingTimeInterval(-1), until: at.addingTimeInterval(1)).accepts(head))
        #expect(!SessionFilter(since: at).accepts(SessionFileHead(path: "no-time.json")))
    }

    @Test func timeArguments() {
        let now = SessionTimestamp.parse("2026-12-02T12:00:00Z")!
        #expect(TimeArgument.parse("2026-12-01T10:30:00Z", now: now) == SessionTimestamp.parse("2026-12-01T10:30:00Z"))
        #expect(TimeArgument.parse("2026-12-01T10:30:00+01:00", now: now) == SessionTimestamp.parse("2026-12-01T09:30:00Z"))
        #expect(TimeArgument.parse("2026-12-01 10:30", now: now) == SessionTimestamp.parse("2026-12-01T10:30:00Z"))
        #expect(TimeArgument.parse("2026-12-01", now: now) == SessionTimestamp.parse("2026-12-01T00:00:00Z"))
        #expect(TimeArgument.parse("2h", now: now) == SessionTimestamp.parse("2026-12-02T10:00:00Z"))
        #expect(TimeArgument.parse("7d", now: now) == SessionTimestamp.parse("2026-11-25T12:00:00Z"))
        for bad in ["yesterday", "", "h", "-2h", "2026-13-01", "10:30"] {
            #expect(TimeArgument.parse(bad, now: now) == nil, "\(bad)")
        }
    }
}
