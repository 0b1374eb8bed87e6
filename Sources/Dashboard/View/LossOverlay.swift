import Foundation
import Training
import TerminalUI

/// Other runs on the loss chart, as TensorBoard and W&B overlay them: each marked run's train
/// loss (smoothed as the training run's is) and val points in a colour of its own, a legend
/// naming every run, and under the chart the config keys that differ — the answer to "what did
/// I change between these runs?" — with each run's parameters and throughput.
///
/// On a tokens axis each run's step s sits at s · batch · block · accumulation, so runs with
/// different batches are compared at equal data seen rather than at equal updates.
struct LossOverlay {
    var run: RunSummary
    /// Colour slot (`Palette.runColors`), kept for as long as the run is overlaid.
    var slot: Int
}

extension LossPane {
    /// The x coordinate of `step` for a run that consumes `tokensPerStep` tokens a step.
    func x(_ step: Int, tokensPerStep: Int) -> Double {
        Double(step) * Double(view.xAxis == .tokens ? max(1, tokensPerStep) : 1)
    }

    /// Tokens one step of the training run consumes (its model card, or its config on disk).
    var trainingTokensPerStep: Int { snapshot.modelCard?.tokensPerStep ?? trainingRun?.tokensPerStep ?? 1 }

    /// The overlaid runs' curves within `xRange`: train unnamed (the legend below names the
    /// run), val as points in the same colour.
    func overlaySeries(xRange: ClosedRange<Double>) -> [LineChart.Series] {
        overlays.flatMap { overlay -> [LineChart.Series] in
            let colour = palette.runColor(overlay.slot)
            let perStep = overlay.run.tokensPerStep
            let train = overlay.run.train.filter { $0.value.isFinite }
            let smoothed = LineChart.exponentialMovingAverage(train.map { Double($0.value) }, weight: view.smoothingWeight)
            var trainXs: [Double] = [], trainYs: [Double] = []
            for (p, y) in zip(train, smoothed) {
                let px = x(p.step, tokensPerStep: perStep)
                guard xRange.contains(px) else { continue }
                trainXs.append(px); trainYs.append(y)
            }
            let val = overlay.run.val.filter { $0.value.isFinite && xRange.contains(x($0.step, tokensPerStep: perStep)) }
            var series = [LineChart.Series(name: "", xs: trainXs, ys: trainYs, color: colour)]
            if !val.isEmpty {
                series.append(.init(name: "", xs: val.map { x($0.step, tokensPerStep: perStep) }, ys: val.map { Double($0.value) },
                                    color: colour, markers: true, joinMarkers: true, maxJoinGap: 6))
            }
            return series
        }
    }

    /// The largest x any overlaid run reaches (the whole-run view spans it too).
    var overlaysLastX: Double {
        overlays.map { o in x(max(o.run.train.last?.step ?? 0, o.run.val.last?.step ?? 0), tokensPerStep: o.run.tokensPerStep) }
            .max() ?? 0
    }

    /// Rows the legend and the diff want under the chart: the legend, then the header, params,
    /// tok/s and one per differing key.
    var overlayRowsWanted: Int { overlays.isEmpty ? 0 : 1 + 3 + differingKeys.count }

    /// The config keys that differ between the training run and the overlaid runs, in that column
    /// order (the training run's config is read from its folder; until it is, only the overlays).
    var differingKeys: [(key: String, values: [String?])] {
        RunComparison(runs: (trainingRun.map { [$0] } ?? []) + overlays.map(\.run)).differingKeys
    }

    /// "━ name (this run)  ━ other  ━ third", wrapped over `area`'s rows; a run that does not fit
    /// is cut with `…` (its colour still shows).
    func renderOverlayLegend(into buffer: inout CellBuffer, area: Rect) {
        var entries = [(name: snapshot.runName + " (training)", colour: palette.color(.trainLoss))]
        entries += overlays.map { (name: $0.run.name, colour: palette.runColor($0.slot)) }
        var x = area.x, y = area.y
        for entry in entries {
            let room = area.maxX - x - 2
            let name = TextFit.middle(entry.name, width: min(room, max(8, area.width / max(1, entries.count) - 3)))
            if x > area.x && TextFit.width(name) + 2 > room {
                x = area.x; y += 1
                guard y < area.maxY else { return }
            }
            buffer.set(x, y, "━", palette.label.with(fg: entry.colour))
            x += 2
            x += buffer.write(TextFit.middle(entry.name, width: area.maxX - x), x: x, y: y, palette.label)
            x += 2
        }
    }

    /// The diff table: a column per run (training run first), a row for params, tok/s and each
    /// differing key; columns share the width left after the key column.
    func renderConfigDiff(into buffer: inout CellBuffer, area: Rect) {
        guard area.height > 0 else { return }
        let runs = (trainingRun.map { [$0] } ?? []) + overlays.map(\.run)
        guard !runs.isEmpty else { return }
        let colours = (trainingRun == nil ? [] : [palette.color(.trainLoss)]) + overlays.map { palette.runColor($0.slot) }
        let keys = differingKeys
        var rows: [(String, [String])] = [
            ("params", runs.map { RunComparison.count($0.parameters) }),
            ("tok/s", runs.map { r in r.tokensPerSecond.map { RunComparison.count(Int($0.rounded())) } ?? "—" }),
        ]
        rows += keys.map { ($0.key, $0.values.map { $0 ?? "—" }) }
        let keyWidth = min(max(6, rows.map { TextFit.width($0.0) }.max() ?? 0), area.width / 3)
        let column = max(4, (area.width - keyWidth - 1) / runs.count)
        func cell(_ text: String, _ c: Int, _ y: Int, _ style: Style) {
            let x = area.x + keyWidth + 1 + c * column
            guard x < area.maxX else { return }
            buffer.write(TextFit.middle(text, width: min(column - 1, area.maxX - x)), x: x, y: y, style)
        }
        buffer.write(TextFit.words(keys.isEmpty ? "same config" : "config diff", width: keyWidth), x: area.x, y: area.y, palette.muted)
        for (c, run) in runs.enumerated() { cell(run.name, c, area.y, palette.label.with(fg: colours[c])) }
        let shown = min(rows.count, area.height - 1)
        for (i, row) in rows.prefix(shown).enumerated() {
            let y = area.y + 1 + i
            let last = i == shown - 1 && shown < rows.count
            buffer.write(TextFit.words(last ? "+\(rows.count - i) more" : row.0, width: keyWidth), x: area.x, y: y,
                         last ? palette.muted : palette.label)
            if !last { for (c, value) in row.1.enumerated() { cell(value, c, y, palette.text) } }
        }
    }
}

extension Palette {
    /// Overlay colours: Okabe and Ito's colour-blind-safe set, minus the two closest to the
    /// training run's own train and val colours in the default theme.
    static let runColors: [RGB] = [
        RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 158, 115), RGB(240, 228, 66), RGB(204, 121, 167), RGB(213, 94, 0),
    ]

    func runColor(_ slot: Int) -> Color { .rgb(Self.runColors[((slot % Self.runColors.count) + Self.runColors.count) % Self.runColors.count]) }
}
