/// Text attributes a terminal can draw independently of colour; monochrome mode relies on them.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let bold = TextAttributes(rawValue: 1 << 0)
    public static let dim = TextAttributes(rawValue: 1 << 1)
    public static let reverse = TextAttributes(rawValue: 1 << 2)
    public static let underline = TextAttributes(rawValue: 1 << 3)
    public static let italic = TextAttributes(rawValue: 1 << 4)
}

/// One character cell of the screen. Every glyph the dashboard draws (braille, `▀`, box lines,
/// ASCII text) is a single Unicode scalar one column wide, so a scalar is enough and keeps the
/// cell small and cheap to compare when the backend looks for changes.
public struct Cell: Equatable, Sendable {
    public var scalar: Unicode.Scalar
    public var fg: Color
    public var bg: Color
    public var attributes: TextAttributes

    public init(_ scalar: Unicode.Scalar = " ", fg: Color = .terminalDefault, bg: Color = .terminalDefault,
                attributes: TextAttributes = []) {
        self.scalar = scalar
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }

    public static let blank = Cell()
}

/// How to paint text: colours left `nil` keep what the cell already has, so text can be laid over
/// a filled background (a selection bar, a pane) without knowing its colour.
public struct Style: Equatable, Sendable {
    public var fg: Color?
    public var bg: Color?
    public var attributes: TextAttributes

    public init(fg: Color? = nil, bg: Color? = nil, attributes: TextAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }

    public static let plain = Style()

    public func with(fg: Color? = nil, bg: Color? = nil) -> Style {
        Style(fg: fg ?? self.fg, bg: bg ?? self.bg, attributes: attributes)
    }

    public func adding(_ extra: TextAttributes) -> Style {
        Style(fg: fg, bg: bg, attributes: attributes.union(extra))
    }

    public func apply(to cell: inout Cell) {
        if let fg { cell.fg = fg }
        if let bg { cell.bg = bg }
        cell.attributes = attributes
    }
}
