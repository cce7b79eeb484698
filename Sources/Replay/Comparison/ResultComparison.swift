import Foundation
import ProxyEngine

/// How results are compared: `--ignore-column` and `--unordered`.
public struct ComparisonOptions: Sendable, Equatable {
    /// Columns whose values are not compared (matched by name, ignoring case); their names still are.
    public var ignoredColumns: [String]
    /// Compare the rows of each result set as a multiset, for queries without ORDER BY.
    public var unordered: Bool

    public init(ignoredColumns: [String] = [], unordered: Bool = false) {
        self.ignoredColumns = ignoredColumns
        self.unordered = unordered
    }

    func isIgnored(_ column: String) -> Bool {
        self.ignoredColumns.contains { $0.lowercased() == column.lowercased() }
    }
}

/// The first way a replayed result differs from the recorded one, precise enough to find it: which result set,
/// row and column, and both values.
public struct ResultDifference: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// One failed and the other did not.
        case errorVersusSuccess = "error_vs_success"
        /// Both failed, with different SQLSTATEs (or different messages when the recording has no SQLSTATE).
        case errorCode = "error_code"
        /// A multi-statement query produced a different number of result sets.
        case resultSetCount = "result_set_count"
        case columns
        /// One cell differs; `row`, `column`, `recordedValue` and `replayedValue` say which and how.
        case value
        case rowCount = "row_count"
        /// `--unordered`: a recorded row that the replay did not return.
        case missingRow = "missing_row"
        /// `--unordered`: a replayed row that the recording does not have.
        case extraRow = "extra_row"
        /// The rows beyond those kept in the file differ (their SHA-256 digests do).
        case digest
        case commandTag = "command_tag"
    }

    public var kind: Kind
    /// 1-based result set, only when the query returned several.
    public var resultSet: Int?
    /// 1-based row.
    public var row: Int?
    public var column: String?
    /// For `.value`: the cells themselves, nil being SQL NULL.
    public var recordedValue: String?
    public var replayedValue: String?
    /// What the recording and the replay hold, as shown to the user (`"150"`, `NULL`, `3 rows`, `ERROR 42P01`...).
    public var recorded: String
    public var replayed: String
    /// For `.value` with two strings: the offset of the first byte (of their UTF-8) in which they differ, found
    /// once here, so that showing where two long values part (`differs at byte N`) never scans them again.
    public var differingByte: Int?

    public init(
        kind: Kind, resultSet: Int? = nil, row: Int? = nil, column: String? = nil, recordedValue: String? = nil,
        replayedValue: String? = nil, recorded: String, replayed: String
    ) {
        self.kind = kind
        self.resultSet = resultSet
        self.row = row
        self.column = column
        self.recordedValue = recordedValue
        self.replayedValue = replayedValue
        self.recorded = recorded
        self.replayed = replayed
        if kind == .value, let recordedValue, let replayedValue {
            self.differingByte = Self.firstDifferentByte(recordedValue, replayedValue)
        }
    }

    /// The offset of the first byte in which `a` and `b` differ (the shorter one's length when it is a prefix):
    /// compared 4 KiB at a time with `memcmp`.
    static func firstDifferentByte(_ a: String, _ b: String) -> Int {
        let found = a.utf8.withContiguousStorageIfAvailable { left in
            b.utf8.withContiguousStorageIfAvailable { right -> Int in
                let count = min(left.count, right.count)
                var index = 0
                while index + 4096 <= count,
                    memcmp(left.baseAddress! + index, right.baseAddress! + index, 4096) == 0
                {
                    index += 4096
                }
                while index < count, left[index] == right[index] { index += 1 }
                return index
            }
        }
        return (found ?? nil) ?? zip(a.utf8, b.utf8).prefix { $0 == $1 }.count
    }

    /// Where the difference is, e.g. `result set 2, row 3, column "value"`; empty when it concerns the whole
    /// result.
    public var location: String {
        var parts: [String] = []
        if let resultSet = self.resultSet { parts.append("result set \(resultSet)") }
        if let row = self.row { parts.append("row \(row)") }
        if let column = self.column { parts.append("column \(ValueText.quoted(column))") }
        return parts.joined(separator: ", ")
    }

    /// What differs, in a few words.
    public var subject: String {
        switch self.kind {
        case .errorVersusSuccess: return "outcome"
        case .errorCode: return "error"
        case .resultSetCount: return "number of result sets"
        case .columns: return "columns"
        case .value: return "value"
        case .rowCount: return "row count"
        case .missingRow: return "row missing from the replay"
        case .extraRow: return "row not in the recording"
        case .digest: return "rows beyond those kept in the file (SHA-256 digest)"
        case .commandTag: return "command tag"
        }
    }

    /// One line: `row 2, column "value": recorded "200", replayed "201"`.
    public var description: String {
        let location = self.location
        let head =
            location.isEmpty ? self.subject : self.kind == .value ? location : "\(location): \(self.subject)"
        return "\(head): recorded \(self.recorded), replayed \(self.replayed)"
    }
}

/// The verdict on one result.
public struct ComparisonOutcome: Sendable, Equatable {
    /// nil when the results match.
    public var difference: ResultDifference?
    /// With ordered rows: how many rows differ in the rows both sides kept (the first is `difference`).
    public var differingRows: Int
    /// What could not be compared, and why (e.g. rows beyond those kept in the file when columns are ignored).
    public var notes: [String]

    public init(difference: ResultDifference? = nil, differingRows: Int = 0, notes: [String] = []) {
        self.difference = difference
        self.differingRows = differingRows
        self.notes = notes
    }

    public var matches: Bool { self.difference == nil }
}

/// Compares a recorded result with a replayed one. Pure.
///
/// In this order, stopping at the first difference: error versus success (SQLSTATE when both failed), the number
/// of result sets, then per set the column names, the values row by row (or as a multiset with `--unordered`),
/// the row count, the digest of the rows the file did not keep, and the command tag. `--ignore-column` removes
/// those columns' values before anything is compared.
public enum ResultComparison {
    public static func compare(
        recorded: RecordedResult, replayed: RecordedResult, options: ComparisonOptions = ComparisonOptions()
    ) -> ComparisonOutcome {
        switch (recorded.error, replayed.error) {
        case (let recordedError?, nil):
            return ComparisonOutcome(
                difference: ResultDifference(
                    kind: .errorVersusSuccess, recorded: ValueText.error(recordedError),
                    replayed: "success" + ValueText.tagSuffix(replayed.result.commandTag)))
        case (nil, let replayedError?):
            return ComparisonOutcome(
                difference: ResultDifference(
                    kind: .errorVersusSuccess, recorded: "success" + ValueText.tagSuffix(recorded.result.commandTag),
                    replayed: ValueText.error(replayedError)))
        case (let recordedError?, let replayedError?):
            // Seed files record an error as a plain message, without SQLSTATE: compare messages then.
            let same =
                recordedError.code.isEmpty
                ? recordedError.message == replayedError.message : recordedError.code == replayedError.code
            if !same {
                return ComparisonOutcome(
                    difference: ResultDifference(
                        kind: .errorCode, recorded: ValueText.error(recordedError),
                        replayed: ValueText.error(replayedError)))
            }
        case (nil, nil):
            break
        }

        let recordedSets = recorded.resultSets ?? [recorded.result]
        let replayedSets = replayed.resultSets ?? [replayed.result]
        guard recordedSets.count == replayedSets.count else {
            return ComparisonOutcome(
                difference: ResultDifference(
                    kind: .resultSetCount, recorded: "\(recordedSets.count)", replayed: "\(replayedSets.count)"))
        }
        var notes: [String] = []
        for (index, (recordedSet, replayedSet)) in zip(recordedSets, replayedSets).enumerated() {
            var comparison = SetComparison(
                recorded: recordedSet, replayed: replayedSet, options: options,
                resultSet: recordedSets.count > 1 ? index + 1 : nil)
            let outcome = comparison.run()
            notes += outcome.notes
            if outcome.difference != nil {
                return ComparisonOutcome(
                    difference: outcome.difference, differingRows: outcome.differingRows, notes: notes)
            }
        }
        return ComparisonOutcome(notes: notes)
    }
}

/// The comparison of one recorded result set with its replayed counterpart.
private struct SetComparison {
    let recorded: RecordedResultSet
    let replayed: RecordedResultSet
    let options: ComparisonOptions
    let resultSet: Int?
    /// Names used for `--ignore-column` and for reporting: the recorded ones, or the replayed ones when the
    /// recording has none (an extended-protocol client that never sent Describe records no column names).
    let names: [String]
    let ignored: Set<Int>
    private var notes: [String] = []

    init(recorded: RecordedResultSet, replayed: RecordedResultSet, options: ComparisonOptions, resultSet: Int?) {
        self.recorded = recorded
        self.replayed = replayed
        self.options = options
        self.resultSet = resultSet
        let names = recorded.columns.isEmpty ? replayed.columns : recorded.columns
        self.names = names
        self.ignored = Set(names.indices.filter { options.isIgnored(names[$0]) })
    }

    mutating func run() -> ComparisonOutcome {
        if !self.recorded.columns.isEmpty, self.recorded.columns != self.replayed.columns {
            return self.outcome(
                self.difference(
                    .columns, recorded: ValueText.columns(self.recorded.columns),
                    replayed: ValueText.columns(self.replayed.columns)))
        }
        let kept = self.recorded.rows.count
        if self.recorded.rowsTruncated {
            return self.compareTruncated(kept: kept)
        }
        if self.options.unordered {
            if let difference = self.multisetDifference(self.recorded.rows, self.replayed.rows) {
                return self.outcome(difference)
            }
        } else {
            let (first, count) = self.orderedDifference(rows: min(kept, self.replayed.rows.count))
            if let first {
                return self.outcome(first, differingRows: count)
            }
        }
        if self.recorded.rowCount != self.replayed.rowCount {
            return self.outcome(self.rowCountDifference())
        }
        return self.compareTag()
    }

    /// The file kept only the first rows: compare those, the count, and the digest of all of them.
    private mutating func compareTruncated(kept: Int) -> ComparisonOutcome {
        if !self.options.unordered {
            let (first, count) = self.orderedDifference(rows: min(kept, self.replayed.rows.count))
            if let first {
                return self.outcome(first, differingRows: count)
            }
        }
        if self.recorded.rowCount != self.replayed.rowCount {
            return self.outcome(self.rowCountDifference())
        }
        let beyond = "rows after the first \(kept)" + (self.resultSet.map { " of result set \($0)" } ?? "")
        if let recordedDigest = self.recorded.rowsDigest {
            let sameDigest = recordedDigest == self.replayed.rowsDigest
            if !self.ignored.isEmpty {
                if !sameDigest {
                    self.notes.append(
                        "\(beyond) were not compared: the recorded digest covers the ignored columns too")
                }
            } else if self.options.unordered {
                if !sameDigest {
                    self.notes.append(
                        "with --unordered only the row count of this result was compared: the file keeps the first "
                            + "\(kept) rows and an ordered digest of all of them")
                }
            } else if !sameDigest {
                return self.outcome(
                    self.difference(
                        .digest, recorded: recordedDigest, replayed: self.replayed.rowsDigest ?? "no digest"))
            }
        } else {
            self.notes.append("\(beyond) were not compared: the recording has no digest of them")
        }
        return self.compareTag()
    }

    private mutating func compareTag() -> ComparisonOutcome {
        if let tag = self.recorded.commandTag, tag != self.replayed.commandTag {
            return self.outcome(
                self.difference(
                    .commandTag, recorded: ValueText.quoted(tag),
                    replayed: self.replayed.commandTag.map(ValueText.quoted) ?? "none"))
        }
        return ComparisonOutcome(notes: self.notes)
    }

    /// The first differing cell among the first `rows` rows, and how many of those rows differ.
    private func orderedDifference(rows: Int) -> (ResultDifference?, Int) {
        var first: ResultDifference?
        var count = 0
        for index in 0..<rows {
            let recordedRow = self.recorded.rows[index]
            let replayedRow = self.replayed.rows[index]
            guard let column = self.firstDifferingColumn(recordedRow, replayedRow) else { continue }
            count += 1
            if first == nil {
                let recordedValue = column < recordedRow.count ? recordedRow[column] : nil
                let replayedValue = column < replayedRow.count ? replayedRow[column] : nil
                let name = column < self.names.count ? self.names[column] : "#\(column + 1)"
                first = ResultDifference(
                    kind: .value, resultSet: self.resultSet, row: index + 1, column: name,
                    recordedValue: recordedValue, replayedValue: replayedValue,
                    recorded: column < recordedRow.count ? ValueText.value(recordedValue) : "no such column",
                    replayed: column < replayedRow.count ? ValueText.value(replayedValue) : "no such column")
            }
        }
        return (first, count)
    }

    private func firstDifferingColumn(_ recorded: [String?], _ replayed: [String?]) -> Int? {
        for column in 0..<max(recorded.count, replayed.count) where !self.ignored.contains(column) {
            if column >= recorded.count || column >= replayed.count || recorded[column] != replayed[column] {
                return column
            }
        }
        return nil
    }

    private func projected(_ row: [String?]) -> [String?] {
        guard !self.ignored.isEmpty else { return row }
        return row.enumerated().filter { !self.ignored.contains($0.offset) }.map(\.element)
    }

    /// `--unordered`: the first recorded row the replay lacks, else the first replayed row the recording lacks.
    private func multisetDifference(_ recordedRows: [[String?]], _ replayedRows: [[String?]]) -> ResultDifference? {
        var available: [[String?]: Int] = [:]
        for row in replayedRows { available[self.projected(row), default: 0] += 1 }
        for (index, row) in recordedRows.enumerated() {
            let key = self.projected(row)
            if let count = available[key], count > 0 {
                available[key] = count - 1
            } else {
                return self.difference(
                    .missingRow, row: index + 1, recorded: ValueText.row(row, names: self.names),
                    replayed: "no such row")
            }
        }
        for (index, row) in replayedRows.enumerated() {
            let key = self.projected(row)
            if let count = available[key], count > 0 {
                available[key] = count - 1
                return self.difference(
                    .extraRow, row: index + 1, recorded: "no such row", replayed: ValueText.row(row, names: self.names))
            }
        }
        return nil
    }

    /// Different row counts, naming the first row one side has and the other lacks.
    private func rowCountDifference() -> ResultDifference {
        let recordedCount = self.recorded.rowCount
        let replayedCount = self.replayed.rowCount
        var recordedText = ValueText.rows(recordedCount)
        var replayedText = ValueText.rows(replayedCount)
        if !self.options.unordered {
            if replayedCount > recordedCount, recordedCount < self.replayed.rows.count {
                replayedText +=
                    "; row \(recordedCount + 1) is "
                    + ValueText.row(self.replayed.rows[recordedCount], names: self.names)
            } else if recordedCount > replayedCount, replayedCount < self.recorded.rows.count {
                recordedText +=
                    "; row \(replayedCount + 1) is "
                    + ValueText.row(self.recorded.rows[replayedCount], names: self.names)
            }
        }
        return self.difference(.rowCount, recorded: recordedText, replayed: replayedText)
    }

    private func difference(_ kind: ResultDifference.Kind, row: Int? = nil, recorded: String, replayed: String)
        -> ResultDifference
    {
        ResultDifference(kind: kind, resultSet: self.resultSet, row: row, recorded: recorded, replayed: replayed)
    }

    private func outcome(_ difference: ResultDifference, differingRows: Int = 0) -> ComparisonOutcome {
        ComparisonOutcome(difference: difference, differingRows: differingRows, notes: self.notes)
    }
}
