import Foundation
import ProxyEngine

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
                document.appendTable(result.result, cap: cellCap)
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
