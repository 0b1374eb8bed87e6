import Foundation
import Training
import TerminalUI

/// Train loss per step and val loss per eval over a shared step axis, with the learning-rate
/// schedule in a strip underneath (its scale is unrelated to the loss, so it gets its own), and,
/// in a float16 run, a vertical mark (`┊`) at each step where the loss scale changed.
///
/// Two dotted reference lines say what a loss value means: ln V, the loss of a uniform guess
/// over the V tokens (where an untrained model starts), and, on a synthetic task, the floor that
/// no model can pass (`SyntheticTask.lossFloor(blockSize:)`). A task run also gets its held-out
/// accuracy plotted under the loss, on its own 0–100% axis.
struct LossPane: Widget {
    var snapshot: TrainingSnapshot
    var view: LossViewState
    var focused: Bool
    var palette: Palette
    /// Other runs drawn beside this one (`LossOverlay.swift`); the training run's summary from
    /// disk gives the config diff its first column.
    var overlays: [LossOverlay] = []
    var trainingRun: RunSummary?

    var trailingTitle: String {
        var parts: [String] = []
        parts.append(view.smoothing ? "EMA \(String(format: "%g", view.smoothingWeight))" : "raw")
        if view.logScale { parts.append("log") }
        // A window as long as the run (or longer) is the whole run.
        let runLength = max(snapshot.maxSteps, snapshot.steps.last?.step ?? 0)
        parts.append(view.follow && (runLength == 0 || view.windowSteps < runLength) ? "last \(view.windowSteps) steps" : "all steps")
        if view.xAxis == .tokens { parts.append("x: tokens") }
        if !overlays.isEmpty { parts.append("+\(overlays.count) run\(overlays.count == 1 ? "" : "s")") }
        return parts.joined(separator: " · ")
    }

    /// The loss of predicting every token with probability 1/V: −log(1/V) = ln V nats. A model
    /// initialised as nanoGPT's starts about there; a loss above it is worse than guessing.
    static func uniformGuess(vocabSize: Int) -> Double { log(Double(vocabSize)) }

    /// The reference lines for the run on the card (none without one, e.g. before it starts).
    func references() -> [LineChart.Reference] {
        guard let card = snapshot.modelCard, card.vocabSize > 1 else { return [] }
        var lines = [LineChart.Reference(name: "uniform ln \(card.vocabSize)", y: Self.uniformGuess(vocabSize: card.vocabSize),
                                         color: palette.color(.inactive))]
        if let task = try? SyntheticTask.named(card.corpus) {
            let floor = task.lossFloor(blockSize: card.blockSize)
            lines.append(.init(name: "floor " + String(format: "%.2f", floor), y: floor, color: palette.color(.warning)))
        }
        return lines
    }

    /// The evaluations that measured a task's accuracy.
    var accuracyPoints: [TrainingSnapshot.EvalPoint] { snapshot.evals.filter { $0.taskAccuracy?.isFinite == true } }

    /// Rows of the accuracy chart under the loss chart (0: too little room, or no accuracy):
    /// a title row and at least five for a chart with axes.
    static func accuracyRows(chartHeight: Int, hasAccuracy: Bool) -> Int {
        guard hasAccuracy else { return 0 }
        return chartHeight >= 20 ? 8 : chartHeight >= 13 ? 6 : 0
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        palette.pane(PaneID.loss.title, trailing: trailingTitle, focused: focused).render(into: &buffer, area: area)
        let inner = Pane.inner(area)
        guard !inner.isEmpty else { return }
        let steps = snapshot.steps
        guard !steps.isEmpty || !snapshot.evals.isEmpty else {
            let message = snapshot.state == .starting ? "waiting for the first step…" : "no steps recorded"
            buffer.write(TextFit.words(message, width: inner.width), in: inner.centered(width: inner.width, height: 1),
                         alignment: .center, palette.muted)
            return
        }

        // The visible window: the newest `windowSteps` steps, or everything.
        let lastStep = steps.last?.step ?? snapshot.evals.last?.step ?? 0
        let runLength = max(snapshot.maxSteps, lastStep)
        let following = view.follow && (runLength == 0 || view.windowSteps < runLength)
        let firstStep = following ? max(0, lastStep - view.windowSteps) : 0
        let startIndex = Self.firstIndex(in: steps, atOrAfter: firstStep)
        let visible = steps[startIndex...]
        let perStep = trainingTokensPerStep
        let xs = visible.map { x($0.step, tokensPerStep: perStep) }
        let raw = visible.map { Double($0.loss) }

        var series: [LineChart.Series] = []
        if view.smoothing {
            // Smooth over the whole run so the curve at the window's left edge is already settled.
            let smoothed = LineChart.exponentialMovingAverage(steps.map { Double($0.loss) }, weight: view.smoothingWeight)
            series.append(.init(name: "", xs: xs, ys: raw, color: palette.faded(.trainLoss)))
            series.append(.init(name: "train", xs: xs, ys: Array(smoothed[startIndex...]), color: palette.color(.trainLoss)))
        } else {
            series.append(.init(name: "train", xs: xs, ys: raw, color: palette.color(.trainLoss)))
        }
        // Val is measured only at evaluations: points there, joined only to a close neighbour (a
        // line across a long gap would invent values nobody measured).
        let evals = snapshot.evals.filter { $0.step >= firstStep && $0.valLoss.isFinite }
        if !evals.isEmpty {
            series.append(.init(name: "val", xs: evals.map { x($0.step, tokensPerStep: perStep) }, ys: evals.map { Double($0.valLoss) },
                                color: palette.color(.valLoss), markers: true, joinMarkers: true, maxJoinGap: 6))
        }
        // While following, the axis spans a whole window from the start, so early in a run the
        // curve visibly grows rightwards instead of being stretched over the full width.
        var xUpper = max(lastStep, firstStep + 1)
        if following {
            let windowEnd = firstStep + view.windowSteps
            xUpper = max(xUpper, snapshot.maxSteps > 0 ? min(windowEnd, snapshot.maxSteps) : windowEnd)
        }
        var xRange = x(firstStep, tokensPerStep: perStep)...x(xUpper, tokensPerStep: perStep)
        if !overlays.isEmpty {
            // The whole-run view spans every run; a followed window stays the training run's.
            if !following { xRange = xRange.lowerBound...max(xRange.upperBound, overlaysLastX) }
            // Under the training run's curves, so the live run stays on top.
            series.insert(contentsOf: overlaySeries(xRange: xRange), at: 0)
        }

        // The lr strip needs a label row and a trend row; give it more once the chart has room.
        let lrRows = inner.height >= 24 ? 4 : inner.height >= 10 ? 2 : 0
        var (charts, lrArea) = inner.splitBottom(lrRows)
        if !overlays.isEmpty {
            // Legend and diff below the chart, as many diff rows as leave the chart 8 rows.
            let rows = min(overlayRowsWanted, max(0, charts.height - 8))
            let below: Rect
            (charts, below) = charts.splitBottom(rows)
            let (legend, diff) = below.splitTop(min(rows, 1))
            renderOverlayLegend(into: &buffer, area: legend)
            renderConfigDiff(into: &buffer, area: diff)
        }
        let accuracy = accuracyPoints
        let accuracyRows = Self.accuracyRows(chartHeight: charts.height, hasAccuracy: !accuracy.isEmpty)
        let (chartArea, accuracyArea) = charts.splitBottom(accuracyRows)
        // Stacked charts share the label width, so their step axes line up ("100%" is four wide).
        let labelWidth = accuracyRows > 0 ? 4 : 0
        var chart = LineChart(series: series, xRange: xRange, logY: view.logScale, labelStyle: palette.label, axisStyle: palette.border,
                              references: references(), minimumLabelWidth: labelWidth)
        // float16's loss scale at work: a mark where S was halved (an overflow, the step skipped)
        // or doubled (a long enough run of finite steps).
        chart.marks = snapshot.scaleChanges.map { x($0.step, tokensPerStep: perStep) }.filter { $0 >= xRange.lowerBound }.map {
            LineChart.Mark(x: $0, color: palette.color(.paused))
        }
        chart.markLegend = "scale"
        chart.render(into: &buffer, area: chartArea)
        if accuracyRows > 0 {
            renderAccuracy(accuracy.filter { $0.step >= firstStep }, latest: accuracy.last?.taskAccuracy, xRange: xRange,
                           labelWidth: labelWidth, into: &buffer, area: accuracyArea)
        }
        if lrRows > 0 && !visible.isEmpty {
            var extra = ""
            // No room for the accuracy chart: its newest value beside the lr.
            if accuracyRows == 0, let latest = accuracy.last?.taskAccuracy { extra = "  accuracy " + Self.percent(latest) }
            renderLearningRate(visible, xRange: xRange, extra: extra, into: &buffer, area: lrArea)
        }
    }

    static func percent(_ fraction: Float) -> String { String(format: "%.1f%%", 100 * fraction) }

    /// Exact-match accuracy on held-out problems at each evaluation, 0–100%.
    private func renderAccuracy(_ points: [TrainingSnapshot.EvalPoint], latest: Float?, xRange: ClosedRange<Double>,
                                labelWidth: Int, into buffer: inout CellBuffer, area: Rect) {
        let (title, chart) = area.splitTop(1)
        let heading = "task accuracy " + (latest.map(Self.percent) ?? "–") + " (held-out problems, exact match)"
        buffer.write(TextFit.words(heading, width: title.width), in: title, palette.theme.text(.running))
        let series = LineChart.Series(name: "", xs: points.map { x($0.step, tokensPerStep: trainingTokensPerStep) }, ys: points.map { 100 * Double($0.taskAccuracy ?? .nan) },
                                      color: palette.color(.running), markers: true, joinMarkers: true)
        LineChart(series: [series], xRange: xRange, yRange: 0...100, labelStyle: palette.label, axisStyle: palette.border,
                  minimumLabelWidth: labelWidth, yLabelSuffix: "%")
            .render(into: &buffer, area: chart)
    }

    private func renderLearningRate(_ visible: ArraySlice<TrainingSnapshot.StepPoint>, xRange: ClosedRange<Double>,
                                    extra: String = "", into buffer: inout CellBuffer, area: Rect) {
        let lrs = visible.map { Double($0.lr) }
        let peak = lrs.max() ?? 0
        let label = "lr \(Format.learningRate(visible.last?.lr))  max \(Format.learningRate(Float(peak)))" + extra
        buffer.write(TextFit.words(label, width: area.width), in: area, palette.theme.text(.learningRate))
        let strip = Rect(x: area.x, y: area.y + 1, width: area.width, height: area.height - 1)
        // Columns cover the same steps as the chart above (leaving the chart's label gutter
        // empty would misalign them by a few columns at most; the strip is a trend, not an axis).
        let perStep = trainingTokensPerStep
        let columns = Self.bucketMeans(steps: visible.map { x($0.step, tokensPerStep: perStep) }, values: lrs, range: xRange, count: strip.width)
        Sparkline(values: columns, style: palette.theme.text(.learningRate))
            .render(into: &buffer, area: strip)
    }

    static func firstIndex(in steps: [TrainingSnapshot.StepPoint], atOrAfter step: Int) -> Int {
        var lo = 0, hi = steps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if steps[mid].step < step { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Mean of the values whose steps fall in each of `count` equal slices of `range`; NaN (drawn
    /// as nothing) for slices without steps.
    static func bucketMeans(steps: [Double], values: [Double], range: ClosedRange<Double>, count: Int) -> [Double] {
        guard count > 0 else { return [] }
        var sums = [Double](repeating: 0, count: count), counts = [Int](repeating: 0, count: count)
        let span = max(range.upperBound - range.lowerBound, .leastNonzeroMagnitude)
        for (x, v) in zip(steps, values) where v.isFinite {
            let f = (x - range.lowerBound) / span
            guard f >= 0, f <= 1 else { continue }
            let b = min(count - 1, Int(f * Double(count)))
            sums[b] += v; counts[b] += 1
        }
        return zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
    }
}
