import Foundation
import Testing

@testable import ProxyEngine

@Suite("Session file reader")
struct SessionFileReaderTests {
    /// A finished file in pgreel's layout, built the way the writer writes it.
    private func finishedFile(_ events: [SessionEvent]) -> [UInt8] {
        var bytes = Array("[\n".utf8)
        for (index, event) in events.enumerated() {
            if index > 0 {
                bytes += Array(",\n".utf8)
            }
            SessionEventJSON.encode(event, into: &bytes)
        }
        return bytes + Array("\n]\n".utf8)
    }

    private func parse(_ text: String, path: String = "test.json") throws(SessionFileError) -> SessionFileContents {
        try SessionFileReader.parse(Array(text.utf8), path: path)
    }

    private func notASessionFile(_ text: String) -> (line: Int, reason: String, description: String)? {
        do {
            _ = try self.parse(text, path: "/data/x.json")
            return nil
        } catch {
            guard case .notASessionFile(let path, let line, let reason) = error, path == "/data/x.json" else {
                return nil
            }
            return (line, reason, error.description)
        }
    }

    @Test func finishedFileReadsWithoutCut() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let contents = try SessionFileReader.parse(self.finishedFile(events), path: "x.json")
        #expect(contents.events == events)
        #expect(contents.cut == nil)
    }

    @Test func fileWithoutClosingBracketKeepsEveryEvent() throws {
        let events = SessionFixtures.everyKindOfEvent()
        var bytes = self.finishedFile(events)
        bytes.removeLast(3)  // "\n]\n": the writer's state after the last event, when the process died
        let contents = try SessionFileReader.parse(bytes, path: "x.json")
        #expect(contents.events == events)
        #expect(contents.cut?.line == events.count + 1, "the line of the last event")
        #expect(contents.cut?.reason.contains("no closing \"]\"") == true)
        #expect(contents.cut?.reason.contains("after \(events.count) event(s)") == true)
    }

    @Test func fileCutAfterThreeEventsReturnsThem() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let text = String(decoding: self.finishedFile(events), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // "[", three events with their commas, and a newline: what a file cut after 3 events holds at most.
        let cutText = lines[0...3].joined(separator: "\n") + "\n"
        let contents = try self.parse(cutText)
        #expect(contents.events == Array(events.prefix(3)))
        #expect(contents.cut?.line == 5)
    }

    @Test func fileCutInTheMiddleOfALineReturnsTheCompleteEvents() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let text = String(decoding: self.finishedFile(events), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // Line 6 holds event 5 ("[" is line 1); keep half of it.
        let partial = lines[5].prefix(lines[5].count / 2)
        let cutText = lines[0...4].joined(separator: "\n") + "\n" + partial
        let contents = try self.parse(cutText)
        #expect(contents.events == Array(events.prefix(4)))
        #expect(contents.cut?.line == 6)
        #expect(contents.cut?.reason.contains("the event starting on line 6 is incomplete") == true)
    }

    /// Crash safety: whatever byte the file ends at, the reader returns exactly the events written in full.
    @Test func everyCutPointReturnsExactlyTheCompleteEvents() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let bytes = self.finishedFile(events)
        // Where each event's closing brace ends: the event is complete in any prefix at least that long.
        var ends: [Int] = []
        var prefix = Array("[\n".utf8)
        for (index, event) in events.enumerated() {
            if index > 0 {
                prefix += Array(",\n".utf8)
            }
            SessionEventJSON.encode(event, into: &prefix)
            ends.append(prefix.count)
        }
        for length in 0...bytes.count {
            let contents = try SessionFileReader.parse(Array(bytes.prefix(length)), path: "x.json")
            let complete = ends.filter { $0 <= length }.count
            #expect(contents.events == Array(events.prefix(complete)), "cut at byte \(length)")
            let closed = length >= bytes.count - 1  // the final newline after "]" is not needed
            #expect((contents.cut == nil) == closed, "cut at byte \(length)")
        }
    }

    @Test func zeroFilledTailIsACut() throws {
        let events = SessionFixtures.everyKindOfEvent()
        var bytes = self.finishedFile(events)
        bytes.removeLast(3)
        bytes += [UInt8](repeating: 0, count: 4096)
        let contents = try SessionFileReader.parse(bytes, path: "x.json")
        #expect(contents.events == events)
        #expect(contents.cut?.reason.contains("zero bytes") == true)

        let zeroInsideAnEvent = Array("[\n{\"type\":\"qu".utf8) + [0, 0, 0]
        let partial = try SessionFileReader.parse(zeroInsideAnEvent, path: "x.json")
        #expect(partial.events.isEmpty)
        #expect(partial.cut?.line == 2)
    }

    @Test func emptyAndBracketOnlyFilesAreCutWithoutEvents() throws {
        let empty = try self.parse("")
        #expect(empty.events.isEmpty)
        #expect(empty.cut?.reason.contains("empty") == true)
        let opened = try self.parse("[\n")
        #expect(opened.events.isEmpty)
        #expect(opened.cut?.line == 2)
        let closedEmpty = try self.parse("[\n\n]\n")
        #expect(closedEmpty.events.isEmpty)
        #expect(closedEmpty.cut == nil)
    }

    @Test func seedExampleReadsWithTheRightValues() throws {
        let contents = try self.parse(SessionFixtures.seedExample)
        #expect(contents.cut == nil)
        try #require(contents.events.count == 4)
        let time = SessionFixtures.date("2025-10-07T21:30:15Z")
        #expect(contents.events.allSatisfy { $0.timestamp == time })
        #expect(contents.events.map(\.typeName) == ["session_activity", "session_activity", "query", "query_result"])
        #expect(
            contents.events[0].payload
                == .activity(
                    SessionActivity(
                        activity: "session_start",
                        details: ActivityDetails(
                            sessionID: "session_1759881348861829000", pseudoUser: "pseudo_user", startTime: time
                        )
                    )
                )
        )
        #expect(
            contents.events[1].payload
                == .activity(
                    SessionActivity(
                        activity: "connection",
                        details: ActivityDetails(
                            pseudoUser: "pseudo_user", realUser: "postgres", database: "postgres",
                            realDBHost: "localhost", realDBPort: "5432"
                        )
                    )
                )
        )
        #expect(contents.events[2].payload == .query(RecordedQuery(queryNumber: 1, sql: "SELECT * FROM test_data;")))
        let expectedResult = RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: ["id", "name", "value", "created_at"],
                rows: [
                    ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
                    ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
                    ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
                ],
                rowCount: 3, commandTag: "SELECT 3"
            )
        )
        #expect(contents.events[3].payload == .result(expectedResult))
    }

    @Test func seedExampleCutInsideAPrettyPrintedEvent() throws {
        let text = SessionFixtures.seedExample
        let cutAt = try #require(text.range(of: "\"sql\": \"SELECT"))
        let contents = try self.parse(String(text[..<cutAt.lowerBound]))
        #expect(contents.events.count == 2)
        #expect(contents.cut?.line == 28, "the line where the third event starts")
    }

    private static let validEvent =
        #"{"type": "query", "timestamp": "2025-10-07T21:30:15Z", "data": {"query_number": 1, "sql": "x"}}"#

    @Test(arguments: [
        ("hello world\n", 1, "does not start with \"[\""),
        ("{\"type\": \"query\"}\n", 1, "a single JSON object"),
        ("\n\n[1, 2]\n", 3, "expected an event object"),
        ("[\n{\"type\": \"query\", \"timestamp\": \"2025-10-07T21:30:15Z\", \"data\": {\"sql\": \"x\"}}\n]", 2,
         "\"data.query_number\" is missing"),
        ("[\n{not json at all}\n]\n", 2, "not valid JSON"),
        (
            "[\n" + Self.validEvent + "\n" + Self.validEvent + "\n]\n", 3,
            "expected \",\" or \"]\" after the event on line 2"
        ),
        ("[\n,\n]\n", 2, "a \",\" where an event should be"),
        ("[\n]\ntrailing\n", 3, "unexpected text after the closing \"]\""),
    ])
    func garbageIsNotASessionFile(text: String, line: Int, reason: String) throws {
        let failure = try #require(self.notASessionFile(text))
        #expect(failure.line == line)
        #expect(failure.reason.contains(reason), "\(failure.reason)")
        #expect(failure.description.hasPrefix("/data/x.json:\(line): not a session file: "))
        #expect(!failure.description.contains("\n"), "one line")
    }

    @Test func invalidJSONNamesTheColumn() throws {
        let bad = #"{"type": "query", "timestamp": x}"#
        let column = try #require(Array(bad.utf8).firstIndex(of: UInt8(ascii: "x"))) + 1
        let failure = try #require(self.notASessionFile("[\n" + Self.validEvent + ",\n" + bad + "\n]\n"))
        #expect(failure.line == 3)
        #expect(
            failure.reason == #"the event is not valid JSON: unexpected "x", expected a value (column \#(column))"#
        )

        // An event that shares its line with "[" counts columns from the line's start.
        let sameLine = try #require(self.notASessionFile(#"[{"type":x}]"#))
        #expect(sameLine.line == 1)
        #expect(sameLine.reason.hasSuffix("(column 10)"), "\(sameLine.reason)")
    }

    @Test func invalidJSONInAPrettyPrintedEventNamesItsLine() throws {
        let text = SessionFixtures.seedExample.replacingOccurrences(
            of: #""sql": "SELECT * FROM test_data;""#, with: #""sql": SELECT"#
        )
        let failure = try #require(self.notASessionFile(text))
        #expect(failure.line == 28, "the line where the event starts")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let column = try #require(Array(lines[32].utf8).firstIndex(of: UInt8(ascii: "S"))) + 1
        #expect(failure.reason.hasSuffix("(line 33, column \(column))"), "\(failure.reason)")
    }

    @Test func invalidUTF8OrRawControlCharactersInACompleteEventAreNotJSON() throws {
        let prefix = Array("[\n".utf8) + Array(Self.validEvent.utf8) + Array(",\n".utf8)
        let badUTF8 = prefix + Array(#"{"type": "query", "timestamp": "2025-10-07T21:30:15Z", "data": {"sql": ""#.utf8)
            + [0xC3, 0x28] + Array(#""}}"#.utf8) + Array("\n]\n".utf8)
        do {
            _ = try SessionFileReader.parse(badUTF8, path: "x.json")
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.description.hasPrefix("x.json:3: not a session file: the event is not valid JSON: "))
            #expect(error.description.contains("invalid UTF-8 in a string (column "))
        }
        let rawTab = "[\n" + Self.validEvent.replacingOccurrences(of: #""x""#, with: "\"a\tb\"") + "\n]\n"
        let failure = try #require(self.notASessionFile(rawTab))
        #expect(failure.line == 2)
        #expect(failure.reason.contains("unescaped control character U+0009"))
    }

    @Test func cellValuesAndNumbersKeepEveryDigit() throws {
        let text = "[\n"
            + #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","#
            + #""data":{"query_number":9007199254740993,"sql":"x"}},"#
            + "\n"
            + #"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":9007199254740993,"#
            + #""rows":[[9223372036854775808,"-9223372036854775808",0.1000]]}}"#
            + "\n]\n"
        let contents = try self.parse(text)
        #expect(contents.events.map(\.payload) == [
            .query(RecordedQuery(queryNumber: 9_007_199_254_740_993, sql: "x")),
            .result(
                RecordedResult(
                    queryNumber: 9_007_199_254_740_993,
                    result: RecordedResultSet(
                        rows: [["9223372036854775808", "-9223372036854775808", "0.1000"]], rowCount: 1
                    )
                )
            ),
        ])
    }

    @Test func eventWithAWrongTypeNamesItsLine() throws {
        let events = SessionFixtures.everyKindOfEvent()
        var text = String(decoding: self.finishedFile(events), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"type\":\"query_result\"", with: "\"type\":\"query_reply\"")
        let failure = try #require(self.notASessionFile(text))
        #expect(failure.line == 5, "the first query_result is the fourth event, on line 5")
        #expect(failure.reason.contains("\"type\" is \"query_reply\""))
    }

    @Test func readsRealFilesAndReportsMissingOnes() throws {
        let directory = SessionFixtures.makeTemporaryDirectory()
        defer { SessionFixtures.removeDirectory(directory) }
        let path = directory + "/seed.json"
        SessionFixtures.write(SessionFixtures.seedExample, to: path)
        #expect(try SessionFileReader.read(path: path).events.count == 4)

        let missing = directory + "/nope.json"
        #expect(throws: SessionFileError.notFound(path: missing)) {
            try SessionFileReader.read(path: missing)
        }
        #expect(SessionFileError.notFound(path: missing).description == "session file \(missing) does not exist")
        #expect(throws: SessionFileError.unreadable(path: directory, reason: "it is a directory")) {
            try SessionFileReader.read(path: directory)
        }
    }

    @Test func windowsLineEndingsAndByteOrderMarkAreAccepted() throws {
        let events = Array(SessionFixtures.everyKindOfEvent().prefix(3))
        let text = String(decoding: self.finishedFile(events), as: UTF8.self)
        let crlf = "\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")
        let contents = try self.parse(crlf)
        #expect(contents.events == events)
        #expect(contents.cut == nil)
    }
}
