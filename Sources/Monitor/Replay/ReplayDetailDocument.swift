import Foundation
import ProxyEngine
import Replay

/// The detail of one replayed query: its SQL and parameters, the verdict in words, then the recorded and the
/// replayed result, side by side when the terminal is wide enough for both (one above the other otherwise), with
/// the cells that differ highlighted.
///
/// Table rows are built only when drawn, so a thousand-row result costs only the rows on screen.
public struct ReplayDetailDocument: Sendable {
    /// A part of the document: lines across the screen, or a recorded/replayed pair.
    enum Section: Sendable {
        case full([StyledLine])
        case sides(ComparisonSide, ComparisonSide)
    }

    private(set) var sections: [Section] = []
    /// Recorded and replayed next to each other (else the replayed under the recorded).
    public let sideBySide: Bool
    /// The columns of each half when side by side.
    public let halfWidth: Int
    public private(set) var lineCount = 0
    /// How wide the content is, so that `width - screen width` is as far as it scrolls sideways.
    public private(set) var width = 0
    private let screenWidth: Int

    /// Below this many columns per half, recorded and replayed go one above the other.
    static let minimumHalf = 50

    /// - Parameter sideBySide: nil decides by the width: side by side when each half is at least 20 columns and
    ///   shows the wider side whole, or at least `minimumHalf` columns of it.
    init(sections: [Section], screenWidth: Int, sideBySide: Bool? = nil) {
        let halfWidth = max((screenWidth - 3) / 2, 0)
        let needed = sections.reduce(0) { widest, section in
            guard case .sides(let left, let right) = section else { return widest }
            return max(widest, left.width, right.width)
        }
        self.sideBySide = sideBySide ?? (halfWidth >= min(needed, Self.minimumHalf) && halfWidth >= 20)
        self.halfWidth = halfWidth
        self.screenWidth = screenWidth
        self.sections = sections
        var count = 0
        var width = 0
        for section in sections {
            switch section {
            case .full(let lines):
                count += lines.count
                width = max(width, lines.map(\.width).max() ?? 0)
            case .sides(let left, let right):
                if self.sideBySide {
                    count += max(left.lineCount, right.lineCount)
                    width = max(width, max(left.width, right.width) - halfWidth + screenWidth)
                } else {
                    count += left.lineCount + 1 + right.lineCount
                    width = max(width, left.width, right.width)
                }
            }
        }
        self.lineCount = count
        self.width = width
    }

    /// One line of the document: full width, or a left and a right half.
    enum Line {
        case full(StyledLine)
        case split(StyledLine?, StyledLine?)
    }

    func line(_ index: Int) -> Line? {
        guard index >= 0 else { return nil }
        var offset = index
        for section in self.sections {
            switch section {
            case .full(let lines):
                if offset < lines.count { return .full(lines[offset]) }
                offset -= lines.count
            case .sides(let left, let right):
                if self.sideBySide {
                    let count = max(left.lineCount, right.lineCount)
                    if offset < count { return .split(left.line(offset), right.line(offset)) }
                    offset -= count
                } else {
                    if offset < left.lineCount { return left.line(offset).map { .full($0) } }
                    offset -= left.lineCount
                    if offset == 0 { return .full(StyledLine()) }
                    offset -= 1
                    if offset < right.lineCount { return right.line(offset).map { .full($0) } }
                    offset -= right.lineCount
                }
            }
        }
        return nil
    }

    /// Draws the lines from `scroll` into `height` rows from `row`.
    public func draw(into screen: inout ScreenBuffer, row: Int, height: Int, scroll: DashboardState.Scroll) {
        guard height > 0 else { return }
        for offset in 0..<height {
            guard let line = self.line(scroll.row + offset) else { break }
            let y = row + offset
            switch line {
            case .full(let text):
                screen.write(text, row: y, column: 0, width: self.screenWidth, skip: scroll.column)
            case .split(let left, let right):
                if let left {
                    screen.write(left, row: y, column: 0, width: self.halfWidth, skip: scroll.column)
                }
                screen.write("│", row: y, column: self.halfWidth + 1, style: .dim)
                if let right {
                    screen.write(
                        right, row: y, column: self.halfWidth + 3, width: self.halfWidth, skip: scroll.column)
                }
            }
        }
    }

    // MARK: - Building

    static func make(
        row: ReplayRow, number: Int, of total: Int, isNext: Bool, comparison: ComparisonOptions, width: Int
    ) -> ReplayDetailDocument {
        var head: [StyledLine] = []
        let query = row.query
        var title = StyledLine()
        title.append("Query \(number) of \(total)", .columnHeader)
        var facts = " · #\(query.queryNumber) in the session · event \(row.eventNumber) · recorded "
        facts += DisplayText.clock(row.timestamp, milliseconds: true) + " UTC · \(query.queryProtocol.rawValue) protocol"
        if let name = query.statementName, !name.isEmpty { facts += " · statement \"\(TerminalText.escaped(name))\"" }
        if let portal = query.portalName, !portal.isEmpty { facts += " · portal \"\(TerminalText.escaped(portal))\"" }
        if query.redacted { facts += " · password masked" }
        title.append(facts, .dim)
        head.append(title)
        head += ReplayVerdict.lines(row, isNext: isNext).flatMap { ReplayViewRenderer.wrapped($0, width: width) }

        head.append(StyledLine())
        head.append(StyledLine("SQL", .columnHeader))
        for line in DetailDocument.sqlLines(query.sql) {
            for piece in DetailDocument.wrap(line, width: max(width - 2, 10)) {
                head.append(StyledLine("  " + piece))
            }
        }
        if let parameters = query.parameters, !parameters.isEmpty {
            head.append(StyledLine())
            head.append(StyledLine("Parameters", .columnHeader))
            for (index, parameter) in parameters.enumerated() {
                var line = StyledLine("  $\(index + 1) = ")
                if let value = parameter.value {
                    line.append("'" + TerminalText.escaped(value) + "'")
                    if parameter.format == .binary { line.append(" (binary, base64)", .dim) }
                } else {
                    line.append(ResultTableFormat.nullText, .null)
                }
                head.append(line)
            }
        }
        head.append(StyledLine())
        // Side by side, the two tables start on the same line and cells are cut at the pane's cap; one above the
        // other, no padding is needed and cells show up to the detail's cap.
        let narrow = self.comparisonSections(
            row: row, comparison: comparison, sql: query.sql, cap: ResultTableFormat.paneCellCap, aligned: false)
        if ReplayDetailDocument(sections: narrow, screenWidth: width).sideBySide {
            let aligned = self.comparisonSections(
                row: row, comparison: comparison, sql: query.sql, cap: ResultTableFormat.paneCellCap, aligned: true)
            return ReplayDetailDocument(sections: [.full(head)] + aligned, screenWidth: width, sideBySide: true)
        }
        let stacked = self.comparisonSections(
            row: row, comparison: comparison, sql: query.sql, cap: ResultTableFormat.detailCellCap, aligned: false)
        return ReplayDetailDocument(sections: [.full(head)] + stacked, screenWidth: width, sideBySide: false)
    }

    /// The recorded and replayed results, one section per result set.
    static func comparisonSections(
        row: ReplayRow, comparison: ComparisonOptions, sql: String, cap: Int, aligned: Bool
    ) -> [Section] {
        let recorded = row.recorded
        let replayed = row.step?.replayed
        var left = ComparisonSide()
        var right = ComparisonSide()
        left.append(self.sideTitle("Recorded", recorded))
        right.append(self.sideTitle("Replayed", replayed))
        var leftIntro: [StyledLine] = []
        var rightIntro: [StyledLine] = []
        if recorded == nil {
            leftIntro.append(StyledLine("  The file holds no result for it (it was cut off).", .dim))
        }
        if replayed == nil {
            let text: String
            if let step = row.step {
                text = step.status == .skipped ? "  Not executed: " + (step.skipReason ?? "skipped") : "  Not executed."
            } else if let failure = row.failure {
                text = "  Could not run: " + failure
            } else {
                text = "  Not replayed yet."
            }
            rightIntro.append(StyledLine(TerminalText.escaped(text), row.failure != nil ? .failure : .dim))
        }
        if let error = recorded?.error { leftIntro += Self.indented(ResultDocument.errorLines(error, sql: sql)) }
        if let error = replayed?.error { rightIntro += Self.indented(ResultDocument.errorLines(error, sql: sql)) }
        if aligned { Self.pad(&leftIntro, &rightIntro) }
        left.append(lines: leftIntro)
        right.append(lines: rightIntro)

        let recordedSets = recorded.map { $0.resultSets ?? [$0.result] } ?? []
        let replayedSets = replayed.map { $0.resultSets ?? [$0.result] } ?? []
        let setCount = max(recordedSets.count, replayedSets.count)
        var sections: [Section] = []
        for index in 0..<setCount {
            let recordedSet = index < recordedSets.count ? recordedSets[index] : nil
            let replayedSet = index < replayedSets.count ? replayedSets[index] : nil
            // A failed statement without rows has nothing more to show than its error.
            let hasRows = { (set: RecordedResultSet?, result: RecordedResult?) -> Bool in
                guard let set else { return false }
                return result?.error == nil || !set.columns.isEmpty
            }
            guard hasRows(recordedSet, recorded) || hasRows(replayedSet, replayed) else { continue }
            var marks = CellDifferences()
            if let recordedSet, let replayedSet {
                marks = CellDifferences.compute(recorded: recordedSet, replayed: replayedSet, options: comparison)
            }
            var leftHead: [StyledLine] = []
            var rightHead: [StyledLine] = []
            if setCount > 1 {
                leftHead.append(self.setTitle(index: index, of: setCount, set: recordedSet))
                rightHead.append(self.setTitle(index: index, of: setCount, set: replayedSet))
            }
            if aligned { Self.pad(&leftHead, &rightHead) }
            left.append(lines: leftHead)
            right.append(lines: rightHead)
            if let recordedSet, hasRows(recordedSet, recorded) {
                left.appendSet(recordedSet, marks: marks.recorded, cap: cap, recorded: true)
            }
            if let replayedSet, hasRows(replayedSet, replayed) {
                right.appendSet(replayedSet, marks: marks.replayed, cap: cap, recorded: false)
            }
            sections.append(.sides(left, right))
            left = ComparisonSide()
            right = ComparisonSide()
        }
        if sections.isEmpty || left.lineCount > 0 || right.lineCount > 0 {
            sections.append(.sides(left, right))
        }
        return sections
    }

    /// `Recorded · SELECT 3 · 3 rows · 0.41 ms`.
    static func sideTitle(_ name: String, _ result: RecordedResult?) -> StyledLine {
        var line = StyledLine(name, .columnHeader)
        if let result {
            let summary =
                result.error != nil
                ? "failed · " + DisplayText.duration(milliseconds: result.durationMS)
                : ReplayVerdict.resultSummary(result, recorded: name == "Recorded")
            line.append(" · " + summary, .dim)
        }
        return line
    }

    static func setTitle(index: Int, of count: Int, set: RecordedResultSet?) -> StyledLine {
        var text = "Result set \(index + 1) of \(count)"
        if let set {
            if let tag = set.commandTag { text += " · " + TerminalText.escaped(tag) }
            if !set.columns.isEmpty { text += " · " + DisplayText.count(set.rowCount, "row") }
        } else {
            text += " · none"
        }
        return StyledLine(text, .dim)
    }

    /// Lines moved two columns right, under their side's title like the tables.
    static func indented(_ lines: [StyledLine]) -> [StyledLine] {
        lines.map { StyledLine([Span("  ")] + $0.spans) }
    }

    /// Pads the shorter list with empty lines, so both sides' tables start on the same line.
    static func pad(_ left: inout [StyledLine], _ right: inout [StyledLine]) {
        while left.count < right.count { left.append(StyledLine()) }
        while right.count < left.count { right.append(StyledLine()) }
    }
}

/// One side (recorded or replayed) of a comparison: lines and tables, table rows built when asked for.
struct ComparisonSide: Sendable {
    enum Block: Sendable {
        case lines([StyledLine])
        case table(RecordedResultSet, widths: [Int], cap: Int, marks: CellDifferences.Side)
    }

    private(set) var blocks: [Block] = []
    private(set) var lineCount = 0
    private(set) var width = 0

    mutating func append(_ line: StyledLine) {
        self.append(lines: [line])
    }

    mutating func append(lines: [StyledLine]) {
        guard !lines.isEmpty else { return }
        if case .lines(let existing) = self.blocks.last {
            self.blocks[self.blocks.count - 1] = .lines(existing + lines)
        } else {
            self.blocks.append(.lines(lines))
        }
        self.lineCount += lines.count
        self.width = max(self.width, lines.map(\.width).max() ?? 0)
    }

    /// A result set: its table (or `→ No result set · TAG`), then a note on rows not kept.
    mutating func appendSet(_ set: RecordedResultSet, marks: CellDifferences.Side, cap: Int, recorded: Bool) {
        guard !set.columns.isEmpty || !set.rows.isEmpty else {
            self.append(StyledLine("  → No result set · " + TerminalText.escaped(set.commandTag ?? "done"), .dim))
            return
        }
        let widths = ResultTableFormat.columnWidths(of: set)
        self.blocks.append(.table(set, widths: widths, cap: cap, marks: marks))
        self.lineCount += 2 + set.rows.count
        self.width = max(self.width, 2 + ResultTableFormat.tableWidth(widths: widths, cap: cap))
        let hidden = set.rowCount - set.rows.count
        if hidden > 0 {
            let noun = hidden == 1 ? "row" : "rows"
            self.append(
                StyledLine(
                    recorded
                        ? "  … \(DisplayText.count(hidden)) more \(noun) not kept in the file (compared by digest)"
                        : "  … \(DisplayText.count(hidden)) more \(noun) not kept for display", .dim))
        }
    }

    func line(_ index: Int) -> StyledLine? {
        guard index >= 0 else { return nil }
        var offset = index
        for block in self.blocks {
            switch block {
            case .lines(let lines):
                if offset < lines.count { return lines[offset] }
                offset -= lines.count
            case .table(let set, let widths, let cap, let marks):
                let count = 2 + set.rows.count
                if offset < count {
                    return Self.tableLine(offset, set: set, widths: widths, cap: cap, marks: marks)
                }
                offset -= count
            }
        }
        return nil
    }

    /// The header, the rule, or a row of a table, with marked cells in the `difference` style.
    static func tableLine(_ index: Int, set: RecordedResultSet, widths: [Int], cap: Int, marks: CellDifferences.Side)
        -> StyledLine
    {
        var line = StyledLine("  ")
        switch index {
        case 0:
            for (column, width) in widths.enumerated() {
                if column > 0 { line.append(ResultTableFormat.separator, .dim) }
                let name = column < set.columns.count ? TerminalText.escaped(set.columns[column]) : ""
                let style: CellStyle = marks.columns.contains(column) ? .difference : .columnHeader
                line.append(ResultTableFormat.fit(name, width: min(width, cap), right: false), style)
            }
        case 1:
            line.spans += ResultTableFormat.rule(widths: widths, cap: cap).spans
        default:
            let rowIndex = index - 2
            let values = set.rows[rowIndex]
            for (column, width) in widths.enumerated() {
                if column > 0 { line.append(ResultTableFormat.separator, .dim) }
                let columnWidth = min(width, cap)
                let right = column < set.columnTypes.count && ResultTableFormat.isNumeric(set.columnTypes[column])
                let marked = marks.isMarked(row: rowIndex, column: column)
                guard column < values.count else {
                    line.append(String(repeating: " ", count: columnWidth), marked ? .difference : .normal)
                    continue
                }
                if let value = values[column] {
                    line.append(
                        ResultTableFormat.fit(TerminalText.escaped(value), width: columnWidth, right: right),
                        marked ? .difference : .normal)
                } else {
                    line.append(
                        ResultTableFormat.fit(ResultTableFormat.nullText, width: columnWidth, right: right),
                        marked ? .difference : .null)
                }
            }
        }
        return line
    }
}
