import GPT
import Tokenizers

/// What the trainer thread publishes after each step for whoever watches (the dashboard, tests).
///
/// A plain value: the watcher gets a consistent picture without ever holding a lock while it draws.
public struct TrainingSnapshot: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case starting
        case running
        case paused
        case evaluating
        case finished
        case failed(String)
        /// No trainer in this process (`nanoscope browse`): checkpoints can be looked at, sampled
        /// and resumed from.
        case idle
    }

    /// One optimizer step.
    public struct StepPoint: Sendable, Equatable {
        public var step: Int
        public var loss: Float
        public var lr: Float
        public var gradNorm: Float
        /// Wall time of the step (forward, backward and update).
        public var seconds: Double
        /// Wall-clock seconds since the session started when the step ended (throughput
        /// measured this way includes everything between steps, not just the steps).
        public var wallTime: Double
        public init(step: Int, loss: Float, lr: Float, gradNorm: Float, seconds: Double = 0, wallTime: Double = 0) {
            self.step = step; self.loss = loss; self.lr = lr; self.gradNorm = gradNorm; self.seconds = seconds
            self.wallTime = wallTime
        }
    }

    /// One evaluation (mean loss over `eval_iters` batches of each split; on a synthetic task
    /// also the exact-match accuracy on held-out problems).
    public struct EvalPoint: Sendable, Equatable {
        public var step: Int
        public var trainLoss: Float
        public var valLoss: Float
        public var taskAccuracy: Float?
        public init(step: Int, trainLoss: Float, valLoss: Float, taskAccuracy: Float? = nil) {
            self.step = step; self.trainLoss = trainLoss; self.valLoss = valLoss; self.taskAccuracy = taskAccuracy
        }
    }

    public var runName: String
    public var state: State
    /// Optimizer steps completed so far.
    public var step: Int
    public var maxSteps: Int
    public var steps: [StepPoint]
    public var evals: [EvalPoint]
    /// Training throughput over the last few steps.
    public var tokensPerSecond: Double
    /// Seconds spent training (pauses excluded).
    public var elapsed: Double
    /// Estimated seconds to `maxSteps`, nil before it can be estimated.
    public var eta: Double?
    /// Path of the newest checkpoint written, if any.
    public var lastCheckpoint: String?
    /// Recent notices for the user (checkpoint written, skipped non-finite step, …), newest last.
    public var messages: [String]

    /// One point of the update/data ratio history: the ratio of each layer in `Telemetry.layers`
    /// order (NaN where it is undefined, e.g. a skipped step).
    public struct UpdateRatioPoint: Sendable, Equatable {
        public var step: Int
        public var ratios: [Float]
        public init(step: Int, ratios: [Float]) { self.step = step; self.ratios = ratios }
    }

    /// The run's `grad_clip` (0 = no clipping): steps whose `gradNorm` exceeds it were clipped.
    public var gradClip: Float = 0
    /// The newest gradient statistics (every `telemetry_interval` steps); its `attention` is nil,
    /// the maps live in `attention`, which a probe change also updates.
    public var telemetry: Telemetry?
    /// Update/data ratio per layer at every telemetry step; layer names in `telemetry.layers`.
    public var updateRatios: [UpdateRatioPoint] = []
    /// The probe's attention maps, newest. The arrays are shared between snapshot copies
    /// (copy on write), so publishing and reading a snapshot does not copy them.
    public var attention: AttentionMaps?
    /// A copy of the model's weights, taken at a step boundary when a watcher asked for one
    /// (`.snapshotWeights`): what the sampling console generates from while training goes on.
    public var liveWeights: LiveWeights?
    /// The run's model card (sizes, config, data, memory), set when training starts.
    public var modelCard: ModelCard?
    /// Ranks and all-reduce timings of the latest step, when training data-parallel (`mpirun`).
    public var cluster: ClusterStatus?

    /// The run's `dtype`: the precision of the matrix products.
    public var dtype: DType = .float32
    /// float16 with loss scaling: S, the loss scale the next step's backward pass uses; nil for
    /// float32, bfloat16 and float16 with `loss_scaling = false`.
    public var lossScale: Float?
    /// Steps the loss scaler skipped because the scaled gradients overflowed, over the run.
    public var skippedSteps = 0

    /// A change of the loss scale: after optimizer step `step`, S became `scale` (halved for an
    /// overflow, doubled after `growthInterval` finite steps).
    public struct ScaleChange: Sendable, Equatable {
        public var step: Int
        public var scale: Float
        public init(step: Int, scale: Float) { self.step = step; self.scale = scale }
    }
    /// Every change of S, oldest first (the loss chart marks them).
    public var scaleChanges: [ScaleChange] = []

    public init(runName: String, maxSteps: Int) {
        self.runName = runName
        self.state = .starting
        self.step = 0
        self.maxSteps = maxSteps
        self.steps = []
        self.evals = []
        self.tokensPerSecond = 0
        self.elapsed = 0
        self.eta = nil
        self.lastCheckpoint = nil
        self.messages = []
    }

    public var latestLoss: Float? { steps.last?.loss }
    public var latestLR: Float? { steps.last?.lr }
    public var latestValLoss: Float? { evals.last?.valLoss }
    public var latestTaskAccuracy: Float? { evals.last?.taskAccuracy }
}

/// Requests from a watcher to the trainer; the trainer reads them between steps.
public enum TrainerCommand: Sendable, Equatable {
    case pause
    case resume
    /// Write a checkpoint at the next step boundary.
    case saveCheckpoint
    /// Checkpoint and end the run.
    case stop
    /// Use this text as the attention probe from now on and recompute the maps at once.
    case setProbe(String)
    /// Copy the weights at the next step boundary and publish them as `liveWeights`.
    case snapshotWeights
    /// Stop this run (with a checkpoint) and continue training from the checkpoint at this path.
    /// Only a `TrainingHost` can swap runs; a bare session notes that it cannot.
    case resumeFrom(String)
    /// The checkpoints (weights paths) a watcher shows — loaded into its sampling console or
    /// marked for comparison — which retention must not delete. Takes effect at once, not at the
    /// next step boundary: the save that ends the current step prunes.
    case pinCheckpoints(Set<String>)
}

/// The trainer's weights at one step with the tokenizer that reads them: a value the sampler
/// thread owns once published. A class so that snapshots carrying it compare (and copy) in O(1):
/// two are equal only when they are the same copy.
public final class LiveWeights: Sendable, Equatable {
    public let step: Int
    public let weights: ModelWeights
    public let tokenizer: any Tokenizer

    public init(step: Int, weights: ModelWeights, tokenizer: any Tokenizer) {
        self.step = step
        self.weights = weights
        self.tokenizer = tokenizer
    }

    public static func == (a: LiveWeights, b: LiveWeights) -> Bool { a === b }
}

/// The handle a dashboard holds on a training run living on another thread.
public protocol TrainingControl: AnyObject, Sendable {
    /// The newest published snapshot (cheap: a copy of a value under a lock).
    func snapshot() -> TrainingSnapshot
    /// Queue a command for the trainer.
    func send(_ command: TrainerCommand)
}

extension TrainingSnapshot {
    /// The curves a run's `metrics.jsonl` records: a point per logged step with a train loss, an
    /// evaluation per line with a val loss (its train-split loss is not logged: NaN). Browse mode
    /// draws a run from these, and a resumed session starts from them, so the loss chart keeps
    /// the history up to the checkpoint instead of beginning at the resume point.
    public mutating func loadHistory(_ records: [MetricsRecord]) {
        steps = records.compactMap { r in
            r.trainLoss.map { StepPoint(step: r.step, loss: $0, lr: r.lr ?? 0, gradNorm: r.gradNorm ?? 0) }
        }
        evals = records.compactMap { r in
            r.valLoss.map { EvalPoint(step: r.step, trainLoss: .nan, valLoss: $0, taskAccuracy: r.taskAccuracy) }
        }
        // The log carries S after each logged step, so a change shows at the first logged step
        // after it (exact with log_interval = 1).
        if let dtype = records.last(where: { $0.dtype != nil })?.dtype.flatMap(DType.init(rawValue:)) { self.dtype = dtype }
        scaleChanges = []
        var previous: Float?
        for r in records {
            guard let scale = r.lossScale else { continue }
            if let previous, scale != previous { scaleChanges.append(.init(step: r.step, scale: scale)) }
            previous = scale
        }
        if let last = records.last(where: { $0.lossScale != nil }) {
            lossScale = last.lossScale
            skippedSteps = last.skippedSteps ?? 0
        }
    }

    /// Records the loss scale after a step: a change is appended to `scaleChanges` (the first
    /// known value is the starting scale, not a change).
    public mutating func noteLossScale(_ scale: Float?, skippedSteps: Int, afterStep step: Int) {
        if let scale, let old = lossScale, scale != old {
            scaleChanges.append(.init(step: step, scale: scale))
            if scaleChanges.count > Self.scaleChangeLimit { scaleChanges.removeFirst(scaleChanges.count - Self.scaleChangeLimit) }
        }
        lossScale = scale
        self.skippedSteps = skippedSteps
    }

    /// Longest history of scale changes kept (a run halving at every step would otherwise grow it
    /// without bound; the chart shows at most one mark per column anyway).
    static let scaleChangeLimit = 4096
}
