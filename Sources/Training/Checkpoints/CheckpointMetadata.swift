import Foundation
import GPT
import SafeTensors

/// The `__metadata__` of a Nanoscope weights file (all values are strings in the file):
///
/// | key          | value                                                                     |
/// |--------------|---------------------------------------------------------------------------|
/// | `format`     | `nanoscope/1`                                                             |
/// | `config`     | `GPTConfig` as JSON with nanoGPT's keys (`vocab_size`, `n_layer`, …)      |
/// | `tokenizer`  | the tokenizer's `metadataJSON()` (`{"type":"char","vocab":[…]}`, or BPE)  |
/// | `step`       | optimizer steps completed, decimal                                        |
/// | `train_loss` | mean train loss at the last eval, decimal (absent if never evaluated)     |
/// | `val_loss`   | mean val loss at the last eval, decimal (absent if never evaluated)       |
/// | `created`    | ISO 8601 time the file was written, UTC                                   |
///
/// Any other keys are kept in `extra` and written back unchanged.
public struct CheckpointMetadata: Sendable, Equatable {
    public static let currentFormat = "nanoscope/1"

    /// nil for a file written by another tool (e.g. a nanoGPT state dict saved from Python).
    public var format: String?
    public var step: Int?
    public var trainLoss: Float?
    public var valLoss: Float?
    public var created: Date?
    public var config: GPTConfig?
    public var tokenizerJSON: String?
    public var extra: [String: String]

    /// Metadata for a checkpoint about to be written.
    public init(step: Int, config: GPTConfig, tokenizerJSON: String, trainLoss: Float? = nil,
                valLoss: Float? = nil, created: Date = Date(), extra: [String: String] = [:]) {
        self.format = Self.currentFormat
        self.step = step
        self.config = config
        self.tokenizerJSON = tokenizerJSON
        self.trainLoss = trainLoss
        self.valLoss = valLoss
        self.created = created
        self.extra = extra
    }

    enum Key {
        static let format = "format", config = "config", tokenizer = "tokenizer", step = "step"
        static let trainLoss = "train_loss", valLoss = "val_loss", created = "created"
        static let all: Set<String> = [format, config, tokenizer, step, trainLoss, valLoss, created]
    }

    /// Reads the map from a file header. Missing keys are simply nil (files from other tools have
    /// none); a key that is present but malformed, or a format from a newer Nanoscope, is an error.
    public init(parsing metadata: [String: String], path: String) throws(CheckpointError) {
        func bad(_ key: String, _ why: String) -> CheckpointError {
            // A short excerpt: a corrupt value may be hundreds of kilobytes long.
            let value = metadata[key] ?? ""
            let shown = value.count > 60 ? String(reflecting: String(value.prefix(60))) + "… (\(value.utf8.count) bytes)" : String(reflecting: value)
            return CheckpointError(path, "metadata '\(key)' = \(shown) \(why)")
        }
        format = metadata[Key.format]
        if let format, format != Self.currentFormat {
            throw CheckpointError(path, "written in format '\(format)', which this Nanoscope cannot read (it reads \(Self.currentFormat))")
        }
        if let text = metadata[Key.step] {
            guard let value = Int(text), value >= 0 else { throw bad(Key.step, "is not a step number") }
            step = value
        }
        if let text = metadata[Key.trainLoss] {
            guard let value = Float(text) else { throw bad(Key.trainLoss, "is not a number") }
            trainLoss = value
        }
        if let text = metadata[Key.valLoss] {
            guard let value = Float(text) else { throw bad(Key.valLoss, "is not a number") }
            valLoss = value
        }
        if let text = metadata[Key.created] {
            guard let value = Self.parseDate(text) else { throw bad(Key.created, "is not an ISO 8601 time") }
            created = value
        }
        if let text = metadata[Key.config] {
            if let problem = Self.configProblem(text) {
                throw CheckpointError(path, "metadata 'config' is not a model configuration: \(problem) — the file is corrupt or not from Nanoscope")
            }
            do {
                config = try JSONDecoder().decode(GPTConfig.self, from: Data(text.utf8))
            } catch {
                throw bad(Key.config, "is not a model configuration (\(Self.describe(error)))")
            }
        }
        tokenizerJSON = metadata[Key.tokenizer]
        extra = metadata.filter { !Key.all.contains($0.key) }
    }

    /// The string map stored in the file.
    public var dictionary: [String: String] {
        var out = extra
        out[Key.format] = format
        out[Key.step] = step.map(String.init)
        out[Key.trainLoss] = trainLoss.map { "\($0)" }
        out[Key.valLoss] = valLoss.map { "\($0)" }
        out[Key.created] = created.map(Self.formatDate)
        out[Key.config] = config.map(Self.configJSON)
        out[Key.tokenizer] = tokenizerJSON
        return out
    }

    /// `GPTConfig` as compact JSON with sorted keys, e.g.
    /// `{"bias":false,"block_size":64,"dropout":0,"n_embd":128,…}`.
    ///
    /// Written with the project's one JSON writer (`StrictJSON`); the bytes are those
    /// `JSONEncoder` with sorted keys wrote before it, so checkpoint headers did not change.
    public static func configJSON(_ config: GPTConfig) -> String {
        configObject(config).serialized
    }

    /// The `config` metadata as a JSON value, keys sorted as `JSONEncoder`'s `.sortedKeys` sorts
    /// `GPTConfig`'s coding keys.
    public static func configObject(_ c: GPTConfig) -> StrictJSON {
        .object([
            ("bias", .bool(c.bias)),
            ("block_size", .number(c.blockSize)),
            ("dropout", .number(c.dropout)),
            ("n_embd", .number(c.nEmbd)),
            ("n_head", .number(c.nHead)),
            ("n_layer", .number(c.nLayer)),
            ("pos_encoding", .string(c.posEncoding.rawValue)),
            ("vocab_size", .number(c.vocabSize)),
        ])
    }

    /// `2026-01-31T12:00:00Z`.
    public static func formatDate(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// Accepts our own form and Python's `datetime.isoformat()` with fractional seconds.
    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }

    /// What is wrong with a `config` JSON text, key by key, or nil if it reads as a GPTConfig.
    static func configProblem(_ text: String) -> String? {
        guard case .object(let members)? = try? StrictJSON.parse(Array(text.utf8)) else {
            return "it is not a JSON object (\(text.utf8.count) bytes)"
        }
        let fields = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for key in ["vocab_size", "block_size", "n_layer", "n_head", "n_embd"] {
            guard let value = fields[key] else { return "'\(key)' is missing" }
            guard case .number(let digits) = value, let n = Int(digits) else {
                let shown: String
                if case .number(let d) = value { shown = String(d.prefix(30)) } else { shown = "not a number" }
                return "'\(key)' = \(shown) must be a whole number"
            }
            if n <= 0 { return "'\(key)' = \(n) must be positive" }
        }
        if let bias = fields["bias"], case .bool = bias {} else if fields["bias"] != nil { return "'bias' must be true or false" }
        if let dropout = fields["dropout"] {
            guard case .number(let d) = dropout, let p = Double(d), p >= 0, p < 1 else { return "'dropout' must be a number in [0, 1)" }
        }
        if let position = fields["pos_encoding"] {
            guard case .string(let s) = position, GPTConfig.PositionalEncoding(rawValue: s) != nil else {
                return "'pos_encoding' must be \"learned\" or \"sinusoidal\""
            }
        }
        return nil
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            context.codingPath.isEmpty ? "invalid JSON" : "bad '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: "\(error)"
        }
    }
}

/// The `__metadata__` of an optimizer-state file (`step-000500.optimizer.safetensors`), which
/// also holds the AdamW moments as tensors `m.<parameter name>` and `v.<parameter name>`.
///
/// | key             | value                                                              |
/// |-----------------|--------------------------------------------------------------------|
/// | `format`        | `nanoscope/1`                                                      |
/// | `kind`          | `adamw`                                                            |
/// | `step`          | optimizer steps completed (AdamW's bias correction needs it)       |
/// | `rng`           | the trainer's random generator state, as the trainer encodes it   |
/// | `data_position` | where the data loader stands, as the trainer encodes it            |
///
/// Any other keys are kept in `extra`.
public struct OptimizerStateMetadata: Sendable, Equatable {
    public var step: Int
    public var rngState: String
    public var dataPosition: String
    public var extra: [String: String]

    public init(step: Int, rngState: String, dataPosition: String, extra: [String: String] = [:]) {
        self.step = step
        self.rngState = rngState
        self.dataPosition = dataPosition
        self.extra = extra
    }

    static let kind = "adamw"
    private static let known: Set<String> = ["format", "kind", "step", "rng", "data_position"]

    public init(parsing metadata: [String: String], path: String) throws(CheckpointError) {
        guard metadata["format"] == CheckpointMetadata.currentFormat, metadata["kind"] == Self.kind else {
            throw CheckpointError(path, "not a Nanoscope optimizer-state file (format \(String(reflecting: metadata["format"] ?? "missing")), kind \(String(reflecting: metadata["kind"] ?? "missing")))")
        }
        guard let stepText = metadata["step"], let step = Int(stepText), step >= 0 else {
            throw CheckpointError(path, "optimizer state has no valid 'step'")
        }
        guard let rng = metadata["rng"], let position = metadata["data_position"] else {
            throw CheckpointError(path, "optimizer state lacks 'rng' or 'data_position'")
        }
        self.init(step: step, rngState: rng, dataPosition: position,
                  extra: metadata.filter { !Self.known.contains($0.key) })
    }

    public var dictionary: [String: String] {
        extra.merging([
            "format": CheckpointMetadata.currentFormat, "kind": Self.kind, "step": String(step),
            "rng": rngState, "data_position": dataPosition,
        ]) { _, ours in ours }
    }
}
