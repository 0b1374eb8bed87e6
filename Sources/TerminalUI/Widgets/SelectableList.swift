/// A vertical list with one selected row (checkpoints, pane choices), scrolled so the selection
/// is always on screen.
public struct SelectableList: Widget {
    public var items: [String]
    public var selected: Int?
    public var style: Style
    public var selectedStyle: Style
    /// Marker before the selected row; other rows get the same width of blanks.
    public var marker: String

    public init(items: [String], selected: Int?, style: Style = .plain,
                selectedStyle: Style = Style(attributes: .reverse), marker: String = "▶ ") {
        self.items = items
        self.selected = selected
        self.style = style
        self.selectedStyle = selectedStyle
        self.marker = marker
    }

    /// The first visible row: scrolls only as far as needed to show the selection at the bottom.
    public static func firstVisible(selected: Int?, count: Int, visibleRows: Int) -> Int {
        guard let selected, visibleRows > 0, count > visibleRows else { return 0 }
        let s = min(max(selected, 0), count - 1)
        return min(max(0, s - visibleRows + 1), count - visibleRows)
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let first = Self.firstVisible(selected: selected, count: items.count, visibleRows: area.height)
        let blank = String(repeating: " ", count: marker.unicodeScalars.count)
        for row in 0..<min(area.height, items.count - first) {
            let index = first + row
            let isSelected = index == selected
            let rowStyle = isSelected ? selectedStyle : style
            let line = area.row(row)
            if isSelected { buffer.fill(line, " ", rowStyle) }
            let used = buffer.write(isSelected ? marker : blank, in: line, rowStyle)
            // Names (tensors, runs) differ at their end: shorten in the middle.
            buffer.write(TextFit.middle(items[index], width: line.width - used), x: line.x + used, y: line.y, rowStyle)
        }
    }
}
