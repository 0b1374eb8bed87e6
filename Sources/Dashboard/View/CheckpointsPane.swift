import Foundation
import Training
import TerminalUI

/// The checkpoint browser: every checkpoint of every run under the runs folder (step, train and
/// val loss, age, size), sorted (`o`) and filtered (`/`), with the selected run's loss curve from
/// its metrics.jsonl below. Marks (`x`) and the delete question are drawn here; what the keys do
/// is the reducer's, and the listing comes from the `CheckpointWatcher`'s thread.
struct CheckpointsPane: Widget {
    var data: BrowserData
    var rows: [BrowserRow]
    var view: BrowserViewState
    /// Checkpoints the console is sampling, marked in the list.
    var sampling: [String]
    var focused: Bool
    var palette: Palette

    func render(into buffer: inout CellBuffer, area: Rect) {
        let trailing = "\(rows.count) · \(view.sort.title)" + (view.filter.isEmpty ? "" : " · /\(view.filter)")
        palette.pane(PaneID.checkpoints.title, trailing: trailing, focused: focused).render(into: &buffer, area: area)
        let inner = Pane.inner(area)
        guard !inner.isEmpty else { return }
        guard data.folder != nil else {
            buffer.write(TextFit.words("no runs folder", width: inner.width), in: inner.centered(width: inner.width, height: 1),
                         alignment: .center, palette.muted)
            return
        }
        let parts = Self.parts(area)
        let body = parts.body
        if let footer = parts.footer { renderFooter(into: &buffer, area: footer) }
        if rows.isEmpty {
            let message = data.error ?? (view.filter.isEmpty ? "no checkpoints yet in \(data.folder ?? "")" : "nothing matches /\(view.filter)")
            buffer.write(TextFit.path(message, width: body.width), in: body, data.error == nil ? palette.muted : palette.error)
            return
        }
        if let curve = parts.curve { renderCurve(into: &buffer, area: curve) }
        renderList(into: &buffer, area: parts.list)
    }

    /// The pane's parts: list (header row included), the selected run's curve, the footer line.
    static func parts(_ area: Rect) -> (body: Rect, list: Rect, curve: Rect?, footer: Rect?) {
        var body = Pane.inner(area)
        var footer: Rect?
        if body.height >= 3 {
            let (rest, bottom) = body.splitBottom(1)
            body = rest
            footer = bottom
        }
        if body.height >= 12 {
            let rows = body.rows(weights: [3, 2])
            return (body, rows[0], rows[1], footer)
        }
        return (body, body, nil, footer)
    }

    /// The list row under a screen row (for the mouse).
    static func row(at y: Int, area: Rect, selected: Int, count: Int) -> Int? {
        let list = parts(area).list
        guard y > list.y, y < list.maxY else { return nil }
        let first = SelectableList.firstVisible(selected: selected, count: count, visibleRows: list.height - 1)
        let index = first + (y - list.y - 1)
        return index < count ? index : nil
    }

    private var selected: Int { min(max(0, view.selected), max(0, rows.count - 1)) }

    private func renderList(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 2 else { return }
        let (header, list) = area.splitTop(1)
        // The run column takes the space the numbers leave; names shorten in the middle, keeping
        // the tail that tells runs apart (a timestamp, a suffix). Narrow panes drop size, then age.
        let longestRun = rows.map { TextFit.width($0.info.run) }.max() ?? 3
        var columns: [(title: String, width: Int)] = [("step", 7), ("train", 7), ("val", 7), ("age", 5), ("size", 8)]
        while columns.count > 3 && area.width - 2 - columns.reduce(0, { $0 + $1.width }) < min(12, longestRun) { columns.removeLast() }
        let runWidth = max(4, min(longestRun + 1, area.width - 2 - columns.reduce(0) { $0 + $1.width }))
        func line(_ run: String, _ values: [String]) -> String {
            TextFit.pad(TextFit.middle(run, width: runWidth - 1), runWidth)
                + zip(values, columns).map { TextFit.pad($0.0, $0.1.width, alignment: .right) }.joined()
        }
        buffer.write("  " + line("run", columns.map(\.title)), in: header, palette.title)
        let first = SelectableList.firstVisible(selected: selected, count: rows.count, visibleRows: list.height)
        for r in 0..<min(list.height, rows.count - first) {
            let index = first + r
            let row = rows[index], info = row.info
            let rect = list.row(r)
            let isSelected = index == selected
            var style = info.isLoadable ? palette.text : palette.error
            if isSelected { style = palette.selected; buffer.fill(rect, " ", style) }
            let mark = view.marked.contains(info.path) ? "x" : sampling.contains(info.path) ? "•" : " "
            let age = info.created.map { Self.age(data.scannedAt.timeIntervalSince($0)) } ?? "?"
            let values = [String(info.step), Self.loss(info.trainLoss), Self.loss(info.valLoss), age, Self.size(info.sizeBytes)]
            buffer.write((isSelected ? "▶" : " ") + mark + line(info.run, values), in: rect, style)
            // A run on the loss chart shows its line colour where no other mark is.
            if mark == " ", let overlay = view.overlays.first(where: { $0.path == row.runPath }) {
                buffer.set(rect.x + 1, rect.y, "━", style.with(fg: palette.runColor(overlay.slot)))
            }
        }
    }

    private func renderFooter(into buffer: inout CellBuffer, area: Rect) {
        if let question = view.confirmingDelete {
            let text = question.stage == 2
                ? "\(question.label) is the run's ONLY checkpoint. Really delete it? y/n"
                : "delete \(question.label)" + (question.onlyCheckpoint ? " (the run's only checkpoint)" : "")
                    + (question.warnings.isEmpty ? "" : " — " + question.warnings.joined(separator: ", ")) + "? y/n"
            buffer.fill(area, " ", palette.warning)
            buffer.write(TextFit.words(text, width: area.width), in: area, palette.warning.adding(.reverse))
            return
        }
        if !rows.isEmpty, let problem = rows[selected].info.problem {
            buffer.write(TextFit.words("unreadable: " + problem, width: area.width), in: area, palette.error)
        } else if let error = data.error {
            buffer.write(TextFit.words(error, width: area.width), in: area, palette.error)
        } else if !view.marked.isEmpty {
            // The keys themselves are on the hint line while this pane has focus.
            buffer.write(TextFit.words("\(view.marked.count) marked (x): mark another to compare", width: area.width), in: area, palette.muted)
        } else if !view.overlays.isEmpty {
            let n = view.overlays.count
            buffer.write(TextFit.words("\(n) run\(n == 1 ? "" : "s") overlaid on the loss chart (a on a row adds or removes)", width: area.width),
                         in: area, palette.muted)
        } else if !focused {
            buffer.write(TextFit.words("c or a click focuses the browser", width: area.width), in: area, palette.muted)
        }
    }

    /// The selected run's train loss over its steps, the selected checkpoint's step marked.
    private func renderCurve(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 3 else { return }
        let (title, chart) = area.splitTop(1)
        let row = rows[selected]
        buffer.write("train loss · " + TextFit.middle(row.info.run, width: max(1, title.width - 13)), in: title, palette.title)
        guard data.lossRunPath == row.runPath, data.losses.count >= 2 else {
            buffer.write(TextFit.words("no metrics yet", width: chart.width), in: chart, palette.muted)
            return
        }
        let xs = data.losses.map { Double($0.step) }, ys = data.losses.map { Double($0.loss) }
        var series: [LineChart.Series] = [.init(name: "train", xs: xs, ys: ys, color: palette.color(.trainLoss))]
        if let at = data.losses.last(where: { $0.step <= row.info.step }) {
            series.append(.init(name: "step \(row.info.step)", xs: [Double(at.step)], ys: [Double(at.loss)],
                                color: palette.color(.warning), markers: true, joinMarkers: false))
        }
        LineChart(series: series, logY: false, labelStyle: palette.label, axisStyle: palette.border).render(into: &buffer, area: chart)
    }

    static func loss(_ value: Float?) -> String {
        guard let value else { return "—" }
        return value.isFinite ? String(format: "%.3f", value) : "\(value)"
    }

    static func age(_ seconds: TimeInterval) -> String { CheckpointCatalog.age(seconds) }

    static func size(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes)B" }
        if bytes < 1_000_000 { return String(format: "%.0fkB", Double(bytes) / 1e3) }
        if bytes < 1_000_000_000 { return String(format: "%.1fMB", Double(bytes) / 1e6) }
        return String(format: "%.1fGB", Double(bytes) / 1e9)
    }
}

private extension String {
    func leftPad(_ width: Int) -> String {
        let n = unicodeScalars.count
        return n >= width ? " " + self : String(repeating: " ", count: width - n) + self
    }
}
