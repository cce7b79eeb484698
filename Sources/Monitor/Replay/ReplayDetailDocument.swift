import Foundation
import ProxyEngine
import Replay

/// The detail of one replayed query: its SQL and parameters, the verdict in words, then the recorded and the
/// replayed result, side by side when the terminal is wide enough for both (one above the other otherwise), with
/// the cells that differ highlighted.
///
/// Table rows are built only when drawn, so a thousand-row result costs only the rows on screen.
public struct ReplayDetailDocument: Sendable, ScrollableDocument {
    /// A part of the document: lines across the screen, or a recorded/replayed pair.
    enum Section: Sendable {
        case full([StyledLine])
        case sides(LineDocument, LineDocument)
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

    /// Draws the lines from `scroll` into `height` rows from `row`; the halves are laid out for the screen width
    /// the document was made for, from `column`.
    func draw(
        into screen: inout ScreenBuffer, row: Int, column: Int, height: Int, width: Int, scroll: DocumentScroll
    ) {
        guard height > 0 else { return }
        for offset in 0..<height {
            guard let line = self.line(scroll.row + offset) else { break }
            let y = row + offset
            switch line {
            case .full(let text):
                screen.write(text, row: y, column: column, width: min(width, self.screenWidth), skip: scroll.column)
            case .split(let left, let right):
                if let left {
                    screen.write(left, row: y, column: column, width: self.halfWidth, skip: scroll.column)
                }
                screen.write("│", row: y, column: column + self.halfWidth + 1, style: .dim)
                if let right {
                    screen.write(
                        right, row: y, column: column + self.halfWidth + 3, width: self.halfWidth,
                        skip: scroll.column)
                }
            }
        }
    }

    // MARK: - Building

    static func make(
        row: ReplayRow, number: Int, of total: Int, isNext: Bool, width: Int
    ) -> ReplayDetailDocument {
        var head: [StyledLine] = []
        let query = row.query
        var title = StyledLine()
        title.append("Query \(number) of \(total)", .columnHeader)
        var facts = " · #\(query.queryNumber) in the session · event \(row.eventNumber) · recorded "
        facts += DisplayText.clock(row.timestamp, milliseconds: true) + " UTC · \(query.queryProtocol.rawValue) protocol"
        if let name = query.statementName, !name.isEmpty { facts += " · statement \"\(DisplayText.clean(name))\"" }
        if let portal = query.portalName, !portal.isEmpty { facts += " · portal \"\(DisplayText.clean(portal))\"" }
        if query.redacted { facts += " · password masked" }
        title.append(facts, .dim)
        head.append(title)
        head += ReplayVerdict.lines(row, isNext: isNext).flatMap { ReplayViewRenderer.wrapped($0, width: width) }

        head.append(StyledLine())
        head.append(StyledLine("SQL", .columnHeader))
        head += DetailDocument.sqlLines(query.sql, width: width)
        if let parameters = query.parameters, !parameters.isEmpty {
            head.append(StyledLine())
            head.append(StyledLine("Parameters", .columnHeader))
            head += DetailDocument.parameterLines(parameters)
        }
        head.append(StyledLine())
        // Side by side, the two tables start on the same line and cells are cut at the pane's cap; one above the
        // other, no padding is needed and cells show up to the detail's cap.
        let narrow = self.comparisonSections(
            row: row, sql: query.sql, cap: ResultTableFormat.paneCellCap, aligned: false)
        if ReplayDetailDocument(sections: narrow, screenWidth: width).sideBySide {
            let aligned = self.comparisonSections(
                row: row, sql: query.sql, cap: ResultTableFormat.paneCellCap, aligned: true)
            return ReplayDetailDocument(sections: [.full(head)] + aligned, screenWidth: width, sideBySide: true)
        }
        let stacked = self.comparisonSections(
            row: row, sql: query.sql, cap: ResultTableFormat.detailCellCap, aligned: false)
        return ReplayDetailDocument(sections: [.full(head)] + stacked, screenWidth: width, sideBySide: false)
    }

    /// The recorded and replayed results, one section per result set.
    static func comparisonSections(
        row: ReplayRow, sql: String, cap: Int, aligned: Bool
    ) -> [Section] {
        let recorded = row.recorded
        let replayed = row.step?.replayed
        var left = LineDocument()
        var right = LineDocument()
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
            rightIntro.append(StyledLine(DisplayText.clean(text), row.failure != nil ? .failure : .dim))
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
            // Worked out once, where the step ran (comparing cells reads whole values).
            let marks = index < row.marks.count ? row.marks[index] : CellDifferences()
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
                Self.appendSet(recordedSet, to: &left, marks: marks.recorded, cap: cap, recorded: true)
            }
            if let replayedSet, hasRows(replayedSet, replayed) {
                Self.appendSet(replayedSet, to: &right, marks: marks.replayed, cap: cap, recorded: false)
            }
            sections.append(.sides(left, right))
            left = LineDocument()
            right = LineDocument()
        }
        if sections.isEmpty || left.lineCount > 0 || right.lineCount > 0 {
            sections.append(.sides(left, right))
        }
        return sections
    }

    /// A result set on one side: its table (or `→ No result set · TAG`), then a note on rows not kept.
    static func appendSet(
        _ set: RecordedResultSet, to side: inout LineDocument, marks: CellDifferences.Side, cap: Int, recorded: Bool
    ) {
        guard !set.columns.isEmpty || !set.rows.isEmpty else {
            side.append(StyledLine("  → No result set · " + DisplayText.clean(set.commandTag ?? "done"), .dim))
            return
        }
        side.appendTable(set, cap: cap, indent: 2, marks: marks)
        let hidden = set.rowCount - set.rows.count
        if hidden > 0 {
            let noun = hidden == 1 ? "row" : "rows"
            side.append(
                StyledLine(
                    recorded
                        ? "  … \(DisplayText.count(hidden)) more \(noun) not kept in the file (compared by digest)"
                        : "  … \(DisplayText.count(hidden)) more \(noun) not kept for display", .dim))
        }
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
            if let tag = set.commandTag { text += " · " + DisplayText.clean(tag) }
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
