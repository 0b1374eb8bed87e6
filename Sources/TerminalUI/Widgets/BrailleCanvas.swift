/// A drawing surface of braille dots: each cell holds a 2×4 grid of dots (U+2800…U+28FF), which
/// gives a line chart four times the vertical resolution of block characters.
public struct BrailleCanvas {
    public let columns: Int
    public let rows: Int
    private var bits: [UInt8]
    private var colors: [Color?]

    /// Bit of the braille pattern for dot (column, row) within a cell, in Unicode's dot numbering.
    private static let dotBit: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

    public init(columns: Int, rows: Int) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        bits = Array(repeating: 0, count: self.columns * self.rows)
        colors = Array(repeating: nil, count: self.columns * self.rows)
    }

    public var dotWidth: Int { columns * 2 }
    public var dotHeight: Int { rows * 4 }

    /// Sets one dot; (0, 0) is top left. A cell shows the colour of the last series drawn in it.
    public mutating func dot(_ x: Int, _ y: Int, _ color: Color) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let i = (y >> 2) * columns + (x >> 1)
        bits[i] |= Self.dotBit[y & 3][x & 1]
        colors[i] = color
    }

    /// A straight line of dots (Bresenham), end points included.
    public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: Color) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            dot(x, y, color)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// Copies the dots into `buffer` at `origin`; cells without dots are left untouched.
    public func render(into buffer: inout CellBuffer, x originX: Int, y originY: Int) {
        for row in 0..<rows {
            for column in 0..<columns {
                let i = row * columns + column
                guard bits[i] != 0 else { continue }
                let scalar = Unicode.Scalar(0x2800 + UInt32(bits[i]))!
                buffer.set(originX + column, originY + row, scalar, Style(fg: colors[i]))
            }
        }
    }
}
