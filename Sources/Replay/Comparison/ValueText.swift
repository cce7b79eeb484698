import Foundation
import ProxyEngine

/// How values and facts appear in a difference: strings in double quotes (with `"` and `\` escaped), SQL NULL as
/// a bare `NULL`, so that NULL, the empty string and the text "NULL" never look alike.
public enum ValueText {
    public static func value(_ value: String?) -> String {
        value.map(Self.quoted) ?? "NULL"
    }

    /// The longest text a difference quotes whole. A longer value is quoted by its start, `…` and its size: a
    /// difference is read by people (the replay's output, JUnit, the step-through view), and spelling out two 50 MB
    /// values took seconds per mismatch; the JSON report's `recorded_value` / `replayed_value` keep them whole.
    public static let maxQuotedBytes = 1024

    public static func quoted(_ text: String) -> String {
        let size = text.utf8.count
        guard size > Self.maxQuotedBytes else {
            return "\"" + Self.escapingQuotes(Substring(text)) + "\""
        }
        var end = text.unicodeScalars.startIndex
        var bytes = 0
        for scalar in text.unicodeScalars {
            bytes += UTF8.width(scalar)
            if bytes > Self.maxQuotedBytes { break }
            text.unicodeScalars.formIndex(after: &end)
        }
        let head = Substring(text.unicodeScalars[..<end])
        return "\"" + Self.escapingQuotes(head) + "…\" (\(size) bytes)"
    }

    private static func escapingQuotes(_ text: Substring) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    public static func row(_ row: [String?], names: [String]) -> String {
        let cells = row.enumerated().map { index, value in
            index < names.count ? "\(names[index])=\(Self.value(value))" : Self.value(value)
        }
        return "(" + cells.joined(separator: ", ") + ")"
    }

    public static func columns(_ columns: [String]) -> String {
        columns.isEmpty ? "no columns" : "(" + columns.map(Self.quoted).joined(separator: ", ") + ")"
    }

    public static func rows(_ count: Int) -> String {
        count == 1 ? "1 row" : "\(count) rows"
    }

    public static func error(_ error: RecordedError) -> String {
        let code = error.code.isEmpty ? "" : " \(error.code)"
        return "\(error.severity)\(code): \(error.message)"
    }

    static func tagSuffix(_ tag: String?) -> String {
        tag.map { " (\($0))" } ?? ""
    }
}
