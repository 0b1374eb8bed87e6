import Foundation
import GPT
import Tokenizers
import SafeTensors

/// A checkpoint to resume from, and the run folder it belongs to.
public struct ResumePoint: Sendable, Equatable {
    public let run: RunDirectory
    public let checkpoint: CheckpointInfo

    /// Finds the checkpoint that `path` names: a run folder (its newest checkpoint that has
    /// optimizer state) or a weights file inside `<run>/checkpoints/`.
    public static func locate(_ path: String) throws(CheckpointError) -> ResumePoint {
        if FileSystem.isDirectory(path) {
            let run = RunDirectory(path)
            guard run.exists else {
                throw CheckpointError(path, "not a run folder (it has no checkpoints folder and no config.toml)")
            }
            let all = try run.checkpoints()
            guard let latest = all.last(where: { $0.isLoadable && $0.hasOptimizerState }) else {
                throw CheckpointError(path, all.isEmpty ? "the run has no checkpoints yet"
                                                         : "none of the run's \(all.count) checkpoints can be resumed (see `nanoscope checkpoints \(path)`)")
            }
            return ResumePoint(run: run, checkpoint: latest)
        }
        guard FileSystem.exists(path) else { throw CheckpointError(path, "no such run folder or checkpoint file") }
        let (folder, fileName) = AtomicFile.splitPath(path)
        let (runPath, checkpointsFolder) = AtomicFile.splitPath(folder)
        guard RunDirectory.step(fromWeightsFileName: fileName) != nil, checkpointsFolder == "checkpoints" else {
            throw CheckpointError(path, "to resume, name a run folder or a weights file <run>/checkpoints/step-NNNNNN.safetensors")
        }
        let run = RunDirectory(runPath)
        let info = CheckpointInfo.inspect(path, run: run.name)
        if let problem = info.problem { throw CheckpointError(path, problem) }
        guard info.hasOptimizerState else {
            throw CheckpointError(path, "has no optimizer state beside it (\(run.optimizerPath(step: info.step))), so training cannot continue exactly; it can still be evaluated or sampled")
        }
        return ResumePoint(run: run, checkpoint: info)
    }

    /// The run's own resolved configuration (`config.toml`), to which command-line overrides apply.
    public var configPath: String { run.configPath }
}

/// Builds a `TrainingRun` with its run folder, for a new run or a resumed one. The headless
/// command and the dashboard both start training through here.
public enum RunSetup {
    /// A new run in `<runs_dir>/<run_name>/`: loads the corpus (character tokenizer from the
    /// corpus), builds the model, and writes `config.toml`. A folder that already holds
    /// checkpoints is refused rather than mixed with: resume it instead.
    /// `recording: false` (data-parallel ranks other than 0) writes nothing and keeps no recorder.
    public static func start(_ config: TrainConfig, report: (String) -> Void = { _ in }, recording: Bool = true) throws -> TrainingRun {
        var config = config
        guard !config.data.isEmpty else { throw ConfigError("no corpus: set `data` in the config or pass --data FILE") }
        // config.toml must work from any working directory when the run is resumed.
        if Dataset.namesAFile(config.data) {
            config.data = absolutePath(config.data)
        }
        try RunName.validate(config.runName)
        guard !config.runName.isEmpty else { throw ConfigError("run_name is empty: name the run (run_name = \"baby\")") }
        // A rank that records nothing builds the same trainer beside rank 0, which has claimed
        // the folder, holds its lock and cleans it: touching any of that would fail or race.
        guard recording else {
            let trainer = try Trainer(config: config, dataset: try Dataset.prepare(config: config, report: report))
            return TrainingRun(trainer: trainer, name: config.runName)
        }
        if config.runNameIsDefault { config.runName = try claimDefaultName(config.runName, in: config.runsDir) }
        let run = RunDirectory(config.runsDir + "/" + config.runName)
        let lock = try RunLock(run: run)
        if !((try? run.checkpoints()) ?? []).isEmpty {
            throw ConfigError("run folder \(run.path) already holds checkpoints: continue it with `nanoscope train --resume \(run.path)` or choose another run_name")
        }
        removeStaleTemporaries(run)
        let dataset = try Dataset.prepare(config: config, report: report)
        let trainer = try Trainer(config: config, dataset: dataset)
        try run.writeConfig(config.tomlText)
        if FileSystem.exists(run.metricsPath) { try MetricsLog.truncate(run.metricsPath, after: -1) }
        return TrainingRun(trainer: trainer, name: run.name,
                           recorder: RunRecorder(directory: run, keepCheckpoints: config.keepCheckpoints, lock: lock))
    }

    /// A default name (config name + time) that no other run has: the first of `name`, `name-2`,
    /// `name-3`, … whose folder this process creates itself (`mkdir` is atomic, so two launches in
    /// the same second get different folders).
    static func claimDefaultName(_ name: String, in runsDir: String) throws(CheckpointError) -> String {
        try FileSystem.makeDirectories(runsDir)
        for n in 1...1000 {
            let candidate = n == 1 ? name : "\(name)-\(n)"
            if mkdir(runsDir + "/" + candidate, 0o755) == 0 { return candidate }
            if errno != EEXIST { throw CheckpointError.system(runsDir + "/" + candidate, "cannot create the run folder", errno: errno) }
        }
        throw CheckpointError(runsDir, "1000 runs named \(name) already exist; set run_name")
    }

    /// Temporary files of writers that died mid-save (`.step-….tmp.<pid>.<random>`). With the
    /// run's lock held, no other process can be writing here, so every one not ours is stale.
    static func removeStaleTemporaries(_ run: RunDirectory) {
        AtomicFile.removeAbandonedTemporaries(in: run.checkpointsPath, assumingNoOtherWriter: true)
        AtomicFile.removeAbandonedTemporaries(in: run.path, assumingNoOtherWriter: true)
    }

    /// Continues a run from `point` exactly: the checkpoint's weights, AdamW moments, step and
    /// batch stream, with the checkpoint's tokenizer (not one re-derived from the corpus).
    /// `config` is normally the run's `config.toml` with any overrides; its folder settings are
    /// replaced by the run's real location. Checkpoints and metrics after the checkpoint's step
    /// are moved aside (`RunDirectory.retireCheckpoints`), since those steps are about to be
    /// trained again on a new branch; `report` says where they went.
    public static func resume(from point: ResumePoint, config: TrainConfig, recording: Bool = true,
                              report: (String) -> Void = { _ in }) throws -> TrainingRun {
        var config = config
        let run = point.run
        let (runsDir, runName) = AtomicFile.splitPath(run.path)
        config.runsDir = runsDir
        config.runName = runName
        config.runNameIsDefault = false
        let path = point.checkpoint.path
        let lock = recording ? try RunLock(run: run) : nil
        if recording { removeStaleTemporaries(run) }

        guard let tokenizerJSON = try SafeTensors.readHeader(path).metadata["tokenizer"] else {
            throw CheckpointError(path, "has no tokenizer in its metadata, so the corpus cannot be encoded as it was")
        }
        let tokenizer = try makeTokenizer(fromMetadataJSON: tokenizerJSON)
        let checkpoint = try LoadedCheckpoint.load(path, config: config.modelConfig(vocabSize: tokenizer.vocabSize))
        // A synthetic task and random tokens are generated again from the seed; a corpus is
        // encoded with the checkpoint's tokenizer.
        let dataset = try Dataset.isGenerated(config.data)
            ? Dataset.prepare(config: config)
            : Dataset.load(path: CorpusRecipe.resolve(config.data, report: { _ in }), tokenizer: tokenizer, blockSize: config.blockSize)
        let trainer = try Trainer(config: config, dataset: dataset)
        try ModelState.load(checkpoint, into: trainer.model)
        let state = try LoadedOptimizerState.load(run.optimizerPath(step: point.checkpoint.step),
                                                  parameters: ModelState.parameterShapes(trainer.model.layout))
        // The pair must be one moment of one run: weights of step 30 with moments of step 5 would
        // train from 5 while claiming 30, and overwrite the step-30 checkpoint.
        let weightsStep = checkpoint.metadata.step ?? point.checkpoint.step
        let fileStep = RunDirectory.step(fromWeightsFileName: AtomicFile.splitPath(path).name) ?? weightsStep
        guard state.metadata.step == weightsStep, fileStep == weightsStep else {
            throw CheckpointError(state.path, "optimizer state is for step \(state.metadata.step) but the weights beside it are for step \(weightsStep) (file name: step \(fileStep)) — the pair does not belong together; resume from another checkpoint")
        }
        try ModelState.restore(state, into: trainer)
        guard recording else { return TrainingRun(trainer: trainer, name: run.name) }

        // Only once everything above has loaded: a resume that fails moves nothing.
        if let retired = try run.retireCheckpoints(after: trainer.step) {
            report("checkpoints after step \(trainer.step) (steps \(retired.steps.map(String.init).joined(separator: ", "))) belong to the abandoned branch: moved to \(retired.folder)")
        }
        try MetricsLog.truncate(run.metricsPath, after: trainer.step)
        let previousSeconds = try MetricsLog.read(run.metricsPath).last?.time ?? 0
        try run.writeConfig(config.tomlText)
        return TrainingRun(trainer: trainer, name: run.name,
                           recorder: RunRecorder(directory: run, keepCheckpoints: config.keepCheckpoints,
                                                 previousSeconds: previousSeconds, lock: lock))
    }

    /// Checkpoints of `point`'s run after its step: they belong to the continuation that
    /// resuming abandons (and moves aside).
    public static func laterCheckpoints(than point: ResumePoint) -> [Int] {
        ((try? point.run.checkpoints()) ?? []).map(\.step).filter { $0 > point.checkpoint.step }
    }

    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
