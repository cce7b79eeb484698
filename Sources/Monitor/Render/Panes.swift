import Foundation
import ProxyEngine

/// The Connections pane: one line per session.
enum ConnectionsPane {
    /// Column positions for a pane `width` columns wide.
    struct Columns {
        var users: Int
        var client: Int
        var database: Int
        let state = 20
        let queries = 7
        let age = 7

        init(width: Int) {
            self.client = width >= 110 ? 21 : 15
            self.database = width >= 110 ? 16 : 0
            let fixed = 4 + 1 + (self.client + 1) + (self.database > 0 ? self.database + 1 : 0) + (self.state + 1)
                + (self.queries + 1) + self.age
            self.users = max(width - fixed - 1, 8)
        }

        var usersX: Int { 5 }
        var clientX: Int { self.usersX + self.users + 1 }
        var databaseX: Int { self.clientX + self.client + 1 }
        var stateX: Int { self.databaseX + (self.database > 0 ? self.database + 1 : 0) }
        var queriesX: Int { self.stateX + self.state + 1 }
        var ageX: Int { self.queriesX + self.queries + 1 }
    }

    static func draw(_ state: DashboardState, frame: PaneFrame, into screen: inout ScreenBuffer) {
        let model = state.shown
        let columns = Columns(width: frame.width)
        let focused = state.focus == .connections && state.overlay == nil
        var labels: [(text: String, column: Int)] = [("client", columns.clientX), ("state", columns.stateX)]
        if columns.database > 0 { labels.append(("database", columns.databaseX)) }
        labels += [("queries", columns.queriesX + 1), ("age", columns.ageX + 3)]
        DashboardRenderer.drawTitle(
            "Connections", info: "\(model.openSessionCount) open", focused: focused, labels: labels,
            row: frame.titleRow, width: frame.width, into: &screen)

        let sessions = model.orderedSessions
        guard !sessions.isEmpty else {
            let message = model.sessionsSeen == 0 ? "  No connections yet." : "  No open connections."
            screen.write(message, row: frame.top, column: 0, style: .dim)
            if let hint = state.settings.connectHint, frame.height > 1 {
                screen.write("  Connect: " + hint, row: frame.top + 1, column: 0, style: .dim)
            }
            return
        }
        let top = state.sessionWindowTop(height: frame.height)
        let selected = state.currentSessionIndex
        for offset in 0..<frame.height {
            let index = top + offset
            guard index < sessions.count else { break }
            let row = frame.top + offset
            self.drawRow(sessions[index], state: state, columns: columns, row: row, into: &screen)
            if index == selected {
                DashboardRenderer.highlight(row: row, width: frame.width, focused: focused, into: &screen)
            }
        }
    }

    static func drawRow(
        _ session: SessionRow, state: DashboardState, columns: Columns, row: Int, into screen: inout ScreenBuffer
    ) {
        let sessionState = session.state
        let base: CellStyle = sessionState.isOpen ? .normal : .dim
        screen.write(session.label, row: row, column: 0, width: 4, style: sessionState.isOpen ? .dim : .dim)
        screen.write(
            TerminalText.fitted(session.users, toWidth: columns.users).text, row: row,
            column: columns.usersX, width: columns.users, style: base)
        screen.write(
            TerminalText.fitted(session.clientAddress, toWidth: columns.client).text, row: row,
            column: columns.clientX, width: columns.client, style: base)
        if columns.database > 0 {
            screen.write(
                TerminalText.fitted(session.database ?? "", toWidth: columns.database).text,
                row: row, column: columns.databaseX, width: columns.database, style: base)
        }
        let stateStyle: CellStyle
        switch sessionState {
        case .active, .idleInTransaction: stateStyle = .running
        case .failedTransaction, .refused: stateStyle = .failure
        case .idle: stateStyle = .success
        case .authenticating, .closed: stateStyle = .dim
        }
        screen.write(sessionState.label, row: row, column: columns.stateX, width: columns.state, style: stateStyle)
        screen.write(
            DashboardRenderer.rightAligned(DisplayText.count(session.queryCount), width: columns.queries), row: row,
            column: columns.queriesX, width: columns.queries, style: base)
        let end = session.closedAt ?? state.now
        screen.write(
            DashboardRenderer.rightAligned(
                DisplayText.age(seconds: end.timeIntervalSince(session.openedAt)), width: columns.age),
            row: row, column: columns.ageX, width: columns.age, style: base)
    }
}

/// The Live queries pane: one line per query, newest at the bottom.
enum QueriesPane {
    struct Columns {
        var time: Int
        var session = 4
        var sql: Int
        var duration: Int
        var rows: Int
        var status: Int

        init(width: Int) {
            self.time = width >= 100 ? 12 : (width >= 60 ? 8 : 0)
            self.duration = width >= 60 ? 9 : 0
            self.rows = width >= 60 ? 7 : 0
            self.status = 7
            let fixed = (self.time > 0 ? self.time + 1 : 0) + self.session + 1 + (self.duration > 0 ? self.duration + 1 : 0)
                + (self.rows > 0 ? self.rows + 1 : 0) + 1 + self.status
            self.sql = max(width - fixed, 4)
        }

        var sessionX: Int { self.time > 0 ? self.time + 1 : 0 }
        var sqlX: Int { self.sessionX + self.session + 1 }
        var durationX: Int { self.sqlX + self.sql + 1 }
        var rowsX: Int { self.durationX + (self.duration > 0 ? self.duration + 1 : 0) }
        var statusX: Int { self.rowsX + (self.rows > 0 ? self.rows + 1 : 0) }
    }

    static func draw(_ state: DashboardState, frame: PaneFrame, into screen: inout ScreenBuffer) {
        let history = state.shown.history
        let columns = Columns(width: frame.width)
        let focused = state.focus == .queries && state.overlay == nil
        var info = "(\(DisplayText.count(history.visibleCount)))"
        info += state.follow ? " · following" : " · scrolled, f follows"
        if let session = state.filter.sessionID {
            let label = state.live.sessions[session]?.label ?? state.frozen?.sessions[session]?.label ?? "?"
            info += " · session " + label
        }
        if !state.filter.text.isEmpty {
            info += " · filter \"" + TerminalText.fitted(state.filter.text, toWidth: 20).text + "\""
        }
        var labels: [(text: String, column: Int)] = []
        if columns.duration > 0 {
            labels = [("duration", columns.durationX + 1), ("rows", columns.rowsX + 3), ("status", columns.statusX)]
        }
        DashboardRenderer.drawTitle(
            "Live queries", info: info, focused: focused, labels: labels, row: frame.titleRow, width: frame.width,
            into: &screen)

        let window = state.queryWindow(height: frame.height)
        guard !window.isEmpty else {
            let message = history.isEmpty ? "  No queries yet." : "  No queries match the filter (Esc clears it)."
            screen.write(message, row: frame.top, column: 0, style: .dim)
            return
        }
        let selected = state.currentQuerySeq
        for (offset, seq) in window.enumerated() {
            guard let entry = history[seq] else { continue }
            let row = frame.top + offset
            self.drawRow(entry, now: state.now, columns: columns, row: row, into: &screen)
            if seq == selected {
                DashboardRenderer.highlight(row: row, width: frame.width, focused: focused, into: &screen)
            }
        }
    }

    static func drawRow(_ entry: QueryEntry, now: Date, columns: Columns, row: Int, into screen: inout ScreenBuffer) {
        if columns.time > 0 {
            screen.write(
                DisplayText.clock(entry.startedAt, milliseconds: columns.time > 8), row: row, column: 0,
                width: columns.time, style: .dim)
        }
        screen.write("#\(entry.sessionNumber)", row: row, column: columns.sessionX, width: columns.session, style: .dim)
        screen.write(
            DisplayText.oneLine(entry.query.sql, maxColumns: columns.sql), row: row, column: columns.sqlX,
            width: columns.sql)

        var duration = ""
        var durationStyle = CellStyle.normal
        var rows = ""
        let status: String
        let statusStyle: CellStyle
        switch entry.outcome {
        case .running:
            duration = DisplayText.duration(milliseconds: max(now.timeIntervalSince(entry.startedAt), 0) * 1000)
            durationStyle = .running
            status = "…"
            statusStyle = .running
        case .unknown:
            status = "?"
            statusStyle = .dim
        case .finished(let result):
            duration = DisplayText.duration(milliseconds: result.durationMS)
            rows = self.rowsText(result.result)
            if let error = result.error {
                status = "✗ " + DisplayText.clean(error.code)
                statusStyle = .failure
            } else {
                status = "✓"
                statusStyle = .success
            }
        }
        if columns.duration > 0 {
            screen.write(
                DashboardRenderer.rightAligned(duration, width: columns.duration), row: row, column: columns.durationX,
                width: columns.duration, style: durationStyle)
        }
        if columns.rows > 0 {
            screen.write(
                DashboardRenderer.rightAligned(rows, width: columns.rows), row: row, column: columns.rowsX,
                width: columns.rows)
        }
        screen.write(status, row: row, column: columns.statusX, width: columns.status, style: statusStyle)
    }

    /// Rows returned, or rows affected for a command whose tag counts them (`UPDATE 3`); empty otherwise.
    static func rowsText(_ set: RecordedResultSet) -> String {
        if !set.columns.isEmpty { return DisplayText.count(set.rowCount) }
        guard let tag = set.commandTag, let last = tag.split(separator: " ").last, let count = Int(last) else {
            return ""
        }
        let counted = ["INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "MOVE", "FETCH", "SELECT"]
        return counted.contains(where: { tag.hasPrefix($0) }) ? DisplayText.count(count) : ""
    }
}

/// The Result pane: the selected query's result table, error or SQL, scrollable both ways.
enum ResultPane {
    static func draw(_ state: DashboardState, frame: PaneFrame, into screen: inout ScreenBuffer) {
        let focused = state.focus == .result && state.overlay == nil
        guard let entry = state.currentQuery else {
            DashboardRenderer.drawTitle(
                "Result", info: "", focused: focused, labels: [], row: frame.titleRow, width: frame.width,
                into: &screen)
            screen.write("  The selected query's result shows here.", row: frame.top, column: 0, style: .dim)
            return
        }
        let document = ResultDocument.make(
            entry: entry, showSQL: state.showSQL, cellCap: ResultTableFormat.paneCellCap)
        let scroll = (state.resultScrollSeq == entry.seq ? state.resultScroll : DocumentScroll()).clamped(
            to: DocumentScroll.Limits(document, viewRows: frame.height, viewColumns: frame.width))

        var info = "#\(entry.sessionNumber) query \(entry.query.queryNumber)"
        switch entry.outcome {
        case .running:
            info += " · running " + DisplayText.duration(
                milliseconds: max(state.now.timeIntervalSince(entry.startedAt), 0) * 1000)
        case .unknown:
            info += " · result not seen"
        case .finished(let result):
            if let tag = result.result.commandTag { info += " · " + DisplayText.clean(tag) }
            if result.error != nil { info += " · failed" }
            if !result.result.columns.isEmpty {
                info += " · " + DisplayText.count(result.result.rowCount, "row")
            }
            info += " · " + DisplayText.duration(milliseconds: result.durationMS)
        }
        if state.showSQL { info += " · SQL (v: result)" }
        if let lines = scroll.linesShown(lineCount: document.lineCount, viewRows: frame.height) {
            info += " · " + lines
        }
        if scroll.column > 0 { info += " · →\(scroll.column)" }
        DashboardRenderer.drawTitle(
            "Result", info: info, focused: focused, labels: [], row: frame.titleRow, width: frame.width, into: &screen)
        document.draw(
            into: &screen, row: frame.top, column: 1, height: frame.height, width: frame.width - 1, scroll: scroll)
    }
}
