import Foundation
import Training
import TerminalUI

/// Measures the cost of drawing the dashboard, for `nanoscope bench` and for checking the
/// budget (a 200×60 frame in well under 5 ms, so the UI costs training little).
///
/// The run it draws is synthetic and exists only inside this measurement; it is never shown.
public enum DashboardBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var width: Int
        public var height: Int
        public var steps: Int
        public var frames: Int
        /// Mean time to render one frame and diff it against the previous one.
        public var perFrame: Duration
        /// Mean number of cells a backend had to write per frame.
        public var changedCellsPerFrame: Int

        public var description: String {
            let ms = Double(perFrame.components.attoseconds) / 1e15 + Double(perFrame.components.seconds) * 1000
            return String(format: "%d×%d, %d steps: %.3f ms per frame, %d changed cells per frame (%d frames)",
                          width, height, steps, ms, changedCellsPerFrame, frames)
        }
    }

    /// Renders `frames` frames of a run with `steps` steps, one new step per frame, and presents
    /// each to an in-memory terminal (which diffs cells exactly as the ncurses backend does).
    public static func run(width: Int = 200, height: Int = 60, steps: Int = 5_000, frames: Int = 200) -> Result {
        var snapshot = TrainingSnapshot(runName: "benchmark", maxSteps: steps + frames)
        snapshot.state = .running
        func point(_ i: Int) -> TrainingSnapshot.StepPoint {
            let t = Double(i)
            let loss = 1.5 + 2.7 * exp(-t / 800) + 0.08 * sin(t * 1.7)
            return .init(step: i, loss: Float(loss), lr: Float(1e-3 * (0.55 + 0.45 * cos(t / Double(steps + frames) * .pi))), gradNorm: 1)
        }
        snapshot.steps = (1...max(1, steps)).map(point)
        snapshot.evals = stride(from: 250, through: steps, by: 250).map { .init(step: $0, trainLoss: 2, valLoss: 2.1) }
        snapshot.tokensPerSecond = 24_000
        let backend = MemoryBackend(width: width, height: height)
        backend.keepsFrames = false
        let theme = Theme.builtInDefault
        let ui = UIState()
        var changed = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for f in 0..<max(1, frames) {
                snapshot.steps.append(point(steps + f + 1))
                snapshot.step = steps + f + 1
                let frame = DashboardView.render(snapshot: snapshot, ui: ui, theme: theme, colorMode: .truecolor,
                                                 width: width, height: height)
                backend.present(frame)
                changed += backend.cellsWrittenLastFrame
            }
        }
        return Result(width: width, height: height, steps: steps, frames: max(1, frames),
                      perFrame: elapsed / max(1, frames), changedCellsPerFrame: changed / max(1, frames))
    }
}
