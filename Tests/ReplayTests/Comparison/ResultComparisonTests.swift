import ProxyEngine
import Testing

@testable import Replay

/// The comparison rules, one by one, on hand-made results.
@Suite struct ResultComparisonTests {
    static let columns = ["id", "name", "value", "created_at"]

    func result(
        _ rows: [[String?]], columns: [String] = Self.columns, tag: String? = nil, error: RecordedError? = nil
    ) -> RecordedResult {
        RecordedResult(
            queryNumber: 1,
            result: RecordedResultSet(
                columns: columns, rows: rows, rowCount: rows.count, commandTag: tag ?? "SELECT \(rows.count)"),
            error: error)
    }

    static let rows: [[String?]] = [
        ["1", "test1", "150", "2025-10-07 22:42:12.977496"],
        ["2", "test2", "200", "2025-10-07 22:42:12.977496"],
        ["3", "test3", "300", "2025-10-07 22:42:12.977496"],
    ]

    /// Two huge values that differ: the difference names them by their start and size (people read it), while
    /// `recordedValue` / `replayedValue` keep them whole for the JSON report.
    @Test func hugeValuesAreQuotedByTheirStartAndSize() {
        let huge = String(repeating: "a\"b\\é世", count: 5_000_000)
        let outcome = ResultComparison.compare(
            recorded: self.result([[huge + "x"]], columns: ["v"]), replayed: self.result([[huge + "y"]], columns: ["v"]))
        let difference = try! #require(outcome.difference)
        #expect(difference.recordedValue?.utf8.count == huge.utf8.count + 1)
        #expect(difference.recorded.utf8.count < 2 * ValueText.maxQuotedBytes)
        #expect(difference.recorded.hasPrefix(#""a\"b\\é世a\"b"#))
        #expect(difference.recorded.hasSuffix("…\" (\(huge.utf8.count + 1) bytes)"))
        #expect(ValueText.quoted("short \"one\"") == #""short \"one\"""#)
    }

    @Test func identicalResultsMatch() {
        let outcome = ResultComparison.compare(recorded: self.result(Self.rows), replayed: self.result(Self.rows))
        #expect(outcome.matches)
        #expect(outcome.notes.isEmpty)
    }

    @Test func aChangedCellIsReportedWithRowColumnAndBothValues() {
        var changed = Self.rows
        changed[1][2] = "201"
        let outcome = ResultComparison.compare(recorded: self.result(Self.rows), replayed: self.result(changed))
        let difference = try! #require(outcome.difference)
        #expect(difference.kind == .value)
        #expect(difference.row == 2)
        #expect(difference.column == "value")
        #expect(difference.recordedValue == "200")
        #expect(difference.replayedValue == "201")
        #expect(difference.description == "row 2, column \"value\": recorded \"200\", replayed \"201\"")
        #expect(outcome.differingRows == 1)
    }

    @Test func everyDifferingRowIsCountedButTheFirstIsShown() {
        var changed = Self.rows
        changed[0][1] = "x"
        changed[2][1] = "y"
        let outcome = ResultComparison.compare(recorded: self.result(Self.rows), replayed: self.result(changed))
        #expect(outcome.difference?.row == 1)
        #expect(outcome.differingRows == 2)
    }

    @Test func rowOrderMattersUnlessUnordered() {
        let reversed = Array(Self.rows.reversed())
        let ordered = ResultComparison.compare(recorded: self.result(Self.rows), replayed: self.result(reversed))
        #expect(ordered.difference?.kind == .value)
        #expect(ordered.difference?.row == 1)
        #expect(ordered.difference?.column == "id")

        let unordered = ResultComparison.compare(
            recorded: self.result(Self.rows), replayed: self.result(reversed),
            options: ComparisonOptions(unordered: true))
        #expect(unordered.matches)
    }

    @Test func unorderedComparesAsAMultisetAndNamesTheMissingRow() {
        // Same rows, but one duplicated in place of another: a set comparison would miss it.
        let recorded = self.result([["a"], ["a"], ["b"]], columns: ["x"])
        let replayed = self.result([["a"], ["b"], ["b"]], columns: ["x"])
        let outcome = ResultComparison.compare(
            recorded: recorded, replayed: replayed, options: ComparisonOptions(unordered: true))
        let difference = try! #require(outcome.difference)
        #expect(difference.kind == .missingRow)
        #expect(difference.row == 2)
        #expect(difference.recorded == "(x=\"a\")")

        let extra = ResultComparison.compare(
            recorded: self.result([["a"]], columns: ["x"]), replayed: self.result([["b"], ["a"]], columns: ["x"]),
            options: ComparisonOptions(unordered: true))
        #expect(extra.difference?.kind == .extraRow)
        #expect(extra.difference?.row == 1)
    }

    @Test func nullAndTheEmptyStringAndTheTextNullAreAllDifferent() {
        let withNull = self.result([[nil]], columns: ["v"])
        let withEmpty = self.result([[""]], columns: ["v"])
        let withText = self.result([["NULL"]], columns: ["v"])
        let nullVersusEmpty = ResultComparison.compare(recorded: withNull, replayed: withEmpty)
        #expect(nullVersusEmpty.difference?.recorded == "NULL")
        #expect(nullVersusEmpty.difference?.replayed == "\"\"")
        #expect(nullVersusEmpty.difference?.recordedValue == nil)
        #expect(nullVersusEmpty.difference?.replayedValue == "")
        #expect(ResultComparison.compare(recorded: withNull, replayed: withText).difference?.replayed == "\"NULL\"")
        #expect(!ResultComparison.compare(recorded: withEmpty, replayed: withText).matches)
        #expect(ResultComparison.compare(recorded: withNull, replayed: withNull).matches)
    }

    @Test func ignoredColumnsAreNotComparedButTheirNamesAre() {
        var later = Self.rows
        for index in later.indices { later[index][3] = "2026-01-01 00:00:00" }
        let strict = ResultComparison.compare(recorded: self.result(Self.rows), replayed: self.result(later))
        #expect(strict.difference?.column == "created_at")
        #expect(strict.differingRows == 3)

        let lenient = ResultComparison.compare(
            recorded: self.result(Self.rows), replayed: self.result(later),
            options: ComparisonOptions(ignoredColumns: ["CREATED_AT"]))
        #expect(lenient.matches, "the column name matches whatever its case")

        var renamed = Self.columns
        renamed[3] = "created"
        let names = ResultComparison.compare(
            recorded: self.result(Self.rows), replayed: self.result(Self.rows, columns: renamed),
            options: ComparisonOptions(ignoredColumns: ["created_at"]))
        #expect(names.difference?.kind == .columns)
    }

    @Test func ignoredColumnsStillCompareTheOtherValuesOfUnorderedRows() {
        let recorded = self.result([["1", "t1"], ["2", "t2"]], columns: ["id", "at"])
        let replayed = self.result([["2", "x"], ["1", "y"]], columns: ["id", "at"])
        let options = ComparisonOptions(ignoredColumns: ["at"], unordered: true)
        #expect(ResultComparison.compare(recorded: recorded, replayed: replayed, options: options).matches)
        let other = self.result([["3", "x"], ["1", "y"]], columns: ["id", "at"])
        let outcome = ResultComparison.compare(recorded: recorded, replayed: other, options: options)
        #expect(outcome.difference?.kind == .missingRow)
        #expect(outcome.difference?.recorded == "(id=\"2\", at=\"t2\")")
    }

    @Test func errorsAreComparedBySQLSTATE() {
        let missing = RecordedError(severity: "ERROR", code: "42P01", message: "relation \"x\" does not exist")
        let syntax = RecordedError(severity: "ERROR", code: "42601", message: "syntax error")
        let failed = self.result([], columns: [], tag: nil, error: missing)
        var worded = failed
        worded.error?.message = "relation \"x\" does not exist (translated)"
        #expect(ResultComparison.compare(recorded: failed, replayed: worded).matches)
        let other = ResultComparison.compare(recorded: failed, replayed: self.result([], columns: [], error: syntax))
        #expect(other.difference?.kind == .errorCode)
        #expect(other.difference?.recorded == "ERROR 42P01: relation \"x\" does not exist")

        let success = ResultComparison.compare(recorded: failed, replayed: self.result(Self.rows))
        #expect(success.difference?.kind == .errorVersusSuccess)
        #expect(success.difference?.replayed == "success (SELECT 3)")
        let unexpected = ResultComparison.compare(recorded: self.result(Self.rows), replayed: failed)
        #expect(unexpected.difference?.kind == .errorVersusSuccess)
        #expect(unexpected.difference?.replayed == "ERROR 42P01: relation \"x\" does not exist")
    }

    @Test func seedErrorsWithoutSQLSTATEAreComparedByMessage() {
        let seed = self.result([], columns: [], error: RecordedError(severity: "ERROR", code: "", message: "boom"))
        let same = self.result([], columns: [], error: RecordedError(severity: "ERROR", code: "XX000", message: "boom"))
        let other = self.result(
            [], columns: [], error: RecordedError(severity: "ERROR", code: "XX000", message: "bang"))
        #expect(ResultComparison.compare(recorded: seed, replayed: same).matches)
        #expect(ResultComparison.compare(recorded: seed, replayed: other).difference?.kind == .errorCode)
    }

    @Test func rowCountDifferenceShowsTheFirstExtraOrMissingRow() {
        let more = Self.rows + [["4", "new", "999", nil]]
        let extra = ResultComparison.compare(
            recorded: self.result(Self.rows), replayed: self.result(more, tag: "SELECT 3"))
        let difference = try! #require(extra.difference)
        #expect(difference.kind == .rowCount)
        #expect(difference.recorded == "3 rows")
        #expect(difference.replayed == "4 rows; row 4 is (id=\"4\", name=\"new\", value=\"999\", created_at=NULL)")

        let fewer = ResultComparison.compare(
            recorded: self.result(Self.rows), replayed: self.result(Array(Self.rows.prefix(2))))
        #expect(fewer.difference?.recorded.hasPrefix("3 rows; row 3 is (id=\"3\"") == true)
    }

    @Test func commandTagsAreCompared() {
        let inserted = self.result([], columns: [], tag: "INSERT 0 1")
        let none = self.result([], columns: [], tag: "INSERT 0 0")
        let outcome = ResultComparison.compare(recorded: inserted, replayed: none)
        #expect(outcome.difference?.kind == .commandTag)
        #expect(outcome.difference?.description == "command tag: recorded \"INSERT 0 1\", replayed \"INSERT 0 0\"")
    }

    @Test func resultSetsOfAMultiStatementQueryAreComparedOneByOne() {
        let first = RecordedResultSet(columns: ["a"], rows: [["1"]], rowCount: 1, commandTag: "SELECT 1")
        let second = RecordedResultSet(columns: ["b"], rows: [["2"]], rowCount: 1, commandTag: "SELECT 1")
        var changed = second
        changed.rows = [["3"]]
        let recorded = RecordedResult(queryNumber: 1, result: second, resultSets: [first, second])
        let replayed = RecordedResult(queryNumber: 1, result: changed, resultSets: [first, changed])
        let outcome = ResultComparison.compare(recorded: recorded, replayed: replayed)
        #expect(outcome.difference?.resultSet == 2)
        #expect(outcome.difference?.location == "result set 2, row 1, column \"b\"")
        let fewer = RecordedResult(queryNumber: 1, result: first)
        #expect(ResultComparison.compare(recorded: recorded, replayed: fewer).difference?.kind == .resultSetCount)
    }

    @Test func recordingsWithoutColumnNamesCompareValuesOnly() {
        // An extended-protocol client that never sent Describe records rows without column names.
        let recorded = self.result([["1"]], columns: [])
        let replayed = self.result([["1"]], columns: ["id"])
        #expect(ResultComparison.compare(recorded: recorded, replayed: replayed).matches)
        let changed = ResultComparison.compare(recorded: recorded, replayed: self.result([["2"]], columns: ["id"]))
        #expect(changed.difference?.column == "id")
    }
}
