import Foundation
import Testing

@testable import ProxyEngine

/// Hostile and broken session files: every one gives a clear one-line error naming the file and the line, or a
/// reported cut; none crashes the reader or makes it hang.
@Suite struct SessionFileReaderBadInputTests {
    private static let prefix = #"{"type": "query", "timestamp": "2025-10-07T21:30:15Z", "data": "#

    private func outcome(_ bytes: [UInt8]) -> String {
        do {
            let contents = try SessionFileReader.parse(bytes, path: "/data/bad.json")
            return "events \(contents.events.count), cut \(contents.cut?.description ?? "none")"
        } catch {
            return "error \(error.description)"
        }
    }

    private func expectOneLineError(_ bytes: [UInt8], line: Int, containing reason: String) {
        let text = self.outcome(bytes)
        #expect(text.hasPrefix("error /data/bad.json:\(line): not a session file: "), "\(text.prefix(300))")
        #expect(text.contains(reason), "\(text.prefix(300))")
        #expect(!text.contains("\n"), "one line")
        #expect(text.count < 400, "short: \(text.count) characters")
    }

    @Test(arguments: [
        (#"{"query_number": "one", "sql": "x"}"#, "\"data.query_number\""),
        (#"{"query_number": 1, "sql": 42}"#, "\"data.sql\""),
        (#"{"query_number": 1e400, "sql": "x"}"#, #""data.query_number" is a number, expected an integer"#),
        (#"{"query_number": 1, "sql": "x", "parameters": "no"}"#, "\"data.parameters\""),
        (#"[1, 2, 3]"#, "data"),
    ])
    func wrongTypesNameTheField(data: String, field: String) {
        let file = "[\n" + Self.prefix + data + "}\n]\n"
        self.expectOneLineError(Array(file.utf8), line: 2, containing: field)
    }

    @Test func wrongTypesInAResultNameTheField() {
        let file = """
            [
            {"type": "query_result", "timestamp": "2025-10-07T21:30:15Z", "data": {"query_number": 1, "rows": "many"}}
            ]
            """
        self.expectOneLineError(Array(file.utf8), line: 2, containing: "rows")
        let timestamp = """
            [
            {"type": "query", "timestamp": 1759872615, "data": {"query_number": 1, "sql": "x"}}
            ]
            """
        self.expectOneLineError(Array(timestamp.utf8), line: 2, containing: "timestamp")
    }

    @Test func deeplyNestedJSONIsAnErrorNotAStackOverflow() {
        let depth = 200_000
        let file = "[\n" + Self.prefix + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            + "}\n]\n"
        let text = self.outcome(Array(file.utf8))
        #expect(text.hasPrefix("error /data/bad.json:2: not a session file: "), "\(text.prefix(200))")
    }

    @Test func aHugeValidLineReadsAndAHugeBrokenLineNamesItsLine() {
        let sql = String(repeating: "x", count: 20 << 20)
        let valid = "[\n" + Self.prefix + #"{"query_number": 1, "sql": ""# + sql + "\"}}\n]\n"
        #expect(self.outcome(Array(valid.utf8)) == "events 1, cut none")

        // The same line with a broken escape: an error on line 2, without the 20 MB in the message.
        let broken = "[\n" + Self.prefix + #"{"query_number": 1, "sql": "\q"# + sql + "\"}}\n]\n"
        self.expectOneLineError(Array(broken.utf8), line: 2, containing: "not valid JSON")

        // A huge line that never ends (no closing quote or brace) is a cut-off recording, reported as such.
        let endless = "[\n" + Self.prefix + #"{"query_number": 1, "sql": ""# + sql
        #expect(self.outcome(Array(endless.utf8)).hasPrefix("events 0, cut line 2: the event starting on line 2 is incomplete"))
    }

    @Test func binaryGarbageAndInvalidUTF8AreErrors() {
        var random = SystemRandomNumberGenerator()
        let garbage = (0..<4096).map { _ in UInt8.random(in: 1...255, using: &random) }
        let text = self.outcome(garbage)
        #expect(text.hasPrefix("error /data/bad.json:") || text.hasPrefix("events 0"), "\(text.prefix(200))")

        var invalid = Array(("[\n" + Self.prefix + #"{"query_number": 1, "sql": ""#).utf8)
        invalid += [0xC3, 0x28, 0xFF, 0xFE]
        invalid += Array("\"}}\n]\n".utf8)
        self.expectOneLineError(invalid, line: 2, containing: "not valid JSON")
    }
}
