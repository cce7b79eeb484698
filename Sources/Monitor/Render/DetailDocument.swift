import Foundation
import ProxyEngine

/// The full-screen detail of one query: who ran it, when, its parameters, its whole SQL, and every result set.
public enum DetailDocument {
    public static func make(entry: QueryEntry, width: Int) -> LineDocument {
        var document = LineDocument()
        let query = entry.query
        document.append(
            StyledLine([
                Span("Query \(query.queryNumber)", .columnHeader),
                Span(" of session #\(entry.sessionNumber) (\(DisplayText.clean(entry.sessionID)))"),
                Span(" · \(DisplayText.clean(entry.pseudoUser)) → \(DisplayText.clean(entry.realUser))"),
            ]))
        var timing = "Started \(DisplayText.clock(entry.startedAt, milliseconds: true)) UTC"
        if let result = entry.result { timing += " · took " + DisplayText.duration(milliseconds: result.durationMS) }
        timing += " · \(query.queryProtocol.rawValue) protocol"
        if let name = query.statementName, !name.isEmpty { timing += " · statement \"\(DisplayText.clean(name))\"" }
        if let portal = query.portalName, !portal.isEmpty { timing += " · portal \"\(DisplayText.clean(portal))\"" }
        if query.redacted { timing += " · password redacted" }
        document.append(timing, .dim)
        if let parameters = query.parameters, !parameters.isEmpty {
            document.append("")
            document.append("Parameters", .columnHeader)
            document.append(lines: self.parameterLines(parameters))
        }
        document.append("")
        document.append("SQL", .columnHeader)
        document.append(lines: self.sqlLines(query.sql, width: width))
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
                if let tag = set.commandTag { title += " · " + DisplayText.clean(tag) }
                if !set.columns.isEmpty { title += " · " + DisplayText.count(set.rowCount, "row") }
                document.append(title, .columnHeader)
                if !set.columns.isEmpty {
                    document.appendTable(set, cap: ResultTableFormat.detailCellCap, indent: 2)
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

    /// The SQL as a detail shows it: indented two columns, wrapped at the detail's width, at most
    /// `TextLines.maxLines` lines and then a note that the rest was cut.
    static func sqlLines(_ sql: String, width: Int) -> [StyledLine] {
        let text = TextLines.wrapped(sql, width: max(width - 2, 10))
        var lines = text.lines.map { StyledLine("  " + $0) }
        if text.isCut { lines.append(StyledLine("  " + TerminalText.cutNote(of: sql, what: "SQL"), .dim)) }
        return lines
    }

    /// `$1 = 'value'` lines, each value cut to `DisplayText.maxLineWidth` columns; NULL styled as in a result.
    static func parameterLines(_ parameters: [RecordedParameter]) -> [StyledLine] {
        parameters.enumerated().map { index, parameter in
            var line = StyledLine("  $\(index + 1) = ")
            if let value = parameter.value {
                line.append("'" + DisplayText.clean(value) + "'")
                if parameter.format == .binary { line.append(" (binary, base64)", .dim) }
            } else {
                line.append(ResultTableFormat.nullText, .null)
            }
            return line
        }
    }
}
