import Crypto
import Foundation
import NIOCore

/// Collects one result set as it streams by: the first `maxRows` rows as strings, a count of all of them, and,
/// once there are more rows than are kept, a SHA-256 digest over every row so huge results can still be compared.
///
/// The digest covers each DataRow payload in order (Int16 column count, then per value an Int32 length, -1 for
/// NULL, and the bytes), which a replay can compute the same way from what it receives.
struct ResultSetBuilder {
    private(set) var set: RecordedResultSet
    private var formats: [Int16]
    private let maxRows: Int
    private var hasher: SHA256?

    init(columns: [RowDescription.Column]?, resultFormats: [Int16], maxRows: Int) {
        self.maxRows = maxRows
        self.set = RecordedResultSet(
            columns: columns?.map(\.name) ?? [], columnTypes: columns?.map(\.typeOID) ?? [])
        if resultFormats.isEmpty {
            self.formats = columns?.map(\.format) ?? []
        } else if resultFormats.count == 1 {
            self.formats = Array(repeating: resultFormats[0], count: columns?.count ?? 0)
        } else {
            self.formats = resultFormats
        }
    }

    mutating func append(row payload: ByteBuffer) throws {
        self.set.rowCount += 1
        if self.set.rowCount <= self.maxRows {
            let values = try DataRow.values(of: payload)
            self.set.rows.append(
                values.enumerated().map { index, value in
                    value.map { Self.render($0, binary: index < self.formats.count && self.formats[index] == 1) }
                })
            return
        }
        if self.hasher == nil {
            self.startDigest()
        }
        payload.withUnsafeReadableBytes { self.hasher!.update(bufferPointer: $0) }
    }

    /// A row too large to keep (over the tap limit): counted, and the digest can no longer be exact.
    mutating func appendOversizedRow() {
        self.set.rowCount += 1
        self.set.rowsTruncated = true
        self.hasher = nil
        self.set.rowsDigest = nil
        self.digestImpossible = true
    }

    private var digestImpossible = false

    /// COPY TO STDOUT: each CopyData message is one row of one value.
    mutating func append(copyRow payload: ByteBuffer) {
        self.set.rowCount += 1
        if self.set.rowCount <= self.maxRows {
            var line = String(decoding: payload.readableBytesView, as: UTF8.self)
            if line.hasSuffix("\n") { line.removeLast() }
            self.set.rows.append([line])
            return
        }
        if self.hasher == nil {
            self.startDigest(copy: true)
        }
        payload.withUnsafeReadableBytes { self.hasher!.update(bufferPointer: $0) }
    }

    mutating func finish(commandTag: String?) -> RecordedResultSet {
        self.set.commandTag = commandTag
        if self.set.rowCount > self.set.rows.count {
            self.set.rowsTruncated = true
            if !self.digestImpossible, let hasher = self.hasher {
                self.set.rowsDigest = RowsDigest.text(hasher.finalize())
            }
        }
        return self.set
    }

    /// Starts the digest with the rows kept so far, re-encoded exactly as the server sent them.
    private mutating func startDigest(copy: Bool = false) {
        var hasher = SHA256()
        var buffer = ByteBuffer()
        for row in self.set.rows {
            buffer.clear()
            if copy {
                // A row kept from a DataRow may have no column at all (`SELECT FROM t`); a server that then sends
                // CopyData in the same result must not crash the proxy (found by fuzzing).
                buffer.writeString((row.first ?? nil) ?? "")
                buffer.writeString("\n")
            } else {
                Self.encodePayload(row, formats: self.formats, into: &buffer)
            }
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        self.hasher = hasher
    }

    static func encodePayload(_ row: [String?], formats: [Int16], into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int16(row.count))
        for (index, value) in row.enumerated() {
            guard let value else {
                buffer.writeInteger(Int32(-1))
                continue
            }
            if index < formats.count, formats[index] == 1, let data = Data(base64Encoded: value) {
                buffer.writeInteger(Int32(data.count))
                buffer.writeBytes(data)
            } else {
                buffer.writeInteger(Int32(value.utf8.count))
                buffer.writeString(value)
            }
        }
    }

    static func render(_ value: ByteBuffer, binary: Bool) -> String {
        if binary {
            return Data(value.readableBytesView).base64EncodedString()
        }
        return String(decoding: value.readableBytesView, as: UTF8.self)
    }
}
