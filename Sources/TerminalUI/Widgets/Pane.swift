/// A bordered box with a title, the frame of every dashboard pane.
///
/// The focused pane gets heavy lines as well as the highlight colour, so focus stays visible in
/// monochrome. Content goes in `inner(area)`.
public struct Pane: Widget {
    public var title: String
    /// Short status shown at the right of the top border (e.g. "EMA · log").
    public var trailingTitle: String
    public var focused: Bool
    public var borderStyle: Style
    public var focusedBorderStyle: Style
    public var titleStyle: Style
    public var background: Style
    /// The title of the focused pane (e.g. inverse), so focus shows in the title too, not only the border.
    public var focusedTitleStyle: Style?

    public init(title: String, trailingTitle: String = "", focused: Bool = false, borderStyle: Style,
                focusedBorderStyle: Style, titleStyle: Style, background: Style, focusedTitleStyle: Style? = nil) {
        self.focusedTitleStyle = focusedTitleStyle
        self.title = title
        self.trailingTitle = trailingTitle
        self.focused = focused
        self.borderStyle = borderStyle
        self.focusedBorderStyle = focusedBorderStyle
        self.titleStyle = titleStyle
        self.background = background
    }

    public static func inner(_ area: Rect) -> Rect { area.inset(dx: 1, dy: 1) }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        buffer.fill(area, " ", background)
        guard area.width >= 2, area.height >= 2 else {
            buffer.write(String(String.UnicodeScalarView(title.unicodeScalars.prefix(area.width))), in: area, titleStyle)
            return
        }
        let line = focused ? focusedBorderStyle : borderStyle
        let glyphs: (h: Unicode.Scalar, v: Unicode.Scalar, tl: Unicode.Scalar, tr: Unicode.Scalar, bl: Unicode.Scalar, br: Unicode.Scalar) =
            focused ? ("━", "┃", "┏", "┓", "┗", "┛") : ("─", "│", "╭", "╮", "╰", "╯")
        for x in area.x + 1..<area.maxX - 1 {
            buffer.set(x, area.y, glyphs.h, line)
            buffer.set(x, area.maxY - 1, glyphs.h, line)
        }
        for y in area.y + 1..<area.maxY - 1 {
            buffer.set(area.x, y, glyphs.v, line)
            buffer.set(area.maxX - 1, y, glyphs.v, line)
        }
        buffer.set(area.x, area.y, glyphs.tl, line)
        buffer.set(area.maxX - 1, area.y, glyphs.tr, line)
        buffer.set(area.x, area.maxY - 1, glyphs.bl, line)
        buffer.set(area.maxX - 1, area.maxY - 1, glyphs.br, line)

        // Titles sit on the top border between the corners, with a space of padding each side.
        let top = Rect(x: area.x + 1, y: area.y, width: area.width - 2, height: 1)
        var used = 0
        if !title.isEmpty && top.width >= 3 {
            let style = focused ? (focusedTitleStyle ?? titleStyle.adding(.bold)) : titleStyle
            let shown = TextFit.words(title, width: top.width - 2)
            if !shown.isEmpty { used = buffer.write(" \(shown) ", x: top.x, y: top.y, style) }
        }
        // The trailing status: whole, or shortened on a word boundary, or left out.
        let room = top.width - used - 3
        let trailing = TextFit.words(trailingTitle, width: room)
        if !trailing.isEmpty {
            buffer.write(" \(trailing) ", in: top, alignment: .right, titleStyle.with(fg: line.fg))
        }
    }
}
