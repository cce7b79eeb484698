import Crypto
import Foundation
import NIOCore
import ProxyEngine

/// Collects what the target answers to one replayed query into the shape the recorder writes (`RecordedResult`),
/// so that a recorded and a replayed result compare field by field.
///
/// It follows the recorder's rules (one result set per CommandComplete, EmptyQueryResponse or PortalSuspended;
/// rows sent before an error are kept; COPY TO rows are one value each, without the line end; binary values as
/// base64) with two differences that comparison needs:
/// - it keeps `keepRows` rows per set, which the replay sets to more than the recording kept, so that an extra
///   replayed row can be shown;
/// - `rowsDigest` is always set when there are rows, computed over **every** row payload as the recorder defines
///   it, so it can be compared with a recorded digest whatever the row count.
struct ReplayedResultBuilder {
    private struct OpenSet {
        var set: RecordedResultSet
        var binary: [Bool]
        var hasher = SHA256()
    }

    private let keepRows: Int
    private var current: OpenSet?
    private var finished: [RecordedResultSet] = []
    private var error: RecordedError?
    private var notices: [RecordedError] = []

    init(keepRows: Int) {
        self.keepRows = max(keepRows, 0)
    }

    /// RowDescription: from a simple query before its rows, or the answer to the replay's Describe of a portal.
    mutating func rowDescription(_ description: RowDescription) {
        self.current = OpenSet(
            set: RecordedResultSet(
                columns: description.columns.map(\.name), columnTypes: description.columns.map(\.typeOID)),
            binary: description.columns.map { $0.format == 1 })
    }

    /// CopyOutResponse: the rows of a COPY TO STDOUT follow as CopyData.
    mutating func copyOut() {
        self.current = OpenSet(set: RecordedResultSet(), binary: [])
    }

    mutating func dataRow(_ payload: ByteBuffer) throws {
        var open = self.current ?? OpenSet(set: RecordedResultSet(), binary: [])
        open.set.rowCount += 1
        payload.withUnsafeReadableBytes { open.hasher.update(bufferPointer: $0) }
        if open.set.rows.count < self.keepRows {
            let values = try DataRow.values(of: payload)
            open.set.rows.append(
                values.enumerated().map { index, value in
                    value.map { Self.render($0, binary: index < open.binary.count && open.binary[index]) }
                })
        }
        self.current = open
    }

    mutating func copyData(_ payload: ByteBuffer) {
        var open = self.current ?? OpenSet(set: RecordedResultSet(), binary: [])
        open.set.rowCount += 1
        payload.withUnsafeReadableBytes { open.hasher.update(bufferPointer: $0) }
        if open.set.rows.count < self.keepRows {
            var line = String(decoding: payload.readableBytesView, as: UTF8.self)
            if line.hasSuffix("\n") { line.removeLast() }
            open.set.rows.append([line])
        }
        self.current = open
    }

    /// CommandComplete (with its tag), EmptyQueryResponse or PortalSuspended (without): one statement is done.
    mutating func endStatement(tag: String?) {
        var open = self.current ?? OpenSet(set: RecordedResultSet(), binary: [])
        self.current = nil
        self.finished.append(Self.close(&open, tag: tag))
    }

    /// ErrorResponse: rows already sent are kept, as the recorder keeps them.
    mutating func error(_ error: RecordedError) {
        if var open = self.current {
            self.current = nil
            if open.set.rowCount > 0 || !open.set.columns.isEmpty {
                self.finished.append(Self.close(&open, tag: nil))
            }
        }
        self.error = error
    }

    mutating func notice(_ notice: RecordedError) {
        self.notices.append(notice)
    }

    var hasError: Bool { self.error != nil }

    /// The result, as `SessionTracker` would have recorded it.
    func result(queryNumber: Int, durationMS: Double) -> RecordedResult {
        var finished = self.finished
        if var open = self.current {
            finished.append(Self.close(&open, tag: nil))
        }
        return RecordedResult(
            queryNumber: queryNumber, result: finished.last ?? RecordedResultSet(),
            resultSets: finished.count > 1 ? finished : nil, error: self.error,
            notices: self.notices.isEmpty ? nil : self.notices, durationMS: durationMS)
    }

    private static func close(_ open: inout OpenSet, tag: String?) -> RecordedResultSet {
        var set = open.set
        set.commandTag = tag
        set.rowsTruncated = set.rowCount > set.rows.count
        if set.rowCount > 0 {
            set.rowsDigest = RowsDigest.text(open.hasher.finalize())
        }
        return set
    }

    static func render(_ value: ByteBuffer, binary: Bool) -> String {
        if binary {
            return Data(value.readableBytesView).base64EncodedString()
        }
        return String(decoding: value.readableBytesView, as: UTF8.self)
    }
}
