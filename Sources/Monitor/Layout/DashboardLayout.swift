/// The three panes, in Tab order.
public enum Pane: Int, Sendable, CaseIterable {
    case connections
    case queries
    case result

    public var title: String {
        switch self {
        case .connections: return "Connections"
        case .queries: return "Live queries"
        case .result: return "Result"
        }
    }
}

/// Where a pane sits: its title line and the rows of its body.
public struct PaneFrame: Sendable, Equatable {
    public var titleRow: Int
    public var top: Int
    public var height: Int
    public var width: Int

    public func contains(row: Int) -> Bool {
        row >= self.titleRow && row < self.top + self.height
    }
}

/// Where everything goes for a terminal size. Pure, so the reducer (mouse clicks, page sizes) and the renderer
/// agree on it.
///
/// From 80x24 up: a two-line status bar, Connections, Live queries and Result one above the other, and a footer.
/// Below 80x24 the layout is compact: a line saying the terminal is too small, the totals, and the newest queries.
public struct DashboardLayout: Sendable, Equatable {
    public let size: ScreenSize
    public let isCompact: Bool
    public let statusRows: Range<Int>
    public let connections: PaneFrame?
    public let queries: PaneFrame?
    public let result: PaneFrame?
    public let footerRow: Int?
    /// The rows a full-screen overlay (query detail) covers: everything between the status bar and the footer.
    public let overlayRows: Range<Int>

    public init(size: ScreenSize) {
        self.size = size
        let width = size.columns
        if size.columns < ScreenSize.minimum.columns || size.rows < ScreenSize.minimum.rows {
            self.isCompact = true
            self.statusRows = 0..<min(2, size.rows)
            self.connections = nil
            self.result = nil
            self.footerRow = nil
            if size.rows > 3 {
                self.queries = PaneFrame(titleRow: 2, top: 3, height: size.rows - 3, width: width)
            } else {
                self.queries = nil
            }
            self.overlayRows = min(2, size.rows)..<size.rows
            return
        }
        self.isCompact = false
        self.statusRows = 0..<2
        self.footerRow = size.rows - 1
        let bodyRows = size.rows - 3 - 3
        let connectionRows = max(2, min(10, bodyRows / 4))
        let rest = bodyRows - connectionRows
        let queryRows = (rest + 1) / 2
        let resultRows = rest - queryRows
        self.connections = PaneFrame(titleRow: 2, top: 3, height: connectionRows, width: width)
        let queriesTitle = 3 + connectionRows
        self.queries = PaneFrame(titleRow: queriesTitle, top: queriesTitle + 1, height: queryRows, width: width)
        let resultTitle = queriesTitle + 1 + queryRows
        self.result = PaneFrame(titleRow: resultTitle, top: resultTitle + 1, height: resultRows, width: width)
        self.overlayRows = 2..<(size.rows - 1)
    }

    public func frame(of pane: Pane) -> PaneFrame? {
        switch pane {
        case .connections: return self.connections
        case .queries: return self.queries
        case .result: return self.result
        }
    }

    /// The pane a screen row belongs to (title line included).
    public func pane(at row: Int) -> Pane? {
        Pane.allCases.first { self.frame(of: $0)?.contains(row: row) == true }
    }
}
