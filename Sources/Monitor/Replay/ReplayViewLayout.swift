/// Where the replay view's parts go for a terminal size. Pure, so the reducer (page sizes, scrolling) and the
/// renderer agree on it.
///
/// Two status lines, the query list, the selected query's verdict, and a footer of keys. Small terminals lose the
/// verdict pane first; anything smaller than the layout still draws, cut to the screen.
public struct ReplayViewLayout: Sendable, Equatable {
    public let size: ScreenSize
    /// The query list's title line and body.
    public let list: PaneFrame
    /// The selected query's verdict (absent on small terminals).
    public let verdict: PaneFrame?
    public let footerRow: Int?
    /// Rows a full-screen overlay (the detail) covers: between the status bar and the footer.
    public let overlayRows: Range<Int>

    public init(size: ScreenSize) {
        self.size = size
        let rows = size.rows
        let width = size.columns
        let footer = rows >= 4 ? rows - 1 : nil
        self.footerRow = footer
        let bodyEnd = footer ?? rows
        if rows >= 14 {
            let verdictHeight = max(3, min(10, (rows - 6) / 3))
            let listHeight = rows - 5 - verdictHeight
            self.list = PaneFrame(titleRow: 2, top: 3, height: listHeight, width: width)
            let verdictTitle = 3 + listHeight
            self.verdict = PaneFrame(titleRow: verdictTitle, top: verdictTitle + 1, height: verdictHeight, width: width)
        } else {
            self.list = PaneFrame(titleRow: 2, top: 3, height: max(bodyEnd - 3, 0), width: width)
            self.verdict = nil
        }
        self.overlayRows = min(2, rows)..<max(bodyEnd, min(2, rows))
    }
}
