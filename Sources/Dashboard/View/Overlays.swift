import TerminalUI
/// Boxes drawn over the panes: help, the quit prompt, the "saving…" notice while quitting.
enum Overlays {
    private enum HelpLine {
        case blank
        case title(String)
        case binding(keys: String, summary: String)
    }

    /// The help overlay, generated from the keymap table. A summary too long for the box wraps
    /// onto lines of its own, indented under the summary column (never cut).
    static func help(into buffer: inout CellBuffer, screen: Rect, scroll: Int, palette: Palette) {
        let sections = Keymap.helpSections()
        let keyWidth = sections.flatMap { $0.lines.map(\.keys.unicodeScalars.count) }.max() ?? 0
        let summaryWidth = sections.flatMap { $0.lines.map(\.summary.unicodeScalars.count) }.max() ?? 0
        let boxWidth = min(screen.width, 2 + keyWidth + 2 + summaryWidth + 4)
        let room = max(10, boxWidth - 4 - 2 - keyWidth - 2)
        var lines: [HelpLine] = []
        for (i, section) in sections.enumerated() {
            if i > 0 { lines.append(.blank) }
            lines.append(.title(section.title))
            for line in section.lines {
                let wrapped = ScrollingText.wrap(line.summary, width: room).map { $0.trimmingCharacters(in: .whitespaces) }
                for (n, part) in wrapped.enumerated() {
                    lines.append(.binding(keys: n == 0 ? line.keys : "", summary: part))
                }
            }
        }
        let box = screen.centered(width: boxWidth, height: lines.count + 2)
        let inner = box.inset(dx: 2, dy: 1)
        let first = min(max(0, scroll), max(0, lines.count - inner.height))
        let more = first + inner.height < lines.count
        palette.pane("Keys", trailing: more ? "↓ more · ? closes" : "? closes", focused: true).render(into: &buffer, area: box)
        for (row, line) in lines.dropFirst(first).enumerated() where row < inner.height {
            switch line {
            case .blank:
                break
            case .title(let title):
                buffer.write(TextFit.words(title, width: inner.width), in: inner, row: row, palette.title)
            case .binding(let keys, let summary):
                let y = inner.y + row
                buffer.write(TextFit.words(keys, width: inner.width - 2), x: inner.x + 2, y: y, palette.highlight)
                let summaryX = inner.x + 2 + keyWidth + 2
                buffer.write(TextFit.words(summary, width: inner.maxX - summaryX), x: summaryX, y: y, palette.text)
            }
        }
    }

    static func quitPrompt(into buffer: inout CellBuffer, screen: Rect, palette: Palette) {
        message(into: &buffer, screen: screen, palette: palette, title: "Quit?", lines: [
            "Training is still running.",
            "Stop it, save a checkpoint and quit?",
            "",
            "y  yes, quit      n  no, keep training",
        ])
    }

    /// The question `r` asks: what resuming does to the current run and to later checkpoints.
    static func resumePrompt(_ question: ResumeConfirmation, into buffer: inout CellBuffer, screen: Rect, palette: Palette) {
        var lines = ["Resume \(question.run) from step \(question.step)?"]
        if question.stopsCurrentRun { lines.append("The run training now stops and saves a checkpoint first.") }
        if question.laterSteps.isEmpty {
            lines.append("It is the run's newest checkpoint: nothing is set aside.")
        } else {
            let steps = question.laterSteps.count <= 4
                ? question.laterSteps.map(String.init).joined(separator: ", ")
                : "\(question.laterSteps.first!) … \(question.laterSteps.last!)"
            lines.append("Its \(question.laterSteps.count) later checkpoint\(question.laterSteps.count == 1 ? "" : "s") (step\(question.laterSteps.count == 1 ? "" : "s") \(steps)) and their metrics")
            lines.append("move to checkpoints/abandoned-from-step-\(String(format: "%06d", question.step))/ (kept, not listed).")
        }
        lines += ["", "y  yes, resume      n  no"]
        message(into: &buffer, screen: screen, palette: palette, title: "Resume?", lines: lines)
    }

    static func shuttingDown(into buffer: inout CellBuffer, screen: Rect, palette: Palette) {
        message(into: &buffer, screen: screen, palette: palette, title: "Stopping", lines: [
            "saving… waiting for the trainer to checkpoint and stop.",
            "Ctrl-C again quits without waiting.",
        ])
    }

    private static func message(into buffer: inout CellBuffer, screen: Rect, palette: Palette, title: String, lines: [String]) {
        let width = (lines.map(\.unicodeScalars.count).max() ?? 0) + 4
        let box = screen.centered(width: width, height: lines.count + 2)
        palette.pane(title, focused: true).render(into: &buffer, area: box)
        let inner = box.inset(dx: 2, dy: 1)
        for (row, line) in lines.enumerated() {
            buffer.write(TextFit.words(line, width: inner.width), in: inner, row: row, palette.text)
        }
    }

    /// Replaces the whole dashboard when the terminal is below the minimum size. It still
    /// answers the quit prompt, since `q` must work at any size.
    static func tooSmall(into buffer: inout CellBuffer, screen: Rect, ui: UIState, palette: Palette) {
        let lines: [String]
        if ui.shutdown == .waitingForTrainer {
            lines = ["saving…", "Ctrl-C: quit now"]
        } else if ui.confirmingQuit {
            lines = ["Stop training", "and quit? y/n"]
        } else {
            lines = ["Terminal too small",
                     "need \(DashboardLayout.minimumWidth)×\(DashboardLayout.minimumHeight)",
                     "have \(screen.width)×\(screen.height)",
                     "q quits"]
        }
        let box = screen.centered(width: screen.width, height: lines.count)
        for (row, line) in lines.enumerated() {
            buffer.write(TextFit.words(line, width: box.width), in: box, row: row, alignment: .center, row == 0 ? palette.warning : palette.text)
        }
    }
}
