import Foundation
import ProxyEngine

/// Multi-line text from outside (SQL, a server's message) as the panes and the detail views show it: its first
/// lines, escaped, reading the text only as far as they go. A client's 50 MB statement costs what a few pages of it
/// cost; the session file keeps it whole, and a line under a cut text says so.
public enum TextLines {
    /// Lines of a text a detail view shows (after wrapping) before the rest is cut: a dozen pages of SQL.
    public static let maxLines = 500

    /// The SQL's lines, escaped, with tabs as four spaces (a tab would move the terminal's cursor), each cut to
    /// `DisplayText.maxLineWidth` columns: at most `maxLines` of them.
    static func sql(_ sql: String, maxLines: Int = Self.maxLines) -> (lines: [String], isCut: Bool) {
        let fitted = TerminalText.escapedLines(sql, maxLines: maxLines, maxWidth: DisplayText.maxLineWidth)
        return (fitted.lines.map(Self.expandingTabs), fitted.isCut)
    }

    /// `text`'s lines as `sql(_:maxLines:)` gives them, each cut into pieces of at most `width` columns: at most
    /// `maxLines` pieces. Only a head of `text` is read (four scalars a column that can show, plus 4,096).
    static func wrapped(_ text: String, width: Int, maxLines: Int = Self.maxLines) -> (lines: [String], isCut: Bool) {
        let budget = max(maxLines, 1).multipliedReportingOverflow(by: (max(width, 1) + 1) * 4).partialValue + 4096
        let head = text.head(scalars: budget)
        var lines: [String] = []
        for line in TerminalText.escapedLines(String(head.text)) {
            for piece in Self.wrap(Self.expandingTabs(line), width: width) {
                guard lines.count < maxLines else { return (lines, true) }
                lines.append(piece)
            }
        }
        return (lines, !head.isWhole)
    }

    /// `line` (shown as it is: escape it first) cut into pieces of at most `width` columns, with no word logic: SQL
    /// has long identifiers and literals.
    static func wrap(_ line: String, width: Int) -> [String] {
        guard TerminalText.displayWidth(of: line) > width else { return [line] }
        var pieces: [String] = []
        var current = ""
        var currentWidth = 0
        for character in line {
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


    private static func expandingTabs(_ line: String) -> String {
        line.replacingOccurrences(of: "\t", with: "    ")
    }
}
