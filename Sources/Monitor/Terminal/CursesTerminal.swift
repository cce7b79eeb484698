import CNcurses
import Foundation

/// Something the terminal reported: a key (or mouse action), or a new size.
public enum TerminalInput: Sendable, Equatable {
    case key(ViewKey)
    case resize(ScreenSize)
}

/// Why the terminal could not be taken over.
public enum TerminalError: Error, CustomStringConvertible {
    case cannotStart(term: String)

    public var description: String {
        switch self {
        case .cannotStart(let term):
            return "cannot drive this terminal (TERM=\(term.isEmpty ? "unset" : term)); "
                + "set TERM to your terminal's type (e.g. xterm-256color), or use `pgreel proxy` for headless mode"
        }
    }
}

/// The only code that talks to curses: it sets the terminal up, draws screen buffers, reads keys, and puts the
/// terminal back as it was.
///
/// Not thread-safe (curses is not): create, use and close it on one thread.
public final class CursesTerminal {
    private var screen: OpaquePointer?
    private var closed = false
    /// Curses attributes and colour pair per style.
    private var looks: [CellStyle: (attributes: attr_t, pair: Int16)] = [:]
    private var lastPress: (row: Int, column: Int, time: UInt64)?

    /// Takes over the terminal on stdin/stdout.
    /// - Parameter useColor: colours when the terminal has them; attributes only (bold, reverse, dim) otherwise.
    public init(useColor: Bool) throws {
        // The user's locale, so ncursesw reads and writes UTF-8; a C/POSIX locale would turn every non-ASCII
        // character into garbage, so fall back to C.UTF-8 (present on every glibc system) for the character type.
        setlocale(LC_ALL, "")
        if let codeset = pgreel_codeset(), String(cString: codeset) != "UTF-8" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        guard let screen = pgreel_newterm() else {
            throw TerminalError.cannotStart(term: ProcessInfo.processInfo.environment["TERM"] ?? "")
        }
        self.screen = screen
        Self.restoreAtExit()
        cbreak()
        noecho()
        nonl()
        let window = pgreel_stdscr()
        keypad(window, true)
        intrflush(window, false)
        leaveok(window, true)
        curs_set(0)
        set_escdelay(25)
        // Press events only, reported at once (mouseinterval 0): double clicks are recognised here, without the
        // delay curses would add to every click to wait for a second one.
        mousemask(pgreel_mouse_events(), nil)
        mouseinterval(0)
        self.setUpLooks(useColor: useColor && has_colors())
    }

    deinit {
        self.close()
    }

    /// The terminal's size now.
    public var size: ScreenSize {
        ScreenSize(columns: Int(pgreel_cols()), rows: Int(pgreel_lines()))
    }

    /// Waits up to `timeoutMilliseconds` (0: just looks) for a key, a mouse action or a resize.
    public func readInput(timeoutMilliseconds: Int) -> TerminalInput? {
        let window = pgreel_stdscr()
        wtimeout(window, Int32(max(timeoutMilliseconds, 0)))
        var code: wint_t = 0
        let result = wget_wch(window, &code)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            return self.functionKey(Int32(bitPattern: code))
        }
        return self.character(code).map { .key($0) }
    }

    /// Puts a screen buffer on the terminal. Curses sends only what changed since the last frame, so nothing
    /// flickers however often this runs.
    public func draw(_ buffer: ScreenBuffer) {
        guard !self.closed else { return }
        let window = pgreel_stdscr()
        werase(window)
        let rows = min(buffer.size.rows, Int(pgreel_lines()))
        let columns = min(buffer.size.columns, Int(pgreel_cols()))
        var text: [wchar_t] = []
        text.reserveCapacity(columns)
        for row in 0..<rows {
            var column = 0
            while column < columns {
                let cell = buffer[row, column]
                if cell.isContinuation {
                    column += 1
                    continue
                }
                self.apply(cell.style)
                text.removeAll(keepingCapacity: true)
                let start = column
                if cell.character.isASCII {
                    // A run of plain ASCII in one style goes out in one call.
                    while column < columns {
                        let next = buffer[row, column]
                        guard next.style == cell.style, !next.isContinuation, next.character.isASCII,
                            let value = next.character.asciiValue
                        else { break }
                        text.append(wchar_t(value))
                        column += 1
                    }
                } else {
                    // Anything else on its own, at its own column: if the C library measures a character
                    // differently from pgreel, the rest of the line still lands where it belongs.
                    for scalar in cell.character.unicodeScalars {
                        text.append(wchar_t(bitPattern: scalar.value))
                    }
                    column += column + 1 < columns && buffer[row, column + 1].isContinuation ? 2 : 1
                }
                _ = pgreel_put(Int32(row), Int32(start), text, Int32(text.count))
            }
        }
        wnoutrefresh(window)
        doupdate()
    }

    /// Repaints every cell on the next draw (Ctrl-L; after another program wrote over the screen).
    public func repaintAll() {
        _ = pgreel_force_repaint()
    }

    /// Gives the terminal back: normal mode, cursor visible, screen as the shell left it. Safe to call twice.
    public func close() {
        guard !self.closed else { return }
        self.closed = true
        mousemask(0, nil)
        curs_set(1)
        endwin()
        if let screen = self.screen {
            delscreen(screen)
            self.screen = nil
        }
    }

    // MARK: - Keys

    private func character(_ code: wint_t) -> ViewKey? {
        switch code {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(code) + 96)))
        default:
            guard let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    private func functionKey(_ code: Int32) -> TerminalInput? {
        switch code {
        case KEY_RESIZE: return .resize(self.size)
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_BTAB: return .key(.backTab)
        case KEY_ENTER: return .key(.enter)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_MOUSE: return self.mouse().map { .key(.mouse($0)) }
        default: return nil
        }
    }

    private func mouse() -> MouseAction? {
        var event = MEVENT()
        guard getmouse(&event) == OK else { return nil }
        let row = Int(event.y)
        let column = Int(event.x)
        if event.bstate & pgreel_wheel_up() != 0 { return MouseAction(.wheelUp, row: row, column: column) }
        if event.bstate & pgreel_wheel_down() != 0 { return MouseAction(.wheelDown, row: row, column: column) }
        if event.bstate & pgreel_button1_double_clicked() != 0 {
            return MouseAction(.doubleClick, row: row, column: column)
        }
        guard event.bstate & pgreel_button1_pressed() != 0 else { return nil }
        let now = DispatchTime.now().uptimeNanoseconds
        defer { self.lastPress = (row, column, now) }
        if let last = self.lastPress, last.row == row, abs(last.column - column) <= 1, now - last.time < 400_000_000 {
            self.lastPress = nil
            return MouseAction(.doubleClick, row: row, column: column)
        }
        return MouseAction(.press, row: row, column: column)
    }

    // MARK: - Styles

    private func apply(_ style: CellStyle) {
        let look = self.looks[style] ?? (pgreel_attr_normal(), 0)
        _ = pgreel_set_attributes(look.attributes, look.pair)
    }

    private func setUpLooks(useColor: Bool) {
        let bold = pgreel_attr_bold()
        let dim = pgreel_attr_dim()
        let reverse = pgreel_attr_reverse()
        let underline = pgreel_attr_underline()
        let italic = pgreel_attr_italic()
        let normal = pgreel_attr_normal()
        if useColor, start_color() == OK {
            // -1 is the terminal's own colour, so the dashboard keeps the user's background.
            let defaultColor: Int16 = use_default_colors() == OK ? -1 : Int16(COLOR_BLACK)
            let pairs: [(CellStyle, Int16, Int16, attr_t)] = [
                (.statusBar, Int16(COLOR_WHITE), Int16(COLOR_BLUE), normal),
                (.statusWarning, Int16(COLOR_YELLOW), Int16(COLOR_BLUE), bold),
                (.title, Int16(COLOR_BLUE), defaultColor, normal),
                (.titleFocused, Int16(COLOR_CYAN), defaultColor, bold),
                (.selected, Int16(COLOR_BLACK), Int16(COLOR_CYAN), normal),
                (.success, Int16(COLOR_GREEN), defaultColor, normal),
                (.failure, Int16(COLOR_RED), defaultColor, bold),
                (.running, Int16(COLOR_YELLOW), defaultColor, normal),
                (.null, Int16(COLOR_MAGENTA), defaultColor, dim | italic),
                (.key, Int16(COLOR_CYAN), defaultColor, bold),
                (.overlayTitle, Int16(COLOR_CYAN), defaultColor, bold),
                (.difference, Int16(COLOR_WHITE), Int16(COLOR_RED), bold),
            ]
            for (index, entry) in pairs.enumerated() {
                let pair = Int16(index + 1)
                init_pair(pair, entry.1, entry.2)
                self.looks[entry.0] = (entry.3, pair)
            }
            self.looks[.normal] = (normal, 0)
            self.looks[.dim] = (dim, 0)
            self.looks[.selectedUnfocused] = (reverse, 0)
            self.looks[.columnHeader] = (bold | underline, 0)
            self.looks[.overlay] = (normal, 0)
            return
        }
        // Monochrome (NO_COLOR, TERM without colours): attributes carry the meaning.
        self.looks = [
            .normal: (normal, 0),
            .statusBar: (reverse, 0),
            .statusWarning: (reverse | bold, 0),
            .title: (dim, 0),
            .titleFocused: (bold, 0),
            .selected: (reverse, 0),
            .selectedUnfocused: (underline, 0),
            .dim: (dim, 0),
            .success: (normal, 0),
            .failure: (bold, 0),
            .running: (normal, 0),
            .null: (dim | underline, 0),
            .columnHeader: (bold | underline, 0),
            .key: (bold, 0),
            .overlay: (normal, 0),
            .overlayTitle: (bold, 0),
            .difference: (reverse | bold, 0),
        ]
    }

    // MARK: - Exit

    private static let registerExitHandler: Void = {
        atexit {
            // A process that exits without closing the terminal (an error path, exit()) still gets it back.
            if isendwin() == false { endwin() }
        }
    }()

    private static func restoreAtExit() {
        _ = self.registerExitHandler
    }
}
