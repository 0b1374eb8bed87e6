import Foundation
import GPT
import Training
import TerminalUI

/// The sampling console: sliders for temperature, top-p, top-k and max tokens, the prompt, the
/// text streaming in from the sampler thread (two columns when two checkpoints are compared on
/// one seed), and the next-token view — the top candidates' probabilities before (the model's
/// own softmax) and after temperature, top-k and top-p, with the cut marked — for the position
/// under the cursor (`[`/`]`).
///
/// It only draws `SamplingOutput`; generating is the `SamplingService`'s job on its own thread.
struct SamplingPane: Widget {
    var snapshot: TrainingSnapshot
    var view: SamplingViewState
    var output: SamplingOutput
    var focused: Bool
    var palette: Palette

    var trailingTitle: String {
        let seed = "seed \(view.seed)" + (view.seedLocked ? " locked" : "")
        return output.busy ? "generating… · " + seed : seed
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        palette.pane(PaneID.sampling.title, trailing: trailingTitle, focused: focused).render(into: &buffer, area: area)
        var rest = Pane.inner(area)
        guard !rest.isEmpty else { return }

        // Sliders: one per row when there is room, else one summary line.
        if rest.height >= 10 {
            for slider in SamplingSlider.allCases {
                let (row, below) = rest.splitTop(1)
                renderSlider(slider, into: &buffer, area: row)
                rest = below
            }
        } else {
            let (row, below) = rest.splitTop(1)
            renderSummary(into: &buffer, area: row)
            rest = below
        }
        guard rest.height >= 1 else { return }
        let (promptRow, body) = rest.splitTop(1)
        let promptX = promptRow.x + buffer.write("prompt› ", in: promptRow, palette.highlight)
        let shownPrompt = view.prompt.isEmpty ? "(empty: starts from a newline)" : view.prompt.replacingOccurrences(of: "\n", with: "⏎")
        buffer.write(shownPrompt, x: promptX, y: promptRow.y, maxWidth: promptRow.maxX - promptX,
                     view.prompt.isEmpty ? palette.muted : palette.text)
        guard !body.isEmpty else { return }

        guard !output.columns.isEmpty else {
            buffer.write(emptyMessage, in: body.centered(width: body.width, height: 1), alignment: .center, palette.muted)
            return
        }
        var textArea = body
        var inspectArea: Rect?
        if body.width >= 70 && output.columns.count == 1 {
            let (left, right) = body.splitLeft(body.width * 3 / 5)
            textArea = Rect(x: left.x, y: left.y, width: left.width - 1, height: left.height)
            inspectArea = right
        } else if body.height >= 10 {
            let parts = body.rows(weights: [1, 1])
            textArea = parts[0]
            inspectArea = parts[1]
        }
        if output.columns.count == 1 {
            renderColumn(output.columns[0], titled: true, into: &buffer, area: textArea)
        } else {
            let halves = textArea.columns(weights: Array(repeating: 1, count: output.columns.count))
            for (column, half) in zip(output.columns, halves) {
                renderColumn(column, titled: true, into: &buffer, area: Rect(x: half.x, y: half.y, width: max(0, half.width - 1), height: half.height))
            }
        }
        if let inspectArea {
            NextTokenView(column: output.columns[0], cursor: view.cursor, palette: palette).render(into: &buffer, area: inspectArea)
        }
    }

    var emptyMessage: String {
        switch view.source {
        case .live:
            if snapshot.state.isActive { return "copying the trainer's weights… (w takes a fresh copy)" }
            return "no training: choose a checkpoint (c, then Enter)"
        default:
            return "loading…"
        }
    }

    static func title(_ slider: SamplingSlider) -> String {
        switch slider {
        case .temperature: "temperature"
        case .topP: "top-p"
        case .topK: "top-k"
        case .maxTokens: "max tokens"
        }
    }

    func valueText(_ slider: SamplingSlider) -> String {
        switch slider {
        case .temperature: String(format: "%.2f", view.temperature) + (view.temperature == 0 ? " greedy" : "")
        case .topP: String(format: "%.2f", view.topP) + (view.topP >= 1 ? " off" : "")
        case .topK: view.topK == 0 ? "off" : String(view.topK)
        case .maxTokens: String(view.maxTokens)
        }
    }

    private func renderSlider(_ slider: SamplingSlider, into buffer: inout CellBuffer, area: Rect) {
        let vocab = Double(output.columns.first?.vocabSize ?? 0)
        let (value, range): (Double, ClosedRange<Double>) = switch slider {
        case .temperature: (Double(view.temperature), 0...2)
        case .topP: (Double(view.topP), 0...1)
        case .topK: (Double(view.topK), 0...max(1, vocab))
        case .maxTokens: (Double(view.maxTokens), Double(SamplingViewState.maxTokensRange.lowerBound)...Double(SamplingViewState.maxTokensRange.upperBound))
        }
        let selected = slider == view.slider
        let label = (selected ? "▶ " : "  ") + Self.title(slider).padding(toLength: 12, withPad: " ", startingAt: 0)
        let valueText = valueText(slider)
        let valueWidth = 12
        let (track, valueArea) = area.splitLeft(max(0, area.width - valueWidth))
        Slider(label: label, value: value, range: range, format: "", focused: selected && focused,
               labelStyle: selected ? palette.highlight : palette.label, focusedLabelStyle: palette.selected,
               filledStyle: Style(fg: palette.color(.highlight)), trackStyle: palette.border)
            .render(into: &buffer, area: track)
        buffer.write(" " + valueText, in: valueArea, selected ? palette.highlight : palette.text)
    }

    /// `T 0.80 │ p 1.00 off │ k off │ max 200`, the selected slider highlighted.
    private func renderSummary(into buffer: inout CellBuffer, area: Rect) {
        var x = area.x
        for slider in SamplingSlider.allCases {
            let text = "\(Self.title(slider)) \(valueText(slider))"
            x += buffer.write(text, x: x, y: area.y, maxWidth: area.maxX - x, slider == view.slider ? palette.selected : palette.text)
            x += buffer.write(" │ ", x: x, y: area.y, maxWidth: area.maxX - x, palette.border)
        }
    }

    private func renderColumn(_ column: SampleColumn, titled: Bool, into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var textArea = area
        if titled && area.height >= 2 {
            let (top, rest) = area.splitTop(1)
            buffer.write(column.title + (column.finished ? "" : " …"), in: top, palette.title)
            textArea = rest
        }
        if let error = column.error {
            for (row, line) in ScrollingText.wrap("cannot sample: " + error, width: textArea.width).prefix(textArea.height).enumerated() {
                buffer.write(line, in: textArea, row: row, palette.error)
            }
            return
        }
        ScrollingText(text: column.text, style: palette.text).render(into: &buffer, area: textArea)
    }
}

/// Bars of the candidates for one generated position: the model's probability (left) and what
/// the token was drawn with after temperature, top-k and top-p (right; 0 where cut).
struct NextTokenView: Widget {
    var column: SampleColumn
    var cursor: Int?
    var palette: Palette

    /// Tokens as they can be seen in one cell row.
    static func visible(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n": out += "⏎"
            case " ": out += "␣"
            case "\t": out += "⇥"
            default: out.unicodeScalars.append(CellBuffer.printable(scalar))
            }
        }
        return out
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 2, !column.distributions.isEmpty else { return }
        let index = min(cursor ?? column.distributions.count - 1, column.distributions.count - 1)
        let d = column.distributions[index]
        let labels = index < column.candidateLabels.count ? column.candidateLabels[index] : []
        let chosen = index < column.pieces.count ? Self.visible(column.pieces[index]) : "?"
        let (header, rows) = area.splitTop(1)
        var cut = "kept \(d.cut.kept)"
        if let k = d.cut.keptByTopK { cut += " · top-k \(k)" }
        if let p = d.cut.keptByTopP { cut += " · top-p \(p)" }
        buffer.write("next token \(index + 1)/\(column.distributions.count) '\(chosen)' · \(cut)", in: header, palette.title)

        let labelWidth = 6, percentWidth = 7
        let barWidth = max(1, (rows.width - labelWidth - 2 * percentWidth - 3) / 2)
        var row = 0
        var afterSum: Float = 0
        var cutMarked = false
        let maxRows = rows.height - 1  // the last row says what the kept bars add up to
        for (i, entry) in d.entries.enumerated() {
            guard row < maxRows else { break }
            if entry.probability == 0 && !cutMarked && i > 0 {
                cutMarked = true
                buffer.write("┄┄ cut ┄┄ (\(String(format: "%.1f", 100 * (1 - d.cut.keptMass)))% of the tempered mass)",
                             in: rows, row: row, palette.warning)
                row += 1
                guard row < maxRows else { break }
            }
            afterSum += entry.probability
            let line = rows.row(row)
            var x = line.x
            let label = i < labels.count ? Self.visible(labels[i]) : "#\(entry.token)"
            x += buffer.write(label.padding(toLength: labelWidth, withPad: " ", startingAt: 0), x: x, y: line.y, maxWidth: labelWidth,
                              entry.probability > 0 ? palette.text : palette.muted)
            x += drawBar(entry.modelProbability, width: barWidth, x: x, y: line.y, style: Style(fg: palette.faded(.valLoss)), into: &buffer)
            x += buffer.write(String(format: " %5.1f%%", 100 * entry.modelProbability), x: x, y: line.y, palette.label)
            x += buffer.write(" │", x: x, y: line.y, palette.border)
            x += drawBar(entry.probability, width: barWidth, x: x, y: line.y, style: Style(fg: palette.color(.trainLoss)), into: &buffer)
            let after = entry.probability > 0 ? String(format: " %5.1f%%", 100 * entry.probability) : "  ✂ cut"
            buffer.write(after, x: x, y: line.y, entry.probability > 0 ? palette.text : palette.muted)
            row += 1
        }
        let complete = d.cut.kept <= d.entries.count
        let sum = "Σ after cut " + String(format: "%.3f", afterSum) + (complete ? "" : " (top \(d.entries.count) of \(d.cut.kept) kept)")
        buffer.write(sum + "  (bars: model │ after cut)", in: rows, row: min(row, rows.height - 1), palette.muted)
    }

    private func drawBar(_ p: Float, width: Int, x: Int, y: Int, style: Style, into buffer: inout CellBuffer) -> Int {
        let eighths = Int((Double(max(0, min(1, p))) * Double(width * 8)).rounded())
        for i in 0..<width {
            let level = min(8, max(0, eighths - i * 8))
            buffer.set(x + i, y, level == 0 ? "·" : Self.horizontal[level], level == 0 ? palette.border : style)
        }
        return width
    }

    static let horizontal: [Unicode.Scalar] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]
}
