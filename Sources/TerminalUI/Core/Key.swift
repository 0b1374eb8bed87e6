/// A key press, decoded from the terminal into a value the reducer and the keymap can match.
public enum Key: Hashable, Sendable {
    /// A printable character, including space.
    case character(Unicode.Scalar)
    /// Ctrl plus a letter, e.g. `.control("c")` for Ctrl-C.
    case control(Unicode.Scalar)
    case enter, escape, tab, backTab, backspace, delete
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)
    /// The terminal changed size (ncurses' KEY_RESIZE).
    case resize
    /// A mouse button or wheel at a cell (ncurses' KEY_MOUSE).
    case mouse(MouseEvent)

    /// Decodes a wide character from `get_wch` (not a function key).
    public init(character value: UInt32) {
        switch value {
        case 9: self = .tab
        case 10, 13: self = .enter
        case 27: self = .escape
        case 8, 127: self = .backspace
        case 1...26: self = .control(Unicode.Scalar(value + 0x60)!)
        default: self = .character(Unicode.Scalar(value) ?? "?")
        }
    }

    /// How the help overlay names the key.
    public var label: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .control(let c): "Ctrl-" + String(c).uppercased()
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .backspace: "Backspace"
        case .delete: "Del"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .function(let n): "F\(n)"
        case .resize: "resize"
        case .mouse: "mouse"
        }
    }
}

/// What the mouse did, and where (0-based cell column and row).
public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Left button pressed (or clicked).
        case press
        /// Moved with the left button held.
        case drag
        case release
        case wheelUp
        case wheelDown
    }

    public var kind: Kind
    public var x: Int
    public var y: Int

    public init(_ kind: Kind, x: Int, y: Int) {
        self.kind = kind; self.x = x; self.y = y
    }
}
