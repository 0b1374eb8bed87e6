import Foundation
import GPT
import SafeTensors

/// The folder one training run writes:
///
///     runs/<run>/
///       config.toml                                   the resolved configuration
///       metrics.jsonl                                 one JSON object per logged step (see MetricsLog)
///       checkpoints/step-000500.safetensors           weights (nanoGPT names) + CheckpointMetadata
///       checkpoints/step-000500.optimizer.safetensors AdamW moments + OptimizerStateMetadata
///
/// A checkpoint *exists* when its weights file exists: the optimizer file is written first, so a
/// weights file always has its optimizer state beside it (unless someone deleted it), and a crash
/// between the two leaves only an orphan optimizer file, which `prune` removes.
public struct RunDirectory: Sendable, Equatable {
    public let path: String

    public init(_ path: String) {
        self.path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// The run's name: its folder's name.
    public var name: String { AtomicFile.splitPath(path).name }
    public var configPath: String { path + "/config.toml" }
    public var metricsPath: String { path + "/metrics.jsonl" }
    public var checkpointsPath: String { path + "/checkpoints" }

    /// `checkpoints/step-000500.safetensors` (six digits, more when the step needs them).
    public func weightsPath(step: Int) -> String { checkpointsPath + "/" + Self.stepStem(step) + ".safetensors" }
    /// `checkpoints/step-000500.optimizer.safetensors`
    public func optimizerPath(step: Int) -> String { checkpointsPath + "/" + Self.stepStem(step) + ".optimizer.safetensors" }

    static func stepStem(_ step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The step encoded in a weights file name (`step-000500.safetensors` → 500), nil for any
    /// other name, optimizer files included.
    public static func step(fromWeightsFileName name: String) -> Int? {
        stepNumber(name, suffix: ".safetensors")
    }

    static func step(fromOptimizerFileName name: String) -> Int? {
        stepNumber(name, suffix: ".optimizer.safetensors")
    }

    private static func stepNumber(_ name: String, suffix: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(5).dropLast(suffix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// Whether `path` looks like a run folder (it has a `checkpoints` folder or a `config.toml`).
    public var exists: Bool { FileSystem.isDirectory(checkpointsPath) || FileSystem.exists(configPath) }

    /// Creates the run folder and its `checkpoints` folder if needed.
    public func create() throws(CheckpointError) {
        try FileSystem.makeDirectories(checkpointsPath)
    }

    /// Stores the resolved configuration (atomically).
    public func writeConfig(_ toml: String) throws(CheckpointError) {
        try create()
        try AtomicFile.write(text: toml, to: configPath)
    }

    // MARK: Writing checkpoints

    /// The AdamW state to save beside the weights: first and second moments named by parameter
    /// (stored as `m.<name>` and `v.<name>`), plus step, RNG and data position.
    public struct OptimizerSnapshot {
        public var firstMoments: [any WritableTensor]
        public var secondMoments: [any WritableTensor]
        public var metadata: OptimizerStateMetadata

        public init(firstMoments: [any WritableTensor], secondMoments: [any WritableTensor], metadata: OptimizerStateMetadata) {
            self.firstMoments = firstMoments
            self.secondMoments = secondMoments
            self.metadata = metadata
        }
    }

    /// Writes the checkpoint for `metadata.step`: optimizer state first (if given), then weights,
    /// each atomically. Returns the new checkpoint as a listing would show it.
    @discardableResult
    public func writeCheckpoint(
        weights: [any WritableTensor], metadata: CheckpointMetadata, optimizer: OptimizerSnapshot? = nil
    ) throws(CheckpointError) -> CheckpointInfo {
        guard let step = metadata.step else { throw CheckpointError(path, "a checkpoint needs a step number") }
        // A checkpoint is never written with a non-finite value: it would poison every later use.
        for tensor in weights + (optimizer.map { $0.firstMoments + $0.secondMoments } ?? []) {
            let bad = tensor.withUnsafeValues { values in values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
            if bad > 0 {
                throw CheckpointError(weightsPath(step: step), "not written: tensor '\(tensor.name)' holds \(bad) non-finite values (NaN or ±Inf)")
            }
        }
        try create()
        if let optimizer {
            guard optimizer.metadata.step == step else {
                throw CheckpointError(optimizerPath(step: step), "optimizer state is for step \(optimizer.metadata.step), weights for step \(step)")
            }
            let moments = optimizer.firstMoments.map { Renamed(prefix: "m.", base: $0) as any WritableTensor }
                + optimizer.secondMoments.map { Renamed(prefix: "v.", base: $0) as any WritableTensor }
            try SafeTensors.write(moments, metadata: optimizer.metadata.dictionary, to: optimizerPath(step: step))
        }
        let target = weightsPath(step: step)
        try SafeTensors.write(weights, metadata: metadata.dictionary, to: target)
        return CheckpointInfo.inspect(target, run: name)
    }

    /// A tensor written under a prefixed name, without copying its values.
    private struct Renamed: WritableTensor {
        let prefix: String
        let base: any WritableTensor
        var name: String { prefix + base.name }
        var shape: [Int] { base.shape }
        func withUnsafeValues<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
            try base.withUnsafeValues(body)
        }
    }

    // MARK: Reading

    /// Every checkpoint of this run, oldest step first, described from file headers only.
    /// Unreadable files are included, with `problem` saying why.
    public func checkpoints() throws(CheckpointError) -> [CheckpointInfo] {
        guard FileSystem.isDirectory(checkpointsPath) else { return [] }
        return try FileSystem.list(checkpointsPath)
            .compactMap { name in Self.step(fromWeightsFileName: name).map { (name, $0) } }
            .sorted { $0.1 < $1.1 }
            .map { CheckpointInfo.inspect(checkpointsPath + "/" + $0.0, run: name) }
    }

    /// The newest checkpoint that can be loaded, if any.
    public func latestLoadableCheckpoint() throws(CheckpointError) -> CheckpointInfo? {
        try checkpoints().last { $0.isLoadable }
    }

    /// One spelling per file: symbolic links and `.`/`..` resolved (the path as given if it is gone).
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    // MARK: Abandoned branches

    /// Moves the checkpoints after `step` (weights and optimizer files) and the metrics lines
    /// after it into `checkpoints/abandoned-from-step-NNNNNN/` (`-2`, `-3`, … when that exists),
    /// for a run resumed from `step`: they belong to a continuation that no longer leads
    /// anywhere. Moved, not deleted — the abandoned branch may be the better one, and a rename
    /// loses nothing — and out of the listing, so retention, "best val" and `--resume runs/NAME`
    /// see only the branch being trained. Returns the folder and the steps moved (nil: none).
    @discardableResult
    public func retireCheckpoints(after step: Int) throws(CheckpointError) -> (folder: String, steps: [Int])? {
        let later = try checkpoints().filter { $0.step > step }
        guard !later.isEmpty else { return nil }
        let base = checkpointsPath + "/abandoned-from-" + Self.stepStem(step)
        var folder = base
        var n = 1
        while FileSystem.exists(folder) {
            n += 1
            folder = base + "-\(n)"
        }
        try FileSystem.makeDirectories(folder)
        for checkpoint in later {
            // Optimizer first, as a checkpoint is written: a crash between the two leaves an
            // orphan optimizer file behind, which prune removes, never weights without moments.
            let files = [optimizerPath(step: checkpoint.step), checkpoint.path]
            for file in files where FileSystem.exists(file) {
                let target = folder + "/" + AtomicFile.splitPath(file).name
                if rename(file, target) != 0 {
                    throw CheckpointError.system(file, "cannot move it to \(folder) (abandoned branch)", errno: errno)
                }
            }
        }
        let dropped = try MetricsLog.read(metricsPath).filter { $0.step > step }
        if !dropped.isEmpty {
            try AtomicFile.write(text: dropped.map { $0.jsonLine + "\n" }.joined(), to: folder + "/metrics.jsonl")
        }
        return (folder, later.map(\.step))
    }

    // MARK: Retention

    /// Deletes the checkpoints `policy` does not keep (weights and optimizer files), temporary
    /// files left by killed writers, and optimizer files whose weights never got written.
    /// Returns the paths deleted.
    ///
    /// Only checkpoints up to `throughStep` are considered: a run resumed from an older checkpoint
    /// leaves the later ones (from the abandoned continuation) alone until training overwrites
    /// them — otherwise "keep the newest N" would count those and delete the fresh ones.
    @discardableResult
    ///
    /// `keeping` names weights files that are spared whatever the policy says (a dashboard shows
    /// them); a path is matched after resolving symbolic links and `..`, since the watcher and
    /// the trainer may spell one folder differently.
    public func prune(_ policy: RetentionPolicy, throughStep: Int = .max, keeping: Set<String> = []) throws(CheckpointError) -> [String] {
        guard FileSystem.isDirectory(checkpointsPath) else { return [] }
        var deleted = AtomicFile.removeAbandonedTemporaries(in: checkpointsPath)
        let all = try checkpoints()
        let spared = Set(keeping.map(Self.canonical))
        for doomed in policy.checkpointsToDelete(from: all.filter { $0.step <= throughStep })
        where spared.isEmpty || !spared.contains(Self.canonical(doomed.path)) {
            // Weights first: once they are gone the checkpoint no longer exists, and a crash here
            // leaves only an orphan optimizer file, removed next time.
            try FileSystem.remove(doomed.path)
            deleted.append(doomed.path)
            let optimizer = optimizerPath(step: doomed.step)
            if FileSystem.exists(optimizer) {
                try FileSystem.remove(optimizer)
                deleted.append(optimizer)
            }
        }
        // An optimizer file with no weights is the trace of a crash mid-checkpoint. Only those
        // older than the newest checkpoint are removed: a newer one may be a write in progress.
        let weightSteps = Set(all.map(\.step))
        let newest = all.last?.step ?? Int.max
        for name in try FileSystem.list(checkpointsPath) {
            if let step = Self.step(fromOptimizerFileName: name), step < newest, !weightSteps.contains(step) {
                try FileSystem.remove(checkpointsPath + "/" + name)
                deleted.append(checkpointsPath + "/" + name)
            }
        }
        return deleted
    }
}

/// One checkpoint as a listing shows it, read from file headers only.
public struct CheckpointInfo: Sendable, Equatable {
    /// The run folder's name.
    public var run: String
    /// The weights file.
    public var path: String
    /// From the metadata, else from the file name.
    public var step: Int
    public var trainLoss: Float?
    public var valLoss: Float?
    /// From the metadata, else the file's modification time.
    public var created: Date?
    /// Weights plus optimizer-state file.
    public var sizeBytes: Int
    /// Whether the optimizer-state file is there (needed for an exact resume).
    public var hasOptimizerState: Bool
    public var config: GPTConfig?
    /// Why the checkpoint cannot be loaded; nil when its header, layout and shapes are sound.
    public var problem: String?

    public init(run: String, path: String, step: Int, trainLoss: Float? = nil, valLoss: Float? = nil,
                created: Date? = nil, sizeBytes: Int = 0, hasOptimizerState: Bool = false,
                config: GPTConfig? = nil, problem: String? = nil) {
        self.run = run
        self.path = path
        self.step = step
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.created = created
        self.sizeBytes = sizeBytes
        self.hasOptimizerState = hasOptimizerState
        self.config = config
        self.problem = problem
    }

    /// A weights file whose header is valid, whose declared layout fits the file, and whose tensors
    /// match its configuration: everything short of reading the data.
    public var isLoadable: Bool { problem == nil }

    /// Describes the weights file at `path`; never throws — problems go into `problem`.
    public static func inspect(_ path: String, run: String) -> CheckpointInfo {
        let (folder, fileName) = AtomicFile.splitPath(path)
        let optimizer: String? = RunDirectory.step(fromWeightsFileName: fileName).map {
            folder + "/" + RunDirectory.stepStem($0) + ".optimizer.safetensors"
        }
        let optimizerSize = optimizer.flatMap(FileSystem.size)
        var info = CheckpointInfo(
            run: run, path: path, step: RunDirectory.step(fromWeightsFileName: fileName) ?? 0,
            created: FileSystem.modificationDate(path),
            sizeBytes: (FileSystem.size(path) ?? 0) + (optimizerSize ?? 0), hasOptimizerState: optimizerSize != nil)
        do {
            let header = try SafeTensors.readHeader(path)
            let metadata = try CheckpointMetadata(parsing: header.metadata, path: path)
            info.step = metadata.step ?? info.step
            info.trainLoss = metadata.trainLoss
            info.valLoss = metadata.valLoss
            info.created = metadata.created ?? info.created
            info.config = metadata.config
            if let config = metadata.config {
                let shapes = Dictionary(header.tensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
                try NanoGPTStateDict.validate(shapes, against: config, path: path)
            }
        } catch {
            info.problem = error.problem
        }
        return info
    }
}
