import Foundation
import Training
import TerminalUI

/// Gradient statistics from the trainer's telemetry (`TrainingSnapshot.telemetry`, every
/// `telemetry_interval` steps):
///
/// - an overview of every parameter tensor, one row each: its log₁₀|g| histogram in miniature
///   (all rows share the same decades, so a row further left has smaller gradients) and its std;
///   ↑/↓ select a row;
/// - the selected tensor's histogram of log₁₀|g| (or, with `v`, of the raw values), with mean,
///   std, the fraction of exact zeros and the counts that fall outside the bins;
/// - the update/data ratio std(Δθ)/std(θ) of each layer over time on a log axis, with the 1e-3
///   reference line;
/// - the global gradient norm of every step, the `grad_clip` threshold, and the clipped steps
///   marked;
/// - the loss-scaling lesson, per tensor: the share of S·g (S the step's loss scale, 1 without
///   scaling) that float16 would flush to zero (`fp16→0`) or to ∞ (`fp16→∞`), and bfloat16 the
///   same. Shown for every dtype: a float32 run at S = 1 shows what a float16 run would lose.
///
/// Wide areas (an expanded pane) show all four side by side; small ones the list and the
/// histogram with a one-line summary of the rest.
struct GradientsPane: Widget {
    var snapshot: TrainingSnapshot
    var view: GradientsViewState
    var focused: Bool
    var palette: Palette

    /// `transformer.h.0.attn.c_attn.weight` → `0.attn.c_attn.w`: short enough for a list column.
    static func shortName(_ name: String) -> String {
        var s = name
        if s.hasPrefix("transformer.") { s.removeFirst("transformer.".count) }
        if s.hasPrefix("h.") { s.removeFirst(2) }
        if s.hasSuffix(".weight") { s.removeLast("eight".count) }
        if s.hasSuffix(".bias") { s.removeLast("ias".count) }
        return s
    }

    static func scientific(_ x: Float?) -> String {
        guard let x, x.isFinite else { return "–" }
        return x == 0 ? "0" : String(format: "%.1e", x)
    }

    /// "log|g| · step 600 · 16-bit at S=65536", parts dropped whole from the scale on when the
    /// border has less than `width` columns for it (the 16-bit columns' own header says `fp16`).
    func trailingTitle(width: Int = .max) -> String {
        guard let t = snapshot.telemetry else { return "" }
        let parts = [(view.rawValues ? "values" : "log|g|", 1), ("step \(t.step)", 0), ("16-bit at S=\(Format.lossScale(t.lossScale))", 2)]
        return TextFit.parts(parts, separator: " · ", width: width).map { parts[$0].0 }.joined(separator: " · ")
    }

    /// Width of one 16-bit fraction column ("100.0%" and a space before it).
    static let halfColumnWidth = 7

    /// The overview's widest form, with all four 16-bit columns (three more than the one it always has).
    static let fullOverviewWidth = 52 + 3 * halfColumnWidth

    /// The overview's width in a wide arrangement of `width` columns: 2/5 of it, and the full
    /// overview once that holds it (from 183 columns); else at most 52, with fp16→0 only.
    static func overviewWidth(_ width: Int) -> Int {
        width * 2 / 5 >= fullOverviewWidth ? fullOverviewWidth : min(52, width * 2 / 5)
    }

    /// The compact list's width: with room, wide enough for the fp16 flush-to-zero column.
    static func listWidth(_ bodyWidth: Int) -> Int {
        bodyWidth >= 64 ? 28 : min(20, bodyWidth * 2 / 5)
    }

    /// (header, value) of the 16-bit columns of one tensor: fp16→0, then with `all` fp16→∞,
    /// bf16→0 and bf16→∞; "–" where the telemetry did not measure them.
    static func halfColumns(_ s: TensorStatistics, all: Bool) -> [(header: String, value: String, fraction: Double)] {
        let h = s.halfRange
        func column(_ header: String, _ f: Double?) -> (header: String, value: String, fraction: Double) {
            (header, f.map(Format.percent) ?? "–", f ?? 0)
        }
        var columns = [column("fp16→0", h?.float16.underflow)]
        if all {
            columns += [column("fp16→∞", h?.float16.overflow), column("bf16→0", h?.bfloat16.underflow),
                        column("bf16→∞", h?.bfloat16.overflow)]
        }
        return columns
    }

    /// Values of 1 % and more stand out: that much of the gradient is lost in that format.
    private func fractionStyle(_ fraction: Double, _ style: Style, selected: Bool) -> Style {
        fraction >= 0.01 && !selected ? palette.warning : style
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        // The room `Pane` leaves right of the title: the border less its corners, the padded title and 3.
        let room = area.width - 2 - (TextFit.width(PaneID.gradients.title) + 2) - 3
        palette.pane(PaneID.gradients.title, trailing: trailingTitle(width: room), focused: focused).render(into: &buffer, area: area)
        let inner = Pane.inner(area)
        guard !inner.isEmpty else { return }
        guard let telemetry = snapshot.telemetry, !telemetry.tensors.isEmpty else {
            let message = snapshot.state.isActive ? "waiting for the first gradient statistics…" : "no gradient statistics"
            buffer.write(TextFit.words(message, width: inner.width), in: inner.centered(width: inner.width, height: 1),
                         alignment: .center, palette.muted)
            return
        }
        let selected = min(max(0, view.selected), telemetry.tensors.count - 1)
        if inner.width >= 90 && inner.height >= 10 {
            renderWide(telemetry, selected: selected, into: &buffer, area: inner)
        } else {
            renderCompact(telemetry, selected: selected, into: &buffer, area: inner)
        }
    }

    /// Where the tensor list's rows are drawn in a pane at `area` (for the mouse): the rect whose
    /// row r shows tensor `first + r`.
    static func listRows(_ area: Rect) -> Rect? {
        let inner = Pane.inner(area)
        if inner.width >= 90 && inner.height >= 10 {
            let overview = inner.splitLeft(overviewWidth(inner.width)).0
            return overview.height >= 2 ? overview.splitTop(1).1 : nil
        }
        var body = inner
        if inner.height >= 4 { body = body.splitBottom(1).0 }
        if body.height >= 16 { body = body.rows(weights: [1, 1])[0] }
        if hasRatioStrip(body) { body = body.splitBottom(1).0 }
        guard body.width >= 36 else { return nil }
        let list = body.splitLeft(listWidth(body.width)).0
        return hasListHeader(list) ? list.splitTop(1).1 : list
    }

    /// The compact list has a header row when it is wide enough for its 16-bit column.
    static func hasListHeader(_ list: Rect) -> Bool { list.width >= 28 && list.height >= 3 }

    /// Too short for the update/data chart but tall enough to spare a row: the ratios and their
    /// 1e-3 reference folded into one (`UpdateRatioStrip`).
    static func hasRatioStrip(_ body: Rect) -> Bool { body.height < 16 && body.height >= 5 }

    // MARK: Arrangements

    private func renderWide(_ t: Telemetry, selected: Int, into buffer: inout CellBuffer, area: Rect) {
        let (overview, rest) = area.splitLeft(Self.overviewWidth(area.width))
        let columns = Rect(x: rest.x + 1, y: rest.y, width: rest.width - 1, height: rest.height).columns(weights: [1, 1])
        renderOverview(t, selected: selected, into: &buffer, area: overview)
        renderDetail(t.tensors[selected], into: &buffer, area: Rect(x: columns[0].x, y: columns[0].y,
                                                                     width: columns[0].width - 1, height: columns[0].height))
        let charts = columns[1].rows(weights: [1, 1])
        renderRatios(t, into: &buffer, area: charts[0])
        renderNorms(into: &buffer, area: charts[1])
    }

    private func renderCompact(_ t: Telemetry, selected: Int, into buffer: inout CellBuffer, area: Rect) {
        var body = area
        if area.height >= 4 {
            let (rest, summaryRow) = body.splitBottom(1)
            body = rest
            buffer.write(summary(t, width: summaryRow.width), in: summaryRow, palette.label)
        }
        var charts: Rect?
        if body.height >= 16 {
            let parts = body.rows(weights: [1, 1])
            body = parts[0]
            charts = parts[1]
        } else if Self.hasRatioStrip(body) {
            let (rest, strip) = body.splitBottom(1)
            body = rest
            UpdateRatioStrip(layers: t.layers, palette: palette).render(into: &buffer, area: strip)
        }
        if body.width >= 36 {
            let (list, detail) = body.splitLeft(Self.listWidth(body.width))
            renderList(t, selected: selected, into: &buffer, list: list)
            renderDetail(t.tensors[selected], into: &buffer, area: detail)
        } else {
            renderDetail(t.tensors[selected], into: &buffer, area: body)
        }
        if let charts {
            let halves = charts.columns(weights: [1, 1])
            renderRatios(t, into: &buffer, area: Rect(x: halves[0].x, y: halves[0].y, width: halves[0].width - 1, height: halves[0].height))
            renderNorms(into: &buffer, area: halves[1])
        }
    }

    /// "‖g‖ 0.83 · clipped 12/400 · upd/data h.0 1.1e-03 …" for panes too small for the charts.
    private func summary(_ t: Telemetry, width: Int) -> String {
        var parts: [String] = []
        if let last = snapshot.steps.last {
            parts.append("‖g‖ \(String(format: "%.2f", last.gradNorm))")
            if snapshot.gradClip > 0 { parts.append("clipped \(clippedSteps().count)/\(snapshot.steps.count)") }
        }
        var line = parts.joined(separator: " · ")
        // As many layers' update/data ratios as fit, each whole; "…" says there are more.
        let ratios = t.layers.compactMap { l in l.ratio.map { "\(l.name == "embedding" ? "emb" : l.name) \(Self.scientific($0))" } }
        if !ratios.isEmpty {
            var piece = (line.isEmpty ? "" : " · ") + "upd/data"
            var added = 0
            for r in ratios {
                let more = added + 1 < ratios.count ? 2 : 0
                guard TextFit.width(line + piece + " " + r) + more <= width else { break }
                piece += " " + r
                added += 1
            }
            if added > 0 { line += piece + (added < ratios.count ? " …" : "") }
        }
        return TextFit.words(line, width: width)
    }

    // MARK: Pieces

    /// The compact arrangement's tensor list in `list` (its last column a gap before the detail);
    /// with room, a header and each tensor's fp16→0.
    private func renderList(_ t: Telemetry, selected: Int, into buffer: inout CellBuffer, list: Rect) {
        let withColumn = Self.hasListHeader(list)
        let columnWidth = withColumn ? Self.halfColumnWidth : 0
        let area = Rect(x: list.x, y: list.y, width: list.width - 1, height: list.height)
        var rows = area
        if withColumn {
            let (header, rest) = area.splitTop(1)
            buffer.write("tensor", x: header.x + 2, y: header.y, palette.title)
            buffer.write("fp16→0", in: header, alignment: .right, palette.title)
            rows = rest
        }
        let nameWidth = max(0, rows.width - 2 - columnWidth)
        SelectableList(items: t.tensors.map { TextFit.middle(Self.shortName($0.name), width: nameWidth) }, selected: selected,
                       style: palette.text, selectedStyle: palette.selected)
            .render(into: &buffer, area: rows)
        guard withColumn else { return }
        let start = SelectableList.firstVisible(selected: selected, count: t.tensors.count, visibleRows: rows.height)
        for row in 0..<min(rows.height, t.tensors.count - start) {
            let index = start + row
            let column = Self.halfColumns(t.tensors[index], all: false)[0]
            let style = index == selected ? palette.selected : palette.text
            let line = rows.row(row)
            buffer.write(column.value, in: Rect(x: line.maxX - columnWidth, y: line.y, width: columnWidth, height: 1),
                         alignment: .right, fractionStyle(column.fraction, style, selected: index == selected))
        }
    }

    /// Every tensor on one row: name, its log-magnitude histogram in miniature, std.
    private func renderOverview(_ t: Telemetry, selected: Int, into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 2 else { return }
        let (header, rows) = area.splitTop(1)
        let nameWidth = min(16, t.tensors.map { Self.shortName($0.name).unicodeScalars.count }.max() ?? 0)
        let stdWidth = 8
        // The 16-bit columns sit right of std: all four once the overview has grown for them.
        let allHalf = area.width >= Self.fullOverviewWidth
        let halfHeaders = Self.halfColumns(t.tensors[0], all: allHalf).map(\.header)
        let halfWidth = halfHeaders.count * Self.halfColumnWidth
        let stdRight = header.maxX - halfWidth
        let miniX = header.x + 2 + nameWidth + 1
        let miniWidth = max(0, stdRight - miniX - stdWidth - 1)
        let first = t.tensors.first!.logHistogram
        buffer.write("tensor", x: header.x + 2, y: header.y, palette.title)
        buffer.write(Self.decadeLabel(first.lower), x: miniX, y: header.y, palette.label)
        let upperLabel = Self.decadeLabel(first.upper)
        buffer.write(upperLabel, x: miniX + miniWidth - upperLabel.unicodeScalars.count, y: header.y, palette.label)
        buffer.write("std", x: stdRight - stdWidth, y: header.y, palette.title)
        for (k, title) in halfHeaders.enumerated() {
            buffer.write(title, in: Rect(x: stdRight + k * Self.halfColumnWidth, y: header.y, width: Self.halfColumnWidth, height: 1),
                         alignment: .right, palette.title)
        }

        let start = SelectableList.firstVisible(selected: selected, count: t.tensors.count, visibleRows: rows.height)
        for row in 0..<min(rows.height, t.tensors.count - start) {
            let index = start + row
            let s = t.tensors[index]
            let line = rows.row(row)
            let isSelected = index == selected
            let style = isSelected ? palette.selected : palette.text
            if isSelected { buffer.fill(line, " ", style) }
            buffer.write(isSelected ? "▶ " : "  ", in: line, style)
            buffer.write(TextFit.middle(Self.shortName(s.name), width: nameWidth), x: line.x + 2, y: line.y, style)
            if miniWidth > 0 {
                Histogram(counts: s.logHistogram.counts.map(Double.init), scale: palette.theme.histogramScale, style: style)
                    .render(into: &buffer, area: Rect(x: miniX, y: line.y, width: miniWidth, height: 1))
            }
            buffer.write(Self.scientific(s.std), in: Rect(x: stdRight - stdWidth, y: line.y, width: stdWidth, height: 1),
                         alignment: .right, style)
            for (k, column) in Self.halfColumns(s, all: allHalf).enumerated() {
                buffer.write(column.value, in: Rect(x: stdRight + k * Self.halfColumnWidth, y: line.y, width: Self.halfColumnWidth, height: 1),
                             alignment: .right, fractionStyle(column.fraction, style, selected: isSelected))
            }
        }
    }

    static func decadeLabel(_ exponent: Float) -> String {
        "1e" + (exponent >= 0 ? "+" : "") + String(Int(exponent.rounded()))
    }

    /// The selected tensor: name, numbers, and its histogram filling the rest.
    private func renderDetail(_ s: TensorStatistics, into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var rows = area
        func line(_ text: String, _ style: Style) {
            guard rows.height > 2 else { return }
            let (top, rest) = rows.splitTop(1)
            buffer.write(TextFit.words(text, width: top.width), in: top, style)
            rows = rest
        }
        let shape = s.shape.map(String.init).joined(separator: "×")
        let name = Self.shortName(s.name)
        let shapeText = " [\(shape)]"
        line(TextFit.width(name + shapeText) <= area.width ? name + shapeText : TextFit.middle(name, width: area.width), palette.highlight)
        line("std \(Self.scientific(s.std))  mean \(Self.scientific(s.mean))", palette.text)
        let zeros = "zeros \(String(format: "%.1f", 100 * s.zeroFraction))%"
        let ratio = "upd/data \(Self.scientific(s.updateRatio))"
        // Two short facts: on one line when both fit, else one line each.
        if TextFit.width(zeros + "  " + ratio) <= area.width {
            line(zeros + "  " + ratio, palette.text)
        } else {
            line(zeros, palette.text)
            line(ratio, palette.text)
        }
        // What 16 bits would lose of S·g (the scale is in the pane's title).
        if let h = s.halfRange {
            let fp16 = "fp16→0 \(Format.percent(h.float16.underflow)) →∞ \(Format.percent(h.float16.overflow))"
            let bf16 = "bf16→0 \(Format.percent(h.bfloat16.underflow)) →∞ \(Format.percent(h.bfloat16.overflow))"
            if TextFit.width(fp16 + "  " + bf16) <= area.width {
                line(fp16 + "  " + bf16, palette.text)
            } else {
                // A short pane keeps its histogram's rows: bfloat16 (which rarely loses anything) goes.
                line(fp16, palette.text)
                if rows.height >= 12 { line(bf16, palette.text) }
            }
        }
        let h = s.logHistogram
        var outside: [String] = []
        if !view.rawValues {
            if h.zeros > 0 { outside.append("zeros \(h.zeros)") }
            if h.below > 0 { outside.append("<\(Self.decadeLabel(h.lower)) \(h.below)") }
            if h.above > 0 { outside.append("≥\(Self.decadeLabel(h.upper)) \(h.above)") }
        }
        if h.nonFinite > 0 { outside.append("non-finite \(h.nonFinite)") }
        if !outside.isEmpty && rows.height > 3 {
            let (rest, bottom) = rows.splitBottom(1)
            buffer.write(TextFit.words(outside.joined(separator: " · "), width: bottom.width), in: bottom, palette.warning)
            rows = rest
        }
        let histogram: Histogram
        if view.rawValues {
            let limit = s.valueHistogram.limit
            histogram = Histogram(counts: s.valueHistogram.counts.map(Double.init), scale: palette.theme.histogramScale,
                                  lowerLabel: Self.scientific(-limit), upperLabel: Self.scientific(limit), labelStyle: palette.label)
        } else {
            histogram = Histogram(counts: h.counts.map(Double.init), scale: palette.theme.histogramScale,
                                  lowerLabel: "|g| " + Self.decadeLabel(h.lower), upperLabel: Self.decadeLabel(h.upper),
                                  labelStyle: palette.label)
        }
        histogram.render(into: &buffer, area: rows)
    }

    static let seriesColors: [ThemeKey] = [.trainLoss, .valLoss, .learningRate, .running, .paused, .highlight, .warning, .title]

    /// Update/data ratio of each layer over the telemetry steps, log axis, 1e-3 reference.
    private func renderRatios(_ t: Telemetry, into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 3 else { return }
        let (title, chart) = area.splitTop(1)
        buffer.write(TextFit.words("update/data per layer (log)", width: title.width), in: title, palette.title)
        let points = snapshot.updateRatios
        guard let firstStep = points.first?.step, let lastStep = points.last?.step else { return }
        let xs = points.map { Double($0.step) }
        var series: [LineChart.Series] = t.layers.indices.map { i in
            LineChart.Series(name: t.layers[i].name == "embedding" ? "emb" : t.layers[i].name, xs: xs,
                             ys: points.map { i < $0.ratios.count ? Double($0.ratios[i]) : .nan },
                             color: palette.color(Self.seriesColors[i % Self.seriesColors.count]))
        }
        series.append(.init(name: "1e-3", xs: [Double(firstStep), Double(max(lastStep, firstStep + 1))], ys: [1e-3, 1e-3],
                            color: palette.color(.inactive)))
        LineChart(series: series, logY: true, labelStyle: palette.label, axisStyle: palette.border)
            .render(into: &buffer, area: chart)
    }

    /// Steps whose gradient norm exceeded `grad_clip` (the trainer scaled them down to it).
    private func clippedSteps() -> [TrainingSnapshot.StepPoint] {
        let clip = snapshot.gradClip
        guard clip > 0 else { return [] }
        return snapshot.steps.filter { $0.gradNorm > clip }
    }

    /// The global gradient norm of every step, the clipping threshold and the clipped steps.
    private func renderNorms(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 3 else { return }
        let (title, chart) = area.splitTop(1)
        let steps = snapshot.steps
        let clipped = clippedSteps()
        var heading = "‖g‖"
        if let last = steps.last { heading += String(format: " %.2f", last.gradNorm) }
        if snapshot.gradClip > 0 {
            heading += " · clipped \(clipped.count)/\(steps.count) (>\(String(format: "%g", snapshot.gradClip)))"
        }
        buffer.write(TextFit.words(heading, width: title.width), in: title, palette.title)
        guard let first = steps.first, let last = steps.last else { return }
        var series: [LineChart.Series] = [
            .init(name: "‖g‖", xs: steps.map { Double($0.step) }, ys: steps.map { Double($0.gradNorm) }, color: palette.color(.trainLoss)),
        ]
        if snapshot.gradClip > 0 {
            series.append(.init(name: "clip", xs: [Double(first.step), Double(max(last.step, first.step + 1))],
                                ys: [Double(snapshot.gradClip), Double(snapshot.gradClip)], color: palette.color(.inactive)))
            series.append(.init(name: "clipped", xs: clipped.map { Double($0.step) }, ys: clipped.map { Double($0.gradNorm) },
                                color: palette.color(.warning), markers: true, joinMarkers: false))
        }
        LineChart(series: series, logY: true, labelStyle: palette.label, axisStyle: palette.border)
            .render(into: &buffer, area: chart)
    }
}
