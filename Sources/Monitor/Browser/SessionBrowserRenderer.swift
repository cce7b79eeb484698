import Foundation
import ProxyEngine

/// Draws the session browser into a screen buffer. Pure.
public enum SessionBrowserRenderer {
    public static func render(_ state: SessionBrowserState, size: ScreenSize) -> ScreenBuffer {
        var screen = ScreenBuffer(size: size)
        guard size.columns > 0, size.rows > 0 else { return screen }
        let width = size.columns
        screen.fill(row: 0, style: .statusBar)
        var title = StyledLine()
        title.append(width >= 60 ? " pgreel sessions " : " sessions ", .statusWarning)
        title.append(" " + DisplayText.clean(state.directory), .statusBar)
        screen.write(title, row: 0, column: 0)
        if size.rows > 1 {
            screen.fill(row: 1, style: .statusBar)
            var info = " " + DisplayText.count(state.files.count, "session file") + ", newest first"
            if !state.filter.isEmpty {
                info += " · \(state.visible.count) match \"\(DisplayText.clean(state.filter))\""
            }
            let cut = state.files.filter { $0.details?.cut != nil && !state.recording.contains($0.name) }.count
            if cut > 0 { info += " · \(cut) cut off" }
            if state.isScanning { info += " · reading…" }
            screen.write(info, row: 1, column: 0, style: .statusBar)
        }
        let columns = Columns(width: width)
        let frame = PaneFrame(titleRow: 2, top: 3, height: state.listHeight, width: width)
        DashboardRenderer.drawTitle(
            "Sessions", info: "", focused: true,
            labels: [("started (UTC)", columns.startX), ("queries", columns.queriesX + columns.queries - 7),
                ("size", columns.sizeX + columns.size - 4)],
            row: frame.titleRow, width: width, into: &screen)
        if state.visible.isEmpty {
            let text: String
            if state.isScanning {
                text = "  Reading the directory…"
            } else if state.files.isEmpty {
                text = "  No session files in " + DisplayText.clean(state.directory) + " yet."
            } else {
                text = "  No file matches the filter (Esc clears it)."
            }
            screen.write(text, row: frame.top, column: 0, style: .dim)
        }
        for offset in 0..<max(frame.height, 0) {
            let index = state.list.top + offset
            guard index < state.visible.count else { break }
            let file = state.files[state.visible[index]]
            let row = frame.top + offset
            self.drawRow(file, state: state, columns: columns, row: row, into: &screen)
            if index == state.list.selected {
                DashboardRenderer.highlight(row: row, width: width, focused: true, into: &screen)
            }
        }
        if size.rows >= 4 {
            self.drawFooter(state, row: size.rows - 1, into: &screen)
        }
        return screen
    }

    struct Columns {
        let user: Int
        let start = 19
        let queries = 7
        let size = 8
        let mark = 12
        let name: Int

        init(width: Int) {
            let fixed = 2 + 1 + self.start + 1 + self.queries + 1 + self.size + 1 + self.mark + 1
            let rest = max(width - fixed, 8)
            self.user = min(max(rest / 2, 8), 24)
            self.name = max(rest - self.user - 1, 0)
        }

        var userX: Int { 2 }
        var startX: Int { self.userX + self.user + 1 }
        var queriesX: Int { self.startX + self.start + 1 }
        var sizeX: Int { self.queriesX + self.queries + 1 }
        var markX: Int { self.sizeX + self.size + 1 }
        var nameX: Int { self.markX + self.mark + 1 }
    }

    static func drawRow(
        _ file: SessionFileInfo, state: SessionBrowserState, columns: Columns, row: Int,
        into screen: inout ScreenBuffer
    ) {
        let details = file.details
        let isRecording = state.recording.contains(file.name)
        if state.opening == file.path {
            screen.write("…", row: row, column: 0, style: .running)
        }
        let user = details.map { $0.pseudoUser ?? "?" } ?? "…"
        screen.write(
            TerminalText.fitted(user, toWidth: columns.user).text, row: row, column: columns.userX,
            width: columns.user, style: details == nil ? .dim : .normal)
        screen.write(Self.time(file.startTime), row: row, column: columns.startX, width: columns.start, style: .dim)
        let queries = details.map { DisplayText.count($0.queryCount) } ?? "…"
        screen.write(
            DashboardRenderer.rightAligned(queries, width: columns.queries), row: row, column: columns.queriesX,
            width: columns.queries)
        screen.write(
            DashboardRenderer.rightAligned(SessionFileInfo.sizeText(file.size), width: columns.size), row: row,
            column: columns.sizeX, width: columns.size, style: .dim)
        var mark = ""
        var style = CellStyle.normal
        if isRecording {
            mark = "● recording"
            style = .running
        } else if details?.error != nil {
            mark = "✗ unreadable"
            style = .failure
        } else if details?.cut != nil {
            mark = "✂ cut off"
            style = .failure
        }
        screen.write(mark, row: row, column: columns.markX, width: columns.mark, style: style)
        if columns.name > 0 {
            screen.write(
                TerminalText.fitted(file.name, toWidth: columns.name).text, row: row,
                column: columns.nameX, width: columns.name, style: .dim)
        }
    }

    /// `2025-10-07 21:30:15` (UTC).
    static func time(_ date: Date) -> String {
        let text = SessionTimestamp.format(date)
        return String(text.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    static func drawFooter(_ state: SessionBrowserState, row: Int, into screen: inout ScreenBuffer) {
        if let input = state.filterInput {
            KeyHint.drawFilterInput(input, help: "words of the name or the user", row: row, into: &screen)
            return
        }
        if let message = state.message {
            screen.write(DisplayText.clean(message), row: row, column: 0, style: .failure)
            return
        }
        if let opening = state.opening {
            screen.write("Opening " + DisplayText.clean(opening) + "…", row: row, column: 0, style: .running)
            return
        }
        KeyHint.draw(
            [
                KeyHint("↑↓", "select", 1), KeyHint("Enter", "replay", 0), KeyHint("/", "filter", 2),
                KeyHint("r", "reread", 3), KeyHint("q", "back", 0),
            ], row: row, into: &screen)
    }
}
