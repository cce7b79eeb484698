import Foundation
import Testing

@testable import ProxyEngine

@Suite struct HeadlessLogFormatterTests {
    let plain = HeadlessLogFormatter(options: .init(color: false))

    func output(_ events: [ProxyEvent], _ formatter: HeadlessLogFormatter? = nil) -> String {
        events.map { (formatter ?? self.plain).text(for: $0) }.joined()
    }

    @Test func printsTheSeedSession() {
        let expected = """
            [session_xxx] 🔗 New connection from 127.0.0.1:52144
            [session_xxx] 👤 Pseudo user attempting connection: pseudo_user (database: postgres)
            [session_xxx] ✅ Credentials mapped: pseudo_user → postgres
            [session_xxx] 🔌 Connected to real database (backend pid 4242)
            [session_xxx] 📝 Session recording started (sessions/pseudo_user_2025-10-07_21-30-15.json)

            [session_xxx] 📝 Query #1 @ 21:30:15.123
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] SELECT * FROM test_data;
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━

            [session_xxx]    📊 Results:
            [session_xxx]    ┌──────┬───────┬───────┬────────────────────────────┐
            [session_xxx]    │ id   │ name  │ value │ created_at                 │
            [session_xxx]    ├──────┼───────┼───────┼────────────────────────────┤
            [session_xxx]    │ 1    │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    │ 2    │ test2 │ 200   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    │ 3    │ test3 │ 300   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    └──────┴───────┴───────┴────────────────────────────┘
            [session_xxx]    3 row(s)

            [session_xxx]    ✓ SELECT 3 (1.2 ms)

            [session_xxx] 📝 Query #2 @ 21:30:22.456
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] INSERT INTO test_data (name, value) VALUES ('new_record', 999);
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx]    → No result set
            [session_xxx]    ✓ INSERT 0 1 (0.8 ms)

            [session_xxx] 📝 Query #3 @ 21:30:27.623
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] UPDATE test_data SET value = 1000 WHERE name = 'new_record';
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx]    → No result set
            [session_xxx]    ✓ UPDATE 1 (0.7 ms)

            [session_xxx] 📝 Query #4 @ 21:30:35.123
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] SELECT * FROM test_data WHERE value > 500;
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━

            [session_xxx]    📊 Results:
            [session_xxx]    ┌──────┬────────────┬───────┬────────────────────────────┐
            [session_xxx]    │ id   │ name       │ value │ created_at                 │
            [session_xxx]    ├──────┼────────────┼───────┼────────────────────────────┤
            [session_xxx]    │ 4    │ new_record │ 1000  │ 2025-10-07 21:30:22.456789 │
            [session_xxx]    └──────┴────────────┴───────┴────────────────────────────┘
            [session_xxx]    1 row(s)

            [session_xxx]    ✓ SELECT 1 (0.5 ms)

            [session_xxx] 📝 Query #5 @ 21:30:47.000
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] DELETE FROM test_data WHERE name = 'new_record';
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx]    → No result set
            [session_xxx]    ✓ DELETE 1 (1.23 s)
            [session_xxx] 🔌 Connection closed (client disconnected)

            """
        let actual = self.output(SeedSession.events)
        #expect(actual == expected)
        if actual != expected {
            // Show the first differing line, which #expect alone buries in a wall of text.
            let pairs = zip(
                actual.split(separator: "\n", omittingEmptySubsequences: false),
                expected.split(separator: "\n", omittingEmptySubsequences: false))
            if let (got, want) = pairs.first(where: { $0.0 != $0.1 }) {
                Issue.record("first difference:\n  got:  \(got)\n  want: \(want)")
            }
        }
    }

    /// With no duration recorded (as in the seed's files), a query and its result print exactly the seed's lines.
    @Test func matchesTheSeedTextWhenNoDurationIsKnown() {
        let events =
            SeedSession.query(1, "SELECT * FROM test_data;", at: 0) + [
                SeedSession.result(
                    1, columns: ["id", "name", "value", "created_at"],
                    rows: [
                        ["1", "test1", "150", SeedSession.createdAt], ["2", "test2", "200", SeedSession.createdAt],
                        ["3", "test3", "300", SeedSession.createdAt],
                    ],
                    tag: "SELECT 3", durationMS: 0, at: 0
                )
            ] + SeedSession.query(2, "INSERT INTO test_data (name, value) VALUES ('new_record', 999);", at: 7.333) + [
                SeedSession.result(2, tag: "INSERT 0 1", durationMS: 0, at: 7.333)
            ]
        // Copied verbatim from EXAMPLE_WORKFLOW.txt, step 3.
        let seed = """

            [session_xxx] 📝 Query #1 @ 21:30:15.123
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] SELECT * FROM test_data;
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━

            [session_xxx]    📊 Results:
            [session_xxx]    ┌──────┬───────┬───────┬────────────────────────────┐
            [session_xxx]    │ id   │ name  │ value │ created_at                 │
            [session_xxx]    ├──────┼───────┼───────┼────────────────────────────┤
            [session_xxx]    │ 1    │ test1 │ 150   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    │ 2    │ test2 │ 200   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    │ 3    │ test3 │ 300   │ 2025-10-07 22:42:12.977496 │
            [session_xxx]    └──────┴───────┴───────┴────────────────────────────┘
            [session_xxx]    3 row(s)

            [session_xxx]    ✓ SELECT 3

            [session_xxx] 📝 Query #2 @ 21:30:22.456
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx] INSERT INTO test_data (name, value) VALUES ('new_record', 999);
            [session_xxx] ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━
            [session_xxx]    → No result set
            [session_xxx]    ✓ INSERT 0 1

            """
        #expect(self.output(events) == seed)
    }

    @Test func silentEvents() {
        let silent: [ProxyEvent.Kind] = [
            .transactionState(.inTransaction),
            .recorded(
                SessionEvent(
                    timestamp: SeedSession.start,
                    payload: .activity(
                        SessionActivity(activity: SessionActivity.sessionStart, details: ActivityDetails()))
                )
            ),
        ]
        for kind in silent {
            #expect(self.plain.lines(for: SeedSession.event(kind)).isEmpty)
        }
    }

    @Test func oneLineEvents() {
        let cases: [(ProxyEvent.Kind, String)] = [
            (
                .refused(
                    pseudoUser: "bob",
                    error: RecordedError(severity: "FATAL", code: "28P01", message: "password authentication failed")
                ),
                "❌ Connection refused: password authentication failed (SQLSTATE 28P01)"
            ),
            (
                .notice(RecordedError(severity: "WARNING", code: "01000", message: "disk almost full")),
                "⚠️  WARNING: disk almost full"
            ),
            (.notification(channel: "jobs", payload: "42", processID: 777), "📣 NOTIFY jobs: 42 (from pid 777)"),
            (.notification(channel: "jobs", payload: "", processID: 777), "📣 NOTIFY jobs (from pid 777)"),
            (.cancelRequested(forwarded: true), "🛑 Cancel request forwarded"),
            (.cancelRequested(forwarded: false), "🛑 Cancel request refused (unknown key)"),
            (
                .connectionClosed(reason: "server closed the connection"),
                "🔌 Connection closed (server closed the connection)"
            ),
            (.connectionClosed(reason: ""), "🔌 Connection closed"),
            (.recordingFailed(message: "No space left on device"), "❌ Recording failed: No space left on device"),
        ]
        for (kind, line) in cases {
            #expect(self.plain.lines(for: SeedSession.event(kind)) == ["[session_xxx] " + line])
        }
    }

    @Test func errorsWithSQLStateDetailAndHint() {
        let error = RecordedError(
            severity: "ERROR", code: "42P01", message: "relation \"x\" does not exist",
            detail: "first detail line\nsecond detail line", hint: "Check the table name.", position: "15"
        )
        let result = RecordedResult(queryNumber: 7, error: error, durationMS: 0.42)
        let lines = self.plain.lines(for: SeedSession.recorded(.result(result), at: 0))
        #expect(
            lines == [
                "[session_xxx]    ❌ ERROR 42P01: relation \"x\" does not exist (0.4 ms)",
                "[session_xxx]       DETAIL: first detail line",
                "[session_xxx]       second detail line",
                "[session_xxx]       HINT: Check the table name.",
            ]
        )
    }

    @Test func noticesAndSeveralResultSets() {
        let result = RecordedResult(
            queryNumber: 3,
            result: RecordedResultSet(columns: ["n"], rows: [["2"]], rowCount: 1, commandTag: "SELECT 1"),
            resultSets: [
                RecordedResultSet(commandTag: "CREATE TABLE"),
                RecordedResultSet(columns: ["n"], rows: [["1"]], rowCount: 1, commandTag: "SELECT 1"),
                RecordedResultSet(columns: ["n"], rows: [["2"]], rowCount: 1, commandTag: "SELECT 1"),
            ],
            notices: [
                RecordedError(severity: "NOTICE", code: "42P07", message: "relation \"t\" already exists, skipping")
            ],
            durationMS: 3.25
        )
        let lines = self.plain.lines(for: SeedSession.recorded(.result(result), at: 0))
        let body = lines.map { $0.hasPrefix("[session_xxx] ") ? String($0.dropFirst(14)) : $0 }
        #expect(
            body == [
                "   ⚠️  NOTICE: relation \"t\" already exists, skipping",
                "   → No result set",
                "   ✓ CREATE TABLE",
                "",
                "   📊 Results:",
                "   ┌──────┐",
                "   │ n    │",
                "   ├──────┤",
                "   │ 1    │",
                "   └──────┘",
                "   1 row(s)",
                "",
                "   ✓ SELECT 1",
                "",
                "   📊 Results:",
                "   ┌──────┐",
                "   │ n    │",
                "   ├──────┤",
                "   │ 2    │",
                "   └──────┘",
                "   1 row(s)",
                "",
                "   ✓ SELECT 1 (3.2 ms)",
            ]
        )
    }

    @Test func errorAfterAFirstStatementSucceeded() {
        let result = RecordedResult(
            queryNumber: 4,
            resultSets: [RecordedResultSet(commandTag: "INSERT 0 1"), RecordedResultSet()],
            error: RecordedError(severity: "ERROR", code: "22012", message: "division by zero")
        )
        let lines = self.plain.lines(for: SeedSession.recorded(.result(result), at: 0))
        #expect(
            lines == [
                "[session_xxx]    → No result set",
                "[session_xxx]    ✓ INSERT 0 1",
                "[session_xxx]    ❌ ERROR 22012: division by zero",
            ]
        )
    }

    @Test func longResultsAreCut() {
        let rows: [[String?]] = (1...30).map { ["\($0)", String(repeating: "v", count: 60)] }
        let set = RecordedResultSet(columns: ["id", "payload"], rows: rows, rowCount: 30, commandTag: "SELECT 30")
        let formatter = HeadlessLogFormatter(options: .init(color: false, maxRows: 5, maxCellWidth: 10))
        let lines = formatter.lines(
            for: SeedSession.recorded(.result(RecordedResult(queryNumber: 1, result: set)), at: 0))
        #expect(lines.contains("[session_xxx]    │ 5    │ vvvvvvvvv… │"))
        #expect(!lines.contains { $0.contains("│ 6 ") })
        #expect(lines.contains("[session_xxx]    … 25 more rows"))
        #expect(lines.contains("[session_xxx]    30 row(s)"))
    }

    @Test func truncatedRecordingsSaySoAndCountTheHiddenRows() {
        let rows: [[String?]] = (1...3).map { ["\($0)"] }
        let set = RecordedResultSet(
            columns: ["n"], rows: rows, rowCount: 1000, commandTag: "SELECT 1000", rowsTruncated: true,
            rowsDigest: "sha256:00"
        )
        let lines = self.plain.lines(
            for: SeedSession.recorded(.result(RecordedResult(queryNumber: 1, result: set)), at: 0))
        #expect(lines.contains("[session_xxx]    … 997 more rows"))
        #expect(lines.contains("[session_xxx]    1000 row(s) (showing first 3 of 1000 rows)"))
    }

    @Test func extendedProtocolShowsStatementAndParameters() {
        let query = RecordedQuery(
            queryNumber: 9, sql: "SELECT *\nFROM t\r\nWHERE a = $1 AND b = $2 AND c = $3 AND d = $4",
            queryProtocol: .extended, statementName: "find_t",
            parameters: [
                RecordedParameter(value: "it's", format: .text),
                RecordedParameter(value: nil, format: .text),
                RecordedParameter(value: String(repeating: "x", count: 100), format: .text),
                RecordedParameter(value: "AAE=", format: .binary),
            ]
        )
        let lines = self.plain.lines(for: SeedSession.recorded(.query(query), at: 0))
        let rule = "[session_xxx] " + String(repeating: "━", count: 53)
        #expect(
            lines == [
                "",
                "[session_xxx] 📝 Query #9 @ 21:30:15.123",
                rule,
                "[session_xxx] SELECT *",
                "[session_xxx] FROM t",
                "[session_xxx] WHERE a = $1 AND b = $2 AND c = $3 AND d = $4",
                rule,
                "[session_xxx]    ↳ prepared statement: find_t",
                "[session_xxx]    ↳ parameters: $1='it''s', $2=NULL, $3='\(String(repeating: "x", count: 39))…', "
                    + "$4=(binary) 'AAE='",
            ]
        )

        let unnamed = RecordedQuery(
            queryNumber: 10, sql: "SELECT 1", queryProtocol: .extended, statementName: "",
            parameters: [])
        let unnamedLines = self.plain.lines(for: SeedSession.recorded(.query(unnamed), at: 0))
        #expect(unnamedLines.count == 5)
        #expect(!unnamedLines.contains { $0.contains("↳") })
    }

    @Test func maskedQueriesSaySo() {
        let query = RecordedQuery(queryNumber: 2, sql: "ALTER ROLE x PASSWORD '***'", redacted: true)
        let lines = self.plain.lines(for: SeedSession.recorded(.query(query), at: 0))
        #expect(lines[1] == "[session_xxx] 📝 Query #2 @ 21:30:15.123 (password masked)")
    }

    @Test func sessionEndSummary() {
        let end = SessionActivity(
            activity: SessionActivity.sessionEnd,
            details: ActivityDetails(reason: "client disconnected", durationMS: 40_000, queryCount: 5)
        )
        #expect(
            self.plain.lines(for: SeedSession.recorded(.activity(end), at: 40))
                == ["[session_xxx] 🏁 Session ended (5 queries, 40.00 s)"]
        )
    }

    /// Hostile text from a client or server cannot reach the terminal as an escape sequence.
    var hostileEvents: [ProxyEvent] {
        let esc = "\u{1B}[2J\u{1B}]0;pwned\u{07}"
        let set = RecordedResultSet(
            columns: ["c" + esc], rows: [[esc], [nil]], rowCount: 2, commandTag: "SELECT 2" + esc)
        return SeedSession.events + [
            ProxyEvent(sessionID: "s" + esc, kind: .connectionOpened(clientAddress: esc)),
            SeedSession.event(.authenticating(pseudoUser: esc, database: esc)),
            SeedSession.recorded(.query(RecordedQuery(queryNumber: 6, sql: "SELECT '\(esc)'")), at: 50),
            SeedSession.recorded(
                .result(
                    RecordedResult(
                        queryNumber: 6, result: set,
                        error: RecordedError(severity: "ERROR", code: "XX000", message: esc, detail: esc, hint: esc),
                        notices: [RecordedError(severity: "NOTICE", code: "00000", message: esc)]
                    )
                ),
                at: 50
            ),
            SeedSession.event(.notice(RecordedError(severity: "WARNING", code: "01000", message: esc))),
            SeedSession.event(.notification(channel: esc, payload: esc, processID: 1)),
            SeedSession.event(.recordingFailed(message: esc)),
            SeedSession.event(.connectionClosed(reason: esc)),
        ]
    }

    @Test func noEscapeByteWithoutColour() {
        let text = self.output(self.hostileEvents)
        #expect(!text.unicodeScalars.contains("\u{1B}"))
        #expect(!text.unicodeScalars.contains("\u{07}"))
        #expect(text.contains("\\u{1B}[2J"))
    }

    @Test func colourWhenAskedButDataStaysEscaped() {
        let formatter = HeadlessLogFormatter(options: .init(color: true))
        let text = self.output(self.hostileEvents, formatter)
        #expect(text.contains("\u{1B}[2m[session_xxx]\u{1B}[0m "))
        #expect(text.contains("\u{1B}[32m✓ SELECT 3\u{1B}[0m (1.2 ms)"))
        #expect(text.contains("\u{1B}[1m📝 Query #1 @ 21:30:15.123\u{1B}[0m"))
        #expect(text.contains("\u{1B}[31m❌ Recording failed: "))
        #expect(text.contains("\u{1B}[33m⚠️  WARNING: "))
        // Only our own SGR sequences appear: the hostile "clear screen" and title sequences never do.
        #expect(!text.contains("\u{1B}[2J"))
        #expect(!text.contains("\u{1B}]0;"))
        #expect(!text.unicodeScalars.contains("\u{07}"))
    }
}
