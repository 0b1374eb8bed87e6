/// The shape of a GPT, with nanoGPT's field names (`model.py`'s `GPTConfig`).
public struct GPTConfig: Sendable, Equatable, Codable {
    public enum PositionalEncoding: String, Sendable, Codable, CaseIterable {
        /// A trained `wpe` table, one vector per position (GPT-2, nanoGPT).
        case learned
        /// Fixed sin/cos vectors of "Attention Is All You Need"; no parameters.
        case sinusoidal
    }

    public var vocabSize: Int
    public var blockSize: Int
    public var nLayer: Int
    public var nHead: Int
    public var nEmbd: Int
    /// Biases in the Linear layers and LayerNorms (nanoGPT's `bias`).
    public var bias: Bool
    /// Dropout probability, applied only while training.
    public var dropout: Float
    public var posEncoding: PositionalEncoding

    public init(vocabSize: Int, blockSize: Int, nLayer: Int, nHead: Int, nEmbd: Int,
                bias: Bool = false, dropout: Float = 0, posEncoding: PositionalEncoding = .learned) {
        self.vocabSize = vocabSize
        self.blockSize = blockSize
        self.nLayer = nLayer
        self.nHead = nHead
        self.nEmbd = nEmbd
        self.bias = bias
        self.dropout = dropout
        self.posEncoding = posEncoding
    }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", blockSize = "block_size", nLayer = "n_layer", nHead = "n_head"
        case nEmbd = "n_embd", bias, dropout, posEncoding = "pos_encoding"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        blockSize = try c.decode(Int.self, forKey: .blockSize)
        nLayer = try c.decode(Int.self, forKey: .nLayer)
        nHead = try c.decode(Int.self, forKey: .nHead)
        nEmbd = try c.decode(Int.self, forKey: .nEmbd)
        bias = try c.decodeIfPresent(Bool.self, forKey: .bias) ?? false
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        posEncoding = try c.decodeIfPresent(PositionalEncoding.self, forKey: .posEncoding) ?? .learned
    }

    /// Width of one attention head.
    public var headSize: Int { nEmbd / nHead }

    /// Checks that the sizes describe a buildable model; the message names the problem and the fix.
    public func validate() throws(ConfigError) {
        for (name, value) in [("vocab_size", vocabSize), ("block_size", blockSize), ("n_layer", nLayer),
                              ("n_head", nHead), ("n_embd", nEmbd)] where value <= 0 {
            throw ConfigError("\(name) = \(value) must be a positive whole number")
        }
        for (name, value) in [("vocab_size", vocabSize), ("block_size", blockSize), ("n_layer", nLayer),
                              ("n_head", nHead), ("n_embd", nEmbd)] where value > MemoryBudget.maxDimension {
            throw ConfigError("\(name) = \(value) is beyond any model this program can build (at most \(MemoryBudget.maxDimension)) — choose a smaller \(name)")
        }
        guard MemoryBudget.parameterCount(self) != nil, MemoryBudget.tensorCount(self) != nil else {
            throw ConfigError("\(MemoryBudget.shape(self)) has more parameters than 64-bit arithmetic can count — choose smaller sizes")
        }
        if nEmbd % nHead != 0 {
            throw ConfigError("n_embd = \(nEmbd) is not divisible by n_head = \(nHead): pick n_embd a multiple of n_head (e.g. \(nHead * max(1, nEmbd / nHead)))")
        }
        if !(dropout >= 0 && dropout < 1) {
            throw ConfigError("dropout = \(dropout) must be in [0, 1)")
        }
        if posEncoding == .sinusoidal && nEmbd % 2 != 0 {
            throw ConfigError("sinusoidal positions need an even n_embd (got \(nEmbd))")
        }
    }
}

/// A configuration mistake, phrased for the person who made it.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
