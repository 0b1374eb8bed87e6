import Foundation
import SafeTensors

/// What a training run keeps on disk, in its `RunDirectory`: metrics lines, checkpoints, and the
/// retention that prunes old checkpoints after each save. `TrainingRun` owns one and decides
/// *when* to call it; this type knows *how*.
///
/// Every method reports failure by throwing `CheckpointError` and changes nothing in memory, so a
/// caller can tell the user (disk full, folder unwritable), keep training, and try again later.
public final class RunRecorder {
    public let directory: RunDirectory
    /// nil keeps every checkpoint (`keep_checkpoints = 0`).
    public let retention: RetentionPolicy?
    /// Seconds of training before this session (a resumed run continues its clock).
    public let previousSeconds: Double
    /// The run folder's lock, held as long as this recorder lives.
    public let lock: RunLock?
    /// Checkpoints (weights paths) someone is looking at — a dashboard's loaded or marked ones —
    /// that retention keeps whatever the policy says. Called on the trainer thread at each prune.
    public var pinned: (() -> Set<String>)?

    /// `keepCheckpoints` newest checkpoints are kept, plus the best by validation loss; 0 keeps all.
    public init(directory: RunDirectory, keepCheckpoints: Int, previousSeconds: Double = 0, lock: RunLock? = nil) {
        self.lock = lock
        self.directory = directory
        retention = keepCheckpoints > 0 ? RetentionPolicy(keepLast: keepCheckpoints, keepBest: true) : nil
        self.previousSeconds = previousSeconds
    }

    /// Appends one line to `metrics.jsonl`.
    public func log(_ record: MetricsRecord) throws(CheckpointError) {
        // Only the run folder: metrics must not depend on the checkpoints folder being writable.
        try FileSystem.makeDirectories(directory.path)
        try MetricsLog.append(record, to: directory.metricsPath)
    }

    /// Writes the trainer's checkpoint for its current step: optimizer state, then weights (each
    /// atomically), with the contract's metadata. `evaluation` supplies `train_loss`/`val_loss`
    /// and is used only if it was measured at this very step, so a file never claims losses that
    /// were measured on other weights.
    public func saveCheckpoint(_ trainer: Trainer, evaluation: Trainer.Evaluation?) throws(CheckpointError) -> CheckpointInfo {
        let current = evaluation.flatMap { $0.step == trainer.step ? $0 : nil }
        let metadata = CheckpointMetadata(
            step: trainer.step, config: trainer.model.config, tokenizerJSON: trainer.dataset.tokenizer.metadataJSON(),
            trainLoss: current?.trainLoss, valLoss: current?.valLoss)
        return try directory.writeCheckpoint(weights: ModelState.weightViews(of: trainer.model), metadata: metadata,
                                             optimizer: ModelState.optimizerSnapshot(of: trainer))
    }

    /// Applies the retention policy to checkpoints up to `step`; returns the paths deleted.
    @discardableResult
    public func prune(throughStep step: Int) throws(CheckpointError) -> [String] {
        guard let retention else { return [] }
        return try directory.prune(retention, throughStep: step, keeping: pinned?() ?? [])
    }
}
