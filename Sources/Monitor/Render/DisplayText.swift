import Foundation
import ProxyEngine

/// Small pure formatters the panes share: times, durations, ages, counts, SQL on one line, text from outside.
public enum DisplayText {
    /// Widest text from outside (a message, a parameter, a name) shown on one line before it is cut with `…`; the
    /// headless log cuts at the same width.
    public static let maxLineWidth = 2000

    /// Text from a client, a server or a session file for one line: escaped and cut to `maxLineWidth` columns,
    /// reading only what fits (a 50 MB message costs what 2,000 columns show).
    public static func clean(_ text: String) -> String {
        TerminalText.fitted(text, toWidth: self.maxLineWidth).text
    }

    /// `text` on one line: newlines, tabs and runs of spaces become one space, other controls are escaped, and the
    /// result is cut to `maxColumns` with `…`. Only a head of `text` is read (16 scalars a column, plus 4,096 for
    /// indentation): what lies further cannot show.
    public static func oneLine(_ text: String, maxColumns: Int) -> String {
        let budget = max(maxColumns, 1).multipliedReportingOverflow(by: 16).partialValue + 4096
        let head = text.head(scalars: budget)
        var result = ""
        var pendingSpace = false
        var width = 0
        for character in head.text {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                width += 1
                pendingSpace = false
            }
            let piece = TerminalText.escaped(String(character))
            result += piece
            width += TerminalText.displayWidth(of: piece)
            if width > maxColumns { break }
        }
        guard !head.isWhole, width <= maxColumns else { return TerminalText.truncated(result, toWidth: maxColumns) }
        // The text goes on past what was read: it ends with `…` however much of it fitted.
        var cut = TerminalText.fitted(result, toWidth: max(maxColumns, 1) - 1)
        if !cut.isCut { cut.text += "…" }
        return cut.text
    }

    /// `HH:MM:SS` (or with milliseconds) in UTC, the clock of the session files and the headless log.
    public static func clock(_ date: Date, milliseconds: Bool) -> String {
        let total = date.timeIntervalSince1970
        let millis = Int64((total * 1000).rounded(.down))
        let dayMillis = ((millis % 86_400_000) + 86_400_000) % 86_400_000
        let hours = dayMillis / 3_600_000
        let minutes = dayMillis / 60_000 % 60
        let seconds = dayMillis / 1000 % 60
        var text = Self.twoDigits(hours) + ":" + Self.twoDigits(minutes) + ":" + Self.twoDigits(seconds)
        if milliseconds {
            let ms = dayMillis % 1000
            text += "." + (ms < 100 ? (ms < 10 ? "00" : "0") : "") + String(ms)
        }
        return text
    }

    /// A query's duration: `0.42 ms`, `12 ms`, `1.3 s`, `2m05s`.
    public static func duration(milliseconds: Double) -> String {
        if milliseconds < 0 { return "" }
        if milliseconds < 10 { return Self.fixed(milliseconds, digits: 2) + " ms" }
        if milliseconds < 1000 { return String(Int(milliseconds.rounded())) + " ms" }
        let seconds = milliseconds / 1000
        if seconds < 60 { return Self.fixed(seconds, digits: 1) + " s" }
        return Self.age(seconds: seconds)
    }

    /// How long something has lasted, compactly: `5s`, `3m05s`, `2h07m`, `3d04h`.
    public static func age(seconds: Double) -> String {
        let total = max(Int(seconds.rounded(.down)), 0)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m" + Self.twoDigits(Int64(total % 60)) + "s" }
        if total < 86_400 { return "\(total / 3600)h" + Self.twoDigits(Int64(total / 60 % 60)) + "m" }
        return "\(total / 86_400)d" + Self.twoDigits(Int64(total / 3600 % 24)) + "h"
    }

    /// A count with thousands separators: `1,234,567`.
    public static func count(_ value: Int) -> String {
        TerminalText.grouped(value)
    }

    /// `1 row`, `2 rows`, `1,024 rows`.
    public static func count(_ value: Int, _ noun: String, plural: String? = nil) -> String {
        Self.count(value) + " " + (value == 1 ? noun : plural ?? noun + "s")
    }

    /// Queries per second, one decimal below 100.
    public static func rate(_ value: Double) -> String {
        value < 100 ? Self.fixed(value, digits: 1) : Self.count(Int(value.rounded()))
    }

    /// `value` with exactly `digits` decimals (no locale, no Foundation formatter).
    public static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        return digits == 0 ? String(whole) : "\(whole).\(fraction)"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
