/// A pane whose data the trainer does not publish yet. It keeps the pane's place in the layout
/// and says so plainly; it never draws invented numbers.
struct PlaceholderPane: Widget {
    var pane: PaneID
    var focused: Bool
    var palette: Palette

    static let message = "coming in this layout"

    func render(into buffer: inout CellBuffer, area: Rect) {
        palette.pane(pane.title, focused: focused).render(into: &buffer, area: area)
        let inner = Pane.inner(area)
        guard !inner.isEmpty else { return }
        let lines = ScrollingText.wrap(Self.message, width: inner.width)
        let box = inner.centered(width: inner.width, height: lines.count)
        for (row, line) in lines.enumerated() {
            buffer.write(line, in: box, row: row, alignment: .center, palette.muted)
        }
    }
}
