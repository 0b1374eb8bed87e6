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
/// With `v` it compares decoding strategies instead (see `DecodingStrategy`): greedy,
/// temperature, top-k and top-p continue the prompt on one seed, each in its own column headed by
/// its settings and its mean log p, distinct-2 and repetition rate.
///
/// It only draws `SamplingOutput`; generating is the `SamplingService`'s job on its own thread.
struct SamplingPane: Widget {
    var snapshot: TrainingSnapshot
    var view: SamplingViewState
    var output: SamplingOutput
    var focused: Bool
    var palette: Palette

    var trailingTitle: String {
        var seed = "seed \(view.seed)" + (view.seedLocked ? " locked" : "")
        if view.compareStrategies { seed = "strategies · " + seed }
        return output.busy ? "generating… · " + seed : seed
    }

    /// The output holds strategy columns (a request made before `v` may still be showing).
    var showsStrategies: Bool { view.compareStrategies && output.columns.first?.strategy != nil }

    /// Where the parts of the pane go, shared by drawing and by the mouse.
    struct Geometry {
        var sliders: [Rect] = []
        var summary: Rect?
        var prompt: Rect?
        var body: Rect?
        /// Text column(s), each with its title row.
        var columns: [Rect] = []
        var inspect: Rect?
    }

    static func geometry(_ area: Rect, columns: Int) -> Geometry {
        var g = Geometry()
        var rest = Pane.inner(area)
        guard !rest.isEmpty else { return g }
        if rest.height >= 10 {
            for _ in SamplingSlider.allCases {
                let (row, below) = rest.splitTop(1)
                g.sliders.append(row)
                rest = below
            }
        } else {
            let (row, below) = rest.splitTop(1)
            g.summary = row
            rest = below
        }
        guard rest.height >= 1 else { return g }
        let (promptRow, body) = rest.splitTop(1)
        g.prompt = promptRow
        guard !body.isEmpty else { return g }
        g.body = body
        var textArea = body
        if body.width >= 60 && columns <= 1 {
            // Text and the next-token view share the width evenly, so the bars are readable.
            let (left, right) = body.splitLeft(body.width / 2)
            textArea = Rect(x: left.x, y: left.y, width: left.width - 1, height: left.height)
            g.inspect = right
        } else if body.height >= 10 {
            let parts = body.rows(weights: [1, 1])
            textArea = parts[0]
            g.inspect = parts[1]
        }
        if columns <= 1 {
            g.columns = [textArea]
        } else {
            g.columns = textArea.columns(weights: Array(repeating: 1, count: columns)).map {
                Rect(x: $0.x, y: $0.y, width: max(0, $0.width - 1), height: $0.height)
            }
        }
        return g
    }

    /// The console's wrapped text lines and visible rows (the scroll keys' range), for the app.
    static func textExtent(ui: UIState, snapshot: TrainingSnapshot, console: ConsoleData, width: Int, height: Int) -> (Int, Int) {
        let layout = DashboardLayout(width: width, height: height, ui: ui)
        guard let area = layout.panes[.sampling], let column = console.sampling.columns.first else { return (0, 0) }
        let g = geometry(area, columns: console.sampling.columns.count)
        if ui.sampling.compareStrategies, column.strategy != nil, let body = g.body {
            // The longest column sets the range; all columns scroll together.
            let cells = strategyCells(body, count: console.sampling.columns.count).cells
            let parts = zip(console.sampling.columns, cells).map { StrategyCell(column: $0, width: $1.width) }
            let rows = zip(parts, cells).map { $0.textRows(in: $1) }.min() ?? 0
            return (parts.map(\.lines.count).max() ?? 0, rows)
        }
        guard let rect = g.columns.first, rect.height >= 2 else { return (0, 0) }
        let lines = StyledText.wrap(styledText(column, cursor: nil), width: rect.width).count
        return (lines, rect.height - 1)
    }

    /// The column's text as styled runs: the prompt set apart, the generated text, the token under
    /// the next-token cursor marked (role 0 text, 1 prompt, 2 cursor).
    static func styledText(_ column: SampleColumn, cursor: Int?) -> [(Unicode.Scalar, Int)] {
        var out: [(Unicode.Scalar, Int)] = column.prompt.unicodeScalars.map { ($0, 1) }
        let marked = column.distributions.isEmpty ? -1 : min(cursor ?? column.distributions.count - 1, column.distributions.count - 1)
        for (i, piece) in column.pieces.enumerated() {
            let role = i == marked ? 2 : 0
            if role == 2 && piece.unicodeScalars.allSatisfy({ $0 == "\n" }) {
                // A newline has no glyph: mark it visibly before it breaks the line.
                out.append(("⏎", 2))
            }
            out += piece.unicodeScalars.map { ($0, role) }
        }
        if column.pieces.isEmpty { out += column.generated.unicodeScalars.map { ($0, 0) } }
        return out
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        palette.pane(PaneID.sampling.title, trailing: trailingTitle, focused: focused).render(into: &buffer, area: area)
        let g = Self.geometry(area, columns: output.columns.count)
        for (slider, row) in zip(SamplingSlider.allCases, g.sliders) { renderSlider(slider, into: &buffer, area: row) }
        if let summary = g.summary { renderSummary(into: &buffer, area: summary) }
        if let promptRow = g.prompt {
            let promptX = promptRow.x + buffer.write("prompt› ", in: promptRow, palette.highlight)
            let room = promptRow.maxX - promptX
            let shownPrompt = view.prompt.isEmpty ? TextFit.words("(empty: starts from a newline)", width: room)
                : TextFit.middle(view.prompt.replacingOccurrences(of: "\n", with: "⏎"), width: room)
            buffer.write(shownPrompt, x: promptX, y: promptRow.y, view.prompt.isEmpty ? palette.muted : promptStyle)
        }
        guard let body = g.body else { return }
        guard !output.columns.isEmpty else {
            buffer.write(TextFit.words(emptyMessage, width: body.width), in: body.centered(width: body.width, height: 1),
                         alignment: .center, palette.muted)
            return
        }
        if showsStrategies {
            renderStrategies(into: &buffer, area: body)
            return
        }
        for (column, rect) in zip(output.columns, g.columns) {
            renderColumn(column, titled: true, into: &buffer, area: rect)
        }
        if let inspect = g.inspect {
            NextTokenView(column: output.columns[0], cursor: view.cursor, palette: palette).render(into: &buffer, area: inspect)
        }
    }

    /// The prompt: the model did not write it, so it reads differently from the generated text.
    var promptStyle: Style { palette.theme.text(.valLoss, .italic) }

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

    /// `temperature 0.80 │ top-p 1.00 off │ …`, the selected slider highlighted; those that do not
    /// fit are left out whole (the selected one stays).
    private func renderSummary(into buffer: inout CellBuffer, area: Rect) {
        let texts = SamplingSlider.allCases.map { "\(Self.title($0)) \(valueText($0))" }
        let kept = TextFit.parts(texts.enumerated().map { ($0.element, $0.offset == view.slider.rawValue ? 0 : 1 + $0.offset) },
                                 separator: " │ ", width: area.width)
        var x = area.x
        for (n, i) in kept.enumerated() {
            if n > 0 { x += buffer.write(" │ ", x: x, y: area.y, palette.border) }
            let slider = SamplingSlider.allCases[i]
            x += buffer.write(texts[i], x: x, y: area.y, slider == view.slider ? palette.selected : palette.text)
        }
    }

    /// The columns of a slider row's track (for the mouse): after the 14-column label, before the value.
    static func track(of row: Rect) -> (x: Int, width: Int) {
        (row.x + 15, max(0, row.width - 12 - 14 - 2))
    }

    private func renderColumn(_ column: SampleColumn, titled: Bool, into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var textArea = area
        let styled = Self.styledText(column, cursor: output.columns.count == 1 ? view.cursor : nil)
        let lines = StyledText.wrap(styled, width: area.width)
        let rows = max(0, area.height - (titled && area.height >= 2 ? 1 : 0))
        let first = min(view.textScroll ?? max(0, lines.count - rows), max(0, lines.count - rows))
        if titled && area.height >= 2 {
            let (top, rest) = area.splitTop(1)
            // The title ends in what tells two columns apart (the step): names shorten in the middle.
            var suffix = column.finished ? "" : " …"
            if lines.count > rows { suffix += " · lines \(first + 1)–\(first + rows)/\(lines.count)" }
            buffer.write(Self.fitTitle(column.title, suffix: suffix, width: top.width), in: top, palette.title)
            textArea = rest
        }
        if let error = column.error {
            for (row, line) in ScrollingText.wrap("cannot sample: " + error, width: textArea.width).prefix(textArea.height).enumerated() {
                buffer.write(line, in: textArea, row: row, palette.error)
            }
            return
        }
        let styles = [palette.text, promptStyle, palette.focusedTitle]
        for (row, line) in lines.dropFirst(first).prefix(textArea.height).enumerated() {
            for (i, (scalar, role)) in line.enumerated() {
                buffer.set(textArea.x + i, textArea.y + row, CellBuffer.printable(scalar), styles[role])
            }
        }
    }

    // MARK: Strategies side by side

    /// Narrowest a strategy column may be and still hold "mean log p -1.23" on one line.
    static let legibleStrategyWidth = 16

    /// Where the strategy comparison goes in the body: a heading row naming the source and seed
    /// (when there is room), then the columns — four across when each is legible, else two by
    /// two, each cell one column narrower than its share for the gap. No cells (only the
    /// heading's rect, nil) when neither is legible: the numbers are then drawn as a table.
    static func strategyCells(_ body: Rect, count: Int) -> (heading: Rect?, cells: [Rect]) {
        guard count > 0, !body.isEmpty else { return (nil, []) }
        var rest = body, heading: Rect?
        if body.height >= 10 {
            (heading, rest) = body.splitTop(1)
        }
        func shrink(_ r: Rect, last: Bool) -> Rect {
            last ? r : Rect(x: r.x, y: r.y, width: max(0, r.width - 1), height: r.height)
        }
        let across = rest.columns(weights: Array(repeating: 1, count: count))
        let halfCount = (count + 1) / 2
        // A cell needs its heading, a line of numbers and a line of text.
        if across.allSatisfy({ $0.width - 1 >= legibleStrategyWidth }) && rest.height >= 3 {
            return (heading, across.enumerated().map { shrink($0.element, last: $0.offset == count - 1) })
        }
        guard count >= 3, rest.height >= 9, rest.width / halfCount - 1 >= legibleStrategyWidth else { return (nil, []) }
        // Two rows of two, a blank row between them.
        let top = Rect(x: rest.x, y: rest.y, width: rest.width, height: (rest.height - 1) / 2)
        let bottom = Rect(x: rest.x, y: top.maxY + 1, width: rest.width, height: rest.maxY - top.maxY - 1)
        let cells = [top, bottom].flatMap { row in
            row.columns(weights: Array(repeating: 1, count: halfCount)).enumerated().map { shrink($0.element, last: $0.offset == halfCount - 1) }
        }
        return (heading, Array(cells.prefix(count)))
    }

    /// One strategy column laid out for a width: its heading, its numbers packed into as few
    /// lines as fit, and its generated text wrapped (the prompt is in the prompt row above).
    struct StrategyCell {
        var heading: String
        var metricLines: [String]
        var lines: [[(Unicode.Scalar, Int)]]

        init(column: SampleColumn, width: Int) {
            let name = column.strategy.map(SamplingPane.strategyHeading) ?? column.title
            heading = TextFit.words(name + (column.finished ? "" : " …"), width: width)
            metricLines = SamplingPane.pack(SamplingPane.metricTexts(column.metrics), width: width)
            var text = column
            text.prompt = ""
            // The prompt is not drawn here (it is in the prompt row), nor the line break after it.
            let styled = SamplingPane.styledText(text, cursor: nil).drop { $0.0 == "\n" }
            lines = StyledText.wrap(Array(styled), width: width)
        }

        /// Rows left for the text in a cell of `rect`'s height.
        func textRows(in rect: Rect) -> Int { max(0, rect.height - 1 - metricLines.count) }
    }

    /// "top-p 0.9 · T 1": the strategy's name, and the temperature where the name does not say it
    /// (top-k and top-p cut the model's own softmax, at T = 1).
    static func strategyHeading(_ strategy: DecodingStrategy) -> String {
        let s = strategy.settings
        let cuts = s.topK > 0 || s.topP < 1
        return cuts ? strategy.name + " · T " + String(format: "%g", s.temperature) : strategy.name
    }

    /// The three numbers of a column (see `DecodingStrategy`); "–" before there are any.
    static func metricTexts(_ m: StrategyMetrics?) -> [String] {
        func number(_ x: Float?) -> String { x.map { $0.isFinite ? String(format: "%.2f", $0) : "–" } ?? "–" }
        return ["mean log p " + number(m?.meanLogProbability), "distinct-2 " + number(m?.distinct2),
                "repetition " + number(m?.repetition4)]
    }

    /// `parts` joined by " · " into as few lines of `width` as they fit in, each part whole
    /// (cut with "…" only when a part alone is wider than a line).
    static func pack(_ parts: [String], width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for part in parts {
            if let last = lines.last, TextFit.width(last + " · " + part) <= width {
                lines[lines.count - 1] = last + " · " + part
            } else {
                lines.append(TextFit.words(part, width: width))
            }
        }
        return lines
    }

    /// The numbers alone, a row per strategy, for a body too small for four texts:
    ///
    ///     strategy         log p  dist-2  rep-4
    ///     greedy           -0.20    0.22   0.78
    static func strategyTable(_ columns: [SampleColumn], width: Int) -> [String] {
        let long = ["mean log p", "distinct-2", "repetition"], short = ["log p", "dist-2", "rep-4"]
        let names = columns.map { $0.strategy.map(strategyHeading) ?? $0.title }
        let nameWidth = min(16, names.map { TextFit.width($0) }.max() ?? 0)
        let heads = nameWidth + 3 * 11 <= width ? long : short
        let numberWidth = heads.map { TextFit.width($0) }.max()! + 1
        guard nameWidth + 3 * numberWidth <= width else { return names.map { TextFit.words($0, width: width) } }
        func number(_ x: Float?) -> String { x.map { $0.isFinite ? String(format: "%.2f", $0) : "–" } ?? "–" }
        var rows = [TextFit.pad("strategy", nameWidth) + heads.map { TextFit.pad($0, numberWidth, alignment: .right) }.joined()]
        for (name, column) in zip(names, columns) {
            let m = column.metrics
            rows.append(TextFit.pad(TextFit.words(name, width: nameWidth), nameWidth)
                        + [m?.meanLogProbability, m?.distinct2, m?.repetition4].map { TextFit.pad(number($0), numberWidth, alignment: .right) }.joined())
        }
        return rows
    }

    private func renderStrategies(into buffer: inout CellBuffer, area: Rect) {
        let (heading, cells) = Self.strategyCells(area, count: output.columns.count)
        if cells.isEmpty {
            let rows = Self.strategyTable(output.columns, width: area.width)
            for (i, row) in rows.prefix(area.height).enumerated() {
                buffer.write(row, x: area.x, y: area.y + i, i == 0 ? palette.title : palette.text)
            }
            if rows.count < area.height {
                buffer.write(TextFit.words("a wider pane shows the four texts", width: area.width), x: area.x, y: area.y + rows.count, palette.muted)
            }
            return
        }
        if let heading, let first = output.columns.first {
            let text = "\(first.title) · one prompt, seed \(output.request?.seed ?? view.seed), \(output.columns.count) strategies"
            buffer.write(TextFit.words(text, width: heading.width), in: heading, palette.muted)
        }
        let parts = zip(output.columns, cells).map { StrategyCell(column: $0, width: $1.width) }
        for (i, ((column, rect), cell)) in zip(zip(output.columns, cells), parts).enumerated() {
            guard !rect.isEmpty else { continue }
            // A rule between columns side by side.
            if i + 1 < cells.count, cells[i + 1].y == rect.y, rect.maxX < cells[i + 1].x {
                for y in rect.y..<rect.maxY { buffer.set(rect.maxX, y, "│", palette.border) }
            }
            buffer.write(cell.heading, x: rect.x, y: rect.y, palette.title)
            var y = rect.y + 1
            for line in cell.metricLines where y < rect.maxY {
                buffer.write(line, x: rect.x, y: y, palette.label)
                y += 1
            }
            if let error = column.error {
                for line in ScrollingText.wrap("cannot sample: " + error, width: rect.width) where y < rect.maxY {
                    buffer.write(line, x: rect.x, y: y, palette.error)
                    y += 1
                }
                continue
            }
            let rows = cell.textRows(in: rect)
            let first = min(view.textScroll ?? max(0, cell.lines.count - rows), max(0, cell.lines.count - rows))
            for line in cell.lines.dropFirst(first).prefix(rows) {
                for (x, (scalar, _)) in line.enumerated() {
                    buffer.set(rect.x + x, y, CellBuffer.printable(scalar), palette.text)
                }
                y += 1
            }
        }
    }

    /// "shakespeare-char-20261201-194418 · step 1500": the run name shortened in its middle so
    /// the step (after the last " · ") always shows.
    static func fitTitle(_ title: String, suffix: String, width: Int) -> String {
        let whole = title + suffix
        if TextFit.width(whole) <= width { return whole }
        if let r = title.range(of: " · ", options: .backwards) {
            let name = String(title[..<r.lowerBound]), tail = String(title[r.lowerBound...]) + suffix
            let room = width - TextFit.width(tail)
            if room >= 6 { return TextFit.middle(name, width: room) + tail }
            if TextFit.width(String(title[r.upperBound...])) <= width { return String(title[r.upperBound...]) }
        }
        return TextFit.middle(title, width: width)
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
        let (header, below) = area.splitTop(1)
        var cut = "kept \(d.cut.kept)"
        if let k = d.cut.keptByTopK { cut += " · top-k \(k)" }
        if let p = d.cut.keptByTopP { cut += " · top-p \(p)" }
        buffer.write(TextFit.words("next token \(index + 1)/\(column.distributions.count) '\(chosen)' · \(cut)", width: header.width),
                     in: header, palette.title)

        let labelWidth = 5, percentWidth = 7
        let barWidth = max(1, (area.width - labelWidth - 2 * percentWidth - 2) / 2)
        var rows = below
        // Column heads say which bar is which: the model's own softmax, and what is drawn from.
        if below.height >= 4 {
            let (heads, rest) = below.splitTop(1)
            rows = rest
            let model = TextFit.words("model", width: barWidth + percentWidth)
            let after = TextFit.words("after cut", width: barWidth + percentWidth)
            buffer.write(model, x: heads.x + labelWidth, y: heads.y, palette.muted)
            buffer.write("│ " + after, x: heads.x + labelWidth + barWidth + percentWidth, y: heads.y, palette.muted)
        }
        var row = 0
        var afterSum: Float = 0
        var cutMarked = false
        let maxRows = rows.height - 1  // the last row says what the kept bars add up to
        for (i, entry) in d.entries.enumerated() {
            guard row < maxRows else { break }
            if entry.probability == 0 && !cutMarked && i > 0 {
                cutMarked = true
                let text = "┄┄ cut ┄┄ (\(String(format: "%.1f", 100 * (1 - d.cut.keptMass)))% of the tempered mass)"
                buffer.write(TextFit.words(text, width: rows.width), in: rows, row: row, palette.warning)
                row += 1
                guard row < maxRows else { break }
            }
            afterSum += entry.probability
            let line = rows.row(row)
            var x = line.x
            let label = i < labels.count ? Self.visible(labels[i]) : "#\(entry.token)"
            x += buffer.write(TextFit.pad(TextFit.middle(label, width: labelWidth - 1), labelWidth), x: x, y: line.y,
                              entry.probability > 0 ? palette.text : palette.muted)
            x += drawBar(entry.modelProbability, width: barWidth, x: x, y: line.y, style: Style(fg: palette.faded(.valLoss)), into: &buffer)
            x += buffer.write(String(format: " %5.1f%%", 100 * entry.modelProbability), x: x, y: line.y, palette.label)
            x += buffer.write("│", x: x, y: line.y, palette.border)
            x += drawBar(entry.probability, width: barWidth, x: x, y: line.y, style: Style(fg: palette.color(.trainLoss)), into: &buffer)
            let after = entry.probability > 0 ? String(format: " %5.1f%%", 100 * entry.probability) : "  ✂ cut"
            if x + TextFit.width(after) <= line.maxX { buffer.write(after, x: x, y: line.y, entry.probability > 0 ? palette.text : palette.muted) }
            row += 1
        }
        let complete = d.cut.kept <= d.entries.count
        let sum = "Σ after cut " + String(format: "%.3f", afterSum) + (complete ? "" : " · top \(d.entries.count) of \(d.cut.kept) kept")
        buffer.write(TextFit.words(sum, width: rows.width), in: rows, row: min(row, rows.height - 1), palette.muted)
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
