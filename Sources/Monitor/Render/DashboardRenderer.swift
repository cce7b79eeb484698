import Foundation
import ProxyEngine

/// Draws a dashboard state into a screen buffer. Pure: the same state and size always give the same cells, which
/// is what the snapshot tests check; only `CursesTerminal` turns the buffer into terminal output.
public enum DashboardRenderer {
    public static func render(_ state: DashboardState, size: ScreenSize) -> ScreenBuffer {
        var screen = ScreenBuffer(size: size)
        guard size.columns > 0, size.rows > 0 else { return screen }
        let layout = DashboardLayout(size: size)
        if layout.isCompact {
            self.drawCompact(state, layout: layout, into: &screen)
        } else {
            self.drawStatusBar(state, into: &screen)
            if let frame = layout.connections {
                ConnectionsPane.draw(state, frame: frame, into: &screen)
            }
            if let frame = layout.queries {
                QueriesPane.draw(state, frame: frame, into: &screen)
            }
            if let frame = layout.result {
                ResultPane.draw(state, frame: frame, into: &screen)
            }
            if let row = layout.footerRow {
                self.drawFooter(state, row: row, into: &screen)
            }
        }
        Overlays.draw(state, layout: layout, into: &screen)
        return screen
    }

    // MARK: - Status bar

    static func drawStatusBar(_ state: DashboardState, into screen: inout ScreenBuffer) {
        let width = screen.size.columns
        screen.fill(row: 0, style: .statusBar)
        screen.fill(row: 1, style: .statusBar)

        let settings = state.settings
        let recording = settings.sessionsDirectory.map { "● rec " + DisplayText.clean($0) } ?? "○ not recording"
        var upstream = settings.maskedUpstreams.first.map { DisplayText.clean($0) } ?? "?"
        if settings.maskedUpstreams.count > 1 { upstream += " (+\(settings.maskedUpstreams.count - 1) more)" }
        let listen = " " + DisplayText.clean(settings.listenAddress) + " → "
        // Narrow terminals: a shorter name first, then the upstream without its scheme, then cut.
        var name = " pgreel monitor "
        func overflow() -> Int {
            TerminalText.displayWidth(of: name + listen + upstream + "  " + recording) - width
        }
        if overflow() > 0 { name = " pgreel " }
        if overflow() > 0, let scheme = upstream.range(of: "://") { upstream = String(upstream[scheme.upperBound...]) }
        let upstreamWidth = max(TerminalText.displayWidth(of: upstream) - max(overflow(), 0), 8)
        var line = StyledLine()
        line.append(name, .statusWarning)
        line.append(listen, .statusBar)
        line.append(TerminalText.truncated(upstream, toWidth: upstreamWidth), .statusBar)
        line.append("  " + recording, .statusBar)
        screen.write(line, row: 0, column: 0)

        // Line 2: the totals on the left; warnings and the help hint on the right, which win when space is short.
        let model = state.live
        var right = StyledLine()
        if state.isPaused {
            right.append("⏸ PAUSED (+\(DisplayText.count(state.queriesWhilePaused)) queries)", .statusWarning)
            right.append("  ", .statusBar)
        }
        if state.droppedEvents > 0 {
            right.append("⚠ \(DisplayText.count(state.droppedEvents)) events dropped", .statusWarning)
            right.append("  ", .statusBar)
        }
        right.append("? help ", .statusBar)
        let totals = [
            "\(model.openSessionCount) open", "\(DisplayText.rate(model.queriesPerSecond(now: state.now))) q/s",
            DisplayText.count(model.totalQueries, "query", plural: "queries"),
            DisplayText.count(model.totalErrors, "error"), DisplayText.count(model.totalRows, "row"),
        ]
        self.drawStatusLine(totals, separator: " · ", right: right, row: 1, into: &screen)
    }

    /// A status bar line: as many of `items` as fit on the left, `right` against the right edge (it wins when space
    /// is short).
    static func drawStatusLine(
        _ items: [String], separator: String, right: StyledLine, row: Int, into screen: inout ScreenBuffer
    ) {
        var left = ""
        for item in items {
            let next = left.isEmpty ? " " + item : left + separator + item
            guard TerminalText.displayWidth(of: next) + 1 + right.width <= screen.size.columns else { break }
            left = next
        }
        screen.write(left, row: row, column: 0, style: .statusBar)
        let rightColumn = max(screen.size.columns - right.width, TerminalText.displayWidth(of: left) + 1)
        screen.write(right, row: row, column: rightColumn)
    }

    // MARK: - Footer

    static func drawFooter(_ state: DashboardState, row: Int, into screen: inout ScreenBuffer) {
        if let input = state.filterInput {
            KeyHint.drawFilterInput(input, help: "text, user:NAME or session:N", row: row, into: &screen)
            return
        }
        if let flash = state.flash {
            screen.write(flash.text, row: row, column: 0, style: flash.isWarning ? .failure : .normal)
            return
        }
        // In order of importance; those that do not fit are left out, the rest keep their order.
        KeyHint.draw(
            [
                KeyHint("Tab", "pane", 2), KeyHint("↑↓", "select", 8), KeyHint("Enter", "detail", 3),
                KeyHint("/", "filter", 4), KeyHint("s", "session", 6), KeyHint("f", "follow", 5),
                KeyHint("p", "pause", 7), KeyHint("o", "replay", 9), KeyHint("?", "help", 0), KeyHint("q", "quit", 1),
            ], row: row, into: &screen)
    }

    // MARK: - Small terminals

    static func drawCompact(_ state: DashboardState, layout: DashboardLayout, into screen: inout ScreenBuffer) {
        let size = screen.size
        screen.fill(row: 0, style: .statusWarning)
        screen.write(
            "\(size) is too small: 80x24 shows every pane · q quits", row: 0, column: 0,
            style: .statusWarning)
        if size.rows > 1 {
            let model = state.live
            screen.fill(row: 1, style: .statusBar)
            screen.write(
                "\(model.openSessionCount) open · \(DisplayText.rate(model.queriesPerSecond(now: state.now))) q/s · "
                    + DisplayText.count(model.totalQueries, "query", plural: "queries") + " · "
                    + DisplayText.count(model.totalErrors, "error"),
                row: 1, column: 0, style: .statusBar)
        }
        if let frame = layout.queries {
            QueriesPane.draw(state, frame: frame, into: &screen)
        }
    }

    // MARK: - Shared pieces

    /// A pane's title line: `─▶ Title info ──── label ── label ─`, the name highlighted when the pane has focus.
    static func drawTitle(
        _ title: String, info: String, focused: Bool, labels: [(text: String, column: Int)], row: Int,
        width: Int, into screen: inout ScreenBuffer
    ) {
        screen.write(String(repeating: "─", count: width), row: row, column: 0, style: .title)
        var line = StyledLine()
        line.append(focused ? "─▶ " : "── ", .title)
        line.append(title, focused ? .titleFocused : .title)
        if !info.isEmpty { line.append(" " + info, .title) }
        line.append(" ", .title)
        let end = screen.write(line, row: row, column: 0, width: width)
        for label in labels where label.column > end && label.column + label.text.count + 1 <= width {
            screen.write(" " + label.text + " ", row: row, column: label.column - 1, style: .title)
        }
    }

    /// Highlights a selected row across the pane.
    static func highlight(row: Int, width: Int, focused: Bool, into screen: inout ScreenBuffer) {
        screen.restyle(row: row, column: 0, width: width, style: focused ? .selected : .selectedUnfocused)
    }

    /// `text` right-aligned in `width` columns.
    static func rightAligned(_ text: String, width: Int) -> String {
        let textWidth = TerminalText.displayWidth(of: text)
        if textWidth >= width { return TerminalText.truncated(text, toWidth: width) }
        return String(repeating: " ", count: width - textWidth) + text
    }
}
