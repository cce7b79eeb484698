import Foundation
import ProxyEngine
import Replay

/// Draws the step-through replay view into a screen buffer. Pure, like `DashboardRenderer`.
public enum ReplayViewRenderer {
    public static func render(_ state: ReplayViewState, size: ScreenSize) -> ScreenBuffer {
        var screen = ScreenBuffer(size: size)
        guard size.columns > 0, size.rows > 0 else { return screen }
        let layout = ReplayViewLayout(size: size)
        self.drawStatusBar(state, into: &screen)
        if state.overlay == .detail {
            self.drawDetail(state, rows: layout.overlayRows, into: &screen)
        } else {
            self.drawList(state, frame: layout.list, into: &screen)
            if let frame = layout.verdict {
                self.drawVerdict(state, frame: frame, into: &screen)
            }
        }
        if let row = layout.footerRow {
            self.drawFooter(state, row: row, into: &screen)
        }
        switch state.overlay {
        case .summary:
            var lines = self.summaryLines(state).map { StyledLine($0, .overlay) }
            lines.append(StyledLine(""))
            var hint = StyledLine()
            for (key, text) in [("w", " writes the report   "), ("R", " restarts   "), ("Esc", " closes")] {
                hint.append(key, .key)
                hint.append(text, .overlay)
            }
            lines.append(hint)
            Overlays.drawBox(title: "Replay finished", lines: lines, selected: nil, into: &screen)
        case .help:
            Overlays.drawBox(title: "Replay keys", lines: self.helpLines, selected: nil, into: &screen)
        case .detail, nil:
            break
        }
        return screen
    }

    /// The headless replay's summary, without its rules and blank lines.
    static func summaryLines(_ state: ReplayViewState) -> [String] {
        var lines = state.summaryLines().filter { !$0.hasPrefix("━") }
        while lines.first == "" { lines.removeFirst() }
        while lines.last == "" { lines.removeLast() }
        return lines
    }

    // MARK: - Status bar

    static func drawStatusBar(_ state: ReplayViewState, into screen: inout ScreenBuffer) {
        let width = screen.size.columns
        screen.fill(row: 0, style: .statusBar)
        if screen.size.rows > 1 { screen.fill(row: 1, style: .statusBar) }

        var line = StyledLine()
        line.append(width >= 60 ? " pgreel replay " : " replay ", .statusWarning)
        let target = DisplayText.clean(state.target)
        let source = " (" + state.targetSource + ")"
        let file = " " + DisplayText.clean(state.fileName) + "  → "
        let fixed = line.width + TerminalText.displayWidth(of: file)
        let room = width - fixed
        line.append(file, .statusBar)
        if TerminalText.displayWidth(of: target + source) <= room {
            line.append(target + source, .statusBar)
        } else {
            line.append(TerminalText.truncated(target, toWidth: max(room, 8)), .statusBar)
        }
        screen.write(line, row: 0, column: 0)

        let counts = state.counts
        var items = [DisplayText.count(state.rows.count, "query", plural: "queries")]
        for status in [ReplayRowStatus.matched, .mismatched, .error, .skipped] {
            items.append("\(status.symbol) \(counts[status])")
        }
        if counts[.notCompared] > 0 { items.append("? \(counts[.notCompared])") }
        items.append("· \(counts[.pending]) pending")
        if state.breakpointCount > 0 { items.append("● \(state.breakpointCount)") }

        var right = StyledLine()
        right.append("safety: " + self.safetyText(state.safety), .statusBar)
        right.append("  ", .statusBar)
        let activity = self.activityText(state)
        right.append(activity.text + " ", activity.warning ? .statusWarning : .statusBar)

        DashboardRenderer.drawStatusLine(items, separator: "  ", right: right, row: 1, into: &screen)
    }

    static func safetyText(_ safety: ReplayOptions.Safety) -> String {
        switch safety {
        case .none: return "none"
        case .readOnly: return "--read-only"
        case .rollback: return "--rollback"
        }
    }

    /// What the replay is doing, for the status bar.
    static func activityText(_ state: ReplayViewState) -> (text: String, warning: Bool) {
        if state.isLeaving { return ("closing…", false) }
        if state.cancelling { return ("✗ cancelling…", true) }
        switch state.work {
        case .connecting: return ("connecting…", false)
        case .restarting: return ("restarting…", false)
        case .changingSafety: return ("reconnecting…", false)
        case .closing: return ("closing…", false)
        case .stepping(let row), .skipping(let row):
            if state.stopRequested { return ("▶ stopping (Esc cancels the query)", true) }
            switch state.run {
            case .toEnd: return ("▶ running (Esc stops)", true)
            case .toProblem: return ("▶ running to a mismatch (Esc stops)", true)
            case nil:
                // Esc first drops the queued steps, then cancels.
                let queued = state.queuedSteps > 0 ? " (+\(state.queuedSteps))" : ""
                let cancels = state.queuedSteps == 0 && state.isStepping ? " (Esc cancels)" : ""
                return ("▶ query \(row + 1)…" + queued + cancels, true)
            }
        case nil:
            break
        }
        if case .failed = state.connection { return ("✗ not connected", true) }
        if state.connection == .closed { return ("closed", false) }
        if state.rows.isEmpty { return ("no queries", false) }
        return state.isFinished ? ("■ finished", false) : ("● connected", false)
    }

    // MARK: - The query list

    struct Columns {
        let number: Int
        let sql: Int
        let recorded: Int
        let replayed: Int
        let time: Int

        init(width: Int, count: Int) {
            self.number = max(String(count).count, 2)
            self.recorded = width >= 60 ? 11 : 0
            self.replayed = width >= 60 ? 11 : 0
            self.time = width >= 90 ? 9 : 0
            let fixed = 4 + self.number + 1 + (self.recorded > 0 ? self.recorded + 1 : 0)
                + (self.replayed > 0 ? self.replayed + 1 : 0) + (self.time > 0 ? self.time + 1 : 0)
            self.sql = max(width - fixed, 4)
        }

        var numberX: Int { 4 }
        var sqlX: Int { 4 + self.number + 1 }
        var recordedX: Int { self.sqlX + self.sql + 1 }
        var replayedX: Int { self.recordedX + (self.recorded > 0 ? self.recorded + 1 : 0) }
        var timeX: Int { self.replayedX + (self.replayed > 0 ? self.replayed + 1 : 0) }
    }

    static func drawList(_ state: ReplayViewState, frame: PaneFrame, into screen: inout ScreenBuffer) {
        let columns = Columns(width: frame.width, count: state.rows.count)
        var info = "(\(DisplayText.count(state.rows.count)))"
        if let next = state.nextRow { info += " · next \(next + 1)" }
        var labels: [(text: String, column: Int)] = []
        if columns.recorded > 0 {
            labels = [("recorded", columns.recordedX), ("replayed", columns.replayedX)]
        }
        if columns.time > 0 { labels.append(("took", columns.timeX + columns.time - 5)) }
        DashboardRenderer.drawTitle(
            "Queries", info: info, focused: state.overlay == nil, labels: labels, row: frame.titleRow,
            width: frame.width, into: &screen)
        guard !state.rows.isEmpty else {
            screen.write("  The file holds no query to replay.", row: frame.top, column: 0, style: .dim)
            return
        }
        for offset in 0..<max(frame.height, 0) {
            let index = state.list.top + offset
            guard index < state.rows.count else { break }
            let row = frame.top + offset
            self.drawRow(state, index: index, columns: columns, row: row, into: &screen)
            if index == state.selected {
                DashboardRenderer.highlight(
                    row: row, width: frame.width, focused: state.overlay == nil, into: &screen)
            }
        }
    }

    static func drawRow(
        _ state: ReplayViewState, index: Int, columns: Columns, row: Int, into screen: inout ScreenBuffer
    ) {
        let item = state.rows[index]
        if item.breakpoint {
            screen.write("●", row: row, column: 0, style: .failure)
        }
        let status = item.status
        var symbol = status.symbol
        var style = status.style
        if status == .pending, index == state.nextRow {
            symbol = "▶"
            style = .running
        }
        screen.write(symbol, row: row, column: 2, style: style)
        screen.write(
            DashboardRenderer.rightAligned(String(index + 1), width: columns.number), row: row,
            column: columns.numberX, width: columns.number, style: .dim)
        let base: CellStyle = status == .skipped ? .dim : .normal
        screen.write(
            DisplayText.oneLine(item.query.sql, maxColumns: columns.sql), row: row, column: columns.sqlX,
            width: columns.sql, style: base)
        if columns.recorded > 0 {
            let recorded = ReplayVerdict.cell(item.recorded)
            screen.write(
                TerminalText.truncated(recorded.text, toWidth: columns.recorded), row: row,
                column: columns.recordedX, width: columns.recorded, style: item.recorded == nil ? .dim : recorded.style)
            var replayed = ReplayVerdict.cell(item.step?.replayed)
            if item.step?.replayed == nil, item.step != nil { replayed = ("—", .dim) }
            if item.step?.replayed == nil, item.failure != nil { replayed = ("! failed", .failure) }
            if status == .mismatched, replayed.style == .normal { replayed.style = .failure }
            screen.write(
                TerminalText.truncated(replayed.text, toWidth: columns.replayed), row: row,
                column: columns.replayedX, width: columns.replayed, style: replayed.style)
        }
        if columns.time > 0, let replayed = item.step?.replayed {
            // A latency regression shows how much slower instead of how long: the verdict pane has both times.
            let regression = item.step?.latencyRegression
            let text = regression.map(ReplayVerdict.regressionMark) ?? DisplayText.duration(milliseconds: replayed.durationMS)
            screen.write(
                DashboardRenderer.rightAligned(text, width: columns.time),
                row: row, column: columns.timeX, width: columns.time, style: regression == nil ? .dim : .failure)
        }
    }

    // MARK: - The verdict pane

    static func drawVerdict(_ state: ReplayViewState, frame: PaneFrame, into screen: inout ScreenBuffer) {
        guard let row = state.selectedRow else {
            DashboardRenderer.drawTitle(
                "Query", info: "", focused: false, labels: [], row: frame.titleRow, width: frame.width, into: &screen)
            return
        }
        let status = row.status
        let isNext = state.selected == state.nextRow
        var info = "\(state.selected + 1) · #\(row.query.queryNumber) in the session · event \(row.eventNumber) · "
        info += status == .pending && isNext ? "next" : status.label
        if row.breakpoint { info += " · breakpoint" }
        DashboardRenderer.drawTitle(
            "Query", info: info, focused: false, labels: [(text: "Enter: detail", column: frame.width - 15)],
            row: frame.titleRow, width: frame.width, into: &screen)
        var lines = ReplayVerdict.lines(row, isNext: isNext).flatMap { self.wrapped($0, width: frame.width - 1) }
        if lines.count < frame.height {
            lines.append(StyledLine())
            // Only as much SQL as the pane has rows for is read.
            let sql = TextLines.wrapped(row.query.sql, width: max(frame.width - 2, 10), maxLines: frame.height)
            lines += sql.lines.map { StyledLine("  " + $0, .dim) }
        }
        for (offset, line) in lines.prefix(frame.height).enumerated() {
            screen.write(line, row: frame.top + offset, column: 1, width: frame.width - 1)
        }
    }

    /// A line too long for `width` as several, in the style of its first part (messages from the server can be
    /// long; cutting them would hide what went wrong).
    static func wrapped(_ line: StyledLine, width: Int) -> [StyledLine] {
        guard line.width > width, width >= 10 else { return [line] }
        let style = line.spans.first?.style ?? .normal
        return TextLines.wrap(line.plainText, width: width).map { StyledLine($0, style) }
    }

    // MARK: - The detail

    static func drawDetail(_ state: ReplayViewState, rows: Range<Int>, into screen: inout ScreenBuffer) {
        guard let document = state.detailDocument() else { return }
        DetailView.draw(
            document, title: "Replay detail", info: "Esc back · ↑↓ PgUp PgDn ←→ scroll",
            suffix: document.sideBySide ? " · side by side" : "", scroll: state.detailScroll, rows: rows,
            into: &screen)
    }

    // MARK: - Footer

    static func drawFooter(_ state: ReplayViewState, row: Int, into screen: inout ScreenBuffer) {
        if let notice = state.notice {
            screen.write(notice.text, row: row, column: 0, style: notice.isWarning ? .failure : .normal)
            return
        }
        let leave = state.quitsOnLeave ? "quit" : "back"
        var hints: [KeyHint]
        if state.run != nil {
            hints = [
                KeyHint("Esc", "stop the run", 0), KeyHint("↑↓", "select", 2), KeyHint("Enter", "detail", 1),
                KeyHint("b", "breakpoint", 3), KeyHint("q", leave, 4),
            ]
        } else if state.overlay == .detail {
            hints = [
                KeyHint("↑↓", "scroll", 1), KeyHint("←→", "sideways", 3), KeyHint("n", "step", 2),
                KeyHint("Esc", "back to the list", 0),
            ]
        } else {
            hints = [
                KeyHint("n", "step", 0), KeyHint("r", "run", 2), KeyHint("m", "to mismatch", 3),
                KeyHint("b", "break", 6), KeyHint("s", "skip", 7), KeyHint("R", "restart", 8),
                KeyHint("Enter", "detail", 5), KeyHint("w", "report", 9), KeyHint("?", "help", 10),
                KeyHint("q", leave, 1),
            ]
            if state.canChangeSafety { hints.insert(KeyHint("t", "safety", 4), at: 7) }
        }
        KeyHint.draw(hints, row: row, into: &screen)
    }

    static let helpLines = KeyHint.helpLines(
        [
            ("n  Space", "execute the next query (▶)"),
            ("r", "run to the end (stops at a breakpoint)"),
            ("m", "run to the next mismatch or error"),
            ("Esc", "while running: stop after the current query"),
            ("", "on a running query (or again): cancel it on the target"),
            ("b", "breakpoint on the selected query (●)"),
            ("s", "skip the next query (⊘, not executed)"),
            ("R", "restart on a fresh connection"),
            ("t", "safety: none → --read-only → --rollback"),
            ("", "(before the first step only)"),
            ("Enter", "the selected query: recorded vs replayed"),
            ("↑ ↓  j k", "select; PgUp PgDn Home End"),
            ("w", "write the JSON report beside the file"),
            ("q  Esc", "close the replay"),
        ], keyWidth: 12,
        notes: [
            "· pending  ▶ next  ✓ matched  ✗ mismatched  ! error",
            "⊘ skipped  ? not compared (no recorded result)  ● breakpoint",
            "▲ 3.2x  replayed that many times slower (a latency regression)",
        ])
}
