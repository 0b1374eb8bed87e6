import GPT
import SafeTensors

/// A weights file read and checked against its model configuration.
public struct LoadedCheckpoint: Sendable {
    public let path: String
    public let metadata: CheckpointMetadata
    /// The configuration the tensors were checked against.
    public let config: GPTConfig
    public let file: SafeTensorsFile

    /// The token embedding (`transformer.wte.weight`, or `lm_head.weight` when a tool kept only
    /// that name of the tied pair).
    public var tokenEmbedding: NamedTensor {
        // validate() guarantees one of the two exists.
        file[NanoGPTStateDict.tokenEmbedding] ?? file[NanoGPTStateDict.lmHead]!
    }

    /// Reads a weights file in full and checks its tensors against the configuration: the one in
    /// its metadata, or `config` for files from other tools that carry none. When both exist they
    /// must agree.
    public static func load(_ path: String, config override: GPTConfig? = nil) throws(CheckpointError) -> LoadedCheckpoint {
        let file = try SafeTensors.read(path)
        let metadata = try CheckpointMetadata(parsing: file.metadata, path: path)
        let config: GPTConfig
        switch (metadata.config, override) {
        case let (stored?, given?) where !sameShape(stored, given):
            throw CheckpointError(path, "the checkpoint was trained with \(NanoGPTStateDict.summary(stored)), not \(NanoGPTStateDict.summary(given))")
        case let (stored?, _): config = stored
        case let (nil, given?): config = given
        case (nil, nil):
            throw CheckpointError(path, "no model configuration: the metadata has no 'config' and none was given")
        }
        try NanoGPTStateDict.validate(Dictionary(file.tensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a }),
                                      against: config, path: path)
        // Values a healthy run never writes: NaN, ±Inf, or beyond 1e30 (the optimizer refuses
        // updates that go there), which overflow in the forward pass.
        for tensor in file.tensors {
            let bad = tensor.values.reduce(0) { $0 + ($1.isFinite && abs($1) < 1e30 ? 0 : 1) }
            if bad > 0 {
                throw CheckpointError(path, "tensor '\(tensor.name)' holds \(bad) non-finite or astronomically large values (NaN, ±Inf, |w| ≥ 1e30): these weights diverged — use an earlier checkpoint")
            }
        }
        return LoadedCheckpoint(path: path, metadata: metadata, config: config, file: file)
    }

    /// Dropout does not change the tensors, so a caller may override it freely.
    private static func sameShape(_ a: GPTConfig, _ b: GPTConfig) -> Bool {
        var b = b
        b.dropout = a.dropout
        return a == b
    }
}

/// An optimizer-state file read back: AdamW moments keyed by parameter name.
public struct LoadedOptimizerState: Sendable {
    public let path: String
    public let metadata: OptimizerStateMetadata
    /// `m` per parameter name.
    public let firstMoments: [String: NamedTensor]
    /// `v` per parameter name.
    public let secondMoments: [String: NamedTensor]

    /// Reads an optimizer-state file. With `parameters` (name → shape, as the model's optimizer
    /// sees them), checks that there is exactly one m and one v of the right shape for each.
    public static func load(_ path: String, parameters: [String: [Int]]? = nil) throws(CheckpointError) -> LoadedOptimizerState {
        let file = try SafeTensors.read(path)
        let metadata = try OptimizerStateMetadata(parsing: file.metadata, path: path)
        var m: [String: NamedTensor] = [:], v: [String: NamedTensor] = [:]
        for var tensor in file.tensors {
            let name = tensor.name
            tensor.name = String(name.dropFirst(2))
            if name.hasPrefix("m.") { m[tensor.name] = tensor } else if name.hasPrefix("v.") { v[tensor.name] = tensor } else {
                throw CheckpointError(path, "tensor '\(name)' is neither an m. nor a v. moment")
            }
        }
        for name in Set(m.keys).union(v.keys).sorted() where m[name]?.shape != v[name]?.shape {
            throw CheckpointError(path, "parameter '\(name)' needs m and v of the same shape (m: \(m[name].map { "\($0.shape)" } ?? "missing"), v: \(v[name].map { "\($0.shape)" } ?? "missing"))")
        }
        if let parameters {
            let missing = parameters.keys.filter { m[$0] == nil }.sorted()
            let unexpected = m.keys.filter { parameters[$0] == nil }.sorted()
            let wrong = parameters.filter { name, shape in m[name].map { $0.shape != shape } ?? false }.keys.sorted()
            guard missing.isEmpty, unexpected.isEmpty, wrong.isEmpty else {
                throw CheckpointError(path, "optimizer state does not match the model: missing \(missing), unexpected \(unexpected), wrong shape \(wrong)")
            }
        }
        // Moments that are not finite, or a negative second moment (a square root of it is taken),
        // would turn every weight into NaN at the first update.
        for (name, tensor) in m.sorted(by: { $0.key < $1.key }) where tensor.values.contains(where: { !$0.isFinite }) {
            throw CheckpointError(path, "optimizer state m.\(name) holds non-finite values — the optimizer file is corrupt; resume from an earlier checkpoint")
        }
        for (name, tensor) in v.sorted(by: { $0.key < $1.key }) where tensor.values.contains(where: { !$0.isFinite || $0 < 0 }) {
            throw CheckpointError(path, "optimizer state v.\(name) holds non-finite or negative values (AdamW's second moment is ≥ 0) — the optimizer file is corrupt; resume from an earlier checkpoint")
        }
        return LoadedOptimizerState(path: path, metadata: metadata, firstMoments: m, secondMoments: v)
    }
}
