import ProxyEngine
import Replay

/// Which cells of a recorded and a replayed result set differ, so the detail can highlight them. Pure.
///
/// Rows are compared as `ResultComparison` compares them: position by position, or as a multiset with
/// `--unordered` (then whole rows the other side lacks are marked, since a cell has no counterpart). Ignored
/// columns are never marked. A row one side has past the other side's row count is marked whole; rows the file
/// did not keep (a truncated recording) are not, since their absence is not a difference.
public struct CellDifferences: Sendable, Equatable {
    /// Marks for one side of the comparison.
    public struct Side: Sendable, Equatable {
        /// (row, column), both 0-based, of differing cells.
        public var cells: Set<Cell> = []
        /// 0-based rows that differ as a whole (missing from, or extra to, the other side).
        public var rows: Set<Int> = []
        /// 0-based columns whose names differ.
        public var columns: Set<Int> = []

        public init() {}

        public func isMarked(row: Int, column: Int) -> Bool {
            self.rows.contains(row) || self.cells.contains(Cell(row: row, column: column))
        }

        public var isEmpty: Bool { self.cells.isEmpty && self.rows.isEmpty && self.columns.isEmpty }
    }

    public struct Cell: Sendable, Hashable {
        public var row: Int
        public var column: Int

        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }
    }

    public var recorded = Side()
    public var replayed = Side()

    public init() {}

    /// The marks of every result set a step's recorded and replayed results both have (empty for the others).
    /// Compares whole values: done once per step where it ran, never while drawing.
    public static func marks(of step: QueryStep, options: ComparisonOptions) -> [CellDifferences] {
        guard let recorded = step.recorded, let replayed = step.replayed else { return [] }
        let recordedSets = recorded.resultSets ?? [recorded.result]
        let replayedSets = replayed.resultSets ?? [replayed.result]
        return (0..<min(recordedSets.count, replayedSets.count)).map { index in
            Self.compute(recorded: recordedSets[index], replayed: replayedSets[index], options: options)
        }
    }

    public static func compute(
        recorded: RecordedResultSet, replayed: RecordedResultSet, options: ComparisonOptions
    ) -> CellDifferences {
        var result = CellDifferences()
        let names = recorded.columns.isEmpty ? replayed.columns : recorded.columns
        let ignored = Set(
            names.indices.filter { index in
                options.ignoredColumns.contains { $0.lowercased() == names[index].lowercased() }
            })
        if !recorded.columns.isEmpty, recorded.columns != replayed.columns {
            for index in 0..<max(recorded.columns.count, replayed.columns.count) {
                let left = index < recorded.columns.count ? recorded.columns[index] : nil
                let right = index < replayed.columns.count ? replayed.columns[index] : nil
                guard left != right else { continue }
                if left != nil { result.recorded.columns.insert(index) }
                if right != nil { result.replayed.columns.insert(index) }
            }
        }
        if options.unordered {
            // A truncated recording keeps only its first rows: a multiset of those says nothing about the rest.
            if !recorded.rowsTruncated {
                result.markUnmatchedRows(recorded: recorded.rows, replayed: replayed.rows, ignored: ignored)
            }
            return result
        }
        let shared = min(recorded.rows.count, replayed.rows.count)
        for row in 0..<shared {
            let left = recorded.rows[row]
            let right = replayed.rows[row]
            for column in 0..<max(left.count, right.count) where !ignored.contains(column) {
                let leftValue = column < left.count ? left[column] : nil
                let rightValue = column < right.count ? right[column] : nil
                if column >= left.count || column >= right.count || leftValue != rightValue {
                    if column < left.count { result.recorded.cells.insert(Cell(row: row, column: column)) }
                    if column < right.count { result.replayed.cells.insert(Cell(row: row, column: column)) }
                }
            }
        }
        // Rows past the other side's row count (not merely past what the file kept).
        for row in 0..<replayed.rows.count where row >= recorded.rowCount {
            result.replayed.rows.insert(row)
        }
        for row in 0..<recorded.rows.count where row >= replayed.rowCount {
            result.recorded.rows.insert(row)
        }
        return result
    }

    /// `--unordered`: each row matched with an equal one on the other side; what is left is marked.
    private mutating func markUnmatchedRows(recorded: [[String?]], replayed: [[String?]], ignored: Set<Int>) {
        func key(_ row: [String?]) -> [String?] {
            ignored.isEmpty ? row : row.enumerated().filter { !ignored.contains($0.offset) }.map(\.element)
        }
        var available: [[String?]: [Int]] = [:]
        for (index, row) in replayed.enumerated() {
            available[key(row), default: []].append(index)
        }
        var matchedReplayed = Set<Int>()
        for (index, row) in recorded.enumerated() {
            let rowKey = key(row)
            if var candidates = available[rowKey], !candidates.isEmpty {
                matchedReplayed.insert(candidates.removeFirst())
                available[rowKey] = candidates
            } else {
                self.recorded.rows.insert(index)
            }
        }
        for index in replayed.indices where !matchedReplayed.contains(index) {
            self.replayed.rows.insert(index)
        }
    }
}
