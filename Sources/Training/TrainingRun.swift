import Foundation
import GPT
import Kernels
import Tokenizers

/// One training run from start (or resume) to finish: the trainer plus its schedule of
/// evaluations, and the events a front end shows (progress bar or dashboard).
///
/// Runs on whatever thread calls `run`; between steps it asks `control` what to do, so pausing,
/// saving and stopping happen only at step boundaries, never mid-update.
public final class TrainingRun {
    public enum Event: Sendable {
        case step(Trainer.StepResult, tokensPerSecond: Double)
        case evaluation(Trainer.Evaluation)
        case checkpoint(path: String)
        case message(String)
    }

    /// What the loop should do next, asked between steps.
    public enum Directive: Sendable, Equatable {
        case proceed
        case pause
        case save
        case stop
    }

    public let trainer: Trainer
    public let name: String
    private var tokenTimes: [(tokens: Int, seconds: Double)] = []

    public init(trainer: Trainer, name: String) {
        self.trainer = trainer
        self.name = name
    }

    /// Smoothed throughput over the last 20 steps.
    private func throughput(adding result: Trainer.StepResult) -> Double {
        tokenTimes.append((trainer.config.tokensPerStep, result.seconds))
        if tokenTimes.count > 20 { tokenTimes.removeFirst(tokenTimes.count - 20) }
        let t = tokenTimes.reduce(0) { $0 + $1.seconds }
        return t > 0 ? Double(tokenTimes.reduce(0) { $0 + $1.tokens }) / t : 0
    }

    /// Trains until `max_iters` or a stop directive. `next` is polled between steps (and while
    /// paused, every 20 ms); `emit` receives every event on this thread.
    public func run(next: () -> Directive, emit: (Event) -> Void) throws(TrainingError) {
        let cfg = trainer.config
        if trainer.step == 0 && cfg.evalInterval > 0 { emit(.evaluation(trainer.evaluate())) }
        loop: while !trainer.isFinished {
            switch next() {
            case .stop: break loop
            case .pause:
                Thread.sleep(forTimeInterval: 0.02)
                continue loop
            case .save, .proceed: break
            }
            let result = try trainer.trainStep()
            if result.skipped {
                emit(.message("step \(result.step): non-finite loss or gradient (loss \(result.loss), norm \(result.gradNorm)); update skipped"))
            }
            emit(.step(result, tokensPerSecond: throughput(adding: result)))
            if cfg.evalInterval > 0 && (trainer.step % cfg.evalInterval == 0 || trainer.isFinished) {
                emit(.evaluation(trainer.evaluate()))
            }
        }
    }
}
