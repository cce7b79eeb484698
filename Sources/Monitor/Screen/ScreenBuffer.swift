import ProxyEngine

/// The size of the terminal in character cells.
public struct ScreenSize: Sendable, Equatable, CustomStringConvertible {
    public var columns: Int
    public var rows: Int

    public init(columns: Int, rows: Int) {
        self.columns = max(columns, 0)
        self.rows = max(rows, 0)
    }

    /// The smallest size that shows every pane; below it the dashboard shows a reduced view and says so.
    public static let minimum = ScreenSize(columns: 80, rows: 24)

    public var description: String { "\(self.columns)x\(self.rows)" }
}

/// What a cell means, not how it looks: the terminal maps each style to colours, or to plain attributes when
/// colour is off (NO_COLOR, a monochrome terminal).
public enum CellStyle: UInt8, Sendable, CaseIterable {
    case normal
    /// The status bar at the top.
    case statusBar
    /// A warning inside the status bar (dropped events, paused).
    case statusWarning
    /// A pane's title line; `titleFocused` for the pane that has the keyboard.
    case title
    case titleFocused
    /// The selected row of the focused pane, and of the other panes.
    case selected
    case selectedUnfocused
    /// Secondary text: closed sessions, hints, labels.
    case dim
    case success
    case failure
    case running
    /// SQL NULL in a result, so it never looks like the text 'NULL' or an empty string.
    case null
    case columnHeader
    /// A key name in the footer and the help.
    case key
    /// Overlays (help, session picker, quit question).
    case overlay
    case overlayTitle
    /// A recorded or replayed value that differs from the other side (the replay view's comparison).
    case difference
}

/// One character cell: a grapheme cluster and its style. A wide character fills its own cell and the next one, which
/// is marked as its continuation and holds no text.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var style: CellStyle
    /// True for the right half of a wide character.
    public var isContinuation: Bool

    public init(character: Character = " ", style: CellStyle = .normal, isContinuation: Bool = false) {
        self.character = character
        self.style = style
        self.isContinuation = isContinuation
    }

    public static let blank = Cell()
}

/// A run of text in one style.
public struct Span: Sendable, Equatable {
    public var text: String
    public var style: CellStyle

    public init(_ text: String, _ style: CellStyle = .normal) {
        self.text = text
        self.style = style
    }
}

/// A line made of styled runs; `width` is in terminal columns.
public struct StyledLine: Sendable, Equatable {
    public var spans: [Span]

    public init(_ spans: [Span] = []) {
        self.spans = spans
    }

    public init(_ text: String, _ style: CellStyle = .normal) {
        self.spans = [Span(text, style)]
    }

    public mutating func append(_ text: String, _ style: CellStyle = .normal) {
        self.spans.append(Span(text, style))
    }

    public var width: Int {
        self.spans.reduce(0) { $0 + TerminalText.displayWidth(of: $1.text) }
    }

    public var plainText: String {
        self.spans.map(\.text).joined()
    }
}

/// What the dashboard wants on screen: a grid of cells that `render` fills and the terminal draws.
///
/// Writing never goes outside the grid, so no layout mistake can crash the program: text that does not fit is cut,
/// and a wide character that would straddle an edge becomes a space.
public struct ScreenBuffer: Sendable, Equatable {
    public let size: ScreenSize
    public private(set) var cells: [Cell]

    public init(size: ScreenSize) {
        self.size = size
        self.cells = Array(repeating: .blank, count: size.columns * size.rows)
    }

    public subscript(row: Int, column: Int) -> Cell {
        guard row >= 0, row < self.size.rows, column >= 0, column < self.size.columns else { return .blank }
        return self.cells[row * self.size.columns + column]
    }

    /// Fills `width` cells of `row` from `column` with spaces in `style`.
    public mutating func fill(row: Int, column: Int = 0, width: Int? = nil, style: CellStyle) {
        guard row >= 0, row < self.size.rows else { return }
        let start = max(column, 0)
        let end = min(width.map { column + $0 } ?? self.size.columns, self.size.columns)
        guard start < end else { return }
        let base = row * self.size.columns
        for index in start..<end {
            self.cells[base + index] = Cell(character: " ", style: style)
        }
        self.repairWideCharacter(row: row, column: start)
        self.repairWideCharacter(row: row, column: end)
    }

    /// Writes `text` at `row`, `column`, at most `width` columns (to the right edge by default).
    /// - Returns: the number of columns written.
    @discardableResult
    public mutating func write(_ text: String, row: Int, column: Int, width: Int? = nil, style: CellStyle = .normal)
        -> Int
    {
        self.write(StyledLine(text, style), row: row, column: column, width: width)
    }

    /// Writes a styled line at `row`, `column`, skipping its first `skip` columns (horizontal scrolling) and
    /// writing at most `width` columns. Control characters are shown escaped, as everywhere else in pgreel.
    /// Only the part of each span that can show is read: at most 16 scalars a column (a text should come cut to
    /// its place already; this keeps a long one from costing more than a row).
    /// - Returns: the number of columns written.
    @discardableResult
    public mutating func write(_ line: StyledLine, row: Int, column: Int, width: Int? = nil, skip: Int = 0) -> Int {
        guard row >= 0, row < self.size.rows, column < self.size.columns else { return 0 }
        let limit = min(column + (width ?? self.size.columns), self.size.columns)
        var x = column
        var skipped = 0
        let base = row * self.size.columns
        outer: for span in line.spans {
            let columns = max(skip - skipped, 0) + max(limit - x, 0)
            let head = span.text.head(scalars: columns.multipliedReportingOverflow(by: 16).partialValue + 64)
            for character in TerminalText.escaped(head.isWhole ? span.text : String(head.text), keepTabs: false) {
                let characterWidth = TerminalText.displayWidth(of: character)
                if characterWidth == 0 {
                    // A lone zero-width character (a format character, a mark at the very start): nothing to draw.
                    continue
                }
                if skipped < skip {
                    skipped += characterWidth
                    if skipped > skip {
                        // A wide character cut in half by the left edge: its visible half becomes a space.
                        if x >= 0, x < limit {
                            self.cells[base + x] = Cell(character: " ", style: span.style)
                        }
                        x += 1
                    }
                    continue
                }
                if x + characterWidth > limit {
                    if characterWidth == 2, x < limit, x >= 0 {
                        self.cells[base + x] = Cell(character: " ", style: span.style)
                        x += 1
                    }
                    break outer
                }
                if x >= 0 {
                    self.cells[base + x] = Cell(character: character, style: span.style)
                    if characterWidth == 2 {
                        self.cells[base + x + 1] = Cell(character: " ", style: span.style, isContinuation: true)
                    }
                }
                x += characterWidth
            }
        }
        self.repairWideCharacter(row: row, column: max(column, 0))
        self.repairWideCharacter(row: row, column: x)
        return max(x - column, 0)
    }

    /// Changes the style of `width` cells, keeping their text (selection highlight).
    public mutating func restyle(row: Int, column: Int = 0, width: Int? = nil, style: CellStyle) {
        guard row >= 0, row < self.size.rows else { return }
        let start = max(column, 0)
        let end = min(width.map { column + $0 } ?? self.size.columns, self.size.columns)
        guard start < end else { return }
        let base = row * self.size.columns
        for index in start..<end {
            self.cells[base + index].style = style
        }
    }

    /// After an overwrite at `column`, a wide character whose halves were separated loses the orphaned half.
    private mutating func repairWideCharacter(row: Int, column: Int) {
        guard column > 0, column < self.size.columns else { return }
        let base = row * self.size.columns
        let cell = self.cells[base + column]
        let left = self.cells[base + column - 1]
        if cell.isContinuation, TerminalText.displayWidth(of: left.character) != 2 || left.isContinuation {
            self.cells[base + column] = Cell(character: " ", style: cell.style)
        }
        if !cell.isContinuation, !left.isContinuation, TerminalText.displayWidth(of: left.character) == 2 {
            self.cells[base + column - 1] = Cell(character: " ", style: left.style)
        }
    }

    /// One row as text (continuation cells left out, so wide characters read naturally), trailing spaces kept.
    public func line(_ row: Int) -> String {
        guard row >= 0, row < self.size.rows else { return "" }
        var text = ""
        let base = row * self.size.columns
        for column in 0..<self.size.columns where !self.cells[base + column].isContinuation {
            text.append(self.cells[base + column].character)
        }
        return text
    }

    /// The whole screen as text, one line per row without trailing spaces: what the snapshot tests compare.
    public var text: String {
        (0..<self.size.rows).map { row in
            var line = self.line(row)
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }

    /// The styles of one row, one character per cell (see `CellStyle.code`), for tests that check highlighting.
    public func styleLine(_ row: Int) -> String {
        guard row >= 0, row < self.size.rows else { return "" }
        let base = row * self.size.columns
        return String((0..<self.size.columns).map { self.cells[base + $0].style.code })
    }
}

extension CellStyle {
    /// A one-letter name, for style snapshots in tests.
    public var code: Character {
        switch self {
        case .normal: return "."
        case .statusBar: return "S"
        case .statusWarning: return "W"
        case .title: return "t"
        case .titleFocused: return "T"
        case .selected: return "#"
        case .selectedUnfocused: return "="
        case .dim: return "d"
        case .success: return "+"
        case .failure: return "x"
        case .running: return "r"
        case .null: return "n"
        case .columnHeader: return "h"
        case .key: return "k"
        case .overlay: return "o"
        case .overlayTitle: return "O"
        case .difference: return "D"
        }
    }
}
