/// A document shown across the whole screen under a title line: the live view's query detail and the replay view's
/// detail. The title says which lines show when the document is taller than the rows it has.
enum DetailView {
    /// - Parameters:
    ///   - info: the title's text after `title`; `suffix` comes after the lines shown.
    ///   - rows: the screen rows it covers, the title's first.
    static func draw(
        _ document: some ScrollableDocument, title: String, info: String, suffix: String = "", scroll: DocumentScroll,
        rows: Range<Int>, into screen: inout ScreenBuffer
    ) {
        guard !rows.isEmpty else { return }
        let width = screen.size.columns
        for row in rows { screen.fill(row: row, style: .normal) }
        let height = rows.count - 1
        let scroll = scroll.clamped(to: DocumentScroll.Limits(document, viewRows: height, viewColumns: width))
        var info = info
        if let lines = scroll.linesShown(lineCount: document.lineCount, viewRows: height) { info += " · " + lines }
        DashboardRenderer.drawTitle(
            title, info: info + suffix, focused: true, labels: [], row: rows.lowerBound, width: width, into: &screen)
        document.draw(into: &screen, row: rows.lowerBound + 1, column: 0, height: height, width: width, scroll: scroll)
    }
}
