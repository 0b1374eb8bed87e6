/// Text as a tokenizer cut it: the pieces laid out in reading order, wrapped at the area's edge,
/// every other piece on a second background so the boundaries show without any separator
/// characters (which would be mistaken for text). With `ids`, each piece's id sits under it and
/// the piece's cell is as wide as the wider of the two.
public struct TokenStrip: Widget {
    /// The pieces, already made printable by the caller (blanks as `·`, newlines as `⏎`).
    public var pieces: [String]
    public var ids: [Int]?
    public var styles: (even: Style, odd: Style)
    public var idStyle: Style
    /// The piece drawn with `highlightStyle` (a cursor shared with another view), if any.
    public var highlighted: Int?
    public var highlightStyle: Style

    public init(pieces: [String], ids: [Int]? = nil, styles: (even: Style, odd: Style), idStyle: Style,
                highlighted: Int? = nil, highlightStyle: Style) {
        self.pieces = pieces; self.ids = ids; self.styles = styles; self.idStyle = idStyle
        self.highlighted = highlighted; self.highlightStyle = highlightStyle
    }

    /// Where each piece goes: its line (0-based, in piece lines; a line is two rows with ids)
    /// and column, and its cell width. A piece wider than the area is cut to it.
    public static func layout(widths: [Int], width: Int) -> [(line: Int, x: Int, width: Int)] {
        var out: [(line: Int, x: Int, width: Int)] = []
        var line = 0, x = 0
        for w in widths {
            let w = min(max(1, w), max(1, width))
            if x > 0 && x + w > width { line += 1; x = 0 }
            out.append((line, x, w))
            x += w
        }
        return out
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let ids = self.ids.flatMap { $0.count == pieces.count ? $0 : nil }
        let labels = ids?.map(String.init)
        let widths = pieces.indices.map { i in max(TextFit.width(pieces[i]), labels.map { TextFit.width($0[i]) + 1 } ?? 0) }
        let rowsPerLine = ids == nil ? 1 : 2
        for (i, place) in Self.layout(widths: widths, width: area.width).enumerated() {
            let y = area.y + place.line * rowsPerLine
            guard y + rowsPerLine - 1 < area.maxY else { return }
            let style = i == highlighted ? highlightStyle : i % 2 == 0 ? styles.even : styles.odd
            let x = area.x + place.x
            buffer.fill(Rect(x: x, y: y, width: place.width, height: 1), " ", style)
            buffer.write(TextFit.middle(pieces[i], width: place.width), x: x, y: y, style)
            if let labels {
                buffer.write(TextFit.middle(labels[i], width: place.width), x: x, y: y + 1, idStyle)
            }
        }
    }
}
