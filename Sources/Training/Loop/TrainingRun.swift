import Foundation
import GPT
import Kernels
import Tokenizers

/// One training run from start (or resume) to finish: the trainer plus its schedule of
/// evaluations, metrics and checkpoints, and the events a front end shows (progress bar or
/// dashboard).
///
/// Runs on whatever thread calls `run`; between steps it asks `next` what to do, so pausing,
/// saving and stopping happen only at step boundaries, never mid-update.
///
/// With a `recorder`, the run keeps its files (see `RunDirectory`):
/// - a `metrics.jsonl` line every `log_interval` steps, at every evaluation, and at the last step;
/// - a checkpoint every `checkpoint_interval` steps and at the end (evaluated first, so the file
///   carries its train/val loss), and on request (`.save`), on `.stop`, and when training fails
///   (written at once, with losses only if an evaluation happened at that step);
/// - after each checkpoint, retention (`keep_checkpoints` newest plus the best by val loss).
/// A failed write (full disk, unwritable folder) is reported as a `.message` and changes nothing
/// in memory: training goes on, and the next save tries again.
public final class TrainingRun {
    public enum Event: Sendable {
        case step(Trainer.StepResult, tokensPerSecond: Double)
        case evaluation(Trainer.Evaluation)
        /// A checkpoint was written (the weights file's path).
        case checkpoint(path: String)
        case message(String)
    }

    /// What the loop should do next, asked between steps.
    public enum Directive: Sendable, Equatable {
        case proceed
        case pause
        /// Write a checkpoint now, then ask again. Answer it once per request: the loop does not
        /// take a step in between, so a `next` that kept answering `.save` would never train.
        case save
        /// Write a checkpoint (unless this step is already saved) and return.
        case stop
    }

    public let trainer: Trainer
    public let name: String
    /// Where metrics and checkpoints go; nil keeps nothing on disk (benchmarks, loop tests).
    public let recorder: RunRecorder?
    private var tokenTimes: [(tokens: Int, seconds: Double)] = []
    private var lastEvaluation: Trainer.Evaluation?
    /// The step whose checkpoint is on disk (a resumed run starts with its checkpoint's step).
    private var savedStep: Int?
    /// Seconds spent training (steps and evaluations, not pauses) in this session.
    private var activeSeconds = 0.0

    public init(trainer: Trainer, name: String, recorder: RunRecorder? = nil) {
        self.trainer = trainer
        self.name = name
        self.recorder = recorder
        savedStep = trainer.step > 0 ? trainer.step : nil
    }

    /// Smoothed throughput over the last 20 steps.
    private func throughput(adding result: Trainer.StepResult) -> Double {
        tokenTimes.append((trainer.config.tokensPerStep, result.seconds))
        if tokenTimes.count > 20 { tokenTimes.removeFirst(tokenTimes.count - 20) }
        let t = tokenTimes.reduce(0) { $0 + $1.seconds }
        return t > 0 ? Double(tokenTimes.reduce(0) { $0 + $1.tokens }) / t : 0
    }

    /// Trains until `max_iters` or a stop directive. `next` is polled between steps (and while
    /// paused, every 20 ms); `emit` receives every event on this thread. Ends with the run's
    /// progress saved (when it has a recorder), also when it throws.
    public func run(next: () -> Directive, emit: (Event) -> Void) throws(TrainingError) {
        // Nothing is written after the run ends: the folder is free for the next trainer (the
        // dashboard resumes runs in this same process).
        defer { recorder?.lock?.release() }
        let cfg = trainer.config
        if trainer.step == 0 && cfg.evalInterval > 0 {
            let e = evaluate(emit)
            record(MetricsRecord(step: 0, valLoss: e.valLoss, time: clock), emit)
        }
        loop: while !trainer.isFinished {
            // Data-parallel ranks all do what rank 0 (the one with the terminal) decides.
            switch trainer.dataParallel.map({ $0.agree(on: next) }) ?? next() {
            case .stop: break loop
            case .pause:
                Thread.sleep(forTimeInterval: 0.02)
                continue loop
            case .save:
                // A save asked for between evaluations is evaluated first, so the file (and the
                // browser's list) carries the losses of its own weights. The condition depends only
                // on state every data-parallel rank shares, since evaluation is collective.
                if cfg.evalInterval > 0 && trainer.step > 0 && lastEvaluation?.step != trainer.step { _ = evaluate(emit) }
                saveCheckpoint(emit)
                continue loop
            case .proceed: break
            }
            let result: Trainer.StepResult
            do { result = try trainer.trainStep() } catch {
                if case .interrupted = error { break loop }  // a stop request between micro-batches
                saveCheckpoint(emit)  // the weights are the last finite ones: worth keeping
                throw error
            }
            activeSeconds += result.seconds
            if result.nonFiniteUpdate {
                emit(.message("step \(result.step): the update would make weights non-finite (lr \(result.lr), gradient norm \(result.gradNorm)); update skipped"))
            } else if result.overflowed {
                emit(.message("step \(result.step): float16 gradients overflowed at loss scale \(result.lossScale ?? 1); step skipped, scale halved"))
            } else if result.skipped {
                emit(.message("step \(result.step): non-finite loss or gradient (loss \(result.loss), norm \(result.gradNorm)); update skipped"))
            }
            let tokensPerSecond = throughput(adding: result)
            emit(.step(result, tokensPerSecond: tokensPerSecond))

            let step = trainer.step
            // Ranks other than 0 keep no files but evaluate whenever rank 0 does (evaluation is shared).
            let checkpointDue = (recorder != nil || trainer.dataParallel != nil) && cfg.checkpointInterval > 0 && step % cfg.checkpointInterval == 0
            // A scheduled checkpoint is evaluated first, so its file carries the losses of its weights.
            let evaluationDue = cfg.evalInterval > 0 && (step % cfg.evalInterval == 0 || trainer.isFinished || checkpointDue)
            let evaluation = evaluationDue ? evaluate(emit) : nil
            if evaluation != nil || trainer.isFinished || (cfg.logInterval > 0 && step % cfg.logInterval == 0) {
                var r = MetricsRecord(step: step, trainLoss: result.loss, valLoss: evaluation?.valLoss, lr: result.lr,
                                      gradNorm: result.gradNorm, tokensPerSecond: tokensPerSecond, time: clock)
                r.dtype = cfg.dtype.rawValue
                r.lossScale = trainer.lossScaler?.scale
                r.skippedSteps = trainer.lossScaler?.skippedSteps
                record(r, emit)
            }
            if checkpointDue { saveCheckpoint(emit) }
        }
        // The end of the run, or a stop: skipped if this step is saved already. If it cannot be
        // saved, the run has failed — say where its last good checkpoint is.
        if let failure = saveCheckpoint(emit) {
            let lastGood = (try? recorder?.directory.latestLoadableCheckpoint())?.flatMap { $0 }
            throw TrainingError.saveFailed(step: trainer.step, reason: failure, lastGood: lastGood?.path)
        }
    }

    private func evaluate(_ emit: (Event) -> Void) -> Trainer.Evaluation {
        let start = DispatchTime.now().uptimeNanoseconds
        let e = trainer.evaluate()
        activeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lastEvaluation = e
        emit(.evaluation(e))
        return e
    }

    /// Training time of the whole run, across resumes.
    private var clock: Double { (recorder?.previousSeconds ?? 0) + activeSeconds }

    /// Metrics are a convenience: a failed append is reported once and does not stop training.
    private var metricsFailureReported = false

    private func record(_ r: MetricsRecord, _ emit: (Event) -> Void) {
        guard let recorder else { return }
        do {
            try recorder.log(r)
            metricsFailureReported = false
        } catch {
            if !metricsFailureReported { emit(.message("metrics not written: \(error)")) }
            metricsFailureReported = true
        }
    }

    /// Writes the checkpoint of the current step (if it is not on disk already) and prunes.
    /// Returns why it failed, or nil.
    @discardableResult
    private func saveCheckpoint(_ emit: (Event) -> Void) -> String? {
        guard trainer.step > 0 else { return nil }
        // Under ZeRO-1 every rank reaches this point together and takes part in gathering the
        // optimizer state, whether or not it writes the file.
        trainer.gatherMoments()
        defer { trainer.releaseGatheredMoments() }
        guard let recorder, savedStep != trainer.step else { return nil }
        let info: CheckpointInfo
        do {
            info = try recorder.saveCheckpoint(trainer, evaluation: lastEvaluation)
        } catch {
            emit(.message("checkpoint at step \(trainer.step) failed: \(error) — training continues; the next save will try again"))
            return error.description
        }
        savedStep = trainer.step
        emit(.checkpoint(path: info.path))
        do {
            try recorder.prune(throughStep: trainer.step)
        } catch {
            emit(.message("could not delete old checkpoints: \(error)"))
        }
        return nil
    }
}
