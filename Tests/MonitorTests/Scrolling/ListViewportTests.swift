import Monitor
import Testing

/// The one list window: the browser's, the replay view's and the Connections pane's.
@Suite struct ListViewportTests {
    @Test func theWindowMovesJustEnoughToShowTheSelection() {
        var list = ListViewport()
        list.select(12, count: 30, height: 10)
        #expect(list.selected == 12)
        #expect(list.top == 3, "the selection on the last row of the window")
        list.apply(.by(-5), count: 30, height: 10)
        #expect(list.selected == 7)
        #expect(list.top == 3, "still shown: the window stays")
        list.apply(.by(-5), count: 30, height: 10)
        #expect(list.top == 2)
        list.apply(.toLast, count: 30, height: 10)
        #expect(list.selected == 29)
        #expect(list.top == 20)
        list.apply(.toFirst, count: 30, height: 10)
        #expect(list == ListViewport())
    }

    @Test func theSelectionStaysWithinTheList() {
        var list = ListViewport()
        list.apply(.by(1000), count: 5, height: 10)
        #expect(list.selected == 4)
        #expect(list.top == 0, "a short list never scrolls")
        list.apply(.by(-1000), count: 5, height: 10)
        #expect(list.selected == 0)
        list.apply(.to(3), count: 0, height: 10)
        #expect(list.selected == 0, "an empty list selects row 0")
        list.apply(.toLast, count: 0, height: 10)
        #expect(list.selected == 0)
    }

    @Test func theWindowNeverGoesPastTheEnd() {
        var list = ListViewport()
        list.select(99, count: 100, height: 10)
        #expect(list.top == 90)
        // The window grows: it shows more rows above rather than empty rows below.
        list.reveal(count: 100, height: 40)
        #expect(list.top == 60)
        #expect(ListViewport.top(from: 50, showing: nil, count: 20, height: 10) == 10)
        #expect(ListViewport.top(from: 0, showing: 15, count: 20, height: 10) == 6)
    }

    @Test func navigationKeysAndClicks() {
        #expect(ListViewport.Move(.up, page: 9) == .by(-1))
        #expect(ListViewport.Move(.character("j"), page: 9) == .by(1))
        #expect(ListViewport.Move(.control("f"), page: 9) == .by(9))
        #expect(ListViewport.Move(.pageUp, page: 9) == .by(-9))
        #expect(ListViewport.Move(.character("G"), page: 9) == .toLast)
        #expect(ListViewport.Move(.home, page: 9) == .toFirst)
        #expect(ListViewport.Move(.enter, page: 9) == nil)
        var list = ListViewport()
        list.select(25, count: 30, height: 10)
        #expect(list.row(atOffset: 0, count: 30, height: 10) == 16)
        #expect(list.row(atOffset: 9, count: 30, height: 10) == 25)
        #expect(list.row(atOffset: 10, count: 30, height: 10) == nil, "below the window")
        #expect(list.row(atOffset: 3, count: 18, height: 10) == nil, "past the list's end")
        #expect(list.row(atOffset: -1, count: 30, height: 10) == nil)
    }
}
