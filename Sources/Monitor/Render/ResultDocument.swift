import Foundation
import ProxyEngine

/// What the Result pane shows for a query: its result table, its error, a note that it still runs, or its SQL.
public enum ResultDocument {
    public static func make(entry: QueryEntry, showSQL: Bool, cellCap: Int) -> LineDocument {
        var document = LineDocument()
        if showSQL {
            let sql = TextLines.sql(entry.query.sql)
            document.append(lines: sql.lines.map { StyledLine($0) })
            if sql.isCut { document.append(TerminalText.cutNote(of: entry.query.sql, what: "SQL"), .dim) }
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
                document.appendTable(result.result, cap: cellCap)
                document.append(lines: self.rowNotes(result.result, released: entry.rowsReleased))
            } else {
                document.append("→ No result set · " + DisplayText.clean(result.result.commandTag ?? "done"), .dim)
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
                "✗ \(DisplayText.clean(error.severity)) \(DisplayText.clean(error.code)): "
                    + DisplayText.clean(error.message), .failure)
        ]
        if let detail = error.detail { lines.append(StyledLine("DETAIL: " + DisplayText.clean(detail))) }
        if let hint = error.hint { lines.append(StyledLine("HINT: " + DisplayText.clean(hint))) }
        if let position = error.position.flatMap({ Int($0) }), position > 0 {
            lines += self.positionLines(sql: sql, position: position)
        }
        return lines
    }

    static func noticeLine(_ notice: RecordedError) -> StyledLine {
        StyledLine(
            "\(DisplayText.clean(notice.severity)): \(DisplayText.clean(notice.message))", .dim)
    }

    /// Error positions past this many characters get no `LINE n:` and caret: finding the line reads the SQL up to
    /// the position.
    static let maxErrorPosition = 65_536

    /// `LINE n: <sql line>` and a caret under the character the error position (1-based, in characters) names. Only
    /// the SQL up to the position is read, and the line is cut to `DisplayText.maxLineWidth` columns.
    static func positionLines(sql: String, position: Int) -> [StyledLine] {
        guard position <= Self.maxErrorPosition else { return [] }
        // Lines end at a "\n" character (a "\r\n" is one character, and ends no line).
        var remaining = position - 1
        var lineNumber = 1
        var lineStart = sql.startIndex
        var index = sql.startIndex
        var column = 0
        while true {
            let atEnd = index == sql.endIndex
            if atEnd || sql[index] == "\n" || column > remaining {
                if column >= remaining { break }
                if atEnd { return [] }
                remaining -= column + 1
                lineNumber += 1
                column = 0
                index = sql.index(after: index)
                lineStart = index
                continue
            }
            column += 1
            index = sql.index(after: index)
        }
        let caret = sql.index(lineStart, offsetBy: remaining)
        var lineEnd = caret
        var scanned = 0
        while lineEnd != sql.endIndex, sql[lineEnd] != "\n", scanned <= DisplayText.maxLineWidth {
            lineEnd = sql.index(after: lineEnd)
            scanned += 1
        }
        let prefix = "LINE \(lineNumber): "
        let before = TerminalText.fitted(sql[lineStart..<caret], toWidth: DisplayText.maxLineWidth)
        let text = TerminalText.fitted(sql[lineStart..<lineEnd], toWidth: DisplayText.maxLineWidth)
        return [
            StyledLine(prefix + text.text),
            StyledLine(String(repeating: " ", count: prefix.count + before.width) + "^", .failure),
        ]
    }
}
