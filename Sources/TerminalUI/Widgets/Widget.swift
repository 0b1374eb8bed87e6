/// Something that draws itself into a rectangle of a cell buffer and nowhere else.
///
/// Widgets are values built fresh every frame from the snapshot and UI state (immediate mode,
/// as in ratatui): they keep no state between frames, so rendering is a pure function and tests
/// compare the text a widget leaves in a buffer.
public protocol Widget {
    func render(into buffer: inout CellBuffer, area: Rect)
}
