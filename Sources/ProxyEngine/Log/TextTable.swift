/// A box-drawn table in the seed's look, measured in terminal columns so wide characters keep the edges aligned:
///
/// ```
/// ┌──────┬───────┐
/// │ id   │ name  │
/// ├──────┼───────┤
/// │ 1    │ test1 │
/// └──────┴───────┘
/// ```
///
/// Cells are left-aligned with one space of padding. SQL NULL is shown as `NULL` (dimmed when colour is on, so it
/// stands apart from a text value "NULL"); an empty string stays an empty cell. Control characters and newlines are
/// shown escaped (`\n`) so the box never breaks.
public struct TextTable: Sendable {
    public struct Options: Sendable, Equatable {
        /// Rows shown before the table is cut with a `… N more rows` line; nil shows every row.
        public var maxRows: Int?
        /// Widest cell in columns before it is cut with `…`; nil keeps cells whole.
        public var maxCellWidth: Int?
        /// Narrowest column content. The seed's tables never go below 4 (its `id` column), and `NULL` always fits.
        public var minColumnWidth: Int
        /// Dim NULL markers.
        public var color: Bool

        public init(maxRows: Int? = nil, maxCellWidth: Int? = nil, minColumnWidth: Int = 4, color: Bool = false) {
            self.maxRows = maxRows
            self.maxCellWidth = maxCellWidth
            self.minColumnWidth = minColumnWidth
            self.color = color
        }
    }

    /// How SQL NULL appears in a cell.
    public static let nullText = "NULL"

    public var columns: [String]
    /// Cell values; nil is SQL NULL. Short rows are padded with empty cells.
    public var rows: [[String?]]
    /// The number of rows the result really had, when `rows` holds only the first ones (for `… N more rows`).
    public var totalRowCount: Int?

    public init(columns: [String], rows: [[String?]], totalRowCount: Int? = nil) {
        self.columns = columns
        self.rows = rows
        self.totalRowCount = totalRowCount
    }

    /// The number of rows `render(options:)` draws.
    public func shownRowCount(options: Options) -> Int {
        guard let maxRows = options.maxRows else {
            return self.rows.count
        }
        return min(self.rows.count, max(maxRows, 0))
    }

    /// The table's lines, without line terminators.
    public func render(options: Options = Options()) -> [String] {
        let shownRows = self.rows.prefix(self.shownRowCount(options: options))
        let columnCount = max(self.columns.count, shownRows.map(\.count).max() ?? 0)
        guard columnCount > 0 else {
            return []
        }

        let header = (0..<columnCount).map { index in
            Cell(text: index < self.columns.count ? self.columns[index] : "", options: options)
        }
        let body = shownRows.map { row in
            (0..<columnCount).map { index -> Cell in
                guard index < row.count else {
                    return Cell(text: "", options: options)
                }
                guard let value = row[index] else {
                    return Cell(null: options)
                }
                return Cell(text: value, options: options)
            }
        }

        var widths = header.map { max($0.width, options.minColumnWidth) }
        for row in body {
            for (index, cell) in row.enumerated() {
                widths[index] = max(widths[index], cell.width)
            }
        }

        func rule(_ left: String, _ middle: String, _ right: String) -> String {
            left + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: middle) + right
        }
        func line(_ cells: [Cell]) -> String {
            let parts = cells.enumerated().map { index, cell in
                cell.rendered + String(repeating: " ", count: widths[index] - cell.width)
            }
            return "│ " + parts.joined(separator: " │ ") + " │"
        }

        var lines = [rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤")]
        lines += body.map(line)
        lines.append(rule("└", "┴", "┘"))

        let total = max(self.totalRowCount ?? self.rows.count, self.rows.count)
        let hidden = total - shownRows.count
        if hidden > 0 {
            lines.append("… \(hidden) more \(hidden == 1 ? "row" : "rows")")
        }
        return lines
    }

    /// One cell: what is printed (maybe with colour codes) and how many columns it takes.
    private struct Cell {
        var rendered: String
        var width: Int

        init(text: String, options: Options) {
            guard let maxWidth = options.maxCellWidth else {
                self.rendered = TerminalText.escaped(text)
                self.width = TerminalText.displayWidth(of: self.rendered)
                return
            }
            // Cut before escaping: a huge value costs what the cell shows.
            let fitted = TerminalText.fitted(text, toWidth: maxWidth)
            self.rendered = fitted.text
            self.width = fitted.width
        }

        init(null options: Options) {
            self.rendered = TerminalStyle.apply(.dim, to: TextTable.nullText, enabled: options.color)
            self.width = TerminalText.displayWidth(of: TextTable.nullText)
        }
    }
}
