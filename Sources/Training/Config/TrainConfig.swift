import Foundation
import GPT
import SafeTensors

/// Everything a run needs, with nanoGPT's hyperparameter names. Defaults are nanoGPT's CPU
/// "baby" Shakespeare config (README of nanoGPT: 4 layers, 4 heads, 128 wide, block 64, batch 12,
/// 2000 iterations, lr 1e-3 → 1e-4, warmup 100, β₂ 0.99, no dropout, no bias).
public struct TrainConfig: Sendable, Equatable {
    // Data
    /// Path of a UTF-8 text corpus, `recipe:shakespeare`, or a synthetic task (`task:sort`).
    public var data: String = ""
    /// `"char"` or `"bpe"`.
    public var tokenizer: String = "char"
    /// Vocabulary size for `tokenizer = "bpe"` (ignored for characters: the corpus decides).
    public var vocabSize: Int = 512
    // Model
    public var nLayer = 4
    public var nHead = 4
    public var nEmbd = 128
    public var blockSize = 64
    public var bias = false
    public var dropout: Float = 0
    public var posEncoding: GPTConfig.PositionalEncoding = .learned
    // Memory (what the forward pass keeps for the backward pass; see GPT/MemoryOptions.swift)
    /// `"auto"`, `"standard"` or `"fused"`.
    public var attention = "auto"
    /// What each block keeps for the backward pass: off, full (true) or selective.
    public var activationCheckpointing = MemoryOptions.Checkpointing.off
    // Precision (GPT/MixedPrecision.swift): "float32", "bfloat16" or "float16", as nanoGPT
    public var dtype: DType = .float32
    /// float16 only: dynamic loss scaling (GradScaler). Off shows what float16 gradients lose.
    public var lossScaling = true
    // Data parallelism (Training/Distributed/)
    /// 1: ZeRO-1, AdamW's moments sharded over the ranks; 0: every rank keeps them whole.
    public var zeroStage = 0
    // Optimisation
    public var batchSize = 12
    public var gradientAccumulationSteps = 1
    public var maxIters = 2000
    public var learningRate: Float = 1e-3
    public var minLR: Float = 1e-4
    public var warmupIters = 100
    public var lrDecayIters = 2000
    public var decayLR = true
    public var weightDecay: Float = 0.1
    public var beta1: Float = 0.9
    public var beta2: Float = 0.99
    public var gradClip: Float = 1.0
    // Evaluation, logging, checkpoints
    public var evalInterval = 250
    public var evalIters = 20
    /// Held-out problems greedily decoded for the accuracy of a synthetic task.
    public var taskEvalProblems = 500
    public var logInterval = 10
    public var checkpointInterval = 500
    public var keepCheckpoints = 3
    /// Consecutive non-finite steps after which the run stops.
    public var maxBadSteps = 5
    /// Steps between gradient/attention telemetry (dashboard insight panes, `--telemetry`).
    public var telemetryInterval = 25
    // Bookkeeping
    public var seed = 1337
    public var runName = ""
    public var runsDir = "runs"
    /// `run_name` was not given and was made up from the config's name and the time: the run
    /// folder then gets a suffix if that name is taken, so default names never collide.
    public var runNameIsDefault = false

    public init() {}

    /// The model shape, once the tokenizer has fixed the vocabulary size.
    public func modelConfig(vocabSize: Int) -> GPTConfig {
        GPTConfig(vocabSize: vocabSize, blockSize: blockSize, nLayer: nLayer, nHead: nHead, nEmbd: nEmbd,
                  bias: bias, dropout: dropout, posEncoding: posEncoding)
    }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(maxLR: learningRate, minLR: minLR, warmupIters: warmupIters,
                             decayIters: lrDecayIters, decays: decayLR)
    }

    /// The attention kernel `"auto"` picks: the standard kernel's two large products per head
    /// beat the fused kernel's small tiles while the T×T matrices are small, and lose once a
    /// layer's probabilities (96 MB at the large config's block 256) crowd the caches for the
    /// rest of the step (measured whole step against whole step with `nanoscope bench
    /// --versus attention=fused`: fused 0.94× the time at block 256, 1.04× at block 64).
    public static let fusedAttentionFromBlockSize = 256

    public var memoryOptions: MemoryOptions {
        let kernel: MemoryOptions.AttentionKernel
        switch attention {
        case "standard": kernel = .standard
        case "fused": kernel = .fused
        default: kernel = blockSize >= Self.fusedAttentionFromBlockSize ? .fused : .standard
        }
        return MemoryOptions(attention: kernel, checkpointing: activationCheckpointing)
    }

    /// Tokens consumed by one optimizer step.
    public var tokensPerStep: Int { batchSize * blockSize * gradientAccumulationSteps }

    // MARK: - Keys

    /// One settable field: its nanoGPT name, a help line, and how to read and write it.
    public struct Key: Sendable {
        public let name: String
        public let help: String
        let set: @Sendable (inout TrainConfig, TOML.Value) throws(ConfigError) -> Void
        let get: @Sendable (TrainConfig) -> TOML.Value
    }

    /// Every key a config file or `--set` may name, in the order `config.toml` is written.
    public static let keys: [Key] = [
        .string("data", "a UTF-8 text file, recipe:shakespeare, or task:sort / task:add / task:reverse / task:copy", \.data),
        .string("tokenizer", "\"char\" or \"bpe\"", \.tokenizer),
        .int("vocab_size", "BPE vocabulary size (tokenizer = \"bpe\")", \.vocabSize),
        .int("n_layer", "transformer blocks", \.nLayer),
        .int("n_head", "attention heads per block", \.nHead),
        .int("n_embd", "embedding width (a multiple of n_head)", \.nEmbd),
        .int("block_size", "context length in tokens", \.blockSize),
        .bool("bias", "biases in Linear and LayerNorm layers", \.bias),
        .float("dropout", "dropout probability while training", \.dropout),
        Key(name: "pos_encoding", help: "\"learned\" or \"sinusoidal\"",
            set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
                guard case .string(let s) = v, let p = GPTConfig.PositionalEncoding(rawValue: s) else {
                    throw ConfigError("pos_encoding must be \"learned\" or \"sinusoidal\", not \(v)")
                }
                c.posEncoding = p
            }, get: { .string($0.posEncoding.rawValue) }),
        .string("attention", "\"fused\" (no T×T matrix kept), \"standard\", or \"auto\" (fused from block_size \(fusedAttentionFromBlockSize))", \.attention),
        Key(name: "activation_checkpointing",
            help: "true: keep only each block's input and recompute the block in the backward pass; \"selective\": also keep its attention's q, k, v and output, recomputing less",
            set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
                switch v {
                case .bool(let on): c.activationCheckpointing = on ? .full : .off
                case .string("selective"): c.activationCheckpointing = .selective
                default: throw ConfigError("activation_checkpointing must be true, false or \"selective\", not \(v)")
                }
            }, get: { c in
                c.activationCheckpointing == .selective ? .string("selective") : .bool(c.activationCheckpointing == .full)
            }),
        Key(name: "dtype", help: "\"float32\", \"bfloat16\" or \"float16\": 16-bit matmul operands with float32 accumulation, as torch.autocast",
            set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
                guard case .string(let s) = v, let d = DType(rawValue: s) else {
                    throw ConfigError("dtype must be \"float32\", \"bfloat16\" or \"float16\", not \(v)")
                }
                c.dtype = d
            }, get: { .string($0.dtype.rawValue) }),
        .bool("loss_scaling", "float16: dynamic loss scaling as torch.amp.GradScaler (false: watch small gradients underflow)", \.lossScaling),
        .int("zero_stage", "with --distributed: 1 shards AdamW's moments over the ranks (ZeRO-1), 0 keeps them whole on each", \.zeroStage),
        .int("batch_size", "sequences per micro-batch", \.batchSize),
        .int("gradient_accumulation_steps", "micro-batches per optimizer step", \.gradientAccumulationSteps),
        .int("max_iters", "optimizer steps in the run", \.maxIters),
        .float("learning_rate", "peak learning rate", \.learningRate),
        .float("min_lr", "learning rate at the end of the cosine decay", \.minLR),
        .int("warmup_iters", "steps of linear warmup", \.warmupIters),
        .int("lr_decay_iters", "step at which the cosine decay reaches min_lr", \.lrDecayIters),
        .bool("decay_lr", "use warmup + cosine decay (false: constant learning_rate)", \.decayLR),
        .float("weight_decay", "AdamW weight decay for ≥2-D tensors", \.weightDecay),
        .float("beta1", "AdamW β₁", \.beta1),
        .float("beta2", "AdamW β₂", \.beta2),
        .float("grad_clip", "clip the global gradient norm to this (0 = off)", \.gradClip),
        .int("eval_interval", "steps between evaluations", \.evalInterval),
        .int("eval_iters", "batches per split in each evaluation", \.evalIters),
        .int("task_eval_problems", "held-out problems whose answers each evaluation decodes (task: data)", \.taskEvalProblems),
        .int("log_interval", "steps between progress lines in headless logs", \.logInterval),
        .int("checkpoint_interval", "steps between checkpoints (0 = only at the end)", \.checkpointInterval),
        .int("keep_checkpoints", "keep the newest N checkpoints and the best by val loss (0 = keep all)", \.keepCheckpoints),
        .int("max_bad_steps", "stop after this many non-finite steps in a row", \.maxBadSteps),
        .int("telemetry_interval", "steps between gradient histograms and attention maps (dashboard, --telemetry; 0 = off)", \.telemetryInterval),
        .int("seed", "random seed (weights, batches, dropout)", \.seed),
        .string("run_name", "name of the run folder (default: config name + time)", \.runName),
        .string("runs_dir", "folder that holds the runs", \.runsDir),
    ]

    /// Sets one key from a TOML value (used for files and for command-line overrides).
    public mutating func set(_ name: String, _ value: TOML.Value) throws(ConfigError) {
        guard let key = Self.keys.first(where: { $0.name == name }) else {
            let close = Self.keys.map(\.name).filter { $0.hasPrefix(String(name.prefix(3))) }
            throw ConfigError("unknown config key \(name)" + (close.isEmpty ? "; see `nanoscope train --help` for the keys" : " (did you mean \(close.joined(separator: " or "))?)"))
        }
        try key.set(&self, value)
    }

    /// Bytes this run holds with a vocabulary of `vocabSize` (`MemoryBudget.trainingBytes`: the
    /// model, AdamW, 16-bit weight copies for a 16-bit dtype, activations); nil on overflow.
    public func trainingBytes(vocabSize: Int) -> Int? {
        MemoryBudget.trainingBytes(modelConfig(vocabSize: vocabSize), batchSize: batchSize, blockSize: blockSize,
                                   options: memoryOptions, halfWeights: dtype != .float32)
    }

    /// One key's value as a config file would hold it (nil for an unknown key).
    public func value(of name: String) -> TOML.Value? {
        Self.keys.first { $0.name == name }?.get(self)
    }

    /// Reads a config file; every problem names the file, the line and the fix.
    public static func load(path: String) throws(ConfigError) -> TrainConfig {
        if let problem = FileSystem.readProblem(path) {
            throw ConfigError("config file \(path) \(problem) — give a TOML run config (the samples are in Samples/ of the Nanoscope folder)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("config file \(path) cannot be read — give a TOML run config")
        }
        guard let text = String(validatingUTF8Data: data) else {
            throw ConfigError("config file \(path) is not UTF-8 text — save it as UTF-8")
        }
        if text.contains("\0") { throw ConfigError("config file \(path) contains NUL bytes — it is not a text file") }
        func located(_ line: Int?) -> String { line.map { "\(path):\($0)" } ?? path }
        let entries: [TOML.Entry]
        do { entries = try TOML.parse(text) } catch { throw ConfigError("\(located(error.line)): \(error.message)") }
        var config = TrainConfig()
        for entry in entries {
            do { try config.set(entry.key, entry.value) } catch {
                throw ConfigError("\(located(entry.line)): \(error.message)")
            }
        }
        // A relative data path in a config file is relative to the config file's folder if it
        // exists there, so configs work from any working directory.
        if !config.data.isEmpty && Dataset.namesAFile(config.data) && !config.data.hasPrefix("/") && !config.data.hasPrefix("~") {
            let beside = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(config.data).path
            if !FileManager.default.fileExists(atPath: config.data) && FileManager.default.fileExists(atPath: beside) {
                config.data = beside
            }
        }
        return config
    }

    /// The resolved configuration as TOML (the run folder's `config.toml`).
    public var tomlText: String {
        Self.keys.map { "\($0.name) = \($0.get(self))" }.joined(separator: "\n") + "\n"
    }

    /// Checks the training settings (the model shape is checked by `GPTConfig.validate`).
    public func validate() throws(ConfigError) {
        for (name, value) in [("batch_size", batchSize), ("gradient_accumulation_steps", gradientAccumulationSteps),
                              ("max_iters", maxIters), ("eval_iters", evalIters), ("n_layer", nLayer),
                              ("n_head", nHead), ("n_embd", nEmbd), ("block_size", blockSize)] where value <= 0 {
            throw ConfigError("\(name) = \(value) must be a positive whole number")
        }
        for (name, value) in [("warmup_iters", warmupIters), ("lr_decay_iters", lrDecayIters), ("eval_interval", evalInterval),
                              ("log_interval", logInterval), ("checkpoint_interval", checkpointInterval),
                              ("keep_checkpoints", keepCheckpoints), ("max_bad_steps", maxBadSteps),
                              ("telemetry_interval", telemetryInterval), ("task_eval_problems", taskEvalProblems)] where value < 0 {
            throw ConfigError("\(name) = \(value) must not be negative")
        }
        if seed < 0 { throw ConfigError("seed = \(seed) must be ≥ 0") }
        if vocabSize <= 0 { throw ConfigError("vocab_size = \(vocabSize) must be a positive whole number") }
        if nEmbd % nHead != 0 {
            throw ConfigError("n_embd = \(nEmbd) is not divisible by n_head = \(nHead): pick n_embd a multiple of n_head (e.g. \(nHead * max(1, nEmbd / nHead)))")
        }
        // Non-finite or negative optimiser settings would silently turn every weight into NaN.
        for (name, value, positive) in [("learning_rate", learningRate, true), ("min_lr", minLR, false),
                                        ("weight_decay", weightDecay, false), ("grad_clip", gradClip, false)] {
            guard value.isFinite else { throw ConfigError("\(name) = \(value) must be a finite number") }
            if positive ? !(value > 0) : !(value >= 0) {
                throw ConfigError("\(name) = \(value) must be \(positive ? "> 0" : "≥ 0")" + (name == "grad_clip" ? " (0 turns clipping off)" : ""))
            }
        }
        if !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) { throw ConfigError("beta1 = \(beta1) and beta2 = \(beta2) must be in [0, 1)") }
        if !(dropout >= 0 && dropout < 1) { throw ConfigError("dropout = \(dropout) must be in [0, 1)") }
        if zeroStage != 0 && zeroStage != 1 { throw ConfigError("zero_stage = \(zeroStage) must be 0 (moments whole on every rank) or 1 (ZeRO-1: sharded)") }
        if !["auto", "standard", "fused"].contains(attention) {
            throw ConfigError("attention = \"\(attention)\" must be \"auto\", \"standard\" or \"fused\"")
        }
        try RunName.validate(runName)
        // A step must end: bounded micro-batches per step and batches per evaluation.
        if gradientAccumulationSteps > Self.maxAccumulationSteps {
            throw ConfigError("gradient_accumulation_steps = \(gradientAccumulationSteps) is too many micro-batches for one step (at most \(Self.maxAccumulationSteps)); raise batch_size instead")
        }
        if evalIters > Self.maxEvalIters {
            throw ConfigError("eval_iters = \(evalIters) would make every evaluation endless (at most \(Self.maxEvalIters); nanoGPT uses 200)")
        }
        guard let tokens = MemoryBudget.product(batchSize, blockSize, gradientAccumulationSteps), tokens <= Self.maxTokensPerStep else {
            throw ConfigError("batch_size × block_size × gradient_accumulation_steps = \(batchSize) × \(blockSize) × \(gradientAccumulationSteps) tokens per step is beyond \(Self.maxTokensPerStep) — choose a smaller batch_size, block_size or gradient_accumulation_steps")
        }
        // The model's sizes, and the memory of training them, before anything is allocated (the
        // vocabulary is the corpus's for characters; 1 is its lower bound here).
        let shape = modelConfig(vocabSize: tokenizer == "bpe" ? vocabSize : 1)
        try shape.validate()
        try MemoryBudget.check(trainingBytes(vocabSize: shape.vocabSize),
                               for: "training n_layer=\(nLayer) n_embd=\(nEmbd) block_size=\(blockSize) batch_size=\(batchSize)",
                               fix: "choose a smaller n_layer, n_embd, block_size or batch_size")
        if tokenizer != "char" && tokenizer != "bpe" { throw ConfigError("tokenizer = \"\(tokenizer)\" must be \"char\" or \"bpe\"") }
        if tokenizer == "bpe" && vocabSize < 256 { throw ConfigError("vocab_size = \(vocabSize) is below 256: a byte-level BPE needs the 256 byte tokens") }
        if posEncoding == .sinusoidal && nEmbd % 2 != 0 { throw ConfigError("sinusoidal positions need an even n_embd (got \(nEmbd))") }
    }
}

extension TrainConfig {
    public static let maxAccumulationSteps = 1 << 16
    public static let maxEvalIters = 100_000
    public static let maxTokensPerStep = 1 << 31
}

/// A run's folder name: one path component of safe characters, so a run never writes outside
/// `runs_dir` (`..`, `a/b`, `/x`) or into it as a whole (`.`).
public enum RunName {
    public static let maxLength = 100

    public static func validate(_ name: String) throws(ConfigError) {
        if name.isEmpty { return }  // the default: the config's name and the time
        let allowed = name.unicodeScalars.allSatisfy { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(Character(s)) || s == "_" || s == "-" || s == ".")
        }
        guard allowed, name.count <= maxLength, let first = name.first, first != ".", first != "-" else {
            throw ConfigError("run_name = \(String(reflecting: String(name.prefix(40)))) must be one folder name of letters, digits, '_', '-' and '.', not starting with '.' or '-', at most \(maxLength) characters — e.g. run_name=baby-2")
        }
    }
}

extension TrainConfig.Key {
    static func int(_ name: String, _ help: String, _ kp: WritableKeyPath<TrainConfig, Int> & Sendable) -> Self {
        Self(name: name, help: help, set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
            guard case .integer(let i) = v else { throw ConfigError("\(name) must be a whole number, not \(v)") }
            c[keyPath: kp] = i
        }, get: { .integer($0[keyPath: kp]) })
    }
    static func float(_ name: String, _ help: String, _ kp: WritableKeyPath<TrainConfig, Float> & Sendable) -> Self {
        Self(name: name, help: help, set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
            switch v {
            case .float(let d): c[keyPath: kp] = Float(d)
            case .integer(let i): c[keyPath: kp] = Float(i)
            default: throw ConfigError("\(name) must be a number, not \(v)")
            }
        }, get: { .float(Double($0[keyPath: kp])) })
    }
    static func bool(_ name: String, _ help: String, _ kp: WritableKeyPath<TrainConfig, Bool> & Sendable) -> Self {
        Self(name: name, help: help, set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
            guard case .bool(let b) = v else { throw ConfigError("\(name) must be true or false, not \(v)") }
            c[keyPath: kp] = b
        }, get: { .bool($0[keyPath: kp]) })
    }
    static func string(_ name: String, _ help: String, _ kp: WritableKeyPath<TrainConfig, String> & Sendable) -> Self {
        Self(name: name, help: help, set: { (c: inout TrainConfig, v: TOML.Value) throws(ConfigError) in
            guard case .string(let s) = v else { throw ConfigError("\(name) must be a quoted string, not \(v)") }
            c[keyPath: kp] = s
        }, get: { .string($0[keyPath: kp]) })
    }
}
