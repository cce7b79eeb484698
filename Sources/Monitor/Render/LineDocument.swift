import ProxyEngine

/// Scrollable content made of plain lines and result tables: the Result pane, a query's detail, each side of the
/// replay view's comparison. A table's lines are built only when asked for, so scrolling through a thousand-row
/// result draws just the rows on screen.
public struct LineDocument: Sendable, ScrollableDocument {
    public enum Block: Sendable {
        case lines([StyledLine])
        case table(Table)
    }

    /// A result set shown as a table, `indent` columns in, with the cells `marks` names highlighted.
    public struct Table: Sendable {
        public var set: RecordedResultSet
        public var widths: [Int]
        public var cap: Int
        public var indent: Int
        public var marks: CellDifferences.Side

        /// The header, the rule, then the rows.
        var lineCount: Int { 2 + self.set.rows.count }

        func line(_ index: Int) -> StyledLine {
            var line: StyledLine
            switch index {
            case 0: line = ResultTableFormat.header(self.set, widths: self.widths, cap: self.cap, marks: self.marks)
            case 1: line = ResultTableFormat.rule(widths: self.widths, cap: self.cap)
            default:
                line = ResultTableFormat.row(
                    index - 2, of: self.set, widths: self.widths, cap: self.cap, marks: self.marks)
            }
            if self.indent > 0 { line.spans.insert(Span(String(repeating: " ", count: self.indent)), at: 0) }
            return line
        }
    }

    public private(set) var blocks: [Block] = []
    public private(set) var lineCount = 0
    /// The widest line, in columns (how far one can scroll to the right).
    public private(set) var width = 0

    public init() {}

    public mutating func append(_ line: StyledLine) {
        self.append(lines: [line])
    }

    public mutating func append(_ text: String, _ style: CellStyle = .normal) {
        self.append(StyledLine(text, style))
    }

    public mutating func append(lines: [StyledLine]) {
        guard !lines.isEmpty else { return }
        if case .lines(let existing) = self.blocks.last {
            self.blocks[self.blocks.count - 1] = .lines(existing + lines)
        } else {
            self.blocks.append(.lines(lines))
        }
        self.lineCount += lines.count
        self.width = max(self.width, lines.map(\.width).max() ?? 0)
    }

    /// A result set as a table, its columns as wide as their content up to `cap`.
    public mutating func appendTable(
        _ set: RecordedResultSet, cap: Int, indent: Int = 0, marks: CellDifferences.Side = CellDifferences.Side()
    ) {
        let widths = ResultTableFormat.columnWidths(of: set, cap: cap)
        guard !widths.isEmpty else { return }
        let table = Table(set: set, widths: widths, cap: cap, indent: indent, marks: marks)
        self.blocks.append(.table(table))
        self.lineCount += table.lineCount
        self.width = max(self.width, indent + ResultTableFormat.tableWidth(widths: widths, cap: cap))
    }

    /// The line at `index` (0-based), or nil past the end.
    public func line(_ index: Int) -> StyledLine? {
        guard index >= 0 else { return nil }
        var offset = index
        for block in self.blocks {
            switch block {
            case .lines(let lines):
                if offset < lines.count { return lines[offset] }
                offset -= lines.count
            case .table(let table):
                if offset < table.lineCount { return table.line(offset) }
                offset -= table.lineCount
            }
        }
        return nil
    }

    /// Draws the lines from `scroll` into the rectangle starting at `row`, `column`.
    public func draw(
        into screen: inout ScreenBuffer, row: Int, column: Int = 0, height: Int, width: Int, scroll: DocumentScroll
    ) {
        guard height > 0 else { return }
        for offset in 0..<height {
            guard let line = self.line(scroll.row + offset) else { break }
            screen.write(line, row: row + offset, column: column, width: width, skip: scroll.column)
        }
    }
}
