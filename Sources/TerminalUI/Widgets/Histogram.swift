/// Vertical bars for binned counts (e.g. the distribution of a gradient tensor's values).
///
/// Bins are spread over the available columns (several columns per bin when there is room,
/// summed when there is not); bar tops use eighth blocks. Each bar is coloured by its position
/// along the x axis from `scale`, and optional edge labels sit on the last row.
public struct Histogram: Widget {
    public var counts: [Double]
    public var scale: ColorScale?
    public var style: Style
    public var lowerLabel: String
    public var upperLabel: String
    public var labelStyle: Style

    public init(counts: [Double], scale: ColorScale? = nil, style: Style = .plain,
                lowerLabel: String = "", upperLabel: String = "", labelStyle: Style = .plain) {
        self.counts = counts
        self.scale = scale
        self.style = style
        self.lowerLabel = lowerLabel
        self.upperLabel = upperLabel
        self.labelStyle = labelStyle
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty, !counts.isEmpty else { return }
        var bars = area
        if (!lowerLabel.isEmpty || !upperLabel.isEmpty) && area.height >= 2 {
            let (top, bottom) = area.splitBottom(1)
            bars = top
            buffer.write(lowerLabel, in: bottom, labelStyle)
            let lowerEnd = lowerLabel.unicodeScalars.count
            if upperLabel.unicodeScalars.count + lowerEnd < bottom.width {
                buffer.write(upperLabel, in: bottom, alignment: .right, labelStyle)
            }
        }
        let columns = Self.resample(counts, to: bars.width)
        guard let peak = columns.max(), peak > 0 else { return }
        let totalLevels = bars.height * 8
        for (i, count) in columns.enumerated() where count > 0 {
            let filled = max(1, Int((count / peak * Double(totalLevels)).rounded()))
            var barStyle = style
            if let scale {
                barStyle = barStyle.with(fg: .rgb(scale.color(at: columns.count > 1 ? Double(i) / Double(columns.count - 1) : 0.5)))
            }
            for row in 0..<bars.height {
                let level = min(8, filled - row * 8)
                guard level > 0 else { break }
                buffer.set(bars.x + i, bars.maxY - 1 - row, Sparkline.levels[level], barStyle)
            }
        }
    }

    /// Maps bins onto `width` columns: each column takes the sum of the bins whose centres fall in
    /// it, or repeats its bin when bins are fewer than columns.
    public static func resample(_ counts: [Double], to width: Int) -> [Double] {
        guard width > 0, !counts.isEmpty else { return [] }
        if counts.count <= width {
            return (0..<width).map { counts[$0 * counts.count / width] }
        }
        var result = [Double](repeating: 0, count: width)
        for (i, c) in counts.enumerated() where c.isFinite {
            result[i * width / counts.count] += c
        }
        return result
    }
}
