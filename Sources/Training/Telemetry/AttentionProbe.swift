import GPT
import Tokenizers

/// A fixed text the trainer runs through the model (batch 1, no dropout) at the telemetry
/// cadence, so the attention maps of successive steps are of the same input and comparable.
/// By default it is the first `block_size` tokens of the validation split.
public struct AttentionProbe: Sendable, Equatable {
    public var tokens: [Int32]
    /// Each token decoded on its own, to label the heatmap's rows and columns.
    public var labels: [String]
    /// Every token id decoded on its own (the logit lens's predicted tokens are labelled with it).
    public var vocabulary: [String]

    public init(tokens: [Int32], tokenizer: any Tokenizer) {
        self.tokens = tokens
        labels = tokens.map { tokenizer.decode([$0]) }
        vocabulary = (0..<tokenizer.vocabSize).map { tokenizer.decode([Int32($0)]) }
    }

    /// The first `blockSize` tokens of the validation split.
    public static func firstValidationWindow(of dataset: Dataset, blockSize: Int) -> AttentionProbe {
        AttentionProbe(tokens: Array(dataset.val.prefix(blockSize)), tokenizer: dataset.tokenizer)
    }

    /// A probe typed by the user: encoded with the run's tokenizer and cut to `blockSize` tokens.
    public init(text: String, tokenizer: any Tokenizer, blockSize: Int) throws(ProbeError) {
        guard !text.isEmpty else { throw ProbeError("the probe text is empty") }
        let ids: [Int32]
        do { ids = try tokenizer.encode(text) } catch let e as TokenizerError {
            throw ProbeError("probe not changed: \(e.description)")
        } catch {
            throw ProbeError("probe not changed: \(error)")
        }
        guard !ids.isEmpty else { throw ProbeError("the probe text encodes to no tokens") }
        self.init(tokens: Array(ids.prefix(blockSize)), tokenizer: tokenizer)
        truncated = ids.count > blockSize
    }

    /// The typed text was longer than the context and was cut to its first `block_size` tokens.
    public private(set) var truncated = false
}

public struct ProbeError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The softmax attention weights P of every layer and head for the probe, as the model computed
/// them in its forward pass (`GPT.attentionWeights(layer:)`): row t is query position t, column s
/// key position s, each row sums to 1 and P[t, s] = 0 for s > t (the causal mask).
///
/// `weights` is one array, `[layer][head][t][s]`; a snapshot copy shares it (copy on write).
public struct AttentionMaps: Sendable, Equatable {
    /// Optimizer steps completed when the maps were computed.
    public var step: Int
    /// Decoded probe tokens (row and column labels).
    public var tokens: [String]
    public var layers: Int
    public var heads: Int
    public var weights: [Float]
    /// The probe's token ids (the tokenizer view shows them on demand).
    public var tokenIDs: [Int32] = []
    /// The logit lens read from the same forward pass (nil for a model too large to read cheaply).
    public var lens: LogitLens?

    public init(step: Int, tokens: [String], layers: Int, heads: Int, weights: [Float]) {
        precondition(weights.count == layers * heads * tokens.count * tokens.count, "one T×T map per layer and head")
        self.step = step
        self.tokens = tokens
        self.layers = layers
        self.heads = heads
        self.weights = weights
    }

    /// T, the probe's length.
    public var size: Int { tokens.count }

    /// The T×T map of one head, row-major.
    public func map(layer: Int, head: Int) -> ArraySlice<Float> {
        let t2 = size * size, start = (layer * heads + head) * t2
        return weights[start..<(start + t2)]
    }

    public func weight(layer: Int, head: Int, row: Int, column: Int) -> Float {
        weights[((layer * heads + head) * size + row) * size + column]
    }

    /// Runs `probe` through `model` (batch 1, no dropout) and copies out every layer's P.
    /// The model keeps a second set of activations for this shape, so the training buffers
    /// are not reallocated.
    public static func compute(model: GPT, probe: AttentionProbe, step: Int) -> AttentionMaps {
        let t = probe.tokens.count
        model.forward(tokens: probe.tokens, targets: nil, batch: 1, seqLen: t, keepAttentionMaps: true)
        var weights: [Float] = []
        weights.reserveCapacity(model.config.nLayer * model.config.nHead * t * t)
        for layer in 0..<model.config.nLayer {
            weights.append(contentsOf: model.attentionWeights(layer: layer))
        }
        var maps = AttentionMaps(step: step, tokens: probe.labels, layers: model.config.nLayer,
                                 heads: model.config.nHead, weights: weights)
        maps.tokenIDs = probe.tokens
        maps.lens = LogitLens.read(model: model, probe: probe, vocabulary: probe.vocabulary, step: step)
        return maps
    }
}
