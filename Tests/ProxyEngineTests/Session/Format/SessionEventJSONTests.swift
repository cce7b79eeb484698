import Foundation
import Testing

@testable import ProxyEngine

@Suite("Session event JSON")
struct SessionEventJSONTests {
    /// Encodes `event` and parses it back with JSONSerialization.
    private func parsed(_ event: SessionEvent) throws -> [String: Any] {
        let bytes = SessionEventJSON.encode(event)
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        return try #require(object as? [String: Any])
    }

    private func data(_ event: SessionEvent) throws -> [String: Any] {
        try #require(try self.parsed(event)["data"] as? [String: Any])
    }

    @Test func everyFieldRoundTrips() throws {
        for event in SessionFixtures.everyKindOfEvent() {
            let bytes = SessionEventJSON.encode(event)
            #expect(!bytes.contains(UInt8(ascii: "\n")), "an event must fit on one line")
            // Foundation reads what we write (so do jq and JSON.parse); our own parser reads it back exactly.
            #expect(try JSONSerialization.jsonObject(with: Data(bytes)) is [String: Any])
            let decoded = try SessionEventJSON.decode(json: bytes)
            #expect(decoded == event)
            // Writing what was read gives the same bytes: nothing is lost or reformatted.
            #expect(SessionEventJSON.encode(decoded) == bytes)
        }
    }

    @Test func envelopeHasTypeTimestampAndData() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let types = try events.map { try self.parsed($0)["type"] as? String }
        #expect(types == [
            "session_activity", "session_activity", "query", "query_result", "query", "query_result",
            "query_result", "session_activity",
        ])
        let first = try self.parsed(events[0])
        #expect(first["timestamp"] as? String == "2025-10-07T21:30:15.123456Z")
        #expect(Set(first.keys) == ["type", "timestamp", "data"])
    }

    @Test func activityFieldsAreSnakeCase() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let start = try self.data(events[0])
        #expect(start["activity"] as? String == "session_start")
        let details = try #require(start["details"] as? [String: Any])
        #expect(details["session_id"] as? String == "session_1759881348861829000")
        #expect(details["pseudo_user"] as? String == "pseudo_user")
        #expect(details["start_time"] as? String == "2025-10-07T21:30:15.123456Z")
        #expect(details["format_version"] as? Int == 1)
        #expect(details["proxy_version"] as? String == "0.1.0")
        #expect(details["client_address"] as? String == "127.0.0.1:51234")
        #expect(details["application_name"] as? String == "psql")
        #expect(details["real_user"] == nil, "nil optionals are left out")

        let connection = try #require(try self.data(events[1])["details"] as? [String: Any])
        #expect(Set(connection.keys) == ["pseudo_user", "real_user", "database", "real_db_host", "real_db_port"])
        #expect(connection["real_db_port"] as? String == "5432", "the port is a string, as in the seed")

        let end = try #require(try self.data(events[7])["details"] as? [String: Any])
        #expect(Set(end.keys) == ["reason", "end_time", "duration_ms", "query_count"])
        #expect((end["duration_ms"] as? NSNumber)?.doubleValue == 45876.543)
        #expect(end["query_count"] as? Int == 3)
    }

    @Test func queryFieldsAreSnakeCase() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let simple = try self.data(events[2])
        #expect(Set(simple.keys) == ["query_number", "sql", "protocol"], "defaults and nil optionals are omitted")
        #expect(simple["protocol"] as? String == "simple")

        let extended = try self.data(events[4])
        #expect(extended["protocol"] as? String == "extended")
        #expect(extended["statement_name"] as? String == "")
        #expect(extended["portal_name"] as? String == "p1")
        #expect(extended["parameter_types"] as? [Int] == [23, 0, 4_294_967_295])
        #expect(extended["result_formats"] as? [Int] == [0, 1, -1])
        #expect(extended["max_rows"] as? Int == 100)
        #expect(extended["redacted"] as? Bool == true)
        let parameters = try #require(extended["parameters"] as? [[String: Any]])
        #expect(parameters.count == 3)
        #expect(parameters[1]["value"] as? String == "AAEC/w==")
        #expect(parameters[1]["format"] as? String == "binary")
        #expect(parameters[2]["value"] is NSNull, "a NULL parameter is JSON null")
    }

    @Test func resultFieldsAreSnakeCase() throws {
        let events = SessionFixtures.everyKindOfEvent()
        let simple = try self.data(events[3])
        #expect(Set(simple.keys) == [
            "query_number", "columns", "column_types", "rows", "row_count", "command_tag", "duration_ms",
        ])
        #expect(simple["columns"] as? [String] == ["id", "name", "value", "created_at"])
        #expect(simple["column_types"] as? [Int] == [23, 25, 23, 1114])
        #expect(simple["row_count"] as? Int == 2)
        #expect(simple["command_tag"] as? String == "SELECT 2")
        let rows = try #require(simple["rows"] as? [[Any]])
        #expect(rows[1][1] as? String == "", "the empty string stays a string")
        #expect(rows[1][2] is NSNull, "SQL NULL is JSON null")

        let failed = try self.data(events[5])
        #expect(failed["command_tag"] is NSNull, "command_tag is present even when there is none")
        #expect(failed["rows_truncated"] as? Bool == true)
        #expect((failed["rows_digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect((failed["result_sets"] as? [[String: Any]])?.count == 2)
        let error = try #require(failed["error"] as? [String: Any])
        #expect(error["severity"] as? String == "ERROR")
        #expect(error["code"] as? String == "42P01")
        #expect(error["message"] as? String == "relation \"nope\" does not exist")
        #expect(error["detail"] as? String == "some detail")
        #expect(error["hint"] as? String == "a hint")
        #expect(error["position"] as? String == "15")
        #expect((failed["notices"] as? [[String: Any]])?.first?["message"] as? String == "hello")
        #expect(failed["copy_data"] as? [String] == ["1\tone\n", "2\ttwo\n"])
        #expect(failed["copy_data_encoding"] as? String == "base64")
        #expect(failed["copy_data_truncated"] as? Bool == true)

        let minimal = try self.data(events[6])
        #expect(minimal["error"] == nil, "error only when there is one")
        #expect(minimal["rows_truncated"] == nil)
        #expect(minimal["columns"] as? [String] == [])
        #expect((minimal["rows"] as? [Any])?.isEmpty == true)
        #expect(minimal["row_count"] as? Int == 0)
    }

    @Test(arguments: [
        "quote \" and backslash \\ and slash /",
        "line\nbreak\r\nand\ttab",
        "controls \u{0}\u{1}\u{8}\u{B}\u{C}\u{1B}[31m\u{1F}\u{7F}",
        "C1 controls \u{80}\u{9B}\u{9F} and not \u{A0}\u{FF}",
        "emoji 🐘👩‍👩‍👧 and é vs e\u{301}, 中文, 𝄞",
        "",
        "\u{FFFD} replacement and \u{2028} line separator",
    ])
    func stringsAreEscapedAndRoundTrip(text: String) throws {
        let event = SessionEvent(
            timestamp: SessionFixtures.start,
            payload: .result(
                RecordedResult(
                    queryNumber: 1,
                    result: RecordedResultSet(columns: [text], rows: [[text, nil, ""]], rowCount: 1, commandTag: text)
                )
            )
        )
        let bytes = SessionEventJSON.encode(event)
        #expect(!bytes.contains { $0 < 0x20 || $0 == 0x7F }, "no raw control byte may reach the file")
        #expect(!zip(bytes, bytes.dropFirst()).contains { $0 == 0xC2 && $1 < 0xA0 }, "no raw C1 control")
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        let data = try #require((object as? [String: Any])?["data"] as? [String: Any])
        #expect(data["columns"] as? [String] == [text])
        #expect(data["command_tag"] as? String == text)
        let row = try #require((data["rows"] as? [[Any]])?.first)
        #expect(row[0] as? String == text)
        #expect(row[1] is NSNull)
        #expect(row[2] as? String == "")
        #expect(try SessionEventJSON.decode(json: bytes) == event)
    }

    @Test func escapesUseShortFormsWhereJSONHasThem() {
        var writer = SessionJSONWriter(bytes: [])
        writer.string("\"\\\n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F}\u{9B}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""\"\\\n\r\t\b\f\u0000\u001f\u007f\u009b""#)
    }

    @Test(arguments: [
        (12.345, "12.345"), (0.5, "0.5"), (3, "3"), (0, "0"), (0.0004, "0"), (0.0005, "0.001"),
        (-2.5, "-2.5"), (1234567.891, "1234567.891"), (0.1 + 0.2, "0.3"), (1e-7, "0"), (86_400_000.01, "86400000.01"),
        (Double.nan, "0"), (Double.infinity, "0"),
    ])
    func durationsHaveNoExponentNoise(value: Double, expected: String) {
        var writer = SessionJSONWriter(bytes: [])
        writer.milliseconds(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test(arguments: [Int.min, -1, 0, 7, 1_000_000, Int.max])
    func integersAreWrittenExactly(value: Int) {
        var writer = SessionJSONWriter(bytes: [])
        writer.int(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
    }

    @Test func timestampsAreUTCWithMicroseconds() {
        #expect(SessionTimestamp.format(SessionFixtures.start) == "2025-10-07T21:30:15.123456Z")
        #expect(SessionTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(SessionTimestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        #expect(SessionTimestamp.format(SessionFixtures.date("2024-02-29T23:59:59.999999Z"))
            == "2024-02-29T23:59:59.999999Z")
        #expect(SessionTimestamp.format(.distantFuture) == "4001-01-01T00:00:00.000000Z")
        #expect(SessionTimestamp.fileNameStamp(SessionFixtures.start) == "2025-10-07_21-30-15")
    }

    @Test func formattingIsStableForAnyDate() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -2e9...4e9, using: &generator))
            let text = SessionTimestamp.format(date)
            let read = SessionTimestamp.parse(text)
            // Rounded to the nearest microsecond, give or take the Double spacing of dates (0.48 µs after 2038).
            #expect(read.map { abs($0.timeIntervalSince(date)) < 0.000_001 } == true, "\(text)")
            #expect(read.map(SessionTimestamp.format) == text)
            // The formatter agrees with Foundation's calendar on the whole seconds.
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
            let wholeSeconds = Date(timeIntervalSince1970: (microseconds / 1_000_000).rounded(.down))
            #expect(text.hasPrefix(formatter.string(from: wholeSeconds)), "\(text)")
        }
    }

    @Test(arguments: [
        ("2025-10-07T21:30:15Z", "2025-10-07T21:30:15.000000Z"),
        ("2025-10-07T21:30:15.5Z", "2025-10-07T21:30:15.500000Z"),
        ("2025-10-07T21:30:15.123456789Z", "2025-10-07T21:30:15.123457Z"),
        ("2025-10-07T23:59:59.9999999Z", "2025-10-08T00:00:00.000000Z"),
        ("2025-10-07T23:30:15+02:00", "2025-10-07T21:30:15.000000Z"),
        ("2025-10-07T16:00:15.25-0530", "2025-10-07T21:30:15.250000Z"),
        ("2025-10-07 21:30:15z", "2025-10-07T21:30:15.000000Z"),
        ("2025-10-07T21:30:15", "2025-10-07T21:30:15.000000Z"),
    ])
    func timestampsAreReadLeniently(text: String, expected: String) {
        #expect(SessionTimestamp.parse(text).map(SessionTimestamp.format) == expected)
    }

    @Test(arguments: [
        "", "yesterday", "2025-10-07", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-10-07T24:00:00Z",
        "2025-10-07T21:30:15.Z", "2025-10-07T21:30:15ZZ", "2025-10-07T21:30:15+2", "2025-10-07T21:30:15 UTC",
    ])
    func badTimestampsAreRejected(text: String) {
        #expect(SessionTimestamp.parse(text) == nil)
    }

    @Test func decoderAcceptsSeedStyleEvents() throws {
        let json = """
            {"type": "session_activity", "timestamp": "2025-10-07T21:30:15+00:00", "extra": [1, 2],
             "data": {"activity": "connection", "future_field": {"x": 1},
                      "details": {"real_db_port": 5432, "real_db_host": "localhost", "unknown": true}}}
            """
        let event = try SessionEventJSON.decode(json: Array(json.utf8))
        #expect(event.timestamp == SessionFixtures.date("2025-10-07T21:30:15Z"))
        guard case .activity(let activity) = event.payload else {
            Issue.record("expected an activity, got \(event)")
            return
        }
        #expect(activity.details.realDBPort == "5432", "a numeric port is read as its text")
        #expect(activity.details.realDBHost == "localhost")

        let result = try SessionEventJSON.decode(
            json: Array(#"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":4,"#.utf8)
                + Array(#""rows":[["1",null,2,true]],"error":"ERROR: boom"}}"#.utf8)
        )
        guard case .result(let recorded) = result.payload else {
            Issue.record("expected a result, got \(result)")
            return
        }
        #expect(recorded.result.rows == [["1", nil, "2", "t"]])
        #expect(recorded.result.rowCount == 1, "a missing row_count is the number of rows")
        #expect(recorded.result.commandTag == nil)
        #expect(recorded.durationMS == 0)
        #expect(recorded.error == RecordedError(severity: "ERROR", code: "", message: "ERROR: boom"))

        let query = try SessionEventJSON.decode(
            json: Array(
                #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"sql":"x"}}"#.utf8
            )
        )
        #expect(query.payload == .query(RecordedQuery(queryNumber: 1, sql: "x")))
    }

    @Test(arguments: [
        (#"[1]"#, "the event is an array, expected an object"),
        (#"{"timestamp":"2025-10-07T21:30:15Z","data":{}}"#, #""type" is missing"#),
        (#"{"type":"querry","timestamp":"2025-10-07T21:30:15Z","data":{}}"#, #""type" is "querry", expected"#),
        (#"{"type":"query","data":{}}"#, #""timestamp" is missing"#),
        (#"{"type":"query","timestamp":"noon","data":{}}"#, #""timestamp" is "noon", expected an RFC 3339"#),
        (#"{"type":"query","timestamp":"2025-10-07T21:30:15Z"}"#, #""data" is missing"#),
        (#"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1}}"#, #""data.sql" is missing"#),
        (
            #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"sql":5}}"#,
            #""data.sql" is a number, expected a string"#
        ),
        (
            #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":true,"sql":""}}"#,
            #""data.query_number" is a boolean, expected an integer"#
        ),
        (
            #"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"rows":[[{}]]}}"#,
            #""data.rows[0][0]" is an object, expected a string or null"#
        ),
        (
            #"{"type":"query","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"sql":"","parameters":"#
                + #"[{"value":"1"},{"value":"2","format":"octal"}]}}"#,
            #""data.parameters[1].format" is "octal", expected text or binary"#
        ),
        (
            #"{"type":"query_result","timestamp":"2025-10-07T21:30:15Z","data":{"query_number":1,"error":5}}"#,
            #""data.error" is a number, expected an object"#
        ),
        (
            #"{"type":"session_activity","timestamp":"2025-10-07T21:30:15Z","data":{"activity":"x","details":{"#
                + #""start_time":"soon"}}}"#,
            #""data.details.start_time" is "soon""#
        ),
    ])
    func decoderNamesTheBadField(json: String, reason: String) {
        #expect {
            _ = try SessionEventJSON.decode(json: Array(json.utf8))
        } throws: { error in
            (error as? SessionEventDecodingError)?.reason.contains(reason) == true
        }
    }

    /// A `data` object inside an event of `type`, as JSON text.
    private func event(_ type: String, data: String) -> [UInt8] {
        Array(#"{"type":"\#(type)","timestamp":"2025-10-07T21:30:15Z","data":\#(data)}"#.utf8)
    }

    private func decodedQuery(_ data: String) throws -> RecordedQuery {
        let event = try SessionEventJSON.decode(json: self.event("query", data: data))
        guard case .query(let query) = event.payload else { throw SessionEventDecodingError(reason: "not a query") }
        return query
    }

    private func decodedResult(_ data: String) throws -> RecordedResult {
        let event = try SessionEventJSON.decode(json: self.event("query_result", data: data))
        guard case .result(let result) = event.payload else { throw SessionEventDecodingError(reason: "not a result") }
        return result
    }

    @Test(arguments: [
        (#""7""#, 7), ("7.0", 7), ("7e0", 7), ("0.7e1", 7), ("-3", -3),
        ("9007199254740993", 9_007_199_254_740_993),  // above 2^53: exact, not rounded through a Double
        ("9223372036854775807", Int.max),
    ])
    func integersComeAsNumbersOrStrings(json: String, expected: Int) throws {
        #expect(try self.decodedQuery(#"{"query_number":\#(json),"sql":"x"}"#).queryNumber == expected)
    }

    @Test func numbersAreReadWithoutLosingAnything() throws {
        let result = try self.decodedResult(
            #"{"query_number":1,"rows":[[12345678901234567890123,-0.000,1e3,2.50,true,false,null,"7"]],"#
                + #""duration_ms":"2.5","column_types":[23,"25"],"command_tag":null}"#
        )
        #expect(result.result.rows == [["12345678901234567890123", "-0.000", "1e3", "2.50", "t", "f", nil, "7"]])
        #expect(result.durationMS == 2.5)
        #expect(result.result.columnTypes == [23, 25])
        #expect(result.result.commandTag == nil)
        #expect(try self.decodedResult(#"{"query_number":1,"duration_ms":3}"#).durationMS == 3)

        let query = try self.decodedQuery(
            #"{"query_number":1,"sql":"x","parameters":[{"value":5},{"value":-1.50},{"value":null}],"max_rows":"9"}"#
        )
        #expect(query.parameters?.map(\.value) == ["5", "-1.50", nil])
        #expect(query.maxRows == 9)
    }

    @Test(arguments: [
        (#"{"query_number":1.5,"sql":""}"#, #""data.query_number" is a number, expected an integer"#),
        (#"{"query_number":1e20,"sql":""}"#, #""data.query_number" is a number, expected an integer"#),
        (#"{"query_number":"one","sql":""}"#, #""data.query_number" is the string "one", expected an integer"#),
        (#"{"query_number":[1],"sql":""}"#, #""data.query_number" is an array, expected an integer"#),
        (#"{"query_number":1,"sql":null}"#, #""data.sql" is missing"#),
        (#"{"query_number":1,"sql":true}"#, #""data.sql" is a boolean, expected a string"#),
        (#"{"query_number":1,"sql":"","redacted":1}"#, #""data.redacted" is a number, expected true or false"#),
        (#"{"query_number":1,"sql":"","redacted":"true"}"#, #""data.redacted" is the string "true", expected"#),
        (
            #"{"query_number":1,"sql":"","parameters":["x"]}"#,
            #""data.parameters[0]" is the string "x", expected an object"#
        ),
        (#"{"query_number":1,"sql":"","parameters":[{"value":true}]}"#, #""data.parameters[0].value" is a boolean"#),
        (
            #"{"query_number":1,"sql":"","parameter_types":[-1]}"#,
            #""data.parameter_types[0]" is a number, expected an integer from 0 to 4294967295"#
        ),
        (#"{"query_number":1,"sql":"","max_rows":4294967296}"#, #""data.max_rows" is out of range"#),
    ])
    func queryFieldsOfTheWrongKindAreNamed(data: String, reason: String) {
        #expect {
            _ = try SessionEventJSON.decode(json: self.event("query", data: data))
        } throws: { error in
            (error as? SessionEventDecodingError)?.reason.contains(reason) == true
        }
    }

    @Test(arguments: [
        (#"{"query_number":1,"duration_ms":true}"#, #""data.duration_ms" is a boolean, expected a number"#),
        (#"{"query_number":1,"duration_ms":"soon"}"#, #""data.duration_ms" is the string "soon", expected a number"#),
        (#"{"query_number":1,"rows_truncated":0}"#, #""data.rows_truncated" is a number, expected true or false"#),
        (#"{"query_number":1,"rows":[1]}"#, #""data.rows[0]" is a number, expected an array"#),
        (#"{"query_number":1,"rows":[["a",[]]]}"#, #""data.rows[0][1]" is an array, expected a string or null"#),
        (#"{"query_number":1,"columns":[null]}"#, #""data.columns[0]" is null, expected a string"#),
        (#"{"query_number":1,"notices":[5]}"#, #""data.notices[0]" is a number, expected an object"#),
        (#"{"query_number":1,"error":{"message":7}}"#, #""data.error.message" is a number, expected a string"#),
        (#"{"query_number":1,"notices":[{},{"code":false}]}"#, #""data.notices[1].code" is a boolean"#),
        (
            #"{"query_number":1,"result_sets":[{},{"columns":"x"}]}"#,
            #""data.result_sets[1].columns" is the string "x", expected an array"#
        ),
        (#"{"query_number":1,"copy_data":["a",{}]}"#, #""data.copy_data[1]" is an object, expected a string"#),
    ])
    func resultFieldsOfTheWrongKindAreNamed(data: String, reason: String) {
        #expect {
            _ = try SessionEventJSON.decode(json: self.event("query_result", data: data))
        } throws: { error in
            (error as? SessionEventDecodingError)?.reason.contains(reason) == true
        }
    }

    @Test func activityPortIsTextWhateverItsJSONType() throws {
        func connection(port json: String) -> [UInt8] {
            self.event("session_activity", data: #"{"activity":"connection","details":{"real_db_port":\#(json)}}"#)
        }
        for (json, expected) in [(#""5432""#, "5432"), ("5432", "5432"), ("null", nil)] as [(String, String?)] {
            let event = try SessionEventJSON.decode(json: connection(port: json))
            let details = ActivityDetails(realDBPort: expected)
            #expect(event.payload == .activity(SessionActivity(activity: "connection", details: details)))
        }
        #expect {
            _ = try SessionEventJSON.decode(json: connection(port: "true"))
        } throws: { error in
            (error as? SessionEventDecodingError)?.reason
                == #""data.details.real_db_port" is a boolean, expected a string"#
        }
    }

    @Test func textThatIsNotJSONSaysWhere() {
        #expect {
            _ = try SessionEventJSON.decode(json: Array(#"{"type":"query",}"#.utf8))
        } throws: { error in
            (error as? SessionEventDecodingError)?.reason
                == #"not valid JSON: unexpected "}", expected a string key at byte 16"#
        }
    }
}
