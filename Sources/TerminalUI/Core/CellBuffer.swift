/// The whole screen as a grid of cells: what the pure renderer produces and a backend shows.
///
/// Writes outside the grid are silently dropped, so widgets can be handed any rectangle (even one
/// hanging off a 1×1 terminal) without bounds checks of their own.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Text that `write` had to cut because it did not fit its width: a label that should have
    /// gone through `TextFit` first. Golden tests require it empty; it is not part of equality.
    public private(set) var clippedTexts: [String] = []

    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: fill, count: self.width * self.height)
    }

    public var area: Rect { Rect(width: width, height: height) }

    @inline(__always)
    public func contains(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x, y) ? cells[y * width + x] : .blank }
        set { if contains(x, y) { cells[y * width + x] = newValue } }
    }

    /// Paints one cell with `style` over what is there.
    public mutating func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
        guard contains(x, y) else { return }
        let i = y * width + x
        cells[i].scalar = scalar
        style.apply(to: &cells[i])
    }

    /// Restyles a cell and keeps its glyph.
    public mutating func restyle(_ x: Int, _ y: Int, _ style: Style) {
        guard contains(x, y) else { return }
        style.apply(to: &cells[y * width + x])
    }

    /// Fills `rect` with `scalar` in `style`.
    public mutating func fill(_ rect: Rect, _ scalar: Unicode.Scalar = " ", _ style: Style) {
        let r = rect.intersection(area)
        guard !r.isEmpty else { return }
        for y in r.y..<r.maxY {
            var i = y * width + r.x
            for _ in 0..<r.width {
                cells[i].scalar = scalar
                style.apply(to: &cells[i])
                i += 1
            }
        }
    }

    /// Writes `text` from (x, y) rightwards, one scalar per column, stopping at `maxWidth` columns or
    /// the buffer's edge. Control characters would move the terminal's cursor, so they are drawn as
    /// a visible `·` instead. Returns the number of columns written.
    @discardableResult
    public mutating func write(_ text: some StringProtocol, x: Int, y: Int, maxWidth: Int = .max, _ style: Style) -> Int {
        guard y >= 0, y < height else { return 0 }
        let limit = min(maxWidth, width - x)
        var column = 0
        if x < 0 || text.unicodeScalars.count > limit { clippedTexts.append(String(text)) }
        for scalar in text.unicodeScalars {
            if column >= limit { break }
            let px = x + column
            if px >= 0 {
                set(px, y, CellBuffer.printable(scalar), style)
            }
            column += 1
        }
        return max(0, column)
    }

    /// Writes `text` inside `rect` on its row `row`, clipped to the rectangle; `alignment` places it.
    @discardableResult
    public mutating func write(_ text: some StringProtocol, in rect: Rect, row: Int = 0,
                               alignment: Alignment = .left, _ style: Style) -> Int {
        guard row >= 0, row < rect.height, rect.width > 0 else { return 0 }
        let length = text.unicodeScalars.count
        let offset: Int
        switch alignment {
        case .left: offset = 0
        case .center: offset = max(0, (rect.width - length) / 2)
        case .right: offset = max(0, rect.width - length)
        }
        return write(text, x: rect.x + offset, y: rect.y + row, maxWidth: rect.width - offset, style)
    }

    public static func == (a: CellBuffer, b: CellBuffer) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells
    }

    /// Forgets the clipped texts (after a deliberate clip, e.g. wrapped text scrolled sideways).
    public mutating func clearClipped() { clippedTexts.removeAll() }

    public static func printable(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let v = scalar.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return "·" }
        return scalar
    }

    /// One row as plain text (glyphs only), for tests and logs.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].scalar) }
        return String(s)
    }

    /// All rows as plain text, the way ratatui's buffer assertions compare screens.
    public var lines: [String] { (0..<height).map(line) }
}

public enum Alignment: Sendable {
    case left, center, right
}
