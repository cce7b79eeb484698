import Foundation
import NIOCore
import ProxyEngine
import Testing

@testable import Replay

/// Truncated results: the recorder (SessionTracker) keeps the first rows and a digest of all of them; the replay
/// computes the same digest from what it receives, so large results compare without being stored.
@Suite struct DigestComparisonTests {
    /// A message's payload, as the decoder would hand it over (without type byte and length).
    static func payload(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(&buffer)
        buffer.moveReaderIndex(forwardBy: 5)
        return buffer
    }

    static let description = RowDescription(columns: [
        .init(name: "id", typeOID: 23), .init(name: "label", typeOID: 25),
    ])

    static func rows(_ count: Int, changing changed: Int? = nil) -> [[String?]] {
        (1...count).map { index in
            ["\(index)", index == changed ? "changed" : (index % 3 == 0 ? nil : "row \(index)")]
        }
    }

    /// What the proxy records for `SELECT` returning `rows`, keeping `keep` of them.
    static func recorded(_ rows: [[String?]], keep: Int) throws -> RecordedResult {
        var tracker = SessionTracker(maxRecordedRows: keep)
        let now = Date()
        try tracker.frontend(
            id: FrontendMessageID.query, payload: Self.payload { QueryMessage.encode("SELECT", into: &$0) },
            now: now, monotonic: 1)
        try tracker.backend(
            id: BackendMessageID.rowDescription, payload: Self.payload { Self.description.encode(into: &$0) },
            now: now, monotonic: 2)
        for row in rows {
            try tracker.backend(
                id: BackendMessageID.dataRow, payload: Self.payload { DataRow.encode(row, into: &$0) }, now: now,
                monotonic: 3)
        }
        var tag = ByteBuffer()
        tag.writeCString("SELECT \(rows.count)")
        try tracker.backend(id: BackendMessageID.commandComplete, payload: tag, now: now, monotonic: 4)
        try tracker.backend(
            id: BackendMessageID.readyForQuery, payload: ByteBuffer(bytes: [UInt8(ascii: "I")]), now: now,
            monotonic: 5)
        for case .result(let result, at: _) in tracker.takeOutputs() {
            return result
        }
        throw TestError("the tracker recorded no result")
    }

    /// What the replay collects for the same rows.
    static func replayed(_ rows: [[String?]], keep: Int) throws -> RecordedResult {
        var builder = ReplayedResultBuilder(keepRows: keep)
        builder.rowDescription(Self.description)
        for row in rows {
            try builder.dataRow(Self.payload { DataRow.encode(row, into: &$0) })
        }
        builder.endStatement(tag: "SELECT \(rows.count)")
        return builder.result(queryNumber: 1, durationMS: 0)
    }

    @Test func theReplayComputesTheRecordersDigest() throws {
        let recorded = try Self.recorded(Self.rows(50), keep: 10)
        #expect(recorded.result.rowsTruncated)
        #expect(recorded.result.rows.count == 10)
        let digest = try #require(recorded.result.rowsDigest)
        #expect(digest.hasPrefix("sha256:"))
        let replayed = try Self.replayed(Self.rows(50), keep: 11)
        #expect(replayed.result.rowsDigest == digest)
        #expect(replayed.result.rows.count == 11)
        #expect(ResultComparison.compare(recorded: recorded, replayed: replayed).matches)
    }

    @Test func aDifferenceBeyondTheKeptRowsIsFoundThroughTheDigest() throws {
        let recorded = try Self.recorded(Self.rows(50), keep: 10)
        let replayed = try Self.replayed(Self.rows(50, changing: 40), keep: 11)
        let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed)
        #expect(outcome.difference?.kind == .digest)
        #expect(outcome.difference?.recorded == recorded.result.rowsDigest)
    }

    @Test func aDifferenceInTheKeptRowsIsShownByCell() throws {
        let recorded = try Self.recorded(Self.rows(50), keep: 10)
        let replayed = try Self.replayed(Self.rows(50, changing: 4), keep: 11)
        let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed)
        #expect(outcome.difference?.kind == .value)
        #expect(outcome.difference?.row == 4)
        #expect(outcome.difference?.column == "label")
    }

    @Test func ignoredColumnsMakeTheDigestUnusableAndSaySo() throws {
        let recorded = try Self.recorded(Self.rows(50), keep: 10)
        let replayed = try Self.replayed(Self.rows(50, changing: 40), keep: 11)
        let outcome = ResultComparison.compare(
            recorded: recorded, replayed: replayed, options: ComparisonOptions(ignoredColumns: ["id"]))
        #expect(outcome.matches)
        #expect(
            outcome.notes == [
                "rows after the first 10 were not compared: the recorded digest covers the ignored columns too"
            ])
    }

    @Test func unorderedTruncatedResultsCompareTheRowCount() throws {
        let recorded = try Self.recorded(Self.rows(50), keep: 10)
        let shuffled = try Self.replayed(Array(Self.rows(50).reversed()), keep: 11)
        let outcome = ResultComparison.compare(
            recorded: recorded, replayed: shuffled, options: ComparisonOptions(unordered: true))
        #expect(outcome.matches)
        #expect(outcome.notes.count == 1)
        let fewer = try Self.replayed(Self.rows(49), keep: 11)
        let counted = ResultComparison.compare(
            recorded: recorded, replayed: fewer, options: ComparisonOptions(unordered: true))
        #expect(counted.difference?.kind == .rowCount)
    }

    @Test func theBuilderKeepsRowsSentBeforeAnErrorAndCopyRows() throws {
        var builder = ReplayedResultBuilder(keepRows: 5)
        builder.rowDescription(Self.description)
        try builder.dataRow(Self.payload { DataRow.encode(["1", "a"], into: &$0) })
        builder.error(RecordedError(severity: "ERROR", code: "22012", message: "division by zero"))
        let failed = builder.result(queryNumber: 3, durationMS: 1.5)
        #expect(failed.error?.code == "22012")
        #expect(failed.result.rows == [["1", "a"]])
        #expect(failed.result.commandTag == nil)

        var copy = ReplayedResultBuilder(keepRows: 5)
        copy.copyOut()
        copy.copyData(ByteBuffer(string: "1\tone\n"))
        copy.copyData(ByteBuffer(string: "2\t\\N\n"))
        copy.endStatement(tag: "COPY 2")
        let result = copy.result(queryNumber: 1, durationMS: 0)
        #expect(result.result.rows == [["1\tone"], ["2\t\\N"]])
        #expect(result.result.commandTag == "COPY 2")
        #expect(result.resultSets == nil)
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
