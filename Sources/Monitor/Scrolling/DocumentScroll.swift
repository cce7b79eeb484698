/// How far a document is scrolled: its first line and first column shown. The live view's Result pane and query
/// detail and the replay view's detail all scroll this one way.
public struct DocumentScroll: Sendable, Equatable {
    public var row: Int
    public var column: Int

    public init(row: Int = 0, column: Int = 0) {
        self.row = row
        self.column = column
    }

    /// Columns one press of ← or → scrolls.
    static let horizontalStep = 8

    /// How far a document can scroll: its size less the window it is seen through (negative when it fits).
    public struct Limits: Sendable, Equatable {
        public var rows: Int
        public var columns: Int

        public init(rows: Int, columns: Int) {
            self.rows = rows
            self.columns = columns
        }

        /// The limits of `document` seen through a window `viewRows` x `viewColumns` large.
        init(_ document: some ScrollableDocument, viewRows: Int, viewColumns: Int) {
            self.init(rows: document.lineCount - viewRows, columns: document.width - viewColumns)
        }
    }

    /// Moves by `rows` and `columns` and keeps both within `limits`.
    mutating func scroll(rows: Int = 0, columns: Int = 0, within limits: Limits) {
        self.row = Self.clamp(self.row, by: rows, limit: limits.rows)
        self.column = Self.clamp(self.column, by: columns, limit: limits.columns)
    }

    /// Applies a scrolling key: ↑ ↓ (j k) a line, PgUp PgDn (Ctrl-B Ctrl-F) `page` lines, Home (g) back to the start,
    /// End (G) the last page, ← → (h l) sideways, the mouse wheel three lines. Any mouse action counts as handled.
    /// - Returns: false when `key` is not one of these.
    mutating func handle(_ key: ViewKey, page: Int, within limits: Limits) -> Bool {
        switch key {
        case .up, .character("k"): self.row = Self.clamp(self.row, by: -1, limit: limits.rows)
        case .down, .character("j"): self.row = Self.clamp(self.row, by: 1, limit: limits.rows)
        case .pageUp, .control("b"): self.row = Self.clamp(self.row, by: -page, limit: limits.rows)
        case .pageDown, .control("f"): self.row = Self.clamp(self.row, by: page, limit: limits.rows)
        case .home, .character("g"): self = DocumentScroll()
        case .end, .character("G"): self.row = max(limits.rows, 0)
        case .left, .character("h"):
            self.column = Self.clamp(self.column, by: -Self.horizontalStep, limit: limits.columns)
        case .right, .character("l"):
            self.column = Self.clamp(self.column, by: Self.horizontalStep, limit: limits.columns)
        case .mouse(let action):
            switch action.kind {
            case .wheelUp: self.row = Self.clamp(self.row, by: -3, limit: limits.rows)
            case .wheelDown: self.row = Self.clamp(self.row, by: 3, limit: limits.rows)
            case .press, .doubleClick: break
            }
        default:
            return false
        }
        return true
    }

    /// The position kept within `limits`, for drawing: the document may have become smaller since the last key (a
    /// narrower terminal, another query selected).
    func clamped(to limits: Limits) -> DocumentScroll {
        DocumentScroll(row: min(self.row, max(limits.rows, 0)), column: min(self.column, max(limits.columns, 0)))
    }

    /// `lines 7–13 of 52` for a document of `lineCount` lines in a window `viewRows` high; nil when it all shows.
    func linesShown(lineCount: Int, viewRows: Int) -> String? {
        guard lineCount > viewRows else { return nil }
        return "lines \(self.row + 1)–\(min(self.row + viewRows, lineCount)) of \(lineCount)"
    }

    /// `value + delta`, kept within 0...max(limit, 0), without overflowing.
    static func clamp(_ value: Int, by delta: Int, limit: Int) -> Int {
        let moved = delta > 0 ? (value > Int.max - delta ? Int.max : value + delta) : max(value + delta, 0)
        return min(max(moved, 0), max(limit, 0))
    }
}
