/// Content seen through a window and scrolled with a `DocumentScroll`: the Result pane's, a query's detail, the
/// replay view's detail. Lines are built when drawn, so a long document costs only the lines on screen.
protocol ScrollableDocument {
    var lineCount: Int { get }
    /// The widest line, in columns (how far one can scroll to the right).
    var width: Int { get }
    /// Draws the lines from `scroll` into `height` rows from `row`, `width` columns from `column`.
    func draw(
        into screen: inout ScreenBuffer, row: Int, column: Int, height: Int, width: Int, scroll: DocumentScroll)
}
