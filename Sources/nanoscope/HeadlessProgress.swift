import Foundation
import Training

/// The progress line of a headless run on stderr:
///
///     step  420/2000 [████████░░░░░░░░░░░░] loss 1.9876 | 41.2k tok/s | lr 9.87e-04 | ETA 1m05s
///
/// On a terminal it redraws in place; into a file or pipe it prints a line every `log_interval`
/// steps, plus every evaluation.
struct HeadlessProgress {
    let maxSteps: Int
    let logInterval: Int
    let isTTY = isatty(STDERR_FILENO) == 1
    var lastLine = ""
    var lastDraw = 0.0

    init(maxSteps: Int, logInterval: Int) {
        self.maxSteps = maxSteps
        self.logInterval = max(1, logInterval)
    }

    mutating func show(_ r: Trainer.StepResult, tokensPerSecond: Double, tokensPerStep: Int) {
        let remaining = Double(maxSteps - r.step) * Double(tokensPerStep) / max(tokensPerSecond, 1)
        let line = String(format: "step %\(String(maxSteps).count)d/%d %@ loss %.4f | %@ tok/s | lr %.2e | ETA %@",
                          r.step, maxSteps, Self.bar(Double(r.step) / Double(max(1, maxSteps))), r.loss,
                          Self.compact(tokensPerSecond), r.lr, Self.duration(remaining))
        if isTTY {
            let now = Date().timeIntervalSince1970
            if now - lastDraw > 0.1 || r.step == maxSteps {
                writeStandardError("\r\u{1B}[2K" + line)
                lastDraw = now
            }
            lastLine = line
        } else if r.step % logInterval == 0 || r.step == maxSteps {
            printErr(line)
        }
    }

    mutating func note(_ text: String) {
        if isTTY { writeStandardError("\r\u{1B}[2K" + text + "\n" + lastLine) } else { printErr(text) }
    }

    func finish() { if isTTY { writeStandardError("\n") } }

    static func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "█", count: max(0, min(width, filled))) + String(repeating: "░", count: max(0, width - filled)) + "]"
    }

    static func compact(_ x: Double) -> String {
        x >= 1e6 ? String(format: "%.2fM", x / 1e6) : x >= 1e3 ? String(format: "%.1fk", x / 1e3) : String(format: "%.0f", x)
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--" }
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}
