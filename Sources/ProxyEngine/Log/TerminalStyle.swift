/// ANSI colours for the headless log and the banner, and the decision whether to use them at all.
public enum TerminalStyle {
    /// The few SGR attributes the log uses.
    public enum Style: String, Sendable, CaseIterable {
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
    }

    /// Whether to colour output written to a stream.
    ///
    /// Colour only on a terminal, never when `NO_COLOR` is set to a non-empty value (https://no-color.org) and never
    /// on `TERM=dumb`, which cannot show it.
    public static func shouldUseColor(isTTY: Bool, environment: [String: String]) -> Bool {
        guard isTTY else {
            return false
        }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty {
            return false
        }
        if environment["TERM"] == "dumb" {
            return false
        }
        return true
    }

    /// `text` wrapped in the style's escape codes when `enabled`; `text` unchanged (no escape byte) otherwise.
    public static func apply(_ style: Style, to text: String, enabled: Bool) -> String {
        guard enabled, !text.isEmpty else {
            return text
        }
        return "\u{1B}[" + style.rawValue + "m" + text + "\u{1B}[0m"
    }
}
