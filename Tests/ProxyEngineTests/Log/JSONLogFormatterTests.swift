import Foundation
import Testing

@testable import ProxyEngine

@Suite struct JSONLogFormatterTests {
    let formatter = JSONLogFormatter()

    func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func everyEventIsOneParsableLine() throws {
        let events = SeedSession.events
        for event in events {
            let line = self.formatter.line(for: event)
            #expect(!line.contains("\n"))
            #expect(line.hasPrefix("{\"time\":\""))
            let object = try self.parse(line)
            #expect(object["session"] as? String == "session_xxx")
            #expect(object["event"] as? String == JSONLogFormatter.eventName(event.kind))
            let time = try #require(object["time"] as? String)
            #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil)
        }
        let first = try self.parse(self.formatter.line(for: events[0]))
        #expect(first["time"] as? String == "2025-10-07T21:30:15.123000Z")
        #expect(first["event"] as? String == "connection_opened")
        #expect(first["client_address"] as? String == "127.0.0.1:52144")
    }

    @Test func recordedQueryAndResultKeepTheSessionFileShape() throws {
        let events = SeedSession.events
        let queryEvent = try #require(
            events.first { event in
                if case .recorded(let recorded) = event.kind, case .query = recorded.payload { return true }
                return false
            })
        let query = try self.parse(self.formatter.line(for: queryEvent))
        #expect(query["event"] as? String == "recorded")
        #expect(query["type"] as? String == "query")
        let queryData = try #require(query["data"] as? [String: Any])
        #expect(queryData["query_number"] as? Int == 1)
        #expect(queryData["sql"] as? String == "SELECT * FROM test_data;")

        let result = RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: ["id", "note"], columnTypes: [23, 25], rows: [["1", nil], ["2", ""]], rowCount: 2,
                commandTag: "SELECT 2"
            ),
            durationMS: 12.3
        )
        let line = self.formatter.line(for: SeedSession.recorded(.result(result), at: 0))
        let object = try self.parse(line)
        #expect(object["type"] as? String == "query_result")
        #expect(object["timestamp"] as? String == "2025-10-07T21:30:15.123000Z")
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["query_number"] as? Int == 1)
        #expect(data["columns"] as? [String] == ["id", "note"])
        #expect(data["column_types"] as? [Int] == [23, 25])
        let rows = try #require(data["rows"] as? [[Any]])
        #expect(rows.count == 2)
        #expect(rows[0][0] as? String == "1")
        #expect(rows[0][1] is NSNull)
        #expect(rows[1][1] as? String == "")
        #expect(data["row_count"] as? Int == 2)
        #expect(data["command_tag"] as? String == "SELECT 2")
        #expect(data["error"] == nil)
        #expect(data["duration_ms"] as? Double == 12.3)
        #expect(line.contains("\"duration_ms\":12.3"))
    }

    @Test func errorsAndOtherEvents() throws {
        let error = RecordedError(
            severity: "ERROR", code: "42P01", message: "relation \"x\" does not exist", hint: "create it",
            position: "15"
        )
        let failed = try self.parse(
            self.formatter.line(
                for: SeedSession.recorded(.result(RecordedResult(queryNumber: 3, error: error, durationMS: 0.5)), at: 0)
            )
        )
        let errorObject = try #require((failed["data"] as? [String: Any])?["error"] as? [String: Any])
        #expect(errorObject["code"] as? String == "42P01")
        #expect(errorObject["message"] as? String == "relation \"x\" does not exist")
        #expect(errorObject["hint"] as? String == "create it")
        #expect(errorObject["detail"] == nil)

        let refused = try self.parse(
            self.formatter.line(for: SeedSession.event(.refused(pseudoUser: nil, error: error)))
        )
        #expect(refused["event"] as? String == "refused")
        #expect(refused["pseudo_user"] is NSNull)
        #expect((refused["error"] as? [String: Any])?["code"] as? String == "42P01")

        let connected = try self.parse(self.formatter.line(for: SeedSession.events[3]))
        #expect(connected["event"] as? String == "connected")
        #expect(connected["backend_pid"] as? Int == 4242)
        #expect(connected["upstream_port"] as? Int == 5432)
        #expect(connected["real_user"] as? String == "postgres")

        let state = try self.parse(self.formatter.line(for: SeedSession.event(.transactionState(.inTransaction))))
        #expect(state["state"] as? String == "in_transaction")
        let cancel = try self.parse(self.formatter.line(for: SeedSession.event(.cancelRequested(forwarded: false))))
        #expect(cancel["forwarded"] as? Bool == false)
        let notify = try self.parse(
            self.formatter.line(for: SeedSession.event(.notification(channel: "c", payload: "p", processID: 9)))
        )
        #expect(notify["channel"] as? String == "c")
        #expect(notify["payload"] as? String == "p")
        #expect(notify["process_id"] as? Int == 9)
    }

    @Test func extendedQueryFields() throws {
        let query = RecordedQuery(
            queryNumber: 4, sql: "SELECT $1, $2", queryProtocol: .extended, statementName: "s1", portalName: "",
            parameters: [RecordedParameter(value: "1", format: .text), RecordedParameter(value: nil, format: .binary)],
            parameterTypes: [23, 0], resultFormats: [1], maxRows: 100
        )
        let object = try self.parse(
            self.formatter.line(for: SeedSession.event(.recorded(SessionEvent(timestamp: SeedSession.start, payload: .query(query))))))
        #expect(object["event"] as? String == "recorded")
        #expect(object["type"] as? String == "query")
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["protocol"] as? String == "extended")
        #expect(data["statement_name"] as? String == "s1")
        #expect(data["portal_name"] as? String == "")
        let parameters = try #require(data["parameters"] as? [[String: Any]])
        #expect(parameters[0]["value"] as? String == "1")
        #expect(parameters[1]["value"] is NSNull)
        #expect(parameters[1]["format"] as? String == "binary")
        #expect(data["parameter_types"] as? [Int] == [23, 0])
        #expect(data["result_formats"] as? [Int] == [1])
        #expect(data["max_rows"] as? Int == 100)
        #expect(data["redacted"] == nil)
    }

    @Test func activityDetailsOmitAbsentFields() throws {
        let line = self.formatter.line(for: SeedSession.events[2])
        let object = try self.parse(line)
        #expect(object["type"] as? String == "session_activity")
        let data = try #require(object["data"] as? [String: Any])
        #expect(data["activity"] as? String == "session_start")
        let details = try #require(data["details"] as? [String: Any])
        #expect(Set(details.keys) == ["session_id", "pseudo_user", "start_time"])
        #expect(details["start_time"] as? String == "2025-10-07T21:30:15.123000Z")
    }

    @Test func stringsAreEscapedAndRoundTrip() throws {
        let nasty = "quote\" backslash\\ newline\n tab\t esc\u{1B}[31m nul\u{0} csi\u{9B}2J ls\u{2028} 日本語 😀 é"
        let line = self.formatter.line(for: SeedSession.event(.recordingFailed(message: nasty)))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(line.contains("\\u001b[31m"))
        #expect(line.contains("\\u009b2J"))
        let object = try self.parse(line)
        #expect(object["message"] as? String == nasty)
    }

    /// The log writes durations with the session file's own writer (it has no encoder of its own any more).
    @Test func durationsAreWrittenLikeTheSessionFile() {
        func encoded(_ value: Double) -> String {
            var writer = SessionJSONWriter(bytes: [], limits: .log)
            writer.milliseconds(value)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        #expect(encoded(12.3) == "12.3")
        #expect(encoded(5) == "5")
        #expect(encoded(0.123_456_7) == "0.123")
        #expect(encoded(0.000_1) == "0")
        #expect(encoded(.nan) == "0")
        #expect(encoded(.infinity) == "0")
        for value in [1e21, -3.5, 1234.567] {
            let text = "[" + encoded(value) + "]"
            let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Double]
            #expect(parsed == [value])
        }
    }

    /// A client's huge values cost a log line what the limits allow, the line says what it left out, and the
    /// session file's encoding of the same event keeps everything.
    @Test func hugeValuesAreCutAndSaySo() throws {
        let huge = String(repeating: "a\tb\n\u{01}é世e\u{301}", count: 100_000)
        let rows = (0..<250).map { index -> [String?] in [String(index), index == 0 ? huge : "x"] }
        let result = RecordedResult(
            queryNumber: 7,
            result: RecordedResultSet(
                columns: ["n", "v"], columnTypes: [23, 25], rows: rows, rowCount: 250, commandTag: "SELECT 250"),
            durationMS: 1)
        let recorded = SessionEvent(timestamp: SeedSession.start, payload: .result(result))
        let event = ProxyEvent(sessionID: "session_xxx", time: SeedSession.start, kind: .recorded(recorded))
        let line = self.formatter.line(for: event)
        #expect(line.utf8.count < 64 * 1024)
        let object = try self.parse(line)
        let data = try #require(object["data"] as? [String: Any])
        let shown = try #require(data["rows"] as? [[Any]])
        #expect(shown.count == 100)
        #expect(data["row_count"] as? Int == 250)
        #expect(data["rows_truncated"] as? Bool == true)
        let cell = try #require(shown[0][1] as? String)
        #expect(cell.hasSuffix("…") && cell.utf8.count <= 4096 + 3)
        #expect(huge.hasPrefix(cell.dropLast()))
        #expect(object["log_cut"] as? [String: Int] == ["values": 1, "rows": 150])

        let sql = try self.parse(
            self.formatter.line(
                for: SeedSession.recorded(.query(RecordedQuery(queryNumber: 8, sql: huge)), at: 0)))
        let cutSQL = try #require((sql["data"] as? [String: Any])?["sql"] as? String)
        #expect(cutSQL.utf8.count <= 65_536 + 3 && cutSQL.hasSuffix("…"))

        let file = try SessionEventJSON.decode(json: SessionEventJSON.encode(recorded))
        guard case .result(let kept) = file.payload else {
            Issue.record("not a result")
            return
        }
        #expect(kept.result.rows.count == 250, "the session file keeps every row")
        #expect(kept.result.rows[0][1]?.utf8.elementsEqual(huge.utf8) == true, "and every byte")
    }

    /// What the log has no reason to cut it leaves alone: no `log_cut`, no `…`.
    @Test func ordinaryLinesCarryNoCutMarker() {
        for event in SeedSession.events {
            #expect(!self.formatter.line(for: event).contains("log_cut"))
        }
    }

    @Test func startLine() throws {
        let users = [
            BannerUser(
                pseudoUser: "pseudo_user", passwordInfo: .any, database: "postgres",
                maskedUpstreamURL: "postgres://postgres:***@localhost:5432/postgres"
            ),
            BannerUser(
                pseudoUser: "app", passwordInfo: .required(method: "SCRAM-SHA-256"), database: "app",
                maskedUpstreamURL: "postgres://svc:leaked@db:5432/app"
            ),
        ]
        let line = JSONLogFormatter.startLine(
            time: SeedSession.start, listen: "127.0.0.1:5433", users: users, sessionsDirectory: "sessions",
            recording: true
        )
        #expect(line.hasPrefix("{\"time\":\"2025-10-07T21:30:15.123000Z\",\"event\":\"proxy_started\""))
        #expect(!line.contains("leaked"))
        let object = try self.parse(line)
        #expect(object["listen"] as? String == "127.0.0.1:5433")
        #expect(object["recording"] as? Bool == true)
        #expect(object["sessions_directory"] as? String == "sessions")
        let parsedUsers = try #require(object["users"] as? [[String: Any]])
        #expect(parsedUsers.count == 2)
        #expect(parsedUsers[0]["password"] as? String == "any")
        #expect(parsedUsers[0]["upstream"] as? String == "postgres://postgres:***@localhost:5432/postgres")
        #expect(parsedUsers[1]["password"] as? String == "required")
        #expect(parsedUsers[1]["password_method"] as? String == "SCRAM-SHA-256")
        #expect(parsedUsers[1]["upstream"] as? String == "postgres://svc:***@db:5432/app")
    }
}
