import Foundation
import GPT
import Training
import TerminalUI

/// The top line: run state, progress and the latest numbers; in browse mode the selected run
/// and checkpoint.
///
/// Fields are dropped from the least important up when the terminal is narrow (`TextFit.parts`),
/// so what remains is always whole and the state and step are the last to go.
struct StatusBar: Widget {
    var snapshot: TrainingSnapshot
    var shuttingDown: Bool
    var palette: Palette
    /// Browse mode: the checkpoint selected in the browser (nil while training).
    var browsing: BrowserRow? = nil
    var model: ModelFacts? = nil
    var residentBytes: Int? = nil

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
        case .idle: stateText = "○ browsing"; stateStyle = status
        }
        var result: [(String, Int, Style)] = []
        result.append((shuttingDown ? "saving…" : stateText, 0, shuttingDown ? status.with(fg: palette.color(.warning)).adding(.bold) : stateStyle))
        if s.state == .idle {
            guard let row = browsing else {
                result.append(("no checkpoint selected", 1, status))
                result.append((memory, 8, status))
                return result
            }
            let info = row.info
            result.append((info.run, 1, status.adding(.bold)))
            result.append(("checkpoint step \(info.step)", 1, status))
            if let train = info.trainLoss { result.append(("train \(Format.loss(train))", 3, status.with(fg: palette.color(.trainLoss)))) }
            if let val = info.valLoss { result.append(("val \(Format.loss(val))", 2, status.with(fg: palette.color(.valLoss)))) }
            if !s.steps.isEmpty { result.append(("run of \(s.steps.last?.step ?? 0) steps", 4, status)) }
            result.append(("\(row.checkpointsInRun) checkpoint\(row.checkpointsInRun == 1 ? "" : "s") in run", 6, status))
            result.append((memory, 8, status))
            return result
        }
        result.append((s.runName, 5, status.adding(.bold)))
        let percent = s.maxSteps > 0 ? String(format: " %.0f%%", 100 * Double(s.step) / Double(s.maxSteps)) : ""
        result.append(("step \(s.step)/\(s.maxSteps)\(percent)", 1, status))
        // One batch's loss, labelled so: checkpoints and evals report a mean over eval batches.
        result.append(("batch loss \(Format.loss(s.latestLoss))", 2, status.with(fg: palette.color(.trainLoss))))
        result.append(("val \(Format.loss(s.latestValLoss))", 3, status.with(fg: palette.color(.valLoss))))
        if let accuracy = s.latestTaskAccuracy {
            result.append((String(format: "acc %.1f%%", 100 * accuracy), 3, status.with(fg: palette.color(.valLoss))))
        }
        // A rate only while steps are being taken: paused, it would be stale.
        if s.state == .running || s.state == .evaluating {
            result.append(("\(Format.rate(s.tokensPerSecond)) tok/s", 4, status))
        }
        result += ClusterSection.fields(s.cluster, palette: palette)  // data-parallel runs only
        result.append(("lr \(Format.learningRate(s.latestLR))", 6, status.with(fg: palette.color(.learningRate))))
        result += precisionFields()
        var time = "\(Format.duration(s.elapsed))"
        if let eta = s.eta, s.state.isActive { time += " · ETA \(Format.duration(eta))" }
        result.append((time, 7, status))
        if let model { result.append((Format.parameters(model.parameters) + " params", 8, status)) }
        result.append((memory, 9, status))
        return result
    }

    /// The dtype, and for float16 the loss scale S and the steps skipped for an overflow:
    /// "float16 │ scale 65536 │ skipped 3". A 16-bit run's dtype and scale stay as long as the
    /// throughput does (float32, the default, is among the first to drop); float16 without loss
    /// scaling says so instead of a scale.
    func precisionFields() -> [(text: String, priority: Int, style: Style)] {
        let s = snapshot, status = palette.status
        var result: [(String, Int, Style)] = [(s.dtype.rawValue, s.dtype == .float32 ? 8 : 4, status)]
        guard s.dtype == .float16 else { return result }
        guard let scale = s.lossScale else {
            result.append(("no loss scaling", 4, status.with(fg: palette.color(.warning))))
            return result
        }
        result.append(("scale \(Format.lossScale(scale))", 4, status))
        result.append(("skipped \(s.skippedSteps)", 5, s.skippedSteps > 0 ? status.with(fg: palette.color(.warning)) : status))
        return result
    }

    /// "mem 76 MB est · 120 MB RSS": the estimate from the config next to what the process holds.
    var memory: String {
        var parts: [String] = []
        if let bytes = model?.estimatedBytes { parts.append("\(MemoryEstimate.format(bytes: bytes)) est") }
        if let rss = residentBytes { parts.append("\(MemoryEstimate.format(bytes: rss)) RSS") }
        return parts.isEmpty ? "" : "mem " + parts.joined(separator: " · ")
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        buffer.fill(area, " ", palette.status)
        let all = fields().filter { !$0.text.isEmpty }
        let separator = " │ "
        let kept = TextFit.parts(all.map { ($0.text, $0.priority) }, separator: separator, width: area.width - 2)
        var x = area.x + 1
        for (i, index) in kept.enumerated() {
            if i > 0 { x += buffer.write(separator, x: x, y: area.y, palette.status.with(fg: palette.color(.divider))) }
            x += buffer.write(all[index].text, x: x, y: area.y, all[index].style)
        }
    }
}
