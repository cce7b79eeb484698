import Foundation
import ProxyEngine

/// Everything the dashboard shows, as one value. Changed only by the reducer functions (`apply`, `tick`,
/// `resize`, `handle`), which are pure: no clock, no I/O. `render(state, size)` draws it.
public struct DashboardState: Sendable, Equatable {
    /// A window drawn over the panes.
    public enum Overlay: Sendable, Equatable {
        case help
        /// The full-screen detail of a query (by seq).
        case detail(seq: Int)
        /// The session chooser: index 0 is "all sessions", then the sessions in order.
        case sessionPicker(selected: Int)
        case confirmQuit
    }

    /// A short message in the footer, until `until`.
    public struct Flash: Sendable, Equatable {
        public var text: String
        public var isWarning: Bool
        public var until: Date
    }

    public let settings: DashboardSettings
    /// The model events go into; `frozen` is what the screen shows while paused.
    public private(set) var live: DashboardModel
    public private(set) var frozen: DashboardModel?
    public private(set) var now: Date
    public private(set) var size: ScreenSize
    /// Events the dashboard missed because it was too slow (the session files have them all).
    public private(set) var droppedEvents = 0

    public private(set) var focus: Pane = .queries
    /// Follow mode: the newest query is selected and the list stays at the bottom.
    public private(set) var follow = true
    public private(set) var selectedQuery: Int?
    public private(set) var queryTop: Int?
    public private(set) var selectedSession: String?
    public private(set) var sessionIndex = 0
    public private(set) var sessionTop = 0
    public private(set) var resultScroll = DocumentScroll()
    /// The query `resultScroll` belongs to; another selection starts at the top-left again.
    public private(set) var resultScrollSeq: Int?
    /// The Result pane shows the query's full SQL instead of its result (`v`).
    public private(set) var showSQL = false
    public private(set) var filter = QueryFilter()
    /// The filter being typed after `/`, nil when not typing.
    public private(set) var filterInput: String?
    public private(set) var overlay: Overlay?
    public private(set) var detailScroll = DocumentScroll()
    public private(set) var flash: Flash?
    public private(set) var shouldQuit = false
    /// Queries that arrived since the display was paused.
    public private(set) var queriesWhilePaused = 0

    public init(settings: DashboardSettings, now: Date, size: ScreenSize = .minimum) {
        self.settings = settings
        self.live = DashboardModel(historyLimit: settings.historyLimit)
        self.now = now
        self.size = size
        if let warning = settings.warnings.first {
            self.flash = Flash(text: "⚠ " + warning, isWarning: true, until: now.addingTimeInterval(8))
        }
    }

    /// What the panes show: the frozen copy while paused, the live model otherwise.
    public var shown: DashboardModel { self.frozen ?? self.live }
    public var isPaused: Bool { self.frozen != nil }
    public var layout: DashboardLayout { DashboardLayout(size: self.size) }

    // MARK: - Reducer: events, time, size

    public mutating func apply(_ event: ProxyEvent) {
        self.live.apply(event, settings: self.settings, filter: self.filter)
        if self.isPaused, case .recorded(let recorded) = event.kind, case .query = recorded.payload {
            self.queriesWhilePaused += 1
        }
    }

    public mutating func apply(_ events: some Sequence<ProxyEvent>) {
        for event in events { self.apply(event) }
    }

    /// The clock moved on: ages, rates, fading sessions and messages. `droppedEvents` is the bus's count.
    public mutating func tick(now: Date, droppedEvents: Int) {
        self.now = now
        self.droppedEvents = droppedEvents
        self.live.prune(now: now, settings: self.settings)
        if let flash = self.flash, flash.until <= now {
            self.flash = nil
        }
    }

    public mutating func resize(to size: ScreenSize) {
        self.size = size
        self.adjustQueryTop()
        self.adjustSessionTop()
    }

    // MARK: - What is selected

    /// The query the Live queries pane highlights and the Result pane shows.
    public var currentQuerySeq: Int? {
        let history = self.shown.history
        if self.follow { return history.visible(before: nil) }
        guard let selected = self.selectedQuery else { return history.visible(before: nil) }
        if let entry = history[selected], entry.isVisible { return selected }
        if selected < history.firstSeq { return history.visible(after: nil) }
        return history.visible(after: selected) ?? history.visible(before: selected)
    }

    public var currentQuery: QueryEntry? {
        self.currentQuerySeq.flatMap { self.shown.history[$0] }
    }

    /// Index (in `shown.orderedSessions`) of the session the Connections pane highlights.
    public var currentSessionIndex: Int? {
        let order = self.shown.sessionOrder
        guard !order.isEmpty else { return nil }
        if let id = self.selectedSession, let index = order.firstIndex(of: id) { return index }
        return min(max(self.sessionIndex, 0), order.count - 1)
    }

    /// The seqs of the queries in the Live queries pane, oldest first, for a pane `height` rows high.
    public func queryWindow(height: Int) -> [Int] {
        Self.queryWindow(
            history: self.shown.history, follow: self.follow, selected: self.currentQuerySeq, top: self.queryTop,
            height: height)
    }

    /// The first session row shown in a Connections pane `height` rows high. (The selection is a session, not a
    /// row: it keeps its session as others come and go, so only the window's placement is a `ListViewport`'s.)
    public func sessionWindowTop(height: Int) -> Int {
        ListViewport.top(
            from: self.sessionTop, showing: self.currentSessionIndex, count: self.shown.sessionOrder.count,
            height: height)
    }

    /// The queries window: bottom-aligned when following; otherwise starting at `top`, moved just enough to show
    /// `selected`, and filled upwards when the list ends early.
    static func queryWindow(history: QueryHistory, follow: Bool, selected: Int?, top: Int?, height: Int) -> [Int] {
        guard height > 0 else { return [] }
        var rows: [Int] = []
        guard !follow, let selected else {
            var cursor = history.visible(before: nil)
            while let seq = cursor, rows.count < height {
                rows.append(seq)
                cursor = history.visible(before: seq)
            }
            return rows.reversed()
        }
        var start = top.flatMap { history[$0]?.isVisible == true ? $0 : history.visible(after: $0) } ?? selected
        if start > selected { start = selected }
        var cursor: Int? = start
        while let seq = cursor, rows.count < height {
            rows.append(seq)
            cursor = history.visible(after: seq)
        }
        if !rows.contains(selected) {
            rows = [selected]
            var previous = history.visible(before: selected)
            while let seq = previous, rows.count < height {
                rows.insert(seq, at: 0)
                previous = history.visible(before: seq)
            }
        } else {
            var previous = history.visible(before: start)
            while let seq = previous, rows.count < height {
                rows.insert(seq, at: 0)
                previous = history.visible(before: seq)
            }
        }
        return rows
    }

    // MARK: - Reducer: keys

    public mutating func handle(_ key: ViewKey) {
        if self.filterInput != nil {
            self.handleFilterInput(key)
            return
        }
        switch self.overlay {
        case .help:
            switch key {
            case .escape, .enter, .character("?"), .character("q"):
                self.overlay = nil
            case .mouse(let action) where action.kind == .press:
                self.overlay = nil
            default: break
            }
        case .confirmQuit:
            switch key {
            case .character("y"), .character("Y"), .character("q"), .enter: self.shouldQuit = true
            case .character("n"), .character("N"), .escape: self.overlay = nil
            default: break
            }
        case .sessionPicker(let selected):
            self.handlePicker(key, selected: selected)
        case .detail(let seq):
            self.handleDetail(key, seq: seq)
        case nil:
            self.handleMain(key)
        }
    }

    private mutating func handleMain(_ key: ViewKey) {
        switch key {
        case .tab:
            self.focus = Pane(rawValue: (self.focus.rawValue + 1) % Pane.allCases.count) ?? .queries
        case .backTab:
            self.focus = Pane(rawValue: (self.focus.rawValue + Pane.allCases.count - 1) % Pane.allCases.count)
                ?? .queries
        case .character("?"):
            self.overlay = .help
        case .character("q"):
            if self.live.openSessionCount > 0 {
                self.overlay = .confirmQuit
            } else {
                self.shouldQuit = true
            }
        case .character("/"):
            self.filterInput = self.filter.text
        case .character("f"):
            self.setFollow(!self.follow)
        case .character("p"):
            self.togglePause()
        case .character("s"):
            let index = self.filter.sessionID.flatMap { self.shown.sessionOrder.firstIndex(of: $0) }.map { $0 + 1 }
            self.overlay = .sessionPicker(selected: index ?? 0)
        case .character("v"):
            self.showSQL.toggle()
        case .escape:
            if self.filter.isActive { self.setFilter(QueryFilter()) }
        case .enter:
            self.activate(self.focus)
        case .up, .character("k"): self.move(-1)
        case .down, .character("j"): self.move(1)
        case .pageUp, .control("b"): self.move(-self.pageSize(self.focus))
        case .pageDown, .control("f"): self.move(self.pageSize(self.focus))
        case .home, .character("g"): self.moveToEnd(top: true)
        case .end, .character("G"): self.moveToEnd(top: false)
        case .left, .character("h"): self.scrollResult(columns: -DocumentScroll.horizontalStep)
        case .right, .character("l"): self.scrollResult(columns: DocumentScroll.horizontalStep)
        case .mouse(let action): self.handleMouse(action)
        default: break
        }
    }

    private func pageSize(_ pane: Pane) -> Int {
        max((self.layout.frame(of: pane)?.height ?? 1) - 1, 1)
    }

    /// Enter: a connection restricts the queries to its session (again: all sessions); a query opens its detail.
    private mutating func activate(_ pane: Pane) {
        switch pane {
        case .connections:
            guard let index = self.currentSessionIndex else { return }
            let id = self.shown.sessionOrder[index]
            self.setFilter(QueryFilter(text: self.filter.text, sessionID: self.filter.sessionID == id ? nil : id))
        case .queries, .result:
            guard let seq = self.currentQuerySeq else { return }
            self.overlay = .detail(seq: seq)
            self.detailScroll = DocumentScroll()
        }
    }

    private mutating func move(_ steps: Int) {
        switch self.focus {
        case .connections:
            guard let index = self.currentSessionIndex else { return }
            let order = self.shown.sessionOrder
            let target = min(max(index + steps, 0), order.count - 1)
            self.selectedSession = order[target]
            self.sessionIndex = target
            self.adjustSessionTop()
        case .queries:
            guard let current = self.currentQuerySeq else { return }
            let target = self.shown.history.visible(from: current, moving: steps)
            if self.follow, target == current, steps > 0 { return }
            self.follow = false
            self.selectedQuery = target
            self.adjustQueryTop()
        case .result:
            self.scrollResult(rows: steps)
        }
    }

    private mutating func moveToEnd(top: Bool) {
        switch self.focus {
        case .connections:
            let order = self.shown.sessionOrder
            guard !order.isEmpty else { return }
            self.sessionIndex = top ? 0 : order.count - 1
            self.selectedSession = order[self.sessionIndex]
            self.adjustSessionTop()
        case .queries:
            if top {
                guard let first = self.shown.history.visible(after: nil) else { return }
                self.follow = false
                self.selectedQuery = first
                self.queryTop = first
            } else {
                self.setFollow(true)
            }
        case .result:
            self.scrollResult(rows: top ? Int.min / 2 : Int.max / 2)
        }
    }

    private mutating func setFollow(_ on: Bool) {
        if on {
            self.follow = true
            self.selectedQuery = nil
            return
        }
        let height = self.layout.queries?.height ?? 1
        let window = self.queryWindow(height: height)
        self.selectedQuery = self.currentQuerySeq
        self.queryTop = window.first
        self.follow = false
    }

    private mutating func togglePause() {
        if self.frozen == nil {
            self.frozen = self.live
            self.queriesWhilePaused = 0
        } else {
            self.frozen = nil
        }
    }

    private mutating func setFilter(_ filter: QueryFilter) {
        self.filter = filter
        self.live.refilter(filter)
        if var frozen = self.frozen {
            self.frozen = nil
            frozen.refilter(filter)
            self.frozen = frozen
        }
        self.adjustQueryTop()
    }

    private mutating func adjustQueryTop() {
        guard !self.follow, let height = self.layout.queries?.height else { return }
        self.queryTop = self.queryWindow(height: height).first
    }

    private mutating func adjustSessionTop() {
        guard let height = self.layout.connections?.height else { return }
        self.sessionTop = self.sessionWindowTop(height: height)
    }

    // MARK: Result scrolling

    private mutating func scrollResult(rows: Int = 0, columns: Int = 0) {
        guard let entry = self.currentQuery, let frame = self.layout.result else { return }
        var scroll = self.resultScrollSeq == entry.seq ? self.resultScroll : DocumentScroll()
        let document = ResultDocument.make(
            entry: entry, showSQL: self.showSQL, cellCap: ResultTableFormat.paneCellCap)
        scroll.scroll(
            rows: rows, columns: columns,
            within: DocumentScroll.Limits(document, viewRows: frame.height, viewColumns: frame.width))
        self.resultScroll = scroll
        self.resultScrollSeq = entry.seq
    }

    // MARK: Overlays

    private mutating func handleDetail(_ key: ViewKey, seq: Int) {
        guard let entry = self.shown.history[seq] else {
            self.overlay = nil
            return
        }
        switch key {
        case .escape, .enter, .character("q"):
            self.overlay = nil
            return
        default:
            break
        }
        let rows = self.layout.overlayRows.count - 1
        let width = self.size.columns
        let document = DetailDocument.make(entry: entry, width: width)
        let limits = DocumentScroll.Limits(document, viewRows: rows, viewColumns: width)
        // Space pages down too, as in a pager.
        _ = self.detailScroll.handle(key == .character(" ") ? .pageDown : key, page: max(rows - 1, 1), within: limits)
    }

    /// The picker's choices: nil (all sessions) and then every session's ID.
    public var pickerChoices: [String?] {
        [nil] + self.shown.sessionOrder.map { Optional($0) }
    }

    private mutating func handlePicker(_ key: ViewKey, selected: Int) {
        let count = self.pickerChoices.count
        func select(_ index: Int) {
            self.overlay = .sessionPicker(selected: min(max(index, 0), count - 1))
        }
        switch key {
        case .escape, .character("q"), .character("s"):
            self.overlay = nil
        case .up, .character("k"): select(selected - 1)
        case .down, .character("j"): select(selected + 1)
        case .pageUp: select(selected - 10)
        case .pageDown: select(selected + 10)
        case .home, .character("g"): select(0)
        case .end, .character("G"): select(count - 1)
        case .enter:
            let choices = self.pickerChoices
            let choice = choices[min(max(selected, 0), choices.count - 1)]
            self.overlay = nil
            self.setFilter(QueryFilter(text: self.filter.text, sessionID: choice))
        default:
            break
        }
    }

    private mutating func handleFilterInput(_ key: ViewKey) {
        if let text = FilterInput.edit(&self.filterInput, with: key) {
            self.setFilter(QueryFilter(text: text, sessionID: self.filter.sessionID))
        }
    }

    // MARK: Mouse

    private mutating func handleMouse(_ action: MouseAction) {
        let layout = self.layout
        guard let pane = layout.pane(at: action.row), let frame = layout.frame(of: pane) else { return }
        switch action.kind {
        case .wheelUp, .wheelDown:
            let steps = action.kind == .wheelUp ? -3 : 3
            let focus = self.focus
            self.focus = pane
            self.move(steps)
            self.focus = focus
        case .press, .doubleClick:
            self.focus = pane
            let offset = action.row - frame.top
            guard offset >= 0 else { return }
            switch pane {
            case .connections:
                let index = self.sessionWindowTop(height: frame.height) + offset
                guard index < self.shown.sessionOrder.count else { return }
                self.sessionIndex = index
                self.selectedSession = self.shown.sessionOrder[index]
            case .queries:
                let window = self.queryWindow(height: frame.height)
                guard offset < window.count else { return }
                self.queryTop = window.first
                self.selectedQuery = window[offset]
                self.follow = false
            case .result:
                break
            }
            if action.kind == .doubleClick { self.activate(pane) }
        }
    }
}
