import Foundation
import ProxyEngine

/// Scrollable content made of plain lines and result tables. A table's lines are built only when asked for, so
/// scrolling through a thousand-row result draws just the rows on screen.
public struct LineDocument: Sendable {
    public enum Block: Sendable {
        case lines([StyledLine])
        case table(RecordedResultSet, widths: [Int], cap: Int, indent: Int)
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

    public mutating func appendTable(_ set: RecordedResultSet, widths: [Int], cap: Int, indent: Int = 0) {
        guard !widths.isEmpty else { return }
        self.blocks.append(.table(set, widths: widths, cap: cap, indent: indent))
        self.lineCount += 2 + set.rows.count
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
            case .table(let set, let widths, let cap, let indent):
                let count = 2 + set.rows.count
                if offset < count {
                    var line: StyledLine
                    switch offset {
                    case 0: line = ResultTableFormat.header(set, widths: widths, cap: cap)
                    case 1: line = ResultTableFormat.rule(widths: widths, cap: cap)
                    default: line = ResultTableFormat.row(set.rows[offset - 2], of: set, widths: widths, cap: cap)
                    }
                    if indent > 0 { line.spans.insert(Span(String(repeating: " ", count: indent)), at: 0) }
                    return line
                }
                offset -= count
            }
        }
        return nil
    }

    /// Draws the lines from `scroll` into the rectangle starting at `row`, `column`.
    public func draw(
        into screen: inout ScreenBuffer, row: Int, column: Int = 0, height: Int, width: Int,
        scroll: DashboardState.Scroll
    ) {
        guard height > 0 else { return }
        for offset in 0..<height {
            guard let line = self.line(scroll.row + offset) else { break }
            screen.write(line, row: row + offset, column: column, width: width, skip: scroll.column)
        }
    }
}

/// What the Result pane shows for a query: its result table, its error, a note that it still runs, or its SQL.
public enum ResultDocument {
    public static func make(entry: QueryEntry, showSQL: Bool, cellCap: Int) -> LineDocument {
        var document = LineDocument()
        if showSQL {
            document.append(lines: DetailDocument.sqlLines(entry.query.sql).map { StyledLine($0) })
            return document
        }
        switch entry.outcome {
        case .running:
            document.append("… waiting for the result", .running)
        case .unknown:
            document.append("? the result was not seen (the dashboard fell behind, or the session ended first)", .dim)
        case .finished(let result):
            if let error = result.error {
                document.append(lines: self.errorLines(error, sql: entry.query.sql))
            } else if !result.result.columns.isEmpty {
                // Measured when shown, not when the result arrives: under a flood most results are never looked at.
                let widths = ResultTableFormat.columnWidths(of: result.result)
                document.appendTable(result.result, widths: widths, cap: cellCap)
                document.append(lines: self.rowNotes(result.result, released: entry.rowsReleased))
            } else {
                document.append("→ No result set · " + TerminalText.escaped(result.result.commandTag ?? "done"), .dim)
            }
            if let sets = result.resultSets, sets.count > 1 {
                document.append("(\(sets.count) result sets; this is the last one. Enter shows all)", .dim)
            }
            for notice in result.notices ?? [] {
                document.append(self.noticeLine(notice))
            }
        }
        return document
    }

    /// Lines under a table: rows the session file did not keep, rows the dashboard let go.
    static func rowNotes(_ set: RecordedResultSet, released: Bool) -> [StyledLine] {
        var lines: [StyledLine] = []
        if released {
            lines.append(
                StyledLine(
                    "(\(DisplayText.count(set.rowCount)) rows; their values were let go to keep memory bounded, "
                        + "the session file has them)", .dim))
        } else if set.rowsTruncated || set.rowCount > set.rows.count {
            let hidden = set.rowCount - set.rows.count
            lines.append(
                StyledLine(
                    "… \(DisplayText.count(hidden)) more \(hidden == 1 ? "row" : "rows") not recorded "
                        + "(--max-recorded-rows)", .dim))
        }
        return lines
    }

    /// An error as psql words it, with the line of SQL it points at.
    static func errorLines(_ error: RecordedError, sql: String) -> [StyledLine] {
        var lines = [
            StyledLine(
                "✗ \(TerminalText.escaped(error.severity)) \(TerminalText.escaped(error.code)): "
                    + TerminalText.escaped(error.message), .failure)
        ]
        if let detail = error.detail { lines.append(StyledLine("DETAIL: " + TerminalText.escaped(detail))) }
        if let hint = error.hint { lines.append(StyledLine("HINT: " + TerminalText.escaped(hint))) }
        if let position = error.position.flatMap({ Int($0) }), position > 0 {
            lines += self.positionLines(sql: sql, position: position)
        }
        return lines
    }

    static func noticeLine(_ notice: RecordedError) -> StyledLine {
        StyledLine(
            "\(TerminalText.escaped(notice.severity)): \(TerminalText.escaped(notice.message))", .dim)
    }

    /// `LINE n: <sql line>` and a caret under the character the error position (1-based, in characters) names.
    static func positionLines(sql: String, position: Int) -> [StyledLine] {
        var remaining = position - 1
        var lineNumber = 1
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let characters = Array(line)
            if remaining <= characters.count {
                let prefix = "LINE \(lineNumber): "
                let before = TerminalText.escaped(String(characters.prefix(remaining)), keepTabs: false)
                let text = TerminalText.escaped(String(line), keepTabs: false)
                let caretColumn = prefix.count + TerminalText.displayWidth(of: before)
                return [
                    StyledLine(prefix + text),
                    StyledLine(String(repeating: " ", count: caretColumn) + "^", .failure),
                ]
            }
            remaining -= characters.count + 1
            lineNumber += 1
        }
        return []
    }
}

/// The full-screen detail of one query: who ran it, when, its parameters, its whole SQL, and every result set.
public enum DetailDocument {
    public static func make(entry: QueryEntry, width: Int) -> LineDocument {
        var document = LineDocument()
        let query = entry.query
        document.append(
            StyledLine([
                Span("Query \(query.queryNumber)", .columnHeader),
                Span(" of session #\(entry.sessionNumber) (\(TerminalText.escaped(entry.sessionID)))"),
                Span(" · \(TerminalText.escaped(entry.pseudoUser)) → \(TerminalText.escaped(entry.realUser))"),
            ]))
        var timing = "Started \(DisplayText.clock(entry.startedAt, milliseconds: true)) UTC"
        if let result = entry.result { timing += " · took " + DisplayText.duration(milliseconds: result.durationMS) }
        timing += " · \(query.queryProtocol.rawValue) protocol"
        if let name = query.statementName, !name.isEmpty { timing += " · statement \"\(TerminalText.escaped(name))\"" }
        if let portal = query.portalName, !portal.isEmpty { timing += " · portal \"\(TerminalText.escaped(portal))\"" }
        if query.redacted { timing += " · password redacted" }
        document.append(timing, .dim)
        if let parameters = query.parameters, !parameters.isEmpty {
            document.append("")
            document.append("Parameters", .columnHeader)
            for (index, parameter) in parameters.enumerated() {
                var line = StyledLine("  $\(index + 1) = ")
                if let value = parameter.value {
                    line.append("'" + TerminalText.escaped(value) + "'")
                    if parameter.format == .binary { line.append(" (binary, base64)", .dim) }
                } else {
                    line.append(ResultTableFormat.nullText, .null)
                }
                document.append(line)
            }
        }
        document.append("")
        document.append("SQL", .columnHeader)
        for line in self.sqlLines(query.sql) {
            for piece in self.wrap(line, width: max(width - 2, 10)) {
                document.append("  " + piece)
            }
        }
        document.append("")
        switch entry.outcome {
        case .running:
            document.append("… still running", .running)
        case .unknown:
            document.append("? the result was not seen by the dashboard", .dim)
        case .finished(let result):
            let sets = result.resultSets ?? [result.result]
            for (index, set) in sets.enumerated() {
                var title = sets.count > 1 ? "Result set \(index + 1) of \(sets.count)" : "Result"
                if let tag = set.commandTag { title += " · " + TerminalText.escaped(tag) }
                if !set.columns.isEmpty { title += " · " + DisplayText.count(set.rowCount, "row") }
                document.append(title, .columnHeader)
                if !set.columns.isEmpty {
                    let widths = ResultTableFormat.columnWidths(of: set)
                    document.appendTable(set, widths: widths, cap: ResultTableFormat.detailCellCap, indent: 2)
                    document.append(lines: ResultDocument.rowNotes(set, released: entry.rowsReleased))
                } else {
                    document.append("  → No result set", .dim)
                }
                document.append("")
            }
            if let error = result.error {
                document.append("Error", .columnHeader)
                document.append(lines: ResultDocument.errorLines(error, sql: query.sql))
                document.append("")
            }
            if let notices = result.notices, !notices.isEmpty {
                document.append("Notices", .columnHeader)
                for notice in notices { document.append(ResultDocument.noticeLine(notice)) }
                document.append("")
            }
            if let copy = result.copyData {
                let size = copy.reduce(0) { $0 + $1.utf8.count }
                var line = "COPY data sent: \(copy.count) chunks, \(DisplayText.count(size)) bytes"
                if result.copyDataTruncated { line += " (cut at the recording limit)" }
                document.append(line, .dim)
            }
        }
        return document
    }

    /// The SQL's lines, escaped, with tabs as four spaces (a tab would move the terminal's cursor).
    static func sqlLines(_ sql: String) -> [String] {
        TerminalText.escapedLines(sql).map { $0.replacingOccurrences(of: "\t", with: "    ") }
    }

    /// `text` cut into pieces of at most `width` columns (no word logic: SQL has long identifiers and literals).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard TerminalText.displayWidth(of: text) > width else { return [text] }
        var pieces: [String] = []
        var current = ""
        var currentWidth = 0
        for character in text {
            let characterWidth = TerminalText.displayWidth(of: character)
            if currentWidth + characterWidth > width {
                pieces.append(current)
                current = ""
                currentWidth = 0
            }
            current.append(character)
            currentWidth += characterWidth
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
