import Monitor
import ProxyEngine
import Replay
import Testing

/// Which cells the detail highlights.
@Suite struct CellDifferencesTests {
    typealias Cell = CellDifferences.Cell

    static func set(_ rows: [[String?]], columns: [String] = ["id", "value"], rowCount: Int? = nil)
        -> RecordedResultSet
    {
        RecordedResultSet(columns: columns, rows: rows, rowCount: rowCount ?? rows.count)
    }

    @Test func differingCellsOnBothSides() {
        let marks = CellDifferences.compute(
            recorded: Self.set([["1", "150"], ["2", "200"], ["3", nil]]),
            replayed: Self.set([["1", "150"], ["2", "151"], ["3", ""]]), options: ComparisonOptions())
        #expect(marks.recorded.cells == [Cell(row: 1, column: 1), Cell(row: 2, column: 1)])
        #expect(marks.replayed.cells == marks.recorded.cells, "NULL and '' differ")
        #expect(marks.recorded.rows.isEmpty && marks.replayed.rows.isEmpty)
    }

    @Test func ignoredColumnsAreNeverMarked() {
        let marks = CellDifferences.compute(
            recorded: Self.set([["1", "a"]]), replayed: Self.set([["1", "b"]]),
            options: ComparisonOptions(ignoredColumns: ["VALUE"]))
        #expect(marks.recorded.isEmpty && marks.replayed.isEmpty)
    }

    @Test func extraAndMissingRowsAreMarkedWhole() {
        let marks = CellDifferences.compute(
            recorded: Self.set([["1", "a"]]), replayed: Self.set([["1", "a"], ["2", "b"]]), options: ComparisonOptions())
        #expect(marks.replayed.rows == [1])
        #expect(marks.recorded.isEmpty)
        // Rows the file did not keep are not missing.
        let truncated = CellDifferences.compute(
            recorded: Self.set([["1", "a"]], rowCount: 2), replayed: Self.set([["1", "a"], ["2", "b"]]),
            options: ComparisonOptions())
        #expect(truncated.replayed.isEmpty)
    }

    @Test func unorderedMarksRowsTheOtherSideLacks() {
        let marks = CellDifferences.compute(
            recorded: Self.set([["1", "a"], ["2", "b"], ["2", "b"]]),
            replayed: Self.set([["2", "b"], ["1", "a"], ["3", "c"]]), options: ComparisonOptions(unordered: true))
        #expect(marks.recorded.rows == [2])
        #expect(marks.replayed.rows == [2])
        #expect(marks.recorded.cells.isEmpty)
    }

    @Test func renamedColumnsAreMarked() {
        let marks = CellDifferences.compute(
            recorded: Self.set([], columns: ["id", "value"]), replayed: Self.set([], columns: ["id", "amount", "x"]),
            options: ComparisonOptions())
        #expect(marks.recorded.columns == [1])
        #expect(marks.replayed.columns == [1, 2])
    }

    /// Two 50 MB values differing in their last character are marked; an equal pair (another copy) is not. The
    /// replay view asks for this once per step, where the step ran.
    @Test func hugeValuesAreComparedWhole() {
        let huge = HugeValueRenderTests.huge
        let copy = String(decoding: Array(huge.utf8), as: UTF8.self)
        let recorded = Self.set([[huge + "x", huge]], columns: ["a", "b"])
        let replayed = Self.set([[huge + "y", copy]], columns: ["a", "b"])
        let step = QueryStep(
            index: 0, eventNumber: 1, timestamp: EventScript.start, query: RecordedQuery(queryNumber: 1, sql: "x"),
            recorded: RecordedResult(queryNumber: 1, result: recorded),
            replayed: RecordedResult(queryNumber: 1, result: replayed), status: .mismatched)
        let marks = CellDifferences.marks(of: step, options: ComparisonOptions())
        let compared = CellDifferences.compute(recorded: recorded, replayed: replayed, options: ComparisonOptions())
        #expect(marks == [compared])
        #expect(marks.first?.recorded.cells == [Cell(row: 0, column: 0)])
        #expect(marks.first?.replayed.cells == [Cell(row: 0, column: 0)])
        let skipped = QueryStep(
            index: 0, eventNumber: 1, timestamp: EventScript.start, query: RecordedQuery(queryNumber: 1, sql: "x"),
            recorded: RecordedResult(queryNumber: 1, result: recorded), replayed: nil, status: .skipped)
        #expect(CellDifferences.marks(of: skipped, options: ComparisonOptions()).isEmpty)
    }
}
