import ProxyEngine

/// What is drawn over the panes: the query detail, the help, the session picker, the quit question.
enum Overlays {
    static func draw(_ state: DashboardState, layout: DashboardLayout, into screen: inout ScreenBuffer) {
        switch state.overlay {
        case nil:
            return
        case .detail(let seq):
            guard let entry = state.shown.history[seq] else { return }
            self.drawDetail(entry, state: state, rows: layout.overlayRows, into: &screen)
        case .help:
            self.drawBox(title: "Keys", lines: self.helpLines, selected: nil, into: &screen)
        case .sessionPicker(let selected):
            var lines = [StyledLine("All sessions")]
            for session in state.shown.orderedSessions {
                var line = StyledLine(session.label + "  ")
                line.append(TerminalText.fitted(session.users, toWidth: 32).text)
                line.append("  " + DisplayText.clean(session.clientAddress) + "  ", .dim)
                line.append(session.state.label)
                line.append("  " + DisplayText.count(session.queryCount, "query", plural: "queries"), .dim)
                lines.append(line)
            }
            self.drawBox(title: "Show the queries of", lines: lines, selected: selected, into: &screen)
        case .confirmQuit:
            let open = state.live.openSessionCount
            var question = StyledLine("Quit pgreel and close them?  ")
            question.append("y", .key)
            question.append(" yes  ")
            question.append("n", .key)
            question.append(" no")
            let lines = [
                StyledLine("\(open) \(open == 1 ? "connection is" : "connections are") open through the proxy."),
                question,
            ]
            self.drawBox(title: "Quit?", lines: lines, selected: nil, into: &screen)
        }
    }

    static let helpLines = KeyHint.helpLines(
        [
            ("Tab  Shift-Tab", "next / previous pane"),
            ("↑ ↓  j k", "move the selection (Result pane: scroll)"),
            ("PgUp PgDn", "a page up / down"),
            ("Home End  g G", "first / last; End in Live queries follows again"),
            ("← →  h l", "scroll the result sideways"),
            ("Enter", "query: full-screen detail, SQL and whole result"),
            ("", "connection: only its queries (again: all)"),
            ("/", "filter: text, user:NAME or session:N"),
            ("s", "pick a session to show only its queries"),
            ("f", "follow the newest query on / off"),
            ("p", "pause the display (the proxy keeps running)"),
            ("v", "Result pane: the full SQL instead of the result"),
            ("o", "session files: pick one and replay it step by step"),
            ("Esc", "clear the filter and the session choice"),
            ("Ctrl-L", "redraw the screen"),
            ("q", "quit (asks while connections are open)"),
        ], keyWidth: 16,
        notes: [
            "Mouse: click selects, double-click opens, the wheel scrolls.",
            "Times are UTC, as in the session files. NULL is styled; '' is blank.",
        ])

    /// A centred box with a border, a title and lines (one of them highlighted), cut to the screen.
    static func drawBox(title: String, lines: [StyledLine], selected: Int?, into screen: inout ScreenBuffer) {
        let size = screen.size
        let contentWidth = max(lines.map(\.width).max() ?? 0, title.count + 4)
        let width = min(contentWidth + 4, size.columns)
        let height = min(lines.count + 2, size.rows)
        guard width >= 4, height >= 3 else {
            // Too small for a box: the first line alone, on the top row.
            screen.write(lines.first ?? StyledLine(title), row: 0, column: 0)
            return
        }
        let left = (size.columns - width) / 2
        let top = max((size.rows - height) / 2, 0)
        let inner = width - 2
        let visible = height - 2
        var first = 0
        if let selected, selected >= visible { first = selected - visible + 1 }

        screen.write(
            "┌" + TerminalText.padded("─ " + title + " ", toWidth: inner).replacingSpacesAfterTitle() + "┐",
            row: top, column: left, width: width, style: .overlayTitle)
        for offset in 0..<visible {
            let row = top + 1 + offset
            screen.write("│", row: row, column: left, style: .overlay)
            screen.fill(row: row, column: left + 1, width: inner, style: .overlay)
            let index = first + offset
            if index < lines.count {
                screen.write(lines[index], row: row, column: left + 2, width: inner - 2)
                if index == selected {
                    screen.restyle(row: row, column: left + 1, width: inner, style: .selected)
                }
            }
            screen.write("│", row: row, column: left + width - 1, style: .overlay)
        }
        screen.write(
            "└" + String(repeating: "─", count: inner) + "┘", row: top + height - 1, column: left, width: width,
            style: .overlay)
    }

    static func drawDetail(
        _ entry: QueryEntry, state: DashboardState, rows: Range<Int>, into screen: inout ScreenBuffer
    ) {
        DetailView.draw(
            DetailDocument.make(entry: entry, width: screen.size.columns), title: "Query detail",
            info: "#\(entry.sessionNumber) query \(entry.query.queryNumber) · Esc closes · ↑↓ PgUp PgDn ←→ scroll",
            scroll: state.detailScroll, rows: rows, into: &screen)
    }
}

extension String {
    /// The box title's padding drawn as a rule: `─ Title ─────`.
    fileprivate func replacingSpacesAfterTitle() -> String {
        var result = self
        var trailing = 0
        while result.last == " " {
            result.removeLast()
            trailing += 1
        }
        return result + " " + String(repeating: "─", count: max(trailing - 1, 0))
    }
}
