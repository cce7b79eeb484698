import Foundation
import NIOCore
import Testing

@testable import ProxyEngine

/// One regression test per finding of `make fuzz` (Fuzz/, docs/testing.md) and of the review around it: the
/// input that failed, replayed through the production code.
@Suite struct FuzzFindingsTests {
    /// SessionTrackerFuzz, crash-9d67c7ca: a result holding a zero-column DataRow (`SELECT FROM t` has such rows)
    /// followed by CopyData made the digest read column 0 of an empty row: an index out of range that would have
    /// killed the proxy and every session in it.
    @Test func copyDataAfterAZeroColumnRowDoesNotCrashTheDigest() throws {
        var tracker = SessionTracker(maxRecordedRows: 1)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        var query = ByteBuffer()
        query.writeCString("SELECT FROM t")
        try tracker.frontend(id: FrontendMessageID.query, payload: query, now: now, monotonic: 1)
        var emptyRow = ByteBuffer()
        emptyRow.writeInteger(Int16(0))
        try tracker.backend(id: BackendMessageID.dataRow, payload: emptyRow, now: now, monotonic: 2)
        try tracker.backend(id: BackendMessageID.copyData, payload: ByteBuffer(string: "a\n"), now: now, monotonic: 3)
        var complete = ByteBuffer()
        complete.writeCString("SELECT 2")
        try tracker.backend(id: BackendMessageID.commandComplete, payload: complete, now: now, monotonic: 4)
        try tracker.backend(id: BackendMessageID.readyForQuery, payload: ByteBuffer(bytes: [UInt8(ascii: "I")]), now: now, monotonic: 5)
        let results = tracker.takeOutputs().compactMap { output -> RecordedResult? in
            if case .result(let result, _) = output { return result }
            return nil
        }
        #expect(results.count == 1)
        #expect(results.first?.result.rowCount == 2)
        #expect(results.first?.result.rowsTruncated == true)
    }

    /// The exact bytes libFuzzer found, through the fuzz target's own interpreter (MessageScript), kept so the
    /// finding stays reproducible if the tracker changes.
    @Test func theFuzzersCrashInputRunsThrough() throws {
        var tracker = SessionTracker(maxRecordedRows: Int(0xF9 % 4))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        // Query "SELECT 1" ... DataRow(0 columns) ... CopyData ... as MessageScript decoded the crash file.
        var query = ByteBuffer()
        query.writeCString("SELECT 1")
        try tracker.frontend(id: FrontendMessageID.query, payload: query, now: now, monotonic: 1)
        for _ in 0..<2 {
            var row = ByteBuffer()
            row.writeInteger(Int16(0))
            try tracker.backend(id: BackendMessageID.dataRow, payload: row, now: now, monotonic: 2)
        }
        try tracker.backend(id: BackendMessageID.copyData, payload: ByteBuffer(string: "U55\ta"), now: now, monotonic: 3)
        tracker.sessionEnded(reason: "test", now: now, monotonic: 4)
        #expect(tracker.queryCount == 1)
    }

    /// Review finding: a wanted message split across reads reserved its whole announced length at once, so 5
    /// bytes claiming a 16 MiB Query made the proxy allocate 16 MiB per connection before any payload arrived.
    @Test func aSplitMessageReservesOnlyWhatArrives() throws {
        var framer = MessageFramer(direction: .frontend)
        var header = ByteBuffer()
        header.writeInteger(FrontendMessageID.query)
        header.writeInteger(Int32(16 << 20))
        header.writeString("SELECT ")
        try framer.feed(header, wants: { _ in true }) { _ in Issue.record("nothing is complete yet") }
        #expect(framer.assemblyCapacity > 0)
        #expect(framer.assemblyCapacity <= MessageFramer.initialAssemblyCapacity)
        #expect(!framer.isAtBoundary)
    }
}

/// Review findings in the startup phase, where the client is not authenticated yet.
@Suite struct StartupPhaseLimitTests {
    /// A client that has not authenticated could announce a 1 GB Query (a valid length once authenticated) and
    /// make the proxy buffer all of it. Before authentication every message is now held to the password limit.
    @Test func anUnauthenticatedClientCannotAnnounceALargeMessage() throws {
        var accumulator = MessageAccumulator(direction: .frontend, maxLength: MessageLimits.authToken)
        var header = ByteBuffer()
        header.writeInteger(FrontendMessageID.query)
        header.writeInteger(Int32(1 << 30 - 1))
        accumulator.append(header)
        #expect(throws: ProtocolViolation.self) { try accumulator.next() }

        // A password message up to PostgreSQL's limit still passes.
        var password = MessageAccumulator(direction: .frontend, maxLength: MessageLimits.authToken)
        var message = ByteBuffer()
        message.writeMessage(id: FrontendMessageID.password) { $0.writeCString(String(repeating: "p", count: 60_000)) }
        password.append(message)
        #expect(try password.next()?.id == FrontendMessageID.password)
    }
}

/// Found by `make soak` (docs/testing.md): the recording of pgbench's extended protocol had every query's SQL
/// one statement late.
@Suite struct SoakFindingsTests {
    /// Drivers send Parse(""), Bind, Describe, Execute and Sync in one flight. The Bind looked the unnamed
    /// statement up among the confirmed ones first, and found the previous query's: each Execute was recorded
    /// with the SQL of the statement before it, and paired with the wrong result.
    @Test func aPipelinedUnnamedStatementIsRecordedWithItsOwnSQL() throws {
        var tracker = SessionTracker(maxRecordedRows: 10)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        func client(_ encode: (inout ByteBuffer) -> Void) throws {
            var buffer = ByteBuffer()
            encode(&buffer)
            var decoder = RawMessageDecoder(direction: .frontend)
            while let message = try decoder.decode(buffer: &buffer) {
                try tracker.frontend(id: message.id, payload: message.payload, now: now, monotonic: 1)
            }
        }
        func server(_ encode: (inout ByteBuffer) -> Void) throws {
            var buffer = ByteBuffer()
            encode(&buffer)
            var decoder = RawMessageDecoder(direction: .backend)
            while let message = try decoder.decode(buffer: &buffer) {
                try tracker.backend(id: message.id, payload: message.payload, now: now, monotonic: 2)
            }
        }
        for (sql, tag) in [("BEGIN;", "BEGIN"), ("UPDATE t SET x = x + $1;", "UPDATE 1"), ("END;", "COMMIT")] {
            try client {
                ParseMessage(name: "", sql: sql, parameterTypes: []).encode(into: &$0)
                BindMessage(portal: "", statement: "", parameterFormats: [], parameters: [], resultFormats: [])
                    .encode(into: &$0)
                TargetedMessage(target: .portal, name: "").encode(id: FrontendMessageID.describe, into: &$0)
                ExecuteMessage(portal: "").encode(into: &$0)
                EmptyMessage.encode(id: FrontendMessageID.sync, into: &$0)
            }
            try server {
                EmptyMessage.encode(id: BackendMessageID.parseComplete, into: &$0)
                EmptyMessage.encode(id: BackendMessageID.bindComplete, into: &$0)
                EmptyMessage.encode(id: BackendMessageID.noData, into: &$0)
                $0.writeMessage(id: BackendMessageID.commandComplete) { $0.writeCString(tag) }
                ReadyForQuery.encode(.inTransaction, into: &$0)
            }
        }
        var sqlByNumber: [Int: String] = [:]
        var pairs: [String] = []
        for output in tracker.takeOutputs() {
            switch output {
            case .query(let query, _): sqlByNumber[query.queryNumber] = query.sql
            case .result(let result, _): pairs.append("\(sqlByNumber[result.queryNumber] ?? "?") -> \(result.result.commandTag ?? "")")
            default: break
            }
        }
        #expect(pairs == ["BEGIN; -> BEGIN", "UPDATE t SET x = x + $1; -> UPDATE 1", "END; -> COMMIT"])
    }
}
