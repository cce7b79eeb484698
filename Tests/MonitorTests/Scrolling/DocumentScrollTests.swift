import Testing

@testable import Monitor

/// The one way documents scroll: the Result pane, the query detail, the replay detail.
@Suite struct DocumentScrollTests {
    /// A document of 100 lines, 200 columns wide, through a window of 20 rows and 80 columns.
    static let limits = DocumentScroll.Limits(rows: 80, columns: 120)

    @Test func keysScrollWithinTheDocument() {
        var scroll = DocumentScroll()
        for key: ViewKey in [.down, .character("j"), .pageDown] {
            let handled = scroll.handle(key, page: 19, within: Self.limits)
            #expect(handled)
        }
        #expect(scroll == DocumentScroll(row: 21, column: 0))
        _ = scroll.handle(.mouse(MouseAction(.wheelUp, row: 5, column: 5)), page: 19, within: Self.limits)
        #expect(scroll.row == 18)
        _ = scroll.handle(.end, page: 19, within: Self.limits)
        #expect(scroll.row == 80, "the last page")
        _ = scroll.handle(.pageDown, page: 19, within: Self.limits)
        #expect(scroll.row == 80, "not past it")
        _ = scroll.handle(.right, page: 19, within: Self.limits)
        _ = scroll.handle(.character("l"), page: 19, within: Self.limits)
        #expect(scroll.column == 16)
        _ = scroll.handle(.character("h"), page: 19, within: Self.limits)
        #expect(scroll.column == 8)
        _ = scroll.handle(.home, page: 19, within: Self.limits)
        #expect(scroll == DocumentScroll(), "Home: back to the start, both ways")
        _ = scroll.handle(.pageUp, page: 19, within: Self.limits)
        #expect(scroll == DocumentScroll())
    }

    @Test func otherKeysAreNotScrolling() {
        var scroll = DocumentScroll(row: 3, column: 8)
        let step = scroll.handle(.character("n"), page: 19, within: Self.limits)
        let enter = scroll.handle(.enter, page: 19, within: Self.limits)
        let click = scroll.handle(.mouse(MouseAction(.press, row: 1, column: 1)), page: 19, within: Self.limits)
        #expect(!step && !enter, "not scrolling keys: the view handles them")
        #expect(click, "a click in a document is taken, and changes nothing")
        #expect(scroll == DocumentScroll(row: 3, column: 8))
    }

    @Test func aDocumentThatFitsDoesNotScroll() {
        var scroll = DocumentScroll()
        let fits = DocumentScroll.Limits(rows: -5, columns: -10)
        _ = scroll.handle(.end, page: 19, within: fits)
        _ = scroll.handle(.right, page: 19, within: fits)
        #expect(scroll == DocumentScroll())
        scroll.scroll(rows: Int.max / 2, columns: 3, within: Self.limits)
        #expect(scroll == DocumentScroll(row: 80, column: 3), "without overflowing")
    }

    @Test func drawingKeepsAPositionWithinAShrunkDocument() {
        let scroll = DocumentScroll(row: 50, column: 40)
        #expect(scroll.clamped(to: DocumentScroll.Limits(rows: 10, columns: -1)) == DocumentScroll(row: 10, column: 0))
        #expect(scroll.clamped(to: Self.limits) == scroll)
        #expect(DocumentScroll(row: 6).linesShown(lineCount: 52, viewRows: 7) == "lines 7–13 of 52")
        #expect(DocumentScroll(row: 48).linesShown(lineCount: 52, viewRows: 7) == "lines 49–52 of 52")
        #expect(DocumentScroll().linesShown(lineCount: 7, viewRows: 7) == nil)
    }
}
