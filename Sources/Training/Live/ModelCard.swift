import GPT
import Kernels

/// What a learner asks first about a run — how big is the model, with what settings, on how much
/// data, how far along, how much memory — gathered once when the run starts and carried in the
/// snapshot, so the dashboard's model card reads it like every other pane reads its field.
public struct ModelCard: Sendable, Equatable {
    public var parameters: Int
    /// Parameters outside the token and position embeddings (`wte`, `wpe`): the "non-embedding"
    /// count scaling laws use, and the part that grows with depth and width rather than vocab.
    public var parametersWithoutEmbeddings: Int
    public var nLayer: Int
    public var nHead: Int
    public var nEmbd: Int
    public var blockSize: Int
    public var bias: Bool
    public var dropout: Float
    public var dtype: String
    public var batchSize: Int
    public var gradientAccumulationSteps: Int
    public var learningRate: Float
    public var maxIters: Int
    /// Tokens one optimizer step reads (batch × block × accumulation): tokens seen = step × this.
    public var tokensPerStep: Int
    /// `"char"` or `"bpe"`.
    public var tokenizer: String
    public var vocabSize: Int
    /// The config's `data` (a path, `recipe:…` or `task:…`).
    public var corpus: String
    public var trainTokens: Int
    public var valTokens: Int
    /// `MemoryEstimate.total`, bytes (nil: not estimated).
    public var estimatedBytes: Int?
    /// What the step keeps for its backward pass, e.g. "fused attention, selective activation
    /// checkpointing" (`MemoryOptions.summary`; empty: not stated): the estimate depends on it.
    public var memoryOptions: String
    /// The kernels doing the products on this CPU, e.g. "float32 GEMM avx512, 12×32 tile ·
    /// bfloat16 products AMX tdpbf16ps" (empty: not stated).
    public var kernels: String

    public init(parameters: Int, parametersWithoutEmbeddings: Int, nLayer: Int, nHead: Int, nEmbd: Int, blockSize: Int,
                bias: Bool, dropout: Float, dtype: String, batchSize: Int, gradientAccumulationSteps: Int, learningRate: Float,
                maxIters: Int, tokensPerStep: Int, tokenizer: String, vocabSize: Int, corpus: String, trainTokens: Int,
                valTokens: Int, estimatedBytes: Int?, memoryOptions: String = "", kernels: String = "") {
        self.parameters = parameters; self.parametersWithoutEmbeddings = parametersWithoutEmbeddings
        self.nLayer = nLayer; self.nHead = nHead; self.nEmbd = nEmbd; self.blockSize = blockSize; self.bias = bias
        self.dropout = dropout; self.dtype = dtype; self.batchSize = batchSize
        self.gradientAccumulationSteps = gradientAccumulationSteps; self.learningRate = learningRate
        self.maxIters = maxIters; self.tokensPerStep = tokensPerStep; self.tokenizer = tokenizer
        self.vocabSize = vocabSize; self.corpus = corpus; self.trainTokens = trainTokens; self.valTokens = valTokens
        self.estimatedBytes = estimatedBytes
        self.memoryOptions = memoryOptions
        self.kernels = kernels
    }

    /// The card of `trainer`'s run.
    public static func of(_ trainer: Trainer) -> ModelCard {
        let layout = trainer.model.layout, c = trainer.config
        let embeddings = layout.tensors.filter { ["transformer.wte.weight", "transformer.wpe.weight"].contains($0.name) }
            .reduce(0) { $0 + $1.count }
        let vocab = trainer.dataset.tokenizer.vocabSize
        return ModelCard(parameters: layout.totalCount, parametersWithoutEmbeddings: layout.totalCount - embeddings,
                         nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, blockSize: c.blockSize, bias: c.bias,
                         dropout: c.dropout, dtype: "\(c.dtype)", batchSize: c.batchSize,
                         gradientAccumulationSteps: c.gradientAccumulationSteps, learningRate: c.learningRate,
                         maxIters: c.maxIters, tokensPerStep: c.tokensPerStep, tokenizer: c.tokenizer, vocabSize: vocab,
                         corpus: c.data, trainTokens: trainer.dataset.train.count, valTokens: trainer.dataset.val.count,
                         estimatedBytes: MemoryEstimate.of(c, vocabSize: vocab, workers: WorkerPool.shared.workers)?.total,
                         memoryOptions: c.memoryOptions.summary, kernels: kernelSummary(c.dtype))
    }

    /// The float32 kernel family and, for a 16-bit dtype, the kernel its products run on.
    public static func kernelSummary(_ dtype: DType) -> String {
        let family = KernelFamily.active, tile = family.gemmTile
        let float32 = "float32 GEMM \(family.rawValue), \(tile.rows)×\(tile.cols) tile"
        guard let format = dtype.halfFormat else { return float32 }
        return float32 + " · \(dtype) products " + GEMM16.kernel(for: format).shortName
    }
}
