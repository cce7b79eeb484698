import Foundation
import ProxyEngine
import Testing

/// `pgreel replay` on files that are not session files: one line on stderr naming the file (and the line), exit
/// code 2, nothing run.
@Suite struct BadSessionFileTests {
    private static let event = #"{"type": "query", "timestamp": "2025-10-07T21:30:15Z", "data": "#

    /// Each bad file by name (the contents stay out of the test's arguments: some are large or binary).
    private static func contents(_ name: String) -> String {
        switch name {
        case "bad-json": return "[\n{\"type\": \"query\", oops}\n]\n"
        case "wrong-type": return "[\n" + Self.event + "{\"query_number\": \"one\", \"sql\": \"x\"}}\n]\n"
        case "not-an-array": return "{\"type\": \"query\"}\n"
        case "huge-line":
            return "[\n" + Self.event + "{\"query_number\": 1, \"sql\": \"\\q" + String(repeating: "x", count: 8 << 20)
                + "\"}}\n]\n"
        default: return String(decoding: (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }, as: UTF8.self)
        }
    }

    @Test(arguments: [
        ("bad-json", "bad-json.json:2: not a session file: the event is not valid JSON"),
        ("wrong-type", "wrong-type.json:2: not a session file: \"data.query_number\""),
        ("not-an-array", "not-an-array.json:1: not a session file: the file holds a single JSON object"),
        ("huge-line", "huge-line.json:2: not a session file: the event is not valid JSON"),
        ("binary", "binary.json:1: not a session file"),
    ])
    func replayRefusesABadFileInOneLineWithExitCode2(name: String, message: String) async throws {
        let directory = try makeTemporaryDirectory(prefix: "pgreel-bad-files")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/\(name).json"
        try Self.contents(name).write(toFile: path, atomically: true, encoding: .utf8)
        // The target is never reached: the file is refused first.
        let result = try await ProcessRunner.run(
            try Tools.pgreelBinary, ["replay", path, "--db-url", "postgres://nobody@127.0.0.1:1/nothing"],
            environment: ["NO_COLOR": "1"], timeout: .seconds(60))
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.stderr.prefix(500))")
        #expect(result.stderr.hasPrefix("pgreel replay: \(directory)/\(message)"), "\(result.stderr.prefix(500))")
        #expect(result.stderr.count < 500)
        #expect(result.stdout.isEmpty)
    }

    @Test func replayRefusesAMissingFileAndAnEmptyDirectory() async throws {
        let directory = try makeTemporaryDirectory(prefix: "pgreel-bad-files")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (path, message) in [
            (directory + "/missing.json", "session file \(directory)/missing.json does not exist"),
            (directory, "\(directory) holds no session files (*.json)"),
        ] {
            let result = try await ProcessRunner.run(
                try Tools.pgreelBinary, ["replay", path, "--db-url", "postgres://nobody@127.0.0.1:1/nothing"],
                environment: ["NO_COLOR": "1"])
            #expect(result.status == 2)
            #expect(result.stderr == "pgreel replay: \(message)\n")
        }
    }
}
