import Foundation
import NIOCore
import Testing

@testable import ProxyEngine

/// Drives a SessionTracker with encoded messages, as the relay would.
private struct TrackerDriver {
    var tracker: SessionTracker
    var clock: UInt64 = 1_000_000

    init(maxRows: Int = 1000) {
        self.tracker = SessionTracker(maxRecordedRows: maxRows)
    }

    mutating func client(_ encode: (inout ByteBuffer) -> Void) throws {
        try self.feed(encode) { try $0.tracker.frontend(id: $1, payload: $2, now: Date(), monotonic: $0.clock) }
    }

    mutating func server(_ encode: (inout ByteBuffer) -> Void) throws {
        try self.feed(encode) { try $0.tracker.backend(id: $1, payload: $2, now: Date(), monotonic: $0.clock) }
    }

    private mutating func feed(
        _ encode: (inout ByteBuffer) -> Void, _ deliver: (inout TrackerDriver, UInt8, ByteBuffer) throws -> Void
    ) throws {
        var buffer = ByteBuffer()
        encode(&buffer)
        var decoder = RawMessageDecoder(direction: .backend)
        self.clock += 2_500_000
        while let message = try decoder.decode(buffer: &buffer) {
            try deliver(&self, message.id, message.payload)
        }
    }

    mutating func outputs() -> [SessionTracker.Output] { self.tracker.takeOutputs() }

    mutating func queries() -> [RecordedQuery] {
        self.outputs().compactMap { if case .query(let query, _) = $0 { return query } else { return nil } }
    }
}

private func tag(_ tag: String) -> (inout ByteBuffer) -> Void {
    { $0.writeMessage(id: BackendMessageID.commandComplete) { $0.writeCString(tag) } }
}

private func results(_ outputs: [SessionTracker.Output]) -> [RecordedResult] {
    outputs.compactMap { if case .result(let result, _) = $0 { return result } else { return nil } }
}

@Suite struct SessionTrackerTests {
    @Test func simpleQueryPairsQueryWithRowsAndTag() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("SELECT * FROM test_data;", into: &$0) }
        let queries = driver.queries()
        #expect(queries == [RecordedQuery(queryNumber: 1, sql: "SELECT * FROM test_data;")])

        try driver.server {
            RowDescription(columns: [.init(name: "id", typeOID: 23), .init(name: "name", typeOID: 25)]).encode(into: &$0)
            DataRow.encode(["1", "test1"], into: &$0)
            DataRow.encode(["2", nil], into: &$0)
            DataRow.encode(["3", ""], into: &$0)
            tag("SELECT 3")(&$0)
        }
        #expect(driver.outputs().isEmpty, "the result is complete only at ReadyForQuery")
        try driver.server { ReadyForQuery.encode(.idle, into: &$0) }
        let outputs = driver.outputs()
        let result = try #require(results(outputs).first)
        #expect(result.queryNumber == 1)
        #expect(result.result.columns == ["id", "name"])
        #expect(result.result.columnTypes == [23, 25])
        #expect(result.result.rows == [["1", "test1"], ["2", nil], ["3", ""]])
        #expect(result.result.rowCount == 3)
        #expect(result.result.commandTag == "SELECT 3")
        #expect(result.error == nil)
        #expect(result.resultSets == nil)
        #expect(result.durationMS == 5.0)
        #expect(outputs.last == .transactionState(.idle))
    }

    @Test func multiStatementQueryKeepsEveryResultSet() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("SELECT 1; INSERT INTO t VALUES (1); SELECT 'a'", into: &$0) }
        try driver.server {
            RowDescription(columns: [.init(name: "?column?", typeOID: 23)]).encode(into: &$0)
            DataRow.encode(["1"], into: &$0)
            tag("SELECT 1")(&$0)
            tag("INSERT 0 1")(&$0)
            RowDescription(columns: [.init(name: "?column?", typeOID: 25)]).encode(into: &$0)
            DataRow.encode(["a"], into: &$0)
            tag("SELECT 1")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let result = try #require(results(driver.outputs()).first)
        #expect(result.resultSets?.map(\.commandTag) == ["SELECT 1", "INSERT 0 1", "SELECT 1"])
        #expect(result.resultSets?[1].columns == [])
        #expect(result.result.rows == [["a"]])
    }

    @Test func errorInMultiStatementQueryEndsIt() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("SELECT 1; SELECT * FROM missing; SELECT 2", into: &$0) }
        try driver.server {
            RowDescription(columns: [.init(name: "x", typeOID: 23)]).encode(into: &$0)
            DataRow.encode(["1"], into: &$0)
            tag("SELECT 1")(&$0)
            ErrorFields(severity: "ERROR", code: "42P01", message: "relation \"missing\" does not exist").encode(into: &$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let result = try #require(results(driver.outputs()).first)
        #expect(result.error?.code == "42P01")
        #expect(result.result.commandTag == "SELECT 1")
    }

    @Test func extendedPipelineWithUnnamedStatements() throws {
        var driver = TrackerDriver()
        // Two queries pipelined before one Sync, as pgbench -M extended and drivers do.
        try driver.client {
            ParseMessage(name: "", sql: "SELECT $1::int + 1", parameterTypes: [23]).encode(into: &$0)
            BindMessage(portal: "", statement: "", parameterFormats: [], parameters: [Array("41".utf8)], resultFormats: [])
                .encode(into: &$0)
            TargetedMessage(target: .portal, name: "").encode(id: FrontendMessageID.describe, into: &$0)
            ExecuteMessage(portal: "").encode(into: &$0)
            ParseMessage(name: "", sql: "SELECT $1::text", parameterTypes: []).encode(into: &$0)
            BindMessage(portal: "", statement: "", parameterFormats: [1], parameters: [[0xDE, 0xAD]], resultFormats: [1])
                .encode(into: &$0)
            TargetedMessage(target: .portal, name: "").encode(id: FrontendMessageID.describe, into: &$0)
            ExecuteMessage(portal: "").encode(into: &$0)
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
        }
        let queries = driver.queries()
        #expect(queries.count == 2)
        #expect(queries[0].sql == "SELECT $1::int + 1")
        #expect(queries[0].queryProtocol == .extended)
        #expect(queries[0].statementName == "")
        #expect(queries[0].parameters == [RecordedParameter(value: "41", format: .text)])
        #expect(queries[0].parameterTypes == [23])
        #expect(queries[1].parameters == [RecordedParameter(value: "3q0=", format: .binary)])
        #expect(queries[1].resultFormats == [1])

        try driver.server {
            EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
            EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
            RowDescription(columns: [.init(name: "?column?", typeOID: 23)]).encode(into: &$0)
            DataRow.encode(["42"], into: &$0)
            tag("SELECT 1")(&$0)
            EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
            EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
            RowDescription(columns: [.init(name: "text", typeOID: 25, format: 1)]).encode(into: &$0)
            $0.writeMessage(id: BackendMessageID.dataRow) {
                $0.writeInteger(Int16(1))
                $0.writeInteger(Int32(2))
                $0.writeBytes([0xDE, 0xAD])
            }
            tag("SELECT 1")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let done = results(driver.outputs())
        #expect(done.map(\.queryNumber) == [1, 2])
        #expect(done[0].result.rows == [["42"]])
        #expect(done[0].result.columns == ["?column?"])
        #expect(done[1].result.rows == [["3q0="]], "binary values are recorded as base64")
    }

    @Test func preparedStatementIsReusedByName() throws {
        var driver = TrackerDriver()
        try driver.client {
            ParseMessage(name: "P0_1", sql: "SELECT abalance FROM pgbench_accounts WHERE aid = $1", parameterTypes: [])
                .encode(into: &$0)
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
        }
        try driver.server {
            EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        #expect(results(driver.outputs()).isEmpty)
        for aid in ["7", "8"] {
            try driver.client {
                BindMessage(portal: "", statement: "P0_1", parameterFormats: [], parameters: [Array(aid.utf8)], resultFormats: [])
                    .encode(into: &$0)
                ExecuteMessage(portal: "").encode(into: &$0)
                EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
            }
            try driver.server {
                EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
                DataRow.encode(["0"], into: &$0)
                tag("SELECT 1")(&$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
        }
        let outputs = driver.outputs()
        let queries = outputs.compactMap { if case .query(let q, _) = $0 { return q } else { return nil } }
        #expect(queries.map(\.statementName) == ["P0_1", "P0_1"])
        #expect(queries.map { $0.parameters?.first?.value } == ["7", "8"])
        #expect(results(outputs).map(\.result.rowCount) == [1, 1])
    }

    @Test func errorInPipelineSkipsUntilSync() throws {
        var driver = TrackerDriver()
        try driver.client {
            for sql in ["SELECT 1/0", "SELECT 2"] {
                ParseMessage(name: "", sql: sql, parameterTypes: []).encode(into: &$0)
                BindMessage(portal: "", statement: "", parameterFormats: [], parameters: [], resultFormats: []).encode(into: &$0)
                ExecuteMessage(portal: "").encode(into: &$0)
            }
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
            ParseMessage(name: "", sql: "SELECT 3", parameterTypes: []).encode(into: &$0)
            BindMessage(portal: "", statement: "", parameterFormats: [], parameters: [], resultFormats: []).encode(into: &$0)
            ExecuteMessage(portal: "").encode(into: &$0)
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
        }
        _ = driver.outputs()
        try driver.server {
            EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
            EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
            ErrorFields(severity: "ERROR", code: "22012", message: "division by zero").encode(into: &$0)
            ReadyForQuery.encode(.idle, into: &$0)
            EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
            EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
            DataRow.encode(["3"], into: &$0)
            tag("SELECT 1")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let done = results(driver.outputs())
        #expect(done.map(\.queryNumber) == [1, 2, 3])
        #expect(done[0].error?.code == "22012")
        #expect(done[0].error?.detail == nil)
        #expect(done[1].error?.detail == "not executed: an earlier message of the same pipeline failed")
        #expect(done[2].error == nil)
        #expect(done[2].result.rows == [["3"]])
    }

    @Test func parseErrorWithoutExecuteIsStillRecorded() throws {
        var driver = TrackerDriver()
        try driver.client {
            ParseMessage(name: "bad", sql: "SELEC 1", parameterTypes: []).encode(into: &$0)
            EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
        }
        try driver.server {
            ErrorFields(severity: "ERROR", code: "42601", message: "syntax error at or near \"SELEC\"").encode(into: &$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let outputs = driver.outputs()
        let queries = outputs.compactMap { if case .query(let q, _) = $0 { return q } else { return nil } }
        #expect(queries.map(\.sql) == ["SELEC 1"])
        #expect(results(outputs).first?.error?.code == "42601")
    }

    @Test func copyFromStdinKeepsTheData() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("COPY t FROM STDIN", into: &$0) }
        try driver.server {
            $0.writeMessage(id: BackendMessageID.copyInResponse) {
                $0.writeInteger(UInt8(0))
                $0.writeInteger(Int16(0))
            }
        }
        try driver.client {
            $0.writeMessage(id: FrontendMessageID.copyData) { $0.writeString("1\ta\n2\tb\n") }
            $0.writeMessage(id: FrontendMessageID.copyData) { $0.writeString("3\tc\n") }
            EmptyMessage.encode(id: FrontendMessageID.copyDone, into: &$0)
        }
        try driver.server {
            tag("COPY 3")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let result = try #require(results(driver.outputs()).first)
        #expect(result.result.commandTag == "COPY 3")
        // One stream: small messages are kept together, not one string each.
        #expect(result.copyData == ["1\ta\n2\tb\n3\tc\n"])
        #expect(result.copyDataEncoding == nil)
        #expect(result.copyDataTruncated == false)
    }

    @Test func copyToStdoutRecordsLinesAsRows() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("COPY t TO STDOUT", into: &$0) }
        try driver.server {
            $0.writeMessage(id: BackendMessageID.copyOutResponse) {
                $0.writeInteger(UInt8(0))
                $0.writeInteger(Int16(0))
            }
            $0.writeMessage(id: BackendMessageID.copyData) { $0.writeString("1\ta\n") }
            $0.writeMessage(id: BackendMessageID.copyData) { $0.writeString("2\tb\n") }
            EmptyMessage.encode(id: BackendMessageID.copyDone, into: &$0)
            tag("COPY 2")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let result = try #require(results(driver.outputs()).first)
        #expect(result.result.rows == [["1\ta"], ["2\tb"]])
        #expect(result.result.rowCount == 2)
    }

    @Test func largeResultsKeepFirstRowsAndADigestOverAll() throws {
        func run(_ maxRows: Int) throws -> RecordedResult {
            var driver = TrackerDriver(maxRows: maxRows)
            try driver.client { QueryMessage.encode("SELECT g FROM generate_series(1, 50) g", into: &$0) }
            try driver.server {
                RowDescription(columns: [.init(name: "g", typeOID: 23)]).encode(into: &$0)
                for value in 1...50 { DataRow.encode(value == 7 ? [nil] : ["\(value)"], into: &$0) }
                tag("SELECT 50")(&$0)
                ReadyForQuery.encode(.idle, into: &$0)
            }
            return try #require(results(driver.outputs()).first)
        }
        let cut = try run(10)
        #expect(cut.result.rows.count == 10)
        #expect(cut.result.rowCount == 50)
        #expect(cut.result.rowsTruncated)
        let digest = try #require(cut.result.rowsDigest)
        #expect(digest.hasPrefix("sha256:") && digest.count == 7 + 64)
        // The digest covers every row, whatever number of rows was kept.
        #expect(try run(3).result.rowsDigest == digest)
        #expect(try run(0).result.rowsDigest == digest)
        let whole = try run(1000)
        #expect(whole.result.rowsTruncated == false && whole.result.rowsDigest == nil)
        #expect(whole.result.rows.count == 50)
    }

    @Test func passwordsInRoleStatementsAreMasked() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("ALTER ROLE app WITH PASSWORD 'hunter2' VALID UNTIL 'infinity'", into: &$0) }
        let query = try #require(driver.queries().first)
        #expect(query.sql == "ALTER ROLE app WITH PASSWORD '***' VALID UNTIL 'infinity'")
        #expect(query.redacted)
        #expect(!query.sql.contains("hunter2"))
    }

    @Test func sessionEndRecordsUnansweredQueries() throws {
        var driver = TrackerDriver()
        try driver.client { QueryMessage.encode("SELECT pg_sleep(30)", into: &$0) }
        _ = driver.outputs()
        driver.tracker.sessionEnded(reason: "client disconnected", now: Date(), monotonic: driver.clock)
        let result = try #require(results(driver.outputs()).first)
        #expect(result.error?.code == "08006")
        #expect(result.error?.message.contains("client disconnected") == true)
    }

    @Test func noticesAttachToTheRunningQueryOrStandAlone() throws {
        var driver = TrackerDriver()
        try driver.server {
            ErrorFields(severity: "NOTICE", code: "00000", message: "between queries").encode(into: &$0, id: BackendMessageID.noticeResponse)
        }
        #expect(driver.outputs() == [.notice(RecordedError(severity: "NOTICE", code: "00000", message: "between queries"))])
        try driver.client { QueryMessage.encode("DROP TABLE IF EXISTS nope", into: &$0) }
        try driver.server {
            ErrorFields(severity: "NOTICE", code: "00000", message: "table \"nope\" does not exist, skipping")
                .encode(into: &$0, id: BackendMessageID.noticeResponse)
            tag("DROP TABLE")(&$0)
            ReadyForQuery.encode(.idle, into: &$0)
        }
        let result = try #require(results(driver.outputs()).first)
        #expect(result.notices?.first?.message == "table \"nope\" does not exist, skipping")
    }
}

@Suite struct PasswordRedactorTests {
    @Test(arguments: [
        ("CREATE ROLE a PASSWORD 'x'", "CREATE ROLE a PASSWORD '***'"),
        ("create user a with encrypted password 'it''s'", "create user a with encrypted password '***'"),
        ("ALTER USER a PASSWORD E'a\\'b' LOGIN", "ALTER USER a PASSWORD '***' LOGIN"),
        ("ALTER ROLE a PASSWORD $$p'w$$", "ALTER ROLE a PASSWORD '***'"),
        ("ALTER ROLE a PASSWORD\n  'SCRAM-SHA-256$4096:abc'", "ALTER ROLE a PASSWORD\n  '***'"),
    ])
    func masks(input: String, expected: String) {
        let (sql, redacted) = PasswordRedactor.redact(input)
        #expect(sql == expected)
        #expect(redacted)
    }

    @Test(arguments: [
        "SELECT 'password'", "SELECT password FROM users WHERE name = 'x'", "ALTER ROLE a PASSWORD NULL",
        "SELECT 1",
    ])
    func leavesOtherStatementsAlone(input: String) {
        let (sql, redacted) = PasswordRedactor.redact(input)
        #expect(sql == input)
        #expect(!redacted)
    }
}
