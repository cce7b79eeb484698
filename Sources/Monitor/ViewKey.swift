/// A key press or mouse action, as every view's reducer sees it (the live view, the session browser, the replay
/// view): the terminal translates curses codes into these.
public enum ViewKey: Sendable, Equatable {
    /// A printable character (letters, digits, punctuation, any Unicode the user types into the filter).
    case character(Character)
    /// Ctrl plus a letter, as the lowercase letter (`.control("l")` is Ctrl-L).
    case control(Character)
    case up
    case down
    case left
    case right
    case pageUp
    case pageDown
    case home
    case end
    case tab
    case backTab
    case enter
    case escape
    case backspace
    case mouse(MouseAction)
}

/// A mouse action at a screen position (0-based row and column).
public struct MouseAction: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case press
        case doubleClick
        case wheelUp
        case wheelDown
    }

    public var kind: Kind
    public var row: Int
    public var column: Int

    public init(_ kind: Kind, row: Int, column: Int) {
        self.kind = kind
        self.row = row
        self.column = column
    }
}
