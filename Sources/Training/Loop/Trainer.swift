import Foundation
import GPT
import Kernels
import Tokenizers

/// The training loop of nanoGPT's `train.py`, one optimizer step at a time:
///
///     for each micro-batch (gradient_accumulation_steps of them):
///         loss = model(x, y) / accumulation_steps;  loss.backward()
///     clip the global gradient norm;  lr = schedule(step);  AdamW update;  zero the gradients
///
/// A step whose loss or gradient norm is not finite is skipped entirely (the weights and the
/// optimizer's moments stay as they were) and reported; `max_bad_steps` of them in a row stop
/// the run. All randomness (batches, dropout) is derived from seeds and the step number, so a
/// run resumed from a checkpoint takes exactly the steps the uninterrupted run would have.
public final class Trainer {
    public let config: TrainConfig
    public let model: GPT
    public let optimizer: AdamW
    public let dataset: Dataset
    /// Optimizer steps completed.
    public private(set) var step = 0
    /// The stream that draws training batches (saved in checkpoints for exact resume).
    public var batchRNG: RandomNumbers
    public private(set) var consecutiveBadSteps = 0
    /// Test seam: runs after the backward pass, before the gradient norm is taken.
    public var afterBackward: ((GPT) -> Void)?
    /// Gradient statistics, update/data ratios and attention maps every `telemetry_interval`
    /// steps, for whoever watches (dashboard, `--telemetry`); nil, the default, costs nothing.
    public var telemetry: TelemetryCollector?
    /// True when the optimizer left the gradients at zero (it clears them as it reads them), so
    /// the next step need not. A skipped (non-finite) step leaves them as they are.
    private var gradientsCleared = false
    /// float16 with `loss_scaling` on: GradScaler's dynamic loss scale (nil otherwise). A step
    /// whose scaled gradients overflow is skipped and the scale halved; that is the scaler at
    /// work, not a bad step, so it does not count towards `max_bad_steps`.
    public private(set) var lossScaler: LossScaler?

    public struct StepResult: Sendable, Equatable {
        public var step: Int
        public var loss: Float
        public var lr: Float
        public var gradNorm: Float
        /// The update was skipped because the loss or gradient norm was not finite.
        public var skipped: Bool
        public var seconds: Double
        /// Present on the steps the telemetry collector measures.
        public var telemetry: Telemetry? = nil
        /// The loss scale this step's backward pass used (float16 with loss scaling; else nil).
        public var lossScale: Float? = nil
        /// The step was skipped because the scaled gradients overflowed (the scale was halved).
        public var overflowed = false
    }

    public struct Evaluation: Sendable, Equatable {
        public var step: Int
        public var trainLoss: Float
        public var valLoss: Float
        /// Exact-match accuracy of greedy answers to held-out problems (synthetic tasks only).
        public var taskAccuracy: Float? = nil
    }

    public init(config: TrainConfig, dataset: Dataset, model: GPT? = nil) throws(ConfigError) {
        try config.validate()
        self.config = config
        self.dataset = dataset
        let modelConfig = config.modelConfig(vocabSize: dataset.tokenizer.vocabSize)
        if let model { self.model = model } else { self.model = try GPT(config: modelConfig, seed: UInt64(config.seed)) }
        self.model.memoryOptions = config.memoryOptions
        self.model.dtype = config.dtype
        if config.dtype == .float16 && config.lossScaling { lossScaler = LossScaler() }
        if self.model.config != modelConfig {
            throw ConfigError("the model's shape does not match the config")
        }
        optimizer = AdamW(layout: self.model.layout, beta1: config.beta1, beta2: config.beta2, weightDecay: config.weightDecay)
        batchRNG = RandomNumbers(seed: UInt64(config.seed) &+ 1)
    }

    /// Restores the counters of a resumed run (weights and moments are loaded separately).
    /// `optimizerStep` is AdamW's own count, which lags `step` by the skipped non-finite steps;
    /// nil means none were skipped.
    public func restore(step: Int, batchRNG: RandomNumbers, consecutiveBadSteps: Int = 0, optimizerStep: Int? = nil) {
        self.step = step
        self.batchRNG = batchRNG
        self.consecutiveBadSteps = consecutiveBadSteps
        optimizer.restore(step: optimizerStep ?? step)
    }

    /// Restores the loss scaler of a resumed float16 run (ignored when this run has none).
    public func restoreLossScaler(_ scaler: LossScaler) {
        if lossScaler != nil { lossScaler = scaler }
    }

    /// Learning rate of the next step.
    public var currentLR: Float { config.schedule.lr(at: step) }

    /// One optimizer step. Throws only when too many steps in a row were not finite.
    public func trainStep() throws(TrainingError) -> StepResult {
        let start = DispatchTime.now().uptimeNanoseconds
        let accum = config.gradientAccumulationSteps
        let lr = currentLR
        if !gradientsCleared { model.zeroGradients() }
        gradientsCleared = false
        var loss: Float = 0
        let lossScale = lossScaler?.scale ?? 1
        for micro in 0..<accum {
            let batch = dataset.batch(.train, batchSize: config.batchSize, blockSize: config.blockSize, rng: &batchRNG)
            let seed = Dropout.hash(UInt64(config.seed), UInt64(step * accum + micro))
            let l = model.forward(tokens: batch.inputs, targets: batch.targets, batch: config.batchSize,
                                  seqLen: config.blockSize, training: true, dropoutSeed: seed) ?? .nan
            loss += l / Float(accum)
            model.backward(lossScale: lossScale / Float(accum))
        }
        afterBackward?(model)
        // GradScaler's unscale_: the gradients of S·loss divided by S (an ∞ or NaN stays one).
        if lossScale != 1 { Buffers.scaleParallel(model.grads.pointer, 1 / lossScale, count: model.grads.count) }
        // Telemetry sees the gradient before clipping: the norm chart shows the clipping itself.
        var report = telemetry.flatMap { $0.isDue(step: step + 1) ? $0.beginStep(model: model, step: step + 1) : nil }
        // Clipping is applied inside the AdamW update (one pass over the gradients, not two).
        let norm = GradientClipping.norm(model.grads)
        let clipScale = GradientClipping.scale(norm: norm, maxNorm: config.gradClip)
        let skipped = !loss.isFinite || !norm.isFinite
        // An overflow of the scaled gradients (the loss itself finite) is the scaler's business.
        let overflowed = lossScaler != nil && loss.isFinite && !norm.isFinite
        lossScaler?.update(gradientsAreFinite: !skipped)
        if overflowed {
            // Skipped: weights and moments untouched, the scale halved (GradScaler.step/update).
        } else if skipped {
            consecutiveBadSteps += 1
            if consecutiveBadSteps >= max(1, config.maxBadSteps) {
                throw TrainingError.nonFinite(step: step, count: consecutiveBadSteps, loss: loss, gradNorm: norm)
            }
        } else {
            consecutiveBadSteps = 0
            optimizer.update(params: model.params, grads: model.grads, lr: lr, gradScale: clipScale,
                             clearingGradients: true)
            gradientsCleared = true
            model.parameterVersion += 1
        }
        step += 1
        if let collector = telemetry, report != nil {
            collector.finishUpdate(&report!, model: model, updated: !skipped)
            report!.attention = collector.attentionMaps(model: model, step: step)
        }
        // The telemetry's time counts: the throughput shown is what training really achieves.
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return StepResult(step: step, loss: loss, lr: lr, gradNorm: norm, skipped: skipped, seconds: seconds,
                          telemetry: report, lossScale: lossScaler == nil ? nil : lossScale, overflowed: overflowed)
    }

    /// nanoGPT's `estimate_loss`: the mean loss over `eval_iters` random batches of each split,
    /// without dropout. The batches come from a stream seeded by the step, so evaluating never
    /// changes the training batches. On a synthetic task it also decodes the held-out problems'
    /// answers (`task_eval_problems` of them) and reports the fraction exactly right.
    public func evaluate() -> Evaluation {
        var rng = RandomNumbers(seed: Dropout.hash(UInt64(config.seed) &+ 2, UInt64(step)))
        var means: [Float] = []
        for split in [Dataset.Split.train, .val] {
            var total: Double = 0
            for _ in 0..<config.evalIters {
                let b = dataset.batch(split, batchSize: config.batchSize, blockSize: config.blockSize, rng: &rng)
                total += Double(model.forward(tokens: b.inputs, targets: b.targets, batch: config.batchSize,
                                              seqLen: config.blockSize) ?? .nan)
            }
            means.append(Float(total / Double(config.evalIters)))
        }
        let accuracy = SyntheticTask.accuracy(model: model, dataset: dataset,
                                              tokensPerForward: config.batchSize * config.blockSize)
        return Evaluation(step: step, trainLoss: means[0], valLoss: means[1], taskAccuracy: accuracy)
    }

    public var isFinished: Bool { step >= config.maxIters }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFinite(step: Int, count: Int, loss: Float, gradNorm: Float)

    public var description: String {
        switch self {
        case let .nonFinite(step, count, loss, norm):
            return "training stopped at step \(step): \(count) steps in a row had a non-finite loss or gradient (last loss \(loss), gradient norm \(norm)); the weights were not updated by them. Try a lower learning_rate or a smaller grad_clip."
        }
    }
}
