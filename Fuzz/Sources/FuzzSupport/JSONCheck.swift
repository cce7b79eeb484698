import Foundation
import ProxyEngine

/// The invariants of pgreel's own JSON parser (which walks unsafe buffers) and of the session file format around
/// it, checked on any bytes. The first byte picks what the rest is:
///
/// - a JSON document: `JSONParser` accepts it or throws an error whose offset lies within the bytes; an accepted
///   value, written out again, parses back to the same value; a tight depth limit never crashes;
/// - a session file: `SessionFileReader.parse` returns events and a cut, or a one-line error (never a crash), and
///   the events it returns encode and decode back to themselves;
/// - strings for a recorded result: the session file's encoding decodes back to the same event, and the JSON log's
///   line (cut to its limits) is valid JSON.
public enum JSONCheck {
    public static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        switch input.choose(3) {
        case 0: self.document(input.rest())
        case 1: self.sessionFile(input.rest())
        default: self.encoding(&input)
        }
    }

    private static func document(_ bytes: [UInt8]) {
        do {
            let value = try JSONParser.parse(bytes)
            let again = try? JSONParser.parse(Array(self.encode(value).utf8))
            require(again == value, "a parsed value does not survive being written and parsed again")
        } catch {
            require(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset) of \(bytes.count)")
        }
        _ = try? JSONParser.parse(bytes, maximumDepth: 3)
    }

    private static func sessionFile(_ bytes: [UInt8]) {
        guard let contents = try? SessionFileReader.parse(bytes, path: "fuzz.json") else { return }
        for event in contents.events {
            let decoded = try? SessionEventJSON.decode(json: SessionEventJSON.encode(event))
            require(decoded == event, "an event read from a file does not survive encode + decode")
        }
    }

    private static func encoding(_ input: inout FuzzInput) {
        var strings: [String] = []
        while !input.isAtEnd, strings.count < 8 {
            let length = input.choose(64)
            strings.append(String(decoding: input.take(length), as: UTF8.self))
        }
        let text = { (index: Int) in strings.isEmpty ? "" : strings[index % strings.count] }
        let result = RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: [text(0), text(1)], columnTypes: [25, 25], rows: [[text(2), nil], [text(3), text(4)]],
                rowCount: 2, commandTag: text(5)),
            error: RecordedError(severity: "ERROR", code: "XX000", message: text(6), detail: text(7)),
            durationMS: 1.5)
        let event = SessionEvent(timestamp: Date(timeIntervalSince1970: 1_700_000_000), payload: .result(result))
        let decoded = try? SessionEventJSON.decode(json: SessionEventJSON.encode(event))
        require(decoded == event, "a result does not survive the session file's encode + decode")
        let line = JSONLogFormatter().line(for: ProxyEvent(sessionID: text(0), kind: .recorded(event)))
        require((try? JSONParser.parse(line)) != nil, "a JSON log line does not parse: \(line)")
    }

    /// Compact JSON for a parsed value, written independently of pgreel's writers.
    static func encode(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return number.description
        case .string(let string): return self.quote(string)
        case .array(let elements): return "[" + elements.map(self.encode).joined(separator: ",") + "]"
        case .object(let object):
            return "{" + object.members.map { self.quote($0.key) + ":" + self.encode($0.value) }.joined(separator: ",")
                + "}"
        }
    }

    private static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
