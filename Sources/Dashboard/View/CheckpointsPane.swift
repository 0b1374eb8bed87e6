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
            buffer.write("no runs folder", in: inner.centered(width: inner.width, height: 1), alignment: .center, palette.muted)
            return
        }
        var body = inner
        // The bottom line: the delete question, else the selection's problem or where the list comes from.
        if body.height >= 3 {
            let (rest, bottom) = body.splitBottom(1)
            body = rest
            renderFooter(into: &buffer, area: bottom)
        }
        if rows.isEmpty {
            let message = data.error ?? (view.filter.isEmpty ? "no checkpoints yet in \(data.folder ?? "")" : "nothing matches /\(view.filter)")
            buffer.write(message, in: body, data.error == nil ? palette.muted : palette.error)
            return
        }
        var listArea = body
        if body.height >= 12 {
            let parts = body.rows(weights: [3, 2])
            listArea = parts[0]
            renderCurve(into: &buffer, area: parts[1])
        }
        renderList(into: &buffer, area: listArea)
    }

    private var selected: Int { min(max(0, view.selected), max(0, rows.count - 1)) }

    private func renderList(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 2 else { return }
        let (header, list) = area.splitTop(1)
        let runWidth = max(6, min(18, area.width - 40))
        func line(_ run: String, _ step: String, _ train: String, _ val: String, _ age: String, _ size: String) -> String {
            run.padding(toLength: runWidth, withPad: " ", startingAt: 0)
                + [step.leftPad(7), train.leftPad(7), val.leftPad(7), age.leftPad(5), size.leftPad(8)].joined()
        }
        buffer.write("  " + line("run", "step", "train", "val", "age", "size"), in: header, palette.title)
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
            buffer.write((isSelected ? "▶" : " ") + mark + line(info.run, String(info.step), Self.loss(info.trainLoss),
                                                                Self.loss(info.valLoss), age, Self.size(info.sizeBytes)),
                         in: rect, style)
        }
    }

    private func renderFooter(into buffer: inout CellBuffer, area: Rect) {
        if let question = view.confirmingDelete {
            let text = question.stage == 2
                ? "\(question.label) is the run's ONLY checkpoint. Really delete it? y/n"
                : "delete \(question.label)" + (question.onlyCheckpoint ? " (the run's only checkpoint)" : "") + "? y/n"
            buffer.fill(area, " ", palette.warning)
            buffer.write(text, in: area, palette.warning.adding(.reverse))
            return
        }
        if !rows.isEmpty, let problem = rows[selected].info.problem {
            buffer.write("unreadable: " + problem, in: area, palette.error)
        } else if let error = data.error {
            buffer.write(error, in: area, palette.error)
        } else {
            let marks = view.marked.isEmpty ? "" : " · \(view.marked.count) marked (x)"
            buffer.write("Enter sample · r resume · d delete · x compare\(marks)", in: area, palette.muted)
        }
    }

    /// The selected run's train loss over its steps, the selected checkpoint's step marked.
    private func renderCurve(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 3 else { return }
        let (title, chart) = area.splitTop(1)
        let row = rows[selected]
        buffer.write("train loss · \(row.info.run)", in: title, palette.title)
        guard data.lossRunPath == row.runPath, data.losses.count >= 2 else {
            buffer.write("no metrics yet", in: chart, palette.muted)
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
