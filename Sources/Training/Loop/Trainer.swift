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
    /// Asked between micro-batches: true abandons the step (`TrainingError.interrupted`), so a stop
    /// request (Ctrl-C, SIGTERM) need not wait for a step of many micro-batches to finish.
    public var stopRequested: (() -> Bool)?
    /// Test seam: runs after the backward pass, before the gradient norm is taken.
    public var afterBackward: ((GPT) -> Void)?
    /// Gradient statistics, update/data ratios and attention maps every `telemetry_interval`
    /// steps, for whoever watches (dashboard, `--telemetry`); nil, the default, costs nothing.
    public var telemetry: TelemetryCollector?
    /// True when the optimizer left the gradients at zero (it clears them as it reads them), so
    /// the next step need not. A skipped (non-finite) step leaves them as they are.
    private var gradientsCleared = false
    /// The parameter version the optimizer's bounds were last valid for.
    private var boundsVersion = -1
    /// Data parallelism (`Training/Distributed/`): this process computes its share of the
    /// micro-batches and the gradients are summed over ranks. nil: one process. With
    /// `zero_stage = 1` the optimizer keeps only this rank's shard of its state from here on.
    public var dataParallel: DataParallel? {
        didSet {
            guard let parallel = dataParallel, config.zeroStage == 1, parallel.size > 1 else { return }
            let sharding = OptimizerSharding(parameterCount: model.params.count, ranks: parallel.size)
            parallel.sharding = sharding
            optimizer.keepShard(sharding.shards[parallel.rank])
        }
    }
    /// Under ZeRO-1, the whole AdamW state while a checkpoint is written (`gatherMoments`).
    private var gatheredMoments: (m: FloatBuffer, v: FloatBuffer)?
    private let microBatchGradients = MicroBatchGradients()
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
        /// The loss and gradient were finite, but the update would have made weights or moments
        /// non-finite (or astronomically large), so it was not applied.
        public var nonFiniteUpdate = false
        /// The ranks' timings, when training data-parallel.
        public var cluster: ClusterStatus? = nil
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
        try modelConfig.validate()
        try MemoryBudget.check(config.trainingBytes(vocabSize: modelConfig.vocabSize),
                               for: "training \(MemoryBudget.shape(modelConfig)) with batch_size=\(config.batchSize)",
                               fix: "choose a smaller n_layer, n_embd, block_size or batch_size")
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
        optimizer.invalidateBounds()
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
        // Each micro-batch's gradient is computed from zero and the results added in order (see
        // MicroBatchGradients); with data parallelism this process computes only its share, but
        // draws every batch, so the stream stays the single process's.
        let mine = dataParallel?.share(of: accum) ?? 0..<accum
        dataParallel?.beginStep(tokensPerMicroBatch: config.batchSize * config.blockSize)
        var losses = [Float](repeating: 0, count: accum)
        let lossScale = lossScaler?.scale ?? 1
        for micro in 0..<accum {
            // A long step (many micro-batches) ends early on a stop request, unapplied. Not with
            // data parallelism: a rank leaving mid-step would leave the others in the all-reduce.
            if micro > 0, dataParallel == nil, let stopRequested, stopRequested() {
                model.zeroGradients()
                gradientsCleared = true
                throw TrainingError.interrupted(step: step)
            }
            let batch = dataset.batch(.train, batchSize: config.batchSize, blockSize: config.blockSize, rng: &batchRNG)
            guard mine.contains(micro) else { continue }
            if micro > mine.lowerBound { microBatchGradients.stash(model.grads) }
            let seed = Dropout.hash(UInt64(config.seed), UInt64(step * accum + micro))
            let l = model.forward(tokens: batch.inputs, targets: batch.targets, batch: config.batchSize,
                                  seqLen: config.blockSize, training: true, dropoutSeed: seed,
                                  headGradientScale: lossScale / Float(accum)) ?? .nan
            losses[micro] = l / Float(accum)
            model.backward(lossScale: lossScale / Float(accum))
        }
        microBatchGradients.finish(into: model.grads)
        let telemetryDue = telemetry?.isDue(step: step + 1) ?? false
        dataParallel?.combine(gradients: model.grads, losses: &losses, localMicroBatches: mine.count, wholeGradient: telemetryDue)
        var loss: Float = 0
        for l in losses { loss += l }
        afterBackward?(model)
        // GradScaler's unscale_: the gradients of S·loss divided by S (an ∞ or NaN stays one).
        if lossScale != 1 { Buffers.scaleParallel(model.grads.pointer, 1 / lossScale, count: model.grads.count) }
        // Telemetry sees the gradient before clipping: the norm chart shows the clipping itself;
        // and, unscaled, with the scale it was computed at, so its 16-bit fractions are of S·g.
        var report = telemetryDue ? telemetry?.beginStep(model: model, step: step + 1, lossScale: lossScale) : nil
        // Clipping is applied inside the AdamW update (one pass over the gradients, not two).
        let norm = dataParallel?.gradientNorm(model.grads) ?? GradientClipping.norm(model.grads)
        let clipScale = GradientClipping.scale(norm: norm, maxNorm: config.gradClip)
        var skipped = !loss.isFinite || !norm.isFinite
        // An overflow of the scaled gradients (the loss itself finite) is the scaler's business.
        let overflowed = lossScaler != nil && loss.isFinite && !norm.isFinite
        lossScaler?.update(gradientsAreFinite: !skipped)
        var nonFiniteUpdate = false
        if !skipped {
            // Weights loaded or changed from outside since the last update: the optimizer's
            // running bounds on them no longer hold.
            if model.parameterVersion != boundsVersion { optimizer.invalidateBounds() }
            let sharded = dataParallel?.sharding != nil
            if optimizer.checkedUpdate(params: model.params, grads: model.grads, lr: lr, gradScale: clipScale, gradNorm: norm,
                                       clearingGradients: true, agree: sharded ? { [dataParallel] in dataParallel!.allAgree($0) } : nil) {
                dataParallel?.gatherShards(model.params)
                // The optimizer cleared only its shard of the gradients: the rest still holds this rank's partial sums.
                gradientsCleared = !sharded
                model.parameterVersion += 1
                boundsVersion = model.parameterVersion
            } else {
                skipped = true
                nonFiniteUpdate = true
            }
        }
        if overflowed {
            // Skipped: weights and moments untouched, the scale halved (GradScaler.step/update).
        } else if skipped {
            consecutiveBadSteps += 1
            if consecutiveBadSteps >= max(1, config.maxBadSteps) {
                throw TrainingError.nonFinite(step: step, count: consecutiveBadSteps, loss: loss, gradNorm: norm)
            }
        } else {
            consecutiveBadSteps = 0
        }
        step += 1
        if let collector = telemetry, report != nil {
            collector.finishUpdate(&report!, model: model, updated: !skipped)
            report!.attention = collector.attentionMaps(model: model, step: step)
        }
        // The telemetry's time counts: the throughput shown is what training really achieves.
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        dataParallel?.endStep(seconds: seconds)
        return StepResult(step: step, loss: loss, lr: lr, gradNorm: norm, skipped: skipped, seconds: seconds,
                          telemetry: report, nonFiniteUpdate: nonFiniteUpdate, cluster: dataParallel?.status,
                          lossScale: lossScaler == nil ? nil : lossScale, overflowed: overflowed)
    }

    /// nanoGPT's `estimate_loss`: the mean loss over `eval_iters` random batches of each split,
    /// without dropout. The batches come from a stream seeded by the step, so evaluating never
    /// changes the training batches. On a synthetic task it also decodes the held-out problems'
    /// answers (`task_eval_problems` of them) and reports the fraction exactly right.
    public func evaluate() -> Evaluation {
        var rng = RandomNumbers(seed: Dropout.hash(UInt64(config.seed) &+ 2, UInt64(step)))
        var means: [Float] = []
        for split in [Dataset.Split.train, .val] {
            // With data parallelism each rank evaluates its share of the batches; the losses are
            // then combined exactly and added in batch order, as one process adds them.
            let mine = dataParallel?.share(of: config.evalIters) ?? 0..<config.evalIters
            var losses = [Float](repeating: 0, count: config.evalIters)
            for i in 0..<config.evalIters {
                let b = dataset.batch(split, batchSize: config.batchSize, blockSize: config.blockSize, rng: &rng)
                guard mine.contains(i) else { continue }
                losses[i] = model.forward(tokens: b.inputs, targets: b.targets, batch: config.batchSize,
                                          seqLen: config.blockSize) ?? .nan
            }
            dataParallel?.combine(values: &losses)
            var total: Double = 0
            for l in losses { total += Double(l) }
            means.append(Float(total / Double(config.evalIters)))
        }
        let accuracy = SyntheticTask.accuracy(model: model, dataset: dataset,
                                              tokensPerForward: config.batchSize * config.blockSize)
        return Evaluation(step: step, trainLoss: means[0], valLoss: means[1], taskAccuracy: accuracy)
    }

    public var isFinished: Bool { step >= config.maxIters }

    /// AdamW's whole m and v, as the optimizer file holds them: the optimizer's own buffers, or
    /// under ZeRO-1 the shards gathered by `gatherMoments`.
    public var wholeMoments: (m: FloatBuffer, v: FloatBuffer) {
        if let gatheredMoments { return gatheredMoments }
        precondition(optimizer.shard.count == model.params.count, "ZeRO-1: gatherMoments() before reading the whole moments")
        return (optimizer.m, optimizer.v)
    }

    /// Under ZeRO-1, collects every rank's shard of m and v (a collective: every rank calls it at
    /// the same point, whether or not it writes the file); otherwise nothing.
    public func gatherMoments() {
        guard let parallel = dataParallel, let sharding = parallel.sharding else { return }
        let shard = sharding.shards[parallel.rank]
        let m = FloatBuffer(count: model.params.count), v = FloatBuffer(count: model.params.count)
        (m.pointer + shard.lowerBound).update(from: optimizer.m.pointer, count: shard.count)
        (v.pointer + shard.lowerBound).update(from: optimizer.v.pointer, count: shard.count)
        parallel.gatherShards(m)
        parallel.gatherShards(v)
        gatheredMoments = (m, v)
    }

    /// Gives back the memory `gatherMoments` took.
    public func releaseGatheredMoments() { gatheredMoments = nil }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFinite(step: Int, count: Int, loss: Float, gradNorm: Float)
    /// A stop was requested in the middle of a step (between micro-batches); the step was dropped.
    case interrupted(step: Int)
    /// The run's last checkpoint could not be written.
    case saveFailed(step: Int, reason: String, lastGood: String?)

    public var description: String {
        switch self {
        case let .interrupted(step):
            return "stopped during step \(step + 1); it was not applied"
        case let .saveFailed(step, reason, lastGood):
            return "the checkpoint of step \(step) could not be saved (\(reason)) — "
                + (lastGood.map { "the last good checkpoint is \($0)" } ?? "no checkpoint of this run was saved; free disk space or fix the folder's permissions and train again")
        case let .nonFinite(step, count, loss, norm):
            return "training stopped at step \(step): \(count) steps in a row had a non-finite loss, gradient or update (last loss \(loss), gradient norm \(norm)); the weights were not updated by them — try a lower learning_rate or a smaller grad_clip"
        }
    }
}
