/// Where each named weight of a GPT lives inside the one flat parameter buffer.
///
/// Names and shapes are exactly nanoGPT's `GPT.state_dict()` (PyTorch's `[out, in]` layout for
/// Linear weights), so checkpoints move between Nanoscope and PyTorch without renaming. The
/// output head `lm_head.weight` is not stored: it is tied to `transformer.wte.weight`.
public struct ParameterLayout: Sendable, Equatable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        /// AdamW's decay group: nanoGPT decays every tensor with two or more dimensions
        /// (matmul weights and embeddings) and no biases or LayerNorm gains.
        public var decays: Bool { shape.count >= 2 }
    }

    /// Offsets of one transformer block's tensors (`nil` when `bias = false`).
    public struct Block: Sendable, Equatable {
        public var ln1Weight = 0, ln1Bias: Int?
        public var attnWeight = 0, attnBias: Int?
        public var attnProjWeight = 0, attnProjBias: Int?
        public var ln2Weight = 0, ln2Bias: Int?
        public var fcWeight = 0, fcBias: Int?
        public var fcProjWeight = 0, fcProjBias: Int?
    }

    public private(set) var tensors: [Tensor] = []
    public private(set) var blocks: [Block] = []
    public private(set) var wte = 0
    /// `nil` with sinusoidal positions, which have no parameters.
    public private(set) var wpe: Int?
    public private(set) var lnfWeight = 0
    public private(set) var lnfBias: Int?
    public private(set) var totalCount = 0

    public init(config: GPTConfig) {
        let c = config.nEmbd, v = config.vocabSize
        wte = add("transformer.wte.weight", [v, c])
        if config.posEncoding == .learned { wpe = add("transformer.wpe.weight", [config.blockSize, c]) }
        for i in 0..<config.nLayer {
            let p = "transformer.h.\(i)."
            var b = Block()
            b.ln1Weight = add(p + "ln_1.weight", [c])
            if config.bias { b.ln1Bias = add(p + "ln_1.bias", [c]) }
            b.attnWeight = add(p + "attn.c_attn.weight", [3 * c, c])
            if config.bias { b.attnBias = add(p + "attn.c_attn.bias", [3 * c]) }
            b.attnProjWeight = add(p + "attn.c_proj.weight", [c, c])
            if config.bias { b.attnProjBias = add(p + "attn.c_proj.bias", [c]) }
            b.ln2Weight = add(p + "ln_2.weight", [c])
            if config.bias { b.ln2Bias = add(p + "ln_2.bias", [c]) }
            b.fcWeight = add(p + "mlp.c_fc.weight", [4 * c, c])
            if config.bias { b.fcBias = add(p + "mlp.c_fc.bias", [4 * c]) }
            b.fcProjWeight = add(p + "mlp.c_proj.weight", [c, 4 * c])
            if config.bias { b.fcProjBias = add(p + "mlp.c_proj.bias", [c]) }
            blocks.append(b)
        }
        lnfWeight = add("transformer.ln_f.weight", [c])
        if config.bias { lnfBias = add("transformer.ln_f.bias", [c]) }
    }

    private mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = totalCount
        tensors.append(Tensor(name: name, shape: shape, offset: offset))
        totalCount += shape.reduce(1, *)
        return offset
    }

    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }
}
