import Training
import TerminalUI

/// The top line: run state, progress and the latest numbers.
///
/// Fields are dropped from the least important up when the terminal is narrow, so what remains
/// is always whole and the state and step are the last to go.
struct StatusBar: Widget {
    var snapshot: TrainingSnapshot
    var shuttingDown: Bool
    var palette: Palette

    /// (text, priority, style); lower priority values survive longer.
    func fields() -> [(text: String, priority: Int, style: Style)] {
        let s = snapshot
        let status = palette.status
        let stateStyle: Style
        let stateText: String
        switch s.state {
        case .starting: stateText = "… starting"; stateStyle = status
        case .running: stateText = "▶ running"; stateStyle = status.with(fg: palette.color(.running)).adding(.bold)
        case .paused: stateText = "‖ paused"; stateStyle = status.with(fg: palette.color(.paused)).adding(.bold)
        case .evaluating: stateText = "◆ evaluating"; stateStyle = status.with(fg: palette.color(.running))
        case .finished: stateText = "■ finished"; stateStyle = status.adding(.bold)
        case .failed: stateText = "✗ failed"; stateStyle = status.with(fg: palette.color(.error)).adding(.bold)
        case .idle: stateText = "○ no training"; stateStyle = status
        }
        var result: [(String, Int, Style)] = []
        result.append((shuttingDown ? "saving…" : stateText, 0, shuttingDown ? status.with(fg: palette.color(.warning)).adding(.bold) : stateStyle))
        result.append((s.runName, 5, status.adding(.bold)))
        let percent = s.maxSteps > 0 ? String(format: " %.0f%%", 100 * Double(s.step) / Double(s.maxSteps)) : ""
        result.append(("step \(s.step)/\(s.maxSteps)\(percent)", 1, status))
        result.append(("loss \(Format.loss(s.latestLoss))", 2, status.with(fg: palette.color(.trainLoss))))
        result.append(("val \(Format.loss(s.latestValLoss))", 3, status.with(fg: palette.color(.valLoss))))
        if let accuracy = s.latestTaskAccuracy {
            result.append((String(format: "acc %.1f%%", 100 * accuracy), 3, status.with(fg: palette.color(.valLoss))))
        }
        result.append(("\(Format.rate(s.tokensPerSecond)) tok/s", 4, status))
        result += ClusterSection.fields(s.cluster, palette: palette)  // data-parallel runs only
        result.append(("lr \(Format.learningRate(s.latestLR))", 6, status.with(fg: palette.color(.learningRate))))
        var time = "\(Format.duration(s.elapsed))"
        if let eta = s.eta, s.state.isActive { time += " · ETA \(Format.duration(eta))" }
        result.append((time, 7, status))
        return result
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.fill(area, " ", palette.status)
        var shown = fields()
        let separator = " │ "
        func width(_ f: [(text: String, priority: Int, style: Style)]) -> Int {
            f.reduce(0) { $0 + $1.text.unicodeScalars.count } + max(0, f.count - 1) * 3 + 2
        }
        while shown.count > 1 && width(shown) > area.width {
            let drop = shown.indices.max { shown[$0].priority < shown[$1].priority }!
            shown.remove(at: drop)
        }
        var x = area.x + 1
        for (i, field) in shown.enumerated() {
            if i > 0 { x += buffer.write(separator, x: x, y: area.y, maxWidth: area.maxX - x, palette.status.with(fg: palette.color(.divider))) }
            x += buffer.write(field.text, x: x, y: area.y, maxWidth: area.maxX - x, field.style)
        }
    }
}
