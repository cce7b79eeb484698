import ProxyEngine

/// A footer of key hints (`Tab pane  ↑↓ select  ? help`), shared by the live view, the browser and the replay view.
struct KeyHint {
    var key: String
    var text: String
    /// Lower is more important: when the line is too narrow, the least important hints are left out first, and
    /// the rest keep their order.
    var priority: Int

    init(_ key: String, _ text: String, _ priority: Int = 0) {
        self.key = key
        self.text = text
        self.priority = priority
    }

    static func draw(_ hints: [KeyHint], row: Int, into screen: inout ScreenBuffer) {
        func width(of hint: KeyHint) -> Int {
            TerminalText.displayWidth(of: hint.key) + 1 + TerminalText.displayWidth(of: hint.text) + 2
        }
        var shown = hints
        while shown.reduce(0, { $0 + width(of: $1) }) - 2 > screen.size.columns, shown.count > 1 {
            let least = shown.indices.max { shown[$0].priority < shown[$1].priority }!
            shown.remove(at: least)
        }
        var line = StyledLine()
        for (index, hint) in shown.enumerated() {
            if index > 0 { line.append("  ") }
            line.append(hint.key, .key)
            line.append(" " + hint.text, .dim)
        }
        screen.write(line, row: row, column: 0)
    }

    /// The footer while a `/` filter is typed: the text so far, a cursor, and `help` on what it matches.
    static func drawFilterInput(_ input: String, help: String, row: Int, into screen: inout ScreenBuffer) {
        var line = StyledLine()
        line.append("/", .key)
        line.append(" filter: ")
        line.append(input)
        line.append("█", .dim)
        line.append("   Enter keeps it · Esc clears · " + help, .dim)
        screen.write(line, row: row, column: 0)
    }

    /// A help box's lines: each key, padded to `keyWidth` columns, with what it does; then a blank line and `notes`.
    static func helpLines(_ keys: [(key: String, text: String)], keyWidth: Int, notes: [String]) -> [StyledLine] {
        var lines = keys.map { key, text in
            StyledLine([Span(TerminalText.padded(key, toWidth: keyWidth), .key), Span(text, .overlay)])
        }
        lines.append(StyledLine(""))
        lines += notes.map { StyledLine($0, .overlay) }
        return lines
    }
}
