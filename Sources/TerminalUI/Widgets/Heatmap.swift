/// A matrix drawn two rows per cell with `▀`: the foreground colour paints the upper row and the
/// background the lower one, so a 64×64 attention map fits in 64×32 cells.
///
/// Values are mapped through a colour scale over `range` (or the data's own min…max). A matrix
/// bigger than the area is averaged down; a smaller one is drawn at one value per half-cell,
/// top-left aligned. In monochrome the shades ░▒▓█ stand in for colour, one row per cell.
///
/// A NaN value means "no value" (e.g. the masked-out future of a causal attention map): its half
/// cell is not painted, so the background shows through (`▄` paints a lower half alone).
public struct Heatmap: Widget {
    public var rows: Int
    public var columns: Int
    /// Row-major, `rows × columns` values.
    public var values: [Double]
    public var range: ClosedRange<Double>?
    public var scale: ColorScale
    public var monochrome: Bool

    public init(rows: Int, columns: Int, values: [Double], range: ClosedRange<Double>? = nil,
                scale: ColorScale, monochrome: Bool = false) {
        precondition(values.count == rows * columns, "a heatmap needs rows × columns values")
        self.rows = rows
        self.columns = columns
        self.values = values
        self.range = range
        self.scale = scale
        self.monochrome = monochrome
    }

    public static let shades: [Unicode.Scalar] = [" ", "░", "▒", "▓", "█"]

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty, rows > 0, columns > 0 else { return }
        let finite = values.filter(\.isFinite)
        guard let lo = range?.lowerBound ?? finite.min(), let hi = range?.upperBound ?? finite.max() else { return }
        func fraction(_ v: Double) -> Double { hi > lo ? (v - lo) / (hi - lo) : 0.5 }

        let targetColumns = min(columns, area.width)
        let verticalResolution = monochrome ? area.height : area.height * 2
        let targetRows = min(rows, verticalResolution)
        let grid = downsample(toRows: targetRows, columns: targetColumns)

        if monochrome {
            for r in 0..<targetRows {
                for c in 0..<targetColumns {
                    let value = grid[r * targetColumns + c]
                    guard value.isFinite else { continue }
                    let level = Int((min(max(fraction(value), 0), 1) * 4).rounded())
                    buffer.set(area.x + c, area.y + r, Self.shades[level], Style())
                }
            }
            return
        }
        for cellRow in 0..<(targetRows + 1) / 2 {
            for c in 0..<targetColumns {
                let upper = grid[(2 * cellRow) * targetColumns + c]
                let lowerIndex = 2 * cellRow + 1
                // An odd row count leaves the last cell's lower half empty: keep its background.
                let lower = lowerIndex < targetRows ? grid[lowerIndex * targetColumns + c] : .nan
                let upperColor: Color? = upper.isFinite ? .rgb(scale.color(at: fraction(upper))) : nil
                let lowerColor: Color? = lower.isFinite ? .rgb(scale.color(at: fraction(lower))) : nil
                switch (upperColor, lowerColor) {
                case (let u?, _): buffer.set(area.x + c, area.y + cellRow, "▀", Style(fg: u, bg: lowerColor))
                case (nil, let l?): buffer.set(area.x + c, area.y + cellRow, "▄", Style(fg: l))
                case (nil, nil): break
                }
            }
        }
    }

    /// Average of each block of source values that lands in one target value.
    private func downsample(toRows targetRows: Int, columns targetColumns: Int) -> [Double] {
        if targetRows == rows && targetColumns == columns { return values }
        var out = [Double](repeating: 0, count: targetRows * targetColumns)
        for r in 0..<targetRows {
            let r0 = r * rows / targetRows, r1 = max(r0 + 1, (r + 1) * rows / targetRows)
            for c in 0..<targetColumns {
                let c0 = c * columns / targetColumns, c1 = max(c0 + 1, (c + 1) * columns / targetColumns)
                var sum = 0.0, n = 0
                for i in r0..<r1 {
                    for j in c0..<c1 where values[i * columns + j].isFinite {
                        sum += values[i * columns + j]; n += 1
                    }
                }
                out[r * targetColumns + c] = n > 0 ? sum / Double(n) : .nan
            }
        }
        return out
    }
}
