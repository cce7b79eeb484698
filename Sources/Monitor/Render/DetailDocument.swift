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
