import ProxyEngine

/// A result set as table lines: a header, a rule, one line per row. Columns are as wide as their content (up to a
/// cap, past which a cell is cut with `…`), numbers are right-aligned as psql does, SQL NULL shows as a styled
/// `NULL` while an empty string stays an empty cell.
public enum ResultTableFormat {
    /// How SQL NULL appears (in the `.null` style).
    public static let nullText = "NULL"
    /// Widest column in the Result pane; the detail view shows up to `detailCellCap`.
    public static let paneCellCap = 60
    public static let detailCellCap = 400
    static let separator = " │ "

    /// The display width of every column over its name and every kept value, up to `cap`. Each is measured with a
    /// bound (`TerminalText.fitted`): a value reads at most what a cell `cap` columns wide shows, so a client's 50 MB
    /// value costs what its cell does.
    public static func columnWidths(of set: RecordedResultSet, cap: Int) -> [Int] {
        func width(_ text: String) -> Int {
            let fitted = TerminalText.fitted(text, toWidth: cap)
            return fitted.isCut ? cap : fitted.width
        }
        let count = max(set.columns.count, set.rows.map(\.count).max() ?? 0)
        var widths = (0..<count).map { index in index < set.columns.count ? width(set.columns[index]) : 0 }
        for row in set.rows {
            for (index, value) in row.enumerated() {
                let valueWidth = value.map(width) ?? min(self.nullText.count, cap)
                if valueWidth > widths[index] { widths[index] = valueWidth }
            }
        }
        return widths
    }

    /// Type OIDs psql right-aligns: int2, int4, int8, oid, float4, float8, numeric, money.
    public static func isNumeric(_ oid: UInt32) -> Bool {
        [20, 21, 23, 26, 700, 701, 790, 1700].contains(oid)
    }

    /// The header line (column names); names `marks` says differ are in the `difference` style.
    public static func header(
        _ set: RecordedResultSet, widths: [Int], cap: Int, marks: CellDifferences.Side = CellDifferences.Side()
    ) -> StyledLine {
        var line = StyledLine()
        for (index, width) in widths.enumerated() {
            if index > 0 { line.append(self.separator, .dim) }
            let name = index < set.columns.count ? set.columns[index] : ""
            let style: CellStyle = marks.columns.contains(index) ? .difference : .columnHeader
            line.append(self.cell(name, width: min(width, cap), right: false), style)
        }
        return line
    }

    /// The rule under the header.
    public static func rule(widths: [Int], cap: Int) -> StyledLine {
        let parts = widths.map { String(repeating: "─", count: min($0, cap)) }
        return StyledLine(parts.joined(separator: "─┼─"), .dim)
    }

    /// Row `index` of the set; cells `marks` says differ are in the `difference` style.
    public static func row(
        _ index: Int, of set: RecordedResultSet, widths: [Int], cap: Int,
        marks: CellDifferences.Side = CellDifferences.Side()
    ) -> StyledLine {
        let values = set.rows[index]
        var line = StyledLine()
        for (column, width) in widths.enumerated() {
            if column > 0 { line.append(self.separator, .dim) }
            let columnWidth = min(width, cap)
            let right = column < set.columnTypes.count && self.isNumeric(set.columnTypes[column])
            let marked = marks.isMarked(row: index, column: column)
            guard column < values.count else {
                line.append(String(repeating: " ", count: columnWidth), marked ? .difference : .normal)
                continue
            }
            if let value = values[column] {
                line.append(self.cell(value, width: columnWidth, right: right), marked ? .difference : .normal)
            } else {
                line.append(self.fit(self.nullText, width: columnWidth, right: right), marked ? .difference : .null)
            }
        }
        return line
    }

    /// The total width of a table with these column widths.
    public static func tableWidth(widths: [Int], cap: Int) -> Int {
        widths.reduce(0) { $0 + min($1, cap) } + max(widths.count - 1, 0) * 3
    }

    /// A value from outside escaped, then cut or padded to exactly `width` columns; only what fits is read.
    static func cell(_ value: String, width: Int, right: Bool) -> String {
        let fitted = TerminalText.fitted(value, toWidth: width)
        return self.padded(fitted.text, width: fitted.width, to: width, right: right)
    }

    /// `text` (shown as it is: escape it first) cut or padded to exactly `width` columns.
    static func fit(_ text: String, width: Int, right: Bool) -> String {
        let cut = TerminalText.displayWidth(of: text) > width ? TerminalText.truncated(text, toWidth: width) : text
        return self.padded(cut, width: TerminalText.displayWidth(of: cut), to: width, right: right)
    }

    private static func padded(_ text: String, width textWidth: Int, to width: Int, right: Bool) -> String {
        let missing = width - textWidth
        guard missing > 0 else { return text }
        let padding = String(repeating: " ", count: missing)
        return right ? padding + text : text + padding
    }
}
