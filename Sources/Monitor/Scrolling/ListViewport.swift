/// A list seen through a window of rows: the selected row and the first row shown. The session browser and the
/// replay view's query list move their selection this way, and the live view's Connections pane places its window
/// with `top(from:showing:count:height:)`: the window moves just enough to show the selection, never past the end.
public struct ListViewport: Sendable, Equatable {
    /// What a navigation key asks of the selection.
    public enum Move: Sendable, Equatable {
        /// Rows down (negative: up), stopping at either end.
        case by(Int)
        /// To a row (kept within the list).
        case to(Int)
        case toFirst
        case toLast

        /// The move a navigation key makes: ↑ ↓ (j k) a row, PgUp PgDn (Ctrl-B Ctrl-F) `page` rows, Home End (g G)
        /// to an end; nil for any other key.
        public init?(_ key: ViewKey, page: Int) {
            switch key {
            case .up, .character("k"): self = .by(-1)
            case .down, .character("j"): self = .by(1)
            case .pageUp, .control("b"): self = .by(-page)
            case .pageDown, .control("f"): self = .by(page)
            case .home, .character("g"): self = .toFirst
            case .end, .character("G"): self = .toLast
            default: return nil
            }
        }
    }

    /// The selected row (0 in an empty list).
    public private(set) var selected: Int
    /// The first row shown.
    public private(set) var top: Int

    public init(selected: Int = 0, top: Int = 0) {
        self.selected = selected
        self.top = top
    }

    /// The first row to show of `count` rows in a window `height` rows high, starting from `top`: kept within the
    /// list, then moved just enough to show `selected` (when something is selected).
    public static func top(from top: Int, showing selected: Int?, count: Int, height: Int) -> Int {
        var top = min(top, max(count - height, 0))
        if let selected {
            if selected < top { top = selected }
            if selected >= top + height { top = selected - height + 1 }
        }
        return max(top, 0)
    }

    /// Selects row `index` (kept within the list) and shows it.
    public mutating func select(_ index: Int, count: Int, height: Int) {
        self.selected = min(max(index, 0), max(count - 1, 0))
        self.reveal(count: count, height: height)
    }

    /// Carries out a navigation key's move.
    public mutating func apply(_ move: Move, count: Int, height: Int) {
        switch move {
        case .by(let steps): self.select(self.selected + steps, count: count, height: height)
        case .to(let index): self.select(index, count: count, height: height)
        case .toFirst: self.select(0, count: count, height: height)
        case .toLast: self.select(count - 1, count: count, height: height)
        }
    }

    /// Moves the window to show the selection, after the list or the window changed size.
    public mutating func reveal(count: Int, height: Int) {
        self.top = Self.top(from: self.top, showing: self.selected, count: count, height: height)
    }

    /// The row `offset` rows below the window's top, if the window and the list have one there (a mouse click).
    public func row(atOffset offset: Int, count: Int, height: Int) -> Int? {
        guard offset >= 0, offset < height, self.top + offset < count else { return nil }
        return self.top + offset
    }
}
