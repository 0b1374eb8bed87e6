import GPT
import Kernels
import SafeTensors

/// Moves a model's weights and a trainer's optimizer state between memory and checkpoint files.
///
/// Weights are saved as nanoGPT's `state_dict` (see `NanoGPTStateDict`): every tensor of the
/// model's `ParameterLayout` under its own name, plus `lm_head.weight`, which nanoGPT ties to
/// `transformer.wte.weight` and so holds the same values. The optimizer file holds AdamW's first
/// and second moments under the same names (prefixed `m.` / `v.` by `RunDirectory`).
///
/// Saving reads straight out of the flat buffers (`TensorView`s), so a checkpoint costs no copy
/// of the model; the views are only valid while the model and optimizer are alive and unchanged,
/// which holds because saving happens on the trainer's thread between steps.
public enum ModelState {
    // MARK: Saving

    /// Views of every weight tensor in `model.params`, with `lm_head.weight` a second view of the
    /// token embedding.
    public static func weightViews(of model: GPT) -> [TensorView] {
        var views = views(of: model.params, layout: model.layout)
        if let wte = views.first(where: { $0.name == NanoGPTStateDict.tokenEmbedding }) {
            views.append(TensorView(name: NanoGPTStateDict.lmHead, shape: wte.shape, values: wte.values))
        }
        return views
    }

    /// The optimizer file's contents: AdamW's `m` and `v` as views, and the counters an exact
    /// resume needs (step, the batch stream's state, AdamW's update count, bad-step streak).
    public static func optimizerSnapshot(of trainer: Trainer) -> RunDirectory.OptimizerSnapshot {
        let layout = trainer.model.layout
        let metadata = OptimizerStateMetadata(
            step: trainer.step, rngState: encode(trainer.batchRNG), dataPosition: dataPosition(of: trainer),
            extra: [badStepsKey: String(trainer.consecutiveBadSteps), adamStepKey: String(trainer.optimizer.step)]
                .merging(lossScalerMetadata(trainer), uniquingKeysWith: { a, _ in a }))
        let moments = trainer.wholeMoments
        return RunDirectory.OptimizerSnapshot(firstMoments: views(of: moments.m, layout: layout),
                                              secondMoments: views(of: moments.v, layout: layout),
                                              metadata: metadata)
    }

    /// Named, shaped views into a buffer laid out like the parameters.
    static func views(of buffer: FloatBuffer, layout: ParameterLayout) -> [TensorView] {
        layout.tensors.map { t in
            TensorView(name: t.name, shape: t.shape, values: UnsafeBufferPointer(start: buffer.pointer + t.offset, count: t.count))
        }
    }

    /// Training batches are drawn at random offsets from `batchRNG` (see `Dataset.batch`), so the
    /// generator's state *is* the data position; this records, for people reading the file, how
    /// many batches have been drawn from it.
    static func dataPosition(of trainer: Trainer) -> String {
        "random offsets from rng; batches_drawn=\(trainer.step * trainer.config.gradientAccumulationSteps)"
    }

    /// Extra optimizer-file metadata: the non-finite streak, and AdamW's update count (its bias
    /// correction uses it; it lags `step` when steps were skipped).
    static let badStepsKey = "consecutive_bad_steps", adamStepKey = "adamw_step"
    /// float16's GradScaler state: the scale (shortest round-tripping decimal, exact), the growth
    /// tracker (finite steps in a row since the scale last changed) and the steps it skipped.
    static let lossScaleKey = "loss_scale", growthTrackerKey = "loss_scale_growth_tracker", skippedStepsKey = "skipped_steps"

    static func lossScalerMetadata(_ trainer: Trainer) -> [String: String] {
        guard let s = trainer.lossScaler else { return [:] }
        return [lossScaleKey: "\(s.scale)", growthTrackerKey: String(s.finiteStreak), skippedStepsKey: String(s.skippedSteps)]
    }

    /// `RandomNumbers` state as four 16-digit hex words separated by spaces (exact, unlike JSON
    /// numbers, which many readers turn into doubles).
    public static func encode(_ rng: RandomNumbers) -> String {
        rng.state.map { word in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined(separator: " ")
    }

    public static func decodeRNG(_ text: String) -> RandomNumbers? {
        let words = text.split(separator: " ").compactMap { UInt64($0, radix: 16) }
        return words.count == 4 ? RandomNumbers(state: words) : nil
    }

    // MARK: Loading

    /// A model with the checkpoint's configuration and weights.
    public static func model(from checkpoint: LoadedCheckpoint) throws(CheckpointError) -> GPT {
        let model: GPT
        do { model = try GPT(config: checkpoint.config) } catch {
            throw CheckpointError(checkpoint.path, "invalid model configuration: \(error.message)")
        }
        try load(checkpoint, into: model)
        return model
    }

    /// Copies a checkpoint's weights into `model`, whose shape must be the checkpoint's.
    ///
    /// The token embedding comes from `transformer.wte.weight` or, when a tool kept only that name
    /// of the tied pair, `lm_head.weight`. If both are present they must be equal: Nanoscope's
    /// model ties them, so an untied pair cannot be represented faithfully.
    public static func load(_ checkpoint: LoadedCheckpoint, into model: GPT) throws(CheckpointError) {
        let file = checkpoint.file
        if let wte = file[NanoGPTStateDict.tokenEmbedding], let head = file[NanoGPTStateDict.lmHead], wte.values != head.values {
            throw CheckpointError(checkpoint.path, "\(NanoGPTStateDict.tokenEmbedding) and \(NanoGPTStateDict.lmHead) differ; nanoGPT ties them, and so does Nanoscope")
        }
        for t in model.layout.tensors {
            let source = t.name == NanoGPTStateDict.tokenEmbedding ? checkpoint.tokenEmbedding : file[t.name]
            guard let source, source.shape == t.shape else {
                throw CheckpointError(checkpoint.path, "tensor '\(t.name)' is missing or not of shape \(t.shape)")
            }
            source.values.withUnsafeBufferPointer { model.params.pointer.advanced(by: t.offset).update(from: $0.baseAddress!, count: t.count) }
        }
        model.parameterVersion += 1  // the 16-bit copies of the weights are now stale
    }

    /// Puts a trainer back where the optimizer file says: AdamW moments, step, batch stream and
    /// bad-step streak. The weights are loaded separately (`load(_:into:)`).
    public static func restore(_ state: LoadedOptimizerState, into trainer: Trainer) throws(CheckpointError) {
        guard let rng = decodeRNG(state.metadata.rngState) else {
            throw CheckpointError(state.path, "optimizer state 'rng' = \(String(reflecting: state.metadata.rngState)) is not four hex words")
        }
        let layout = trainer.model.layout
        // Restored whole, before any ZeRO-1 sharding (which happens when data parallelism is set).
        precondition(trainer.optimizer.shard.count == layout.totalCount, "restore the optimizer state before sharding it")
        for t in layout.tensors {
            guard let m = state.firstMoments[t.name], let v = state.secondMoments[t.name], m.shape == t.shape, v.shape == t.shape else {
                throw CheckpointError(state.path, "optimizer state for '\(t.name)' is missing or not of shape \(t.shape)")
            }
            m.values.withUnsafeBufferPointer { trainer.optimizer.m.pointer.advanced(by: t.offset).update(from: $0.baseAddress!, count: t.count) }
            v.values.withUnsafeBufferPointer { trainer.optimizer.v.pointer.advanced(by: t.offset).update(from: $0.baseAddress!, count: t.count) }
        }
        let step = state.metadata.step
        func counter(_ key: String, upTo limit: Int) throws(CheckpointError) -> Int? {
            guard let text = state.metadata.extra[key] else { return nil }
            guard let value = Int(text), (0...limit).contains(value) else {
                throw CheckpointError(state.path, "optimizer state '\(key)' = \(String(reflecting: String(text.prefix(40)))) must be a whole number from 0 to the step, \(limit) — the optimizer file is corrupt")
            }
            return value
        }
        let badSteps = try counter(badStepsKey, upTo: step) ?? 0
        let adamSteps = try counter(adamStepKey, upTo: step)
        trainer.restore(step: state.metadata.step, batchRNG: rng, consecutiveBadSteps: badSteps, optimizerStep: adamSteps)
        if trainer.lossScaler != nil, let text = state.metadata.extra[lossScaleKey] {
            guard let scale = Float(text), scale.isFinite, scale > 0,
                  let streak = state.metadata.extra[growthTrackerKey].flatMap({ Int($0) }), streak >= 0,
                  let skipped = state.metadata.extra[skippedStepsKey].flatMap({ Int($0) }), skipped >= 0 else {
                throw CheckpointError(state.path, "optimizer state's loss scaler (loss_scale = \(String(reflecting: text))) is malformed")
            }
            trainer.restoreLossScaler(LossScaler(scale: scale, finiteStreak: streak, skippedSteps: skipped))
        }
    }

    /// The names and shapes the optimizer file must hold for this model.
    public static func parameterShapes(_ layout: ParameterLayout) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: layout.tensors.map { ($0.name, $0.shape) })
    }
}
