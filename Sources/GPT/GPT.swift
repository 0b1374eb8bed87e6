import Foundation
import Kernels

/// nanoGPT's model (`model.py`), written out as explicit forward and backward passes over flat
/// buffers in the manner of llm.c:
///
///     x = wte[idx] + pos                                   token + position embeddings
///     x = dropout(x)
///     for each block:                                       pre-LayerNorm transformer block
///         x = x + dropout(c_proj(attention(c_attn(ln_1(x)))))
///         x = x + dropout(mlp.c_proj(gelu(mlp.c_fc(ln_2(x)))))
///     logits = ln_f(x) · wteᵀ                               output head tied to the embedding
///     loss = cross_entropy(logits, targets)
///
/// Each line is one kernel from the `Kernels` module (Embedding, LayerNorm, Linear, Attention,
/// GELU, Dropout, CrossEntropy) whose file states its math and its gradient. `backward()` walks
/// the same lines in reverse, adding every parameter's gradient into `grads`.
///
/// The model owns three flat buffers: `params` (named views in `layout`), `grads` (same layout),
/// and activations for the last two shapes run (see `activations(batch:seqLen:)`).
public final class GPT {
    public let config: GPTConfig
    public let layout: ParameterLayout
    public let params: FloatBuffer
    public let grads: FloatBuffer
    let pool: WorkerPool

    /// Bump after every change to `params` (optimizer step, load): the 16-bit path's copies of
    /// the weights are rebuilt lazily when this moves.
    public var parameterVersion = 0
    /// Fixed sinusoidal table when `posEncoding == .sinusoidal`.
    private let sinusoids: FloatBuffer?

    /// What the forward pass keeps for the backward pass (see `MemoryOptions`).
    public var memoryOptions = MemoryOptions.standard

    /// Activations of the two most recently used shapes, newest first: training (and eval, same
    /// shape) keeps its set while a batch-1 probe or sample of another shape uses the second.
    var activationSets: [Activations] = []
    /// The set of the last forward pass.
    var acts: Activations? { activationSets.first }
    /// Shape and inputs of the last forward pass, kept for `backward()`.
    var lastBatch = 0, lastSeqLen = 0
    var lastTokens: [Int32] = []
    var lastTargets: [Int32] = []
    var lastDropoutSeed: UInt64 = 0
    var lastTraining = false
    /// The loss scale whose head gradient the last forward pass already added (see `forward`).
    var headGradientTaken: Float?

    /// Precision of the matrix products (see `MixedPrecision.swift`): float32, or 16-bit operands
    /// with float32 accumulation as `torch.autocast`. Master weights and gradients stay float32.
    public var dtype: DType = .float32 {
        didSet { if dtype != oldValue { activationSets.removeAll(); halfSets.removeAll(); halfWeights = nil } }
    }
    /// The 16-bit path's activation sets (newest first) and weight copies.
    var halfSets: [HalfActivations] = []
    var halfWeights: HalfWeights?

    /// A model with nanoGPT's initialisation: N(0, 0.02) for weights and embeddings, N(0, 0.02/√(2·n_layer))
    /// for the two projections that write into the residual stream, LayerNorm gains 1, biases 0.
    public init(config: GPTConfig, seed: UInt64 = 1337, pool: WorkerPool = .shared) throws(ConfigError) {
        try config.validate()
        try MemoryBudget.check(MemoryBudget.modelBytes(config), for: "a model with \(MemoryBudget.shape(config))",
                               fix: "choose a smaller n_layer, n_embd, vocab_size or block_size")
        self.config = config
        self.pool = pool
        layout = ParameterLayout(config: config)
        params = FloatBuffer(count: layout.totalCount)
        grads = FloatBuffer(count: layout.totalCount)
        if config.posEncoding == .sinusoidal {
            let table = FloatBuffer(count: config.blockSize * config.nEmbd)
            Embedding.sinusoidalTable(table.pointer, maxLen: config.blockSize, channels: config.nEmbd)
            sinusoids = table
        } else {
            sinusoids = nil
        }
        var rng = RandomNumbers(seed: seed)
        let projStd = 0.02 / Float(2 * config.nLayer).squareRoot()
        for t in layout.tensors {
            let p = params.pointer + t.offset
            if t.shape.count >= 2 {
                let std: Float = t.name.hasSuffix("c_proj.weight") ? projStd : 0.02
                for i in 0..<t.count { p[i] = rng.nextGaussian() * std }
            } else if t.name.hasSuffix(".weight") {
                p.update(repeating: 1, count: t.count)
            }
        }
    }

    /// Number of parameters (the tied head counted once), and without position embeddings as
    /// nanoGPT reports it.
    public var parameterCount: Int { layout.totalCount }
    public var nonEmbeddingParameterCount: Int {
        layout.totalCount - (layout.wpe != nil ? config.blockSize * config.nEmbd : 0)
    }

    /// Pointer to a named tensor inside `params`.
    public func parameter(_ name: String) -> UnsafeMutableBufferPointer<Float>? {
        guard let t = layout.tensor(named: name) else { return nil }
        return UnsafeMutableBufferPointer(start: params.pointer + t.offset, count: t.count)
    }

    /// Pointer to a named tensor's gradient inside `grads`.
    public func gradient(_ name: String) -> UnsafeMutableBufferPointer<Float>? {
        guard let t = layout.tensor(named: name) else { return nil }
        return UnsafeMutableBufferPointer(start: grads.pointer + t.offset, count: t.count)
    }

    // MARK: - Forward

    /// Runs the model on `batch` sequences of `seqLen` tokens (row-major `[batch, seqLen]`).
    ///
    /// With `targets`, returns the mean cross-entropy loss and keeps what `backward()` needs;
    /// without, returns nil and leaves the logits readable through `logits(row:)`.
    /// Dropout is active only when `training` is true (it is derived from `dropoutSeed`).
    /// `memoryOptions` decide what is kept for the backward pass; `keepAttentionMaps` overrides
    /// them for this pass (standard attention, nothing recomputed), so `attentionWeights(layer:)`
    /// can read every layer's P afterwards.
    ///
    /// `headGradientScale`: the `lossScale` of the `backward()` that will follow. Under activation
    /// checkpointing the head keeps one chunk of logits at a time, so the backward pass would
    /// compute all B·T×V logits a second time (at GPT-2's vocabulary about a third of a forward
    /// pass); with the scale known, each chunk's gradient is taken while its probabilities are
    /// at hand — the same operations in the same order, so the same bits.
    @discardableResult
    public func forward(tokens: [Int32], targets: [Int32]?, batch: Int, seqLen: Int,
                        training: Bool = false, dropoutSeed: UInt64 = 0, keepAttentionMaps: Bool = false,
                        headGradientScale: Float? = nil) -> Float? {
        precondition(seqLen >= 1 && seqLen <= config.blockSize, "sequence longer than block_size")
        precondition(tokens.count == batch * seqLen && (targets == nil || targets!.count == batch * seqLen))
        if let format = dtype.halfFormat {
            return forwardHalf(format, tokens: tokens, targets: targets, batch: batch, seqLen: seqLen,
                               training: training, dropoutSeed: dropoutSeed, keepAttentionMaps: keepAttentionMaps)
        }
        // Inference needs every row's logits and keeps nothing for a backward pass: checkpointing
        // would only cost time there.
        var options = keepAttentionMaps ? .standard : memoryOptions
        if targets == nil { options.checkpointing = .off }
        let a = activations(batch: batch, seqLen: seqLen, options: options)
        let c = config.nEmbd, v = config.vocabSize
        let bt = batch * seqLen
        let p = params.pointer
        let dropout: Float = training ? config.dropout : 0
        lastBatch = batch; lastSeqLen = seqLen
        lastTokens = tokens
        lastTargets = targets ?? []
        lastDropoutSeed = dropoutSeed
        lastTraining = training
        headGradientTaken = nil

        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: a.encoded, tokens: tok.baseAddress!, wte: p + layout.wte,
                              pos: positionTable, batch: batch, seqLen: seqLen, channels: c, pool: pool)
        }
        Dropout.apply(a.encoded, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 0), pool: pool)

        var residual = UnsafePointer(a.encoded)
        for l in 0..<config.nLayer {
            forwardBlock(l, input: residual, a, dropout: dropout, dropoutSeed: dropoutSeed)
            residual = UnsafePointer(a.layers[l].residual3)
        }
        LayerNorm.forward(out: a.lnf, mean: a.lnfMean, rstd: a.lnfRstd, inp: residual,
                          weight: p + layout.lnfWeight, bias: layout.lnfBias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        guard let targets else {
            Linear.forward(out: a.logits, inp: a.lnf, weight: p + layout.wte, bias: nil,
                           rows: bt, inFeatures: c, outFeatures: v, pool: pool)
            return nil
        }
        let takeHeadGradient = a.headRows < bt ? headGradientScale : nil
        targets.withUnsafeBufferPointer { tg in
            forEachHeadChunk(a) { r0, rows in
                Linear.forward(out: a.logits, inp: a.lnf + r0 * c, weight: p + layout.wte, bias: nil,
                               rows: rows, inFeatures: c, outFeatures: v, pool: pool)
                CrossEntropy.forward(probs: a.probs, losses: a.losses + r0, logits: a.logits, targets: tg.baseAddress! + r0,
                                     rows: rows, vocab: v, pool: pool)
                if let scale = takeHeadGradient { headBackward(a, rows: r0..<(r0 + rows), targets: tg.baseAddress! + r0, lossScale: scale) }
            }
        }
        headGradientTaken = takeHeadGradient
        var total: Double = 0
        for r in 0..<bt { total += Double(a.losses[r]) }
        return Float(total / Double(bt))
    }

    /// The head's rows in chunks of `a.headRows` (all of them at once unless checkpointing, which
    /// keeps only one chunk of logits: at GPT-2's vocabulary the full B·T×V is the largest buffer).
    private func forEachHeadChunk(_ a: Activations, _ body: (Int, Int) -> Void) {
        let bt = a.batch * a.seqLen
        var r0 = 0
        while r0 < bt {
            body(r0, min(a.headRows, bt - r0))
            r0 += a.headRows
        }
    }

    /// One transformer block's forward pass, from `input` into `a.layers[l]`:
    /// residual2 = input + dropout(c_proj(attention(c_attn(ln_1(input))))),
    /// residual3 = residual2 + dropout(mlp.c_proj(gelu(mlp.c_fc(ln_2(residual2))))).
    /// The backward pass calls it again to recompute a block under activation checkpointing, with
    /// `recomputing` set: then it stops at the MLP's hidden layer, because what follows (the
    /// output projection, its dropout, the residual add) produces only `residual3`, which is the
    /// next block's saved input already — a third of the block's matrix products not redone.
    /// Under selective checkpointing the block kept its attention's q, k, v and output, so the
    /// recomputation skips the q/k/v product and attention as well.
    private func forwardBlock(_ l: Int, input residual: UnsafePointer<Float>, _ a: Activations,
                              dropout: Float, dropoutSeed: UInt64, recomputing: Bool = false) {
        let blk = layout.blocks[l], la = a.layers[l]
        let batch = a.batch, seqLen = a.seqLen, bt = batch * seqLen
        let c = config.nEmbd, nh = config.nHead
        let p = params.pointer
        LayerNorm.forward(out: la.ln1, mean: la.ln1Mean, rstd: la.ln1Rstd, inp: residual,
                          weight: p + blk.ln1Weight, bias: blk.ln1Bias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        if !(recomputing && a.options.checkpointing == .selective) {
            Linear.forward(out: la.qkv, inp: la.ln1, weight: p + blk.attnWeight,
                           bias: blk.attnBias.map { UnsafePointer(p + $0) }, rows: bt, inFeatures: c, outFeatures: 3 * c, pool: pool)
            switch a.options.attention {
            case .standard:
                Attention.forward(out: la.atty, att: la.att, qkv: la.qkv, batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                  dropout: dropout, dropoutSeed: siteSeed(dropoutSeed, 1 + 3 * l),
                                  scratch: a.attentionScratch, pool: pool)
            case .fused:
                FusedAttention.forward(out: la.atty, logSumExp: la.att, qkv: la.qkv, batch: batch, seqLen: seqLen,
                                       channels: c, heads: nh, dropout: dropout, dropoutSeed: siteSeed(dropoutSeed, 1 + 3 * l),
                                       scratch: a.attentionScratch, pool: pool)
            }
        }
        Linear.forward(out: a.branch, inp: la.atty, weight: p + blk.attnProjWeight,
                       bias: blk.attnProjBias.map { UnsafePointer(p + $0) }, rows: bt, inFeatures: c, outFeatures: c, pool: pool)
        Dropout.apply(a.branch, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 2 + 3 * l), pool: pool)
        Buffers.addParallel(out: la.residual2, residual, a.branch, count: bt * c, pool: pool)

        LayerNorm.forward(out: la.ln2, mean: la.ln2Mean, rstd: la.ln2Rstd, inp: la.residual2,
                          weight: p + blk.ln2Weight, bias: blk.ln2Bias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        Linear.forward(out: la.fch, inp: la.ln2, weight: p + blk.fcWeight,
                       bias: blk.fcBias.map { UnsafePointer(p + $0) }, rows: bt, inFeatures: c, outFeatures: 4 * c, pool: pool)
        GELU.forward(out: la.fchGelu, inp: la.fch, count: bt * 4 * c, pool: pool)
        if recomputing { return }
        Linear.forward(out: a.branch, inp: la.fchGelu, weight: p + blk.fcProjWeight,
                       bias: blk.fcProjBias.map { UnsafePointer(p + $0) }, rows: bt, inFeatures: 4 * c, outFeatures: c, pool: pool)
        Dropout.apply(a.branch, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 3 + 3 * l), pool: pool)
        Buffers.addParallel(out: la.residual3, la.residual2, a.branch, count: bt * c, pool: pool)
    }

    /// The logits of one position of the last forward pass (before any softmax).
    /// Valid after a forward pass without targets.
    public func logits(row: Int) -> UnsafeBufferPointer<Float> {
        if dtype.halfFormat != nil {
            return UnsafeBufferPointer(start: halfSets[0].logits + row * config.vocabSize, count: config.vocabSize)
        }
        let a = acts!
        return UnsafeBufferPointer(start: a.logits + row * config.vocabSize, count: config.vocabSize)
    }

    /// Softmax attention weights of the last forward pass: `[batch, head, T, T]` for `layer`.
    /// Needs a pass that kept them (`keepAttentionMaps`, or standard memory options).
    public func attentionWeights(layer: Int) -> UnsafeBufferPointer<Float> {
        if dtype.halfFormat != nil {
            let h = halfSets[0]
            precondition(h.options == .standard, "the last forward pass did not keep attention maps")
            return UnsafeBufferPointer(start: h.layers[layer].att, count: lastBatch * config.nHead * lastSeqLen * lastSeqLen)
        }
        let a = acts!
        precondition(a.options == .standard, "the last forward pass did not keep attention maps")
        return UnsafeBufferPointer(start: a.layers[layer].att, count: lastBatch * config.nHead * lastSeqLen * lastSeqLen)
    }

    /// The residual stream of the last forward pass, `[batch·T, C]`: after block `layer`
    /// (0-based), or the embeddings (token + position) for `layer == -1`. Any pass keeps these
    /// (checkpointing keeps exactly the block outputs).
    public func residual(afterLayer layer: Int) -> UnsafeBufferPointer<Float> {
        precondition(layer >= -1 && layer < config.nLayer, "no layer \(layer)")
        let start: UnsafeMutablePointer<Float>
        if dtype.halfFormat != nil {
            // The 16-bit path keeps the residual stream in float32 too, in its own activation set.
            let h = halfSets[0]
            start = layer < 0 ? h.encoded : h.layers[layer].residual3
        } else {
            let a = acts!
            start = layer < 0 ? a.encoded : a.layers[layer].residual3
        }
        return UnsafeBufferPointer(start: start, count: lastBatch * lastSeqLen * config.nEmbd)
    }

    /// The model's own head applied to `rows` residual vectors `[rows, C]`: `ln_f`, then the tied
    /// head `· wteᵀ`, written to `out` `[rows, V]` with the kernels the forward pass uses — so for
    /// the last block's output it gives the forward pass's logits bit for bit (the logit lens).
    public func headLogits(residual: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let c = config.nEmbd, p = params.pointer
        let normed = FloatBuffer(count: rows * c), stats = FloatBuffer(count: 2 * rows)
        LayerNorm.forward(out: normed.pointer, mean: stats.pointer, rstd: stats.pointer + rows, inp: residual,
                          weight: p + layout.lnfWeight, bias: layout.lnfBias.map { UnsafePointer(p + $0) },
                          rows: rows, channels: c, pool: pool)
        Linear.forward(out: out, inp: normed.pointer, weight: p + layout.wte, bias: nil,
                       rows: rows, inFeatures: c, outFeatures: config.vocabSize, pool: pool)
    }

    // MARK: - Backward

    /// Adds ∂(lossScale · loss)/∂θ of the last forward pass into `grads`.
    ///
    /// `lossScale` = 1 for a plain step; 1/k when the gradient is accumulated over k micro-batches.
    public func backward(lossScale: Float = 1) {
        precondition(!lastTargets.isEmpty, "backward() needs a forward pass with targets")
        if let format = dtype.halfFormat { backwardHalf(format, lossScale: lossScale); return }
        let a = acts!
        let batch = lastBatch, seqLen = lastSeqLen, bt = batch * seqLen
        let c = config.nEmbd, v = config.vocabSize, nh = config.nHead
        let p = params.pointer, g = grads.pointer
        let dropout: Float = lastTraining ? config.dropout : 0
        let seed = lastDropoutSeed

        // Head: ∂L/∂logits overwrites the probabilities — chunk by chunk under checkpointing,
        // each chunk's logits and probabilities recomputed first (unless the forward pass took
        // the head's gradient already).
        let chunked = a.headRows < bt
        if let taken = headGradientTaken {
            precondition(taken == lossScale, "forward(headGradientScale: \(taken)) then backward(lossScale: \(lossScale))")
        } else {
            lastTargets.withUnsafeBufferPointer { tg in
                forEachHeadChunk(a) { r0, rows in
                    if chunked {
                        Linear.forward(out: a.logits, inp: a.lnf + r0 * c, weight: p + layout.wte, bias: nil,
                                       rows: rows, inFeatures: c, outFeatures: v, pool: pool)
                        CrossEntropy.forward(probs: a.probs, losses: a.losses + r0, logits: a.logits,
                                             targets: tg.baseAddress! + r0, rows: rows, vocab: v, pool: pool)
                    }
                    headBackward(a, rows: r0..<(r0 + rows), targets: tg.baseAddress! + r0, lossScale: lossScale)
                }
            }
        }
        headGradientTaken = nil
        let lastResidual = layout.blocks.isEmpty ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[config.nLayer - 1].residual3)
        a.dresidual.update(repeating: 0, count: bt * c)
        LayerNorm.backward(dinp: a.dresidual, dweight: g + layout.lnfWeight, dbias: layout.lnfBias.map { g + $0 },
                           dout: a.dln, inp: lastResidual, weight: p + layout.lnfWeight, mean: a.lnfMean, rstd: a.lnfRstd,
                           rows: bt, channels: c, scratch: a.paramScratch, pool: pool)

        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let blk = layout.blocks[l], la = a.layers[l]
            let blockInput = l == 0 ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[l - 1].residual3)
            // The blocks share one set of internals under checkpointing, and the forward pass
            // left the last block's in it: only the blocks below need recomputing.
            if a.options.activationCheckpointing && l < config.nLayer - 1 {
                forwardBlock(l, input: blockInput, a, dropout: dropout, dropoutSeed: seed, recomputing: true)
            }
            // MLP branch: residual3 = residual2 + dropout(c_proj(gelu(c_fc(ln_2(residual2))))).
            let dBranch = branchGradient(a.dresidual, scratch: a.branch, count: bt * c, p: dropout, seed: siteSeed(seed, 3 + 3 * l))
            Linear.backward(dinp: a.dfch, dweight: g + blk.fcProjWeight, dbias: blk.fcProjBias.map { g + $0 },
                            dout: dBranch, inp: la.fchGelu, weight: p + blk.fcProjWeight,
                            rows: bt, inFeatures: 4 * c, outFeatures: c, pool: pool)
            GELU.backward(dinp: a.dfch, inp: la.fch, dout: a.dfch, count: bt * 4 * c, pool: pool)
            Linear.backward(dinp: a.dln, dweight: g + blk.fcWeight, dbias: blk.fcBias.map { g + $0 },
                            dout: a.dfch, inp: la.ln2, weight: p + blk.fcWeight,
                            rows: bt, inFeatures: c, outFeatures: 4 * c, pool: pool)
            LayerNorm.backward(dinp: a.dresidual, dweight: g + blk.ln2Weight, dbias: blk.ln2Bias.map { g + $0 },
                               dout: a.dln, inp: la.residual2, weight: p + blk.ln2Weight, mean: la.ln2Mean, rstd: la.ln2Rstd,
                               rows: bt, channels: c, scratch: a.paramScratch, pool: pool)
            // Attention branch: residual2 = input + dropout(c_proj(attention(c_attn(ln_1(input))))).
            let dAttnBranch = branchGradient(a.dresidual, scratch: a.branch, count: bt * c, p: dropout, seed: siteSeed(seed, 2 + 3 * l))
            Linear.backward(dinp: a.datty, dweight: g + blk.attnProjWeight, dbias: blk.attnProjBias.map { g + $0 },
                            dout: dAttnBranch, inp: la.atty, weight: p + blk.attnProjWeight,
                            rows: bt, inFeatures: c, outFeatures: c, pool: pool)
            switch a.options.attention {
            case .standard:
                Attention.backward(dqkv: a.dqkv, dout: a.datty, qkv: la.qkv, att: la.att,
                                   batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                   dropout: dropout, dropoutSeed: siteSeed(seed, 1 + 3 * l),
                                   scratch: a.attentionScratch, pool: pool)
            case .fused:
                FusedAttention.backward(dqkv: a.dqkv, dout: a.datty, qkv: la.qkv, out: la.atty, logSumExp: la.att,
                                        batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                        dropout: dropout, dropoutSeed: siteSeed(seed, 1 + 3 * l),
                                        scratch: a.attentionScratch, pool: pool)
            }
            Linear.backward(dinp: a.dln, dweight: g + blk.attnWeight, dbias: blk.attnBias.map { g + $0 },
                            dout: a.dqkv, inp: la.ln1, weight: p + blk.attnWeight,
                            rows: bt, inFeatures: c, outFeatures: 3 * c, pool: pool)
            LayerNorm.backward(dinp: a.dresidual, dweight: g + blk.ln1Weight, dbias: blk.ln1Bias.map { g + $0 },
                               dout: a.dln, inp: blockInput, weight: p + blk.ln1Weight, mean: la.ln1Mean, rstd: la.ln1Rstd,
                               rows: bt, channels: c, scratch: a.paramScratch, pool: pool)
        }
        Dropout.apply(a.dresidual, count: bt * c, p: dropout, seed: siteSeed(seed, 0), pool: pool)
        lastTokens.withUnsafeBufferPointer { tok in
            Embedding.backward(dwte: g + layout.wte, dwpe: layout.wpe.map { g + $0 }, dout: a.dresidual,
                               tokens: tok.baseAddress!, batch: batch, seqLen: seqLen, channels: c, pool: pool)
        }
    }

    /// ∂(lossScale · loss)/∂ of the head for `rows`, from their probabilities in `a.probs`
    /// (overwritten by ∂L/∂logits): into ∂ln_f-output `a.dln` and the tied `wte` gradient.
    private func headBackward(_ a: Activations, rows: Range<Int>, targets: UnsafePointer<Int32>, lossScale: Float) {
        let c = config.nEmbd, v = config.vocabSize, bt = a.batch * a.seqLen
        CrossEntropy.backward(dlogits: a.probs, probs: a.probs, targets: targets, rows: rows.count, vocab: v,
                              scale: lossScale / Float(bt), pool: pool)
        Linear.backward(dinp: a.dln + rows.lowerBound * c, dweight: grads.pointer + layout.wte, dbias: nil, dout: a.probs,
                        inp: a.lnf + rows.lowerBound * c, weight: params.pointer + layout.wte,
                        rows: rows.count, inFeatures: c, outFeatures: v, pool: pool)
    }

    /// The gradient entering a residual branch: ∂L/∂(residual out) passed through the branch's
    /// dropout. Without dropout that is the residual gradient itself, with no copy.
    /// `scratch` receives the dropped copy when there is dropout (both precisions' backward
    /// passes use it, with their own buffers).
    func branchGradient(_ dresidual: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        count: Int, p: Float, seed: UInt64) -> UnsafePointer<Float> {
        if p <= 0 { return UnsafePointer(dresidual) }
        scratch.update(from: dresidual, count: count)
        Dropout.apply(scratch, count: count, p: p, seed: seed, pool: pool)
        return UnsafePointer(scratch)
    }

    public func zeroGradients() { grads.zero() }

    // MARK: - Internals

    var positionTable: UnsafePointer<Float> {
        if let wpe = layout.wpe { return UnsafePointer(params.pointer + wpe) }
        return UnsafePointer(sinusoids!.pointer)
    }

    /// Each dropout site (embedding, and per layer attention / attention residual / MLP residual)
    /// gets its own stream derived from the step's seed.
    func siteSeed(_ seed: UInt64, _ site: Int) -> UInt64 {
        Dropout.hash(seed, UInt64(site) &+ 0x5EED)
    }

    /// The activation set for this shape, made the current one. Up to two shapes are kept, so
    /// alternating between the training batch and a batch-1 probe never reallocates.
    private func activations(batch: Int, seqLen: Int, options: MemoryOptions) -> Activations {
        if let i = activationSets.firstIndex(where: { $0.batch == batch && $0.seqLen == seqLen && $0.options == options }) {
            if i > 0 { activationSets.insert(activationSets.remove(at: i), at: 0) }
            return activationSets[0]
        }
        if activationSets.count >= 2 { activationSets.removeLast() }  // release before allocating
        let a = Activations(config: config, batch: batch, seqLen: seqLen, workers: pool.workers, options: options)
        activationSets.insert(a, at: 0)
        return a
    }
}

/// Every intermediate tensor of one forward pass, and the gradient scratch of the backward pass,
/// carved out of a single allocation (sized by `ActivationFootprint`, so the estimate printed at
/// start is what is allocated).
final class Activations {
    struct Layer {
        var ln1, ln1Mean, ln1Rstd, qkv, att, atty, residual2: UnsafeMutablePointer<Float>
        var ln2, ln2Mean, ln2Rstd, fch, fchGelu, residual3: UnsafeMutablePointer<Float>
    }
    let batch: Int, seqLen: Int
    let options: MemoryOptions
    /// Rows of logits held at once (all B·T, or one chunk under checkpointing).
    let headRows: Int
    let memory: FloatBuffer
    var layers: [Layer] = []
    let encoded, lnf, lnfMean, lnfRstd, logits, probs, losses: UnsafeMutablePointer<Float>
    let branch, dresidual, dln, dqkv, datty, dfch: UnsafeMutablePointer<Float>
    let attentionScratch, paramScratch: UnsafeMutablePointer<Float>

    init(config: GPTConfig, batch: Int, seqLen: Int, workers: Int, options: MemoryOptions) {
        self.batch = batch
        self.seqLen = seqLen
        self.options = options
        let c = config.nEmbd, v = config.vocabSize, bt = batch * seqLen
        let footprint = ActivationFootprint.of(config, batch: batch, seqLen: seqLen, workers: workers, options: options)!
        let total = footprint.total!
        memory = FloatBuffer(count: total)
        var cursor = memory.pointer
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += n }; return cursor }
        func layer(output: UnsafeMutablePointer<Float>?) -> Layer {
            Layer(ln1: take(bt * c), ln1Mean: take(bt), ln1Rstd: take(bt), qkv: take(bt * 3 * c),
                  att: take(footprint.attentionPerLayer), atty: take(bt * c), residual2: take(bt * c),
                  ln2: take(bt * c), ln2Mean: take(bt), ln2Rstd: take(bt),
                  fch: take(bt * 4 * c), fchGelu: take(bt * 4 * c), residual3: output ?? take(bt * c))
        }
        if options.activationCheckpointing {
            // One set of block internals shared by every layer; each layer keeps only its output,
            // and under selective checkpointing its attention's q, k, v and output as well (the
            // shared set's serve layer 0).
            let outputs = (0..<config.nLayer).map { _ in take(bt * c) }
            let shared = layer(output: outputs[0])
            layers = outputs.enumerated().map { i, out in
                var l = shared
                l.residual3 = out
                if options.checkpointing == .selective && i > 0 {
                    l.qkv = take(bt * 3 * c); l.att = take(footprint.attentionPerLayer); l.atty = take(bt * c)
                }
                return l
            }
        } else {
            for _ in 0..<config.nLayer { layers.append(layer(output: nil)) }
        }
        encoded = take(bt * c); lnf = take(bt * c); lnfMean = take(bt); lnfRstd = take(bt)
        // The probabilities (then ∂L/∂logits) overwrite the logits: nothing reads the logits of a
        // pass with targets, and at GPT-2's vocabulary this buffer alone is B·T·50304 floats.
        headRows = ActivationFootprint.headRows(batch: batch, seqLen: seqLen, options: options)
        logits = take(headRows * v); probs = logits; losses = take(bt)
        branch = take(bt * c); dresidual = take(bt * c); dln = take(bt * c); datty = take(bt * c)
        dqkv = take(bt * 3 * c); dfch = take(bt * 4 * c)
        attentionScratch = take(footprint.scratch)
        paramScratch = take(LayerNorm.backwardChunks * 2 * c)
        precondition(cursor - memory.pointer == total, "the allocation does not follow ActivationFootprint")
    }
}
