/// A braille line chart of one or more series sharing auto-scaled axes with tick labels.
///
/// Long series (tens of thousands of steps) are reduced to one min–max band per dot column
/// before drawing, so the cost of a frame depends on the chart's size, not the run's length,
/// and noise spikes stay visible instead of being averaged away.
public struct LineChart: Widget {
    public struct Series {
        public var name: String
        public var xs: [Double]
        public var ys: [Double]
        public var color: Color
        /// Draw a dot at each point instead of lines between them (sparse data such as evals).
        public var markers: Bool
        /// With markers: also join them with lines (a sparse curve) or not (isolated events).
        public var joinMarkers: Bool
        /// With joined markers: join two only when they are at most this many cells apart (nil: always).
        public var maxJoinGap: Int?

        public init(name: String, xs: [Double], ys: [Double], color: Color, markers: Bool = false, joinMarkers: Bool = true,
                    maxJoinGap: Int? = nil) {
            self.maxJoinGap = maxJoinGap
            precondition(xs.count == ys.count, "a series needs one x per y")
            self.name = name
            self.xs = xs
            self.ys = ys
            self.color = color
            self.markers = markers
            self.joinMarkers = joinMarkers
        }
    }

    /// A vertical mark across the whole plot at one x (an event: a loss-scale change), drawn in
    /// the cells no series uses, so the curves stay readable through it.
    public struct Mark {
        public var x: Double
        public var color: Color
        public init(x: Double, color: Color) { self.x = x; self.color = color }
    }

    /// A horizontal line at a value that explains the data — a uniform guess, a floor the loss
    /// cannot pass, a rule of thumb — drawn dotted under the series and named in the legend (┄).
    /// It does not stretch the y axis, which stays fitted to the data: one outside the visible
    /// range is not drawn and its legend name ends in ↑ (above) or ↓ (below).
    public struct Reference {
        public var name: String
        public var y: Double
        public var color: Color
        public init(name: String, y: Double, color: Color) { self.name = name; self.y = y; self.color = color }
    }

    public var series: [Series]
    /// Vertical marks; they take part in neither axis's range (only those inside the x range show).
    public var marks: [Mark] = []
    /// The glyph marks are drawn with, and their legend entry (nil: none).
    public var markGlyph: Unicode.Scalar = "┊"
    public var markLegend: String? = nil
    public var references: [Reference]
    /// The y labels take at least this many columns: two charts stacked with the same value keep
    /// their x axes aligned.
    public var minimumLabelWidth: Int
    /// Appended to every y label ("%").
    public var yLabelSuffix: String
    /// Fixed x range; nil fits the data.
    public var xRange: ClosedRange<Double>?
    /// Fixed y range; nil fits the data visible in the x range.
    public var yRange: ClosedRange<Double>?
    public var logY: Bool
    /// EMA weight applied to every series before drawing (0 = raw data), as TensorBoard's slider.
    public var smoothing: Double
    public var showLegend: Bool
    public var labelStyle: Style
    public var axisStyle: Style

    public init(series: [Series], xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                logY: Bool = false, smoothing: Double = 0, showLegend: Bool = true,
                labelStyle: Style = .plain, axisStyle: Style = .plain, references: [Reference] = [],
                minimumLabelWidth: Int = 0, yLabelSuffix: String = "") {
        self.series = series
        self.references = references
        self.minimumLabelWidth = minimumLabelWidth
        self.yLabelSuffix = yLabelSuffix
        self.xRange = xRange
        self.yRange = yRange
        self.logY = logY
        self.smoothing = smoothing
        self.showLegend = showLegend
        self.labelStyle = labelStyle
        self.axisStyle = axisStyle
    }

    /// Exponential moving average with bias correction (as TensorBoard), so the first points are
    /// not dragged towards zero. `weight` in 0..<1; non-finite inputs are skipped.
    public static func exponentialMovingAverage(_ values: [Double], weight: Double) -> [Double] {
        guard weight > 0 else { return values }
        var result = [Double](repeating: .nan, count: values.count)
        var average = 0.0, correction = 1.0
        for (i, v) in values.enumerated() where v.isFinite {
            average = weight * average + (1 - weight) * v
            correction *= weight
            result[i] = average / (1 - correction)
        }
        return result
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let plotted = series.map { s in
            smoothing > 0 && !s.markers
                ? Series(name: s.name, xs: s.xs, ys: Self.exponentialMovingAverage(s.ys, weight: smoothing), color: s.color,
                         markers: s.markers, joinMarkers: s.joinMarkers, maxJoinGap: s.maxJoinGap)
                : s
        }
        guard let (xScale, yScale) = scales(for: plotted) else {
            buffer.write(TextFit.words("no data yet", width: area.width), in: area.centered(width: area.width, height: 1),
                         alignment: .center, labelStyle)
            return
        }

        // Axes need a label column, an axis column, an axis row and a label row; with less room
        // than that the chart draws data only.
        let yTicks = yScale.ticks(maxCount: max(2, area.height / 3))
        let yLabels = AxisScale.labels(yTicks, logarithmic: logY).map { $0 + yLabelSuffix }
        let labelWidth = max(minimumLabelWidth, yLabels.map(\.unicodeScalars.count).max() ?? 0)
        let withAxes = area.width >= labelWidth + 8 && area.height >= 5
        let plot = withAxes
            ? Rect(x: area.x + labelWidth + 1, y: area.y, width: area.width - labelWidth - 1, height: area.height - 2)
            : area

        var canvas = BrailleCanvas(columns: plot.width, rows: plot.height)
        for r in references { drawReference(r, on: &canvas, yScale) }
        for s in plotted { draw(s, on: &canvas, xScale, yScale) }

        if withAxes {
            drawYAxis(into: &buffer, plot: plot, ticks: yTicks, labels: yLabels, scale: yScale, labelWidth: labelWidth)
            drawXAxis(into: &buffer, plot: plot, scale: xScale)
        }
        // Marks first: the canvas then overwrites them exactly where a series has dots.
        let markedColumns = drawMarks(into: &buffer, plot: plot, scale: xScale, dotWidth: canvas.dotWidth)
        canvas.render(into: &buffer, x: plot.x, y: plot.y)
        if showLegend && withAxes {
            drawLegend(into: &buffer, plot: plot, series: plotted, yScale: yScale, marksShown: markedColumns > 0)
        }
    }

    /// Draws each mark as a column of `markGlyph`, at the cell holding the dot column its x maps
    /// to (the same mapping as the series' points); returns how many columns were marked.
    private func drawMarks(into buffer: inout CellBuffer, plot: Rect, scale: AxisScale, dotWidth: Int) -> Int {
        guard dotWidth > 0, !marks.isEmpty else { return 0 }
        var columns: [Int: Color] = [:]
        for mark in marks {
            let f = scale.fraction(mark.x)
            guard f.isFinite, f >= -1e-9, f <= 1 + 1e-9 else { continue }
            let dot = Int((min(max(f, 0), 1) * Double(dotWidth - 1)).rounded())
            columns[plot.x + dot / 2] = mark.color  // the last mark in a column gives its colour
        }
        for (x, color) in columns {
            for y in plot.y..<plot.maxY { buffer.set(x, y, markGlyph, labelStyle.with(fg: color)) }
        }
        return columns.count
    }

    /// Where a reference sits against the y axis: -1 below it, 0 on it, 1 above it.
    private func side(_ r: Reference, _ yScale: AxisScale) -> Int {
        let f = yScale.fraction(r.y)
        guard f.isFinite else { return r.y > 0 || !logY ? 1 : -1 }
        return f < -1e-9 ? -1 : f > 1 + 1e-9 ? 1 : 0
    }

    /// Every other dot along the reference's dot row: a dotted line, which the series cross.
    private func drawReference(_ r: Reference, on canvas: inout BrailleCanvas, _ yScale: AxisScale) {
        let h = canvas.dotHeight
        guard h > 0, side(r, yScale) == 0 else { return }
        let y = (h - 1) - Int((min(max(yScale.fraction(r.y), 0), 1) * Double(h - 1)).rounded())
        for x in stride(from: 0, to: canvas.dotWidth, by: 2) { canvas.dot(x, y, r.color) }
    }

    private func scales(for series: [Series]) -> (AxisScale, AxisScale)? {
        var xLo = Double.infinity, xHi = -Double.infinity
        for s in series {
            for x in s.xs where x.isFinite { xLo = min(xLo, x); xHi = max(xHi, x) }
        }
        if let xRange { xLo = xRange.lowerBound; xHi = xRange.upperBound }
        guard xLo <= xHi else { return nil }

        var yLo = Double.infinity, yHi = -Double.infinity
        for s in series {
            for (x, y) in zip(s.xs, s.ys) where x >= xLo && x <= xHi && y.isFinite && (!logY || y > 0) {
                yLo = min(yLo, y); yHi = max(yHi, y)
            }
        }
        if let yRange { yLo = yRange.lowerBound; yHi = yRange.upperBound }
        guard yLo <= yHi else { return nil }
        if !logY && yRange == nil {
            // A little headroom keeps the extreme points off the border.
            let pad = (yHi - yLo) * 0.05
            yLo -= pad; yHi += pad
        }
        return (AxisScale(lower: xLo, upper: xHi), AxisScale(lower: yLo, upper: yHi, logarithmic: logY))
    }

    private func draw(_ s: Series, on canvas: inout BrailleCanvas, _ xScale: AxisScale, _ yScale: AxisScale) {
        let w = canvas.dotWidth, h = canvas.dotHeight
        guard w > 0, h > 0 else { return }
        func dotY(_ y: Double) -> Int? {
            let f = yScale.fraction(y)
            guard f.isFinite else { return nil }
            return (h - 1) - Int((min(max(f, 0), 1) * Double(h - 1)).rounded())
        }
        func dotX(_ x: Double) -> Int? {
            let f = xScale.fraction(x)
            guard f.isFinite, f >= -1e-9, f <= 1 + 1e-9 else { return nil }
            return Int((min(max(f, 0), 1) * Double(w - 1)).rounded())
        }
        if s.markers {
            for (x, y) in zip(s.xs, s.ys) {
                guard let px = dotX(x), let py = dotY(y) else { continue }
                // A 2×2 dot block: a point reads as a point, not as part of a line.
                canvas.dot(px, py, s.color)
                canvas.dot(px + 1, py, s.color)
                canvas.dot(px, py + 1, s.color)
                canvas.dot(px + 1, py + 1, s.color)
            }
            guard s.joinMarkers else { return }
            // Evals are sparse: join them so the trend reads as a curve.
            var previous: (Int, Int)?
            for (x, y) in zip(s.xs, s.ys) {
                guard let px = dotX(x), let py = dotY(y) else { continue }
                if let (qx, qy) = previous, s.maxJoinGap.map({ abs(px - qx) <= 2 * $0 }) ?? true { canvas.line(qx, qy, px, py, s.color) }
                previous = (px, py)
            }
            return
        }
        // One band per dot column: first, last, lowest and highest point that falls in it.
        var first = [Int](repeating: -1, count: w), last = first
        var top = [Int](repeating: Int.max, count: w), bottom = [Int](repeating: Int.min, count: w)
        for (x, y) in zip(s.xs, s.ys) {
            guard let px = dotX(x), let py = dotY(y) else { continue }
            if first[px] < 0 { first[px] = py }
            last[px] = py
            top[px] = min(top[px], py)
            bottom[px] = max(bottom[px], py)
        }
        var previousLast: (x: Int, y: Int)?
        for px in 0..<w where first[px] >= 0 {
            if let p = previousLast { canvas.line(p.x, p.y, px, first[px], s.color) }
            canvas.line(px, top[px], px, bottom[px], s.color)
            previousLast = (px, last[px])
        }
    }

    private func drawYAxis(into buffer: inout CellBuffer, plot: Rect, ticks: [Double], labels: [String],
                           scale: AxisScale, labelWidth: Int) {
        let axisX = plot.x - 1
        for y in plot.y..<plot.maxY { buffer.set(axisX, y, "│", axisStyle) }
        var usedRows = Set<Int>()
        for (tick, label) in zip(ticks, labels) {
            let f = scale.fraction(tick)
            guard f.isFinite else { continue }
            let dotRow = (plot.height * 4 - 1) - Int((min(max(f, 0), 1) * Double(plot.height * 4 - 1)).rounded())
            let row = plot.y + dotRow / 4
            guard row >= plot.y, row < plot.maxY, usedRows.insert(row).inserted else { continue }
            buffer.set(axisX, row, "┤", axisStyle)
            let pad = labelWidth - label.unicodeScalars.count
            buffer.write(label, x: axisX - labelWidth + pad, y: row, labelStyle)
        }
        buffer.set(axisX, plot.maxY, "└", axisStyle)
    }

    private func drawXAxis(into buffer: inout CellBuffer, plot: Rect, scale: AxisScale) {
        let axisY = plot.maxY, labelY = plot.maxY + 1
        for x in plot.x..<plot.maxX { buffer.set(x, axisY, "─", axisStyle) }
        let ticks = scale.ticks(maxCount: max(2, plot.width / 8))
        let labels = AxisScale.labels(ticks)
        var freeFrom = plot.x - 2
        for (tick, label) in zip(ticks, labels) {
            let f = scale.fraction(tick)
            guard f.isFinite, f >= 0, f <= 1 else { continue }
            let column = plot.x + Int((f * Double(plot.width * 2 - 1)).rounded()) / 2
            let length = label.unicodeScalars.count
            let start = min(max(column - length / 2, plot.x - 1), plot.maxX - length)
            guard start > freeFrom else { continue }
            buffer.set(column, axisY, "┬", axisStyle)
            buffer.write(label, x: start, y: labelY, labelStyle)
            freeFrom = start + length
        }
    }

    private func drawLegend(into buffer: inout CellBuffer, plot: Rect, series: [Series], yScale: AxisScale, marksShown: Bool) {
        // "━ train • val ┄ floor ↓ ┊ scale": a line, a marker, a dotted reference or a mark
        // before each name.
        var entries: [(glyph: Unicode.Scalar, name: String, color: Color)] = series.filter { !$0.name.isEmpty }
            .map { ($0.markers ? "•" : "━", $0.name, $0.color) }
        let seriesOnly = entries
        if marksShown, let markLegend, let color = marks.last?.color { entries.append((markGlyph, markLegend, color)) }
        let withoutReferences = entries
        entries += references.map { r in
            let side = side(r, yScale)
            return ("┄", r.name + (side > 0 ? " ↑" : side < 0 ? " ↓" : ""), r.color)
        }
        func width(_ e: [(glyph: Unicode.Scalar, name: String, color: Color)]) -> Int {
            e.reduce(0) { $0 + $1.name.unicodeScalars.count + 2 } + e.count - 1
        }
        // Too narrow for all: drop the references, then the marks' entry, else show none.
        if width(entries) > plot.width { entries = withoutReferences }
        if width(entries) > plot.width { entries = seriesOnly }
        guard !entries.isEmpty, width(entries) <= plot.width else { return }
        // Flush with the plot's right edge.
        var x = plot.maxX - width(entries)
        for (i, e) in entries.enumerated() {
            buffer.set(x, plot.y, e.glyph, labelStyle.with(fg: e.color))
            buffer.set(x + 1, plot.y, " ", labelStyle)
            x += 2
            x += buffer.write(e.name, x: x, y: plot.y, labelStyle)
            if i < entries.count - 1 {
                buffer.set(x, plot.y, " ", labelStyle)
                x += 1
            }
        }
    }
}
