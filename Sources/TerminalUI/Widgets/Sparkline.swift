/// A compact trend line of block characters (▁▂▃▄▅▆▇█), newest value at the right.
///
/// With more values than columns only the newest `area.width` are shown: a sparkline answers
/// "what happened lately", the line chart answers "what happened overall". Taller areas stack
/// blocks, so each row adds eight levels of resolution.
public struct Sparkline: Widget {
    public var values: [Double]
    /// Fixed bounds; nil fits the visible values (the minimum then sits on the baseline).
    public var range: ClosedRange<Double>?
    public var style: Style

    public static let levels: [Unicode.Scalar] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    public init(values: [Double], range: ClosedRange<Double>? = nil, style: Style = .plain) {
        self.values = values
        self.range = range
        self.style = style
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let visible = values.suffix(area.width)
        let finite = visible.filter(\.isFinite)
        guard let lo = range?.lowerBound ?? finite.min(), let hi = range?.upperBound ?? finite.max() else { return }
        let totalLevels = area.height * 8
        let offset = area.width - visible.count
        for (i, v) in visible.enumerated() where v.isFinite {
            // A flat series draws as a low bar rather than nothing, so "constant" and "no data" differ.
            let f = hi > lo ? (min(max(v, lo), hi) - lo) / (hi - lo) : 0
            let filled = max(1, Int((f * Double(totalLevels)).rounded()))
            let x = area.x + offset + i
            for row in 0..<area.height {
                let levelInRow = min(8, max(0, filled - row * 8))
                guard levelInRow > 0 else { break }
                buffer.set(x, area.maxY - 1 - row, Self.levels[levelInRow], style)
            }
        }
    }
}
