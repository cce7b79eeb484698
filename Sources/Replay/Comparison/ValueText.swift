import Foundation
import ProxyEngine

/// How values and facts appear in a difference: strings in double quotes (with `"` and `\` escaped), SQL NULL as
/// a bare `NULL`, so that NULL, the empty string and the text "NULL" never look alike.
public enum ValueText {
    public static func value(_ value: String?) -> String {
        value.map(Self.quoted) ?? "NULL"
    }

    public static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
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
