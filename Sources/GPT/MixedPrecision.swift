import Kernels

/// nanoGPT's `dtype`: the precision of the matrix products.
///
/// For `bfloat16` and `float16` the model runs as `torch.autocast` does on the CPU:
/// - every `nn.Linear` multiplies 16-bit operands — the weights (a 16-bit copy of the float32
///   master weights, refreshed after each optimizer step) and the activations — with products
///   accumulated in float32 (`GEMM16`), and its output is rounded to 16 bits;
/// - embeddings, LayerNorm (statistics and output), the residual stream, softmax inside
///   attention, and the cross-entropy run in float32 (q, k, v enter attention rounded to 16 bits,
///   attention's output leaves rounded);
/// - the activations the backward pass needs as matmul operands (LayerNorm outputs, q/k/v, the
///   attention output, the MLP's 4C-wide hidden layer before and after GELU) are *stored* as 16-bit
///   patterns: that is where the memory goes, and what halves it;
/// - the backward pass rounds each ∂L/∂output to 16 bits before it enters a matrix product (as
///   autograd's 16-bit gradients do — this is where float16 gradients underflow without loss
///   scaling), and accumulates ∂L/∂W in float32 into the float32 gradient buffer.
/// Master weights, gradients and AdamW's moments stay float32 (`HalfPrecision` explains why).
public enum DType: String, Sendable, CaseIterable, Codable {
    case float32, bfloat16, float16

    public var halfFormat: HalfFormat? {
        switch self {
        case .float32: nil
        case .bfloat16: .bfloat16
        case .float16: .float16
        }
    }
}

/// 16-bit copies of the weights: W as stored (for ∂L/∂x = G·W) and Wᵀ of every matrix (for the
/// forward pass's x·Wᵀ), rebuilt when `parameterVersion` moves.
final class HalfWeights {
    let format: HalfFormat
    let storage: FloatBuffer
    let w: UnsafeMutablePointer<UInt16>, wT: UnsafeMutablePointer<UInt16>
    var version = -1

    init(count: Int, format: HalfFormat) {
        self.format = format
        storage = FloatBuffer(count: count)  // 2·count halves
        w = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
        wT = w + count
    }
}

/// The 16-bit path's activations: 16-bit patterns for what feeds a matrix product, float32 for the
/// residual stream, LayerNorm statistics, attention's P (or log-sum-exp) and the gradients. One
/// float32 work buffer `x` (B·T·4C) holds, in turn, each product's float32 output before it is
/// rounded, q/k/v widened for attention, and 16-bit gradients on their way into a product.
final class HalfActivations {
    struct Layer {
        var ln1: UnsafeMutablePointer<UInt16>, ln1Mean, ln1Rstd: UnsafeMutablePointer<Float>
        var qkv: UnsafeMutablePointer<UInt16>, att: UnsafeMutablePointer<Float>
        var atty: UnsafeMutablePointer<UInt16>, residual2: UnsafeMutablePointer<Float>
        var ln2: UnsafeMutablePointer<UInt16>, ln2Mean, ln2Rstd: UnsafeMutablePointer<Float>
        var fch, fchGelu: UnsafeMutablePointer<UInt16>, residual3: UnsafeMutablePointer<Float>
    }
    let batch: Int, seqLen: Int
    let options: MemoryOptions
    let format: HalfFormat
    let floats: FloatBuffer, halves: FloatBuffer
    var layers: [Layer] = []
    let encoded, lnfMean, lnfRstd, logits, probs, losses: UnsafeMutablePointer<Float>
    let lnf: UnsafeMutablePointer<UInt16>
    let branch, dresidual, dln, datty, dqkv, x: UnsafeMutablePointer<Float>
    let attentionScratch, paramScratch: UnsafeMutablePointer<Float>

    /// Bytes of activations for this shape: what `ActivationFootprint` counts for float32.
    static func bytes(_ config: GPTConfig, batch: Int, seqLen: Int, workers: Int, options: MemoryOptions) -> Int? {
        sizes(config, batch: batch, seqLen: seqLen, workers: workers, options: options).map { $0.floats * 4 + $0.halves * 2 }
    }

    static func sizes(_ config: GPTConfig, batch: Int, seqLen: Int, workers: Int, options: MemoryOptions)
        -> (floats: Int, halves: Int, footprint: ActivationFootprint)? {
        guard let fp = ActivationFootprint.of(config, batch: batch, seqLen: seqLen, workers: workers, options: options) else { return nil }
        let bt = batch * seqLen, c = config.nEmbd, v = config.vocabSize
        let btc = bt * c
        let attentionF = fp.attentionPerLayer, attentionH = btc * 4     // att; qkv 3, atty 1
        let internalsF = bt * 4 + btc                                     // stats, residual2
        let internalsH = btc * 10                                         // ln1 1, ln2 1, fch 4, fchGelu 4
        let stored = options.activationCheckpointing ? 1 : config.nLayer
        let storedAttention = options.checkpointing == .full ? 1 : config.nLayer
        let outputs = config.nLayer * btc                                 // residual3 of every layer
        let shared = btc + bt * 2 + bt * v + bt + btc * 4 + btc * 3 + btc * 4 + fp.scratch + LayerNorm.backwardChunks * 2 * c
        return (stored * internalsF + storedAttention * attentionF + outputs + shared,
                stored * internalsH + storedAttention * attentionH + btc, fp)
    }

    init(config: GPTConfig, batch: Int, seqLen: Int, workers: Int, options: MemoryOptions, format: HalfFormat) {
        self.batch = batch
        self.seqLen = seqLen
        self.options = options
        self.format = format
        let (nf, nh, fp) = Self.sizes(config, batch: batch, seqLen: seqLen, workers: workers, options: options)!
        let c = config.nEmbd, v = config.vocabSize, bt = batch * seqLen
        floats = FloatBuffer(count: nf)
        halves = FloatBuffer(count: (nh + 1) / 2)
        var fc = floats.pointer
        var hc = UnsafeMutableRawPointer(halves.pointer).assumingMemoryBound(to: UInt16.self)
        func f(_ n: Int) -> UnsafeMutablePointer<Float> { defer { fc += n }; return fc }
        func h(_ n: Int) -> UnsafeMutablePointer<UInt16> { defer { hc += n }; return hc }
        let outputs = (0..<config.nLayer).map { _ in f(bt * c) }
        func layer(output: UnsafeMutablePointer<Float>) -> Layer {
            Layer(ln1: h(bt * c), ln1Mean: f(bt), ln1Rstd: f(bt), qkv: h(bt * 3 * c), att: f(fp.attentionPerLayer),
                  atty: h(bt * c), residual2: f(bt * c), ln2: h(bt * c), ln2Mean: f(bt), ln2Rstd: f(bt),
                  fch: h(bt * 4 * c), fchGelu: h(bt * 4 * c), residual3: output)
        }
        switch options.checkpointing {
        case .off:
            layers = outputs.map { layer(output: $0) }
        case .full:
            let shared = layer(output: outputs[0])
            layers = outputs.map { out in var l = shared; l.residual3 = out; return l }
        case .selective:
            // The shared set's own attention buffers serve layer 0; the others take their own.
            let shared = layer(output: outputs[0])
            layers = outputs.enumerated().map { i, out in
                var l = shared
                l.residual3 = out
                if i > 0 { l.qkv = h(bt * 3 * c); l.att = f(fp.attentionPerLayer); l.atty = h(bt * c) }
                return l
            }
        }
        encoded = f(bt * c); lnfMean = f(bt); lnfRstd = f(bt); lnf = h(bt * c)
        logits = f(bt * v); probs = logits; losses = f(bt)
        branch = f(bt * c); dresidual = f(bt * c); dln = f(bt * c); datty = f(bt * c)
        dqkv = f(bt * 3 * c); x = f(bt * 4 * c)
        attentionScratch = f(fp.scratch)
        paramScratch = f(LayerNorm.backwardChunks * 2 * c)
        precondition(fc - floats.pointer <= nf && hc - UnsafeMutableRawPointer(halves.pointer).assumingMemoryBound(to: UInt16.self) <= nh)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// The same memory seen as 16-bit patterns (twice as many fit).
    var halves: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: UInt16.self) }
}

extension GPT {
    // MARK: - Forward

    func forwardHalf(_ format: HalfFormat, tokens: [Int32], targets: [Int32]?, batch: Int, seqLen: Int,
                     training: Bool, dropoutSeed: UInt64, keepAttentionMaps: Bool) -> Float? {
        let hw = prepareHalfWeights(format)
        let a = halfActivations(batch: batch, seqLen: seqLen, options: keepAttentionMaps ? .standard : memoryOptions, format: format)
        let c = config.nEmbd, v = config.vocabSize, bt = batch * seqLen
        let p = params.pointer
        let dropout: Float = training ? config.dropout : 0
        lastBatch = batch; lastSeqLen = seqLen
        lastTokens = tokens
        lastTargets = targets ?? []
        lastDropoutSeed = dropoutSeed
        lastTraining = training

        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: a.encoded, tokens: tok.baseAddress!, wte: p + layout.wte,
                              pos: positionTable, batch: batch, seqLen: seqLen, channels: c, pool: pool)
        }
        Dropout.apply(a.encoded, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 0), pool: pool)
        var residual = UnsafePointer(a.encoded)
        for l in 0..<config.nLayer {
            forwardBlockHalf(l, input: residual, a, hw, dropout: dropout, dropoutSeed: dropoutSeed)
            residual = UnsafePointer(a.layers[l].residual3)
        }
        LayerNorm.forward(out: a.x, mean: a.lnfMean, rstd: a.lnfRstd, inp: residual,
                          weight: p + layout.lnfWeight, bias: layout.lnfBias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        Half.round(a.x, into: a.lnf, count: bt * c, format, pool: pool)
        linearHalf(out: a.logits, inp: a.lnf, hw, weight: layout.wte, bias: nil, rows: bt, ic: c, oc: v)
        Half.roundValues(a.logits, count: bt * v, format, pool: pool)  // autocast's logits are 16-bit
        guard let targets else { return nil }
        return targets.withUnsafeBufferPointer { tg in
            CrossEntropy.forward(probs: a.probs, losses: a.losses, logits: a.logits, targets: tg.baseAddress!,
                                 rows: bt, vocab: v, pool: pool)
        }
    }

    /// `forwardBlock` with 16-bit matrix products (see `DType`); `recomputing` stops at the MLP's
    /// hidden layer and, under selective checkpointing, skips q/k/v and attention, as there.
    private func forwardBlockHalf(_ l: Int, input residual: UnsafePointer<Float>, _ a: HalfActivations, _ hw: HalfWeights,
                                  dropout: Float, dropoutSeed: UInt64, recomputing: Bool = false) {
        let blk = layout.blocks[l], la = a.layers[l], f = a.format
        let batch = a.batch, seqLen = a.seqLen, bt = batch * seqLen
        let c = config.nEmbd, nh = config.nHead
        let p = params.pointer, x = a.x
        LayerNorm.forward(out: x, mean: la.ln1Mean, rstd: la.ln1Rstd, inp: residual,
                          weight: p + blk.ln1Weight, bias: blk.ln1Bias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        Half.round(x, into: la.ln1, count: bt * c, f, pool: pool)
        if !(recomputing && a.options.checkpointing == .selective) {
            linearHalf(out: x, inp: la.ln1, hw, weight: blk.attnWeight, bias: blk.attnBias, rows: bt, ic: c, oc: 3 * c)
            Half.roundValues(x, store: la.qkv, count: bt * 3 * c, f, pool: pool)
            switch a.options.attention {
            case .standard:
                Attention.forward(out: a.datty, att: la.att, qkv: x, batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                  dropout: dropout, dropoutSeed: siteSeed(dropoutSeed, 1 + 3 * l),
                                  scratch: a.attentionScratch, pool: pool)
            case .fused:
                FusedAttention.forward(out: a.datty, logSumExp: la.att, qkv: x, batch: batch, seqLen: seqLen,
                                       channels: c, heads: nh, dropout: dropout, dropoutSeed: siteSeed(dropoutSeed, 1 + 3 * l),
                                       scratch: a.attentionScratch, pool: pool)
            }
            Half.round(a.datty, into: la.atty, count: bt * c, f, pool: pool)
        }
        linearHalf(out: a.branch, inp: la.atty, hw, weight: blk.attnProjWeight, bias: blk.attnProjBias, rows: bt, ic: c, oc: c)
        Half.roundValues(a.branch, count: bt * c, f, pool: pool)
        Dropout.apply(a.branch, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 2 + 3 * l), pool: pool)
        Buffers.addParallel(out: la.residual2, residual, a.branch, count: bt * c, pool: pool)

        LayerNorm.forward(out: x, mean: la.ln2Mean, rstd: la.ln2Rstd, inp: la.residual2,
                          weight: p + blk.ln2Weight, bias: blk.ln2Bias.map { UnsafePointer(p + $0) },
                          rows: bt, channels: c, pool: pool)
        Half.round(x, into: la.ln2, count: bt * c, f, pool: pool)
        linearHalf(out: x, inp: la.ln2, hw, weight: blk.fcWeight, bias: blk.fcBias, rows: bt, ic: c, oc: 4 * c)
        Half.roundValues(x, store: la.fch, count: bt * 4 * c, f, pool: pool)
        GELU.forward(out: x, inp: x, count: bt * 4 * c, pool: pool)
        Half.round(x, into: la.fchGelu, count: bt * 4 * c, f, pool: pool)
        if recomputing { return }
        linearHalf(out: a.branch, inp: la.fchGelu, hw, weight: blk.fcProjWeight, bias: blk.fcProjBias, rows: bt, ic: 4 * c, oc: c)
        Half.roundValues(a.branch, count: bt * c, f, pool: pool)
        Dropout.apply(a.branch, count: bt * c, p: dropout, seed: siteSeed(dropoutSeed, 3 + 3 * l), pool: pool)
        Buffers.addParallel(out: la.residual3, la.residual2, a.branch, count: bt * c, pool: pool)
    }

    /// y = x·Wᵀ + b with 16-bit x and W (the bias enters rounded to 16 bits, as autocast casts it).
    private func linearHalf(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<UInt16>, _ hw: HalfWeights,
                            weight: Int, bias: Int?, rows: Int, ic: Int, oc: Int) {
        if let bias {
            Half.expand(hw.w + bias, into: out, count: oc, hw.format, pool: .serialPool)
            for r in 1..<max(1, rows) { (out + r * oc).update(from: out, count: oc) }
        }
        GEMM16.multiply(hw.format, m: rows, n: oc, k: ic, a: inp, aRowStride: ic, b: hw.wT + weight, ldb: oc,
                        c: out, ldc: oc, accumulate: bias != nil, pool: pool)
    }

    // MARK: - Backward

    /// `backward` with 16-bit matrix products: each ∂L/∂output is rounded to 16 bits as it enters
    /// the two products of its layer; ∂L/∂W is accumulated in float32.
    func backwardHalf(_ format: HalfFormat, lossScale: Float) {
        let a = halfSets[0], hw = halfWeights!
        let batch = lastBatch, seqLen = lastSeqLen, bt = batch * seqLen
        let c = config.nEmbd, v = config.vocabSize, nh = config.nHead
        let p = params.pointer, g = grads.pointer, x = a.x
        let dropout: Float = lastTraining ? config.dropout : 0
        let seed = lastDropoutSeed

        lastTargets.withUnsafeBufferPointer { tg in
            CrossEntropy.backward(dlogits: a.probs, probs: a.probs, targets: tg.baseAddress!, rows: bt, vocab: v,
                                  scale: lossScale / Float(bt), pool: pool)
        }
        let dlogits = Half.roundInPlace(a.probs, count: bt * v, format)
        linearBackwardHalf(dinp: a.dln, dweight: g + layout.wte, dbias: nil, dout: dlogits, inp: a.lnf, hw,
                           weight: layout.wte, rows: bt, ic: c, oc: v)
        let lastResidual = layout.blocks.isEmpty ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[config.nLayer - 1].residual3)
        a.dresidual.update(repeating: 0, count: bt * c)
        LayerNorm.backward(dinp: a.dresidual, dweight: g + layout.lnfWeight, dbias: layout.lnfBias.map { g + $0 },
                           dout: a.dln, inp: lastResidual, weight: p + layout.lnfWeight, mean: a.lnfMean, rstd: a.lnfRstd,
                           rows: bt, channels: c, scratch: a.paramScratch, pool: pool)

        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let blk = layout.blocks[l], la = a.layers[l]
            let blockInput = l == 0 ? UnsafePointer(a.encoded) : UnsafePointer(a.layers[l - 1].residual3)
            if a.options.activationCheckpointing {
                forwardBlockHalf(l, input: blockInput, a, hw, dropout: dropout, dropoutSeed: seed, recomputing: true)
            }
            // MLP branch. The 16-bit gradient of the branch output borrows dln (free until LN₂'s backward).
            let dBranch = branchGradient(a.dresidual, scratch: a.branch, count: bt * c, p: dropout, seed: siteSeed(seed, 3 + 3 * l))
            let g16 = a.dln.halves
            Half.round(dBranch, into: g16, count: bt * c, format, pool: pool)
            linearBackwardHalf(dinp: x, dweight: g + blk.fcProjWeight, dbias: blk.fcProjBias.map { g + $0 },
                               dout: g16, inp: la.fchGelu, hw, weight: blk.fcProjWeight, rows: bt, ic: 4 * c, oc: c)
            // ∂L/∂fch, in 16 bits, overwrites fch (read for the last time here).
            geluBackwardHalf(dout: x, inpAndResult: la.fch, count: bt * 4 * c, format)
            linearBackwardHalf(dinp: a.dln, dweight: g + blk.fcWeight, dbias: blk.fcBias.map { g + $0 },
                               dout: la.fch, inp: la.ln2, hw, weight: blk.fcWeight, rows: bt, ic: c, oc: 4 * c)
            LayerNorm.backward(dinp: a.dresidual, dweight: g + blk.ln2Weight, dbias: blk.ln2Bias.map { g + $0 },
                               dout: a.dln, inp: la.residual2, weight: p + blk.ln2Weight, mean: la.ln2Mean, rstd: la.ln2Rstd,
                               rows: bt, channels: c, scratch: a.paramScratch, pool: pool)
            // Attention branch.
            let dAttnBranch = branchGradient(a.dresidual, scratch: a.branch, count: bt * c, p: dropout, seed: siteSeed(seed, 2 + 3 * l))
            Half.round(dAttnBranch, into: g16, count: bt * c, format, pool: pool)
            linearBackwardHalf(dinp: a.datty, dweight: g + blk.attnProjWeight, dbias: blk.attnProjBias.map { g + $0 },
                               dout: g16, inp: la.atty, hw, weight: blk.attnProjWeight, rows: bt, ic: c, oc: c)
            Half.expand(la.qkv, into: x, count: bt * 3 * c, format, pool: pool)
            switch a.options.attention {
            case .standard:
                Attention.backward(dqkv: a.dqkv, dout: a.datty, qkv: x, att: la.att,
                                   batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                   dropout: dropout, dropoutSeed: siteSeed(seed, 1 + 3 * l),
                                   scratch: a.attentionScratch, pool: pool)
            case .fused:
                Half.expand(la.atty, into: a.dln, count: bt * c, format, pool: pool)
                FusedAttention.backward(dqkv: a.dqkv, dout: a.datty, qkv: x, out: a.dln, logSumExp: la.att,
                                        batch: batch, seqLen: seqLen, channels: c, heads: nh,
                                        dropout: dropout, dropoutSeed: siteSeed(seed, 1 + 3 * l),
                                        scratch: a.attentionScratch, pool: pool)
            }
            let dqkv16 = x.halves  // q/k/v are no longer needed
            Half.round(a.dqkv, into: dqkv16, count: bt * 3 * c, format, pool: pool)
            linearBackwardHalf(dinp: a.dln, dweight: g + blk.attnWeight, dbias: blk.attnBias.map { g + $0 },
                               dout: dqkv16, inp: la.ln1, hw, weight: blk.attnWeight, rows: bt, ic: c, oc: 3 * c)
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

    /// ∂L/∂x = G·W (written) and ∂L/∂W += Gᵀ·x, ∂L/∂b += Σ G, with 16-bit G, x and W.
    private func linearBackwardHalf(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
                                    dbias: UnsafeMutablePointer<Float>?, dout: UnsafePointer<UInt16>,
                                    inp: UnsafePointer<UInt16>, _ hw: HalfWeights, weight: Int, rows: Int, ic: Int, oc: Int) {
        GEMM16.multiply(hw.format, m: rows, n: ic, k: oc, a: dout, aRowStride: oc, b: hw.w + weight, ldb: ic,
                        c: dinp, ldc: ic, accumulate: false, pool: pool)
        GEMM16.multiply(hw.format, m: oc, n: ic, k: rows, a: dout, aRowStride: 1, aColStride: oc, b: inp, ldb: ic,
                        c: dweight, ldc: ic, accumulate: true, pool: pool)
        if let dbias {
            withUnsafeTemporaryAllocation(of: Float.self, capacity: oc) { row in
                for r in 0..<rows {
                    Half.expand(dout + r * oc, into: row.baseAddress!, count: oc, hw.format, pool: .serialPool)
                    Buffers.add(dbias, row.baseAddress!, oc)
                }
            }
        }
    }

    /// GELU's backward on 16-bit input: fch[i] ← round(gelu'(fch[i]) · dout[i]), in chunks widened to float32.
    private func geluBackwardHalf(dout: UnsafeMutablePointer<Float>, inpAndResult fch: UnsafeMutablePointer<UInt16>,
                                  count: Int, _ format: HalfFormat) {
        let chunk = 1024
        pool.parallelRanges((count + chunk - 1) / chunk, serialBelow: 16) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { buf in
                let t = buf.baseAddress!
                for ci in range {
                    let lo = ci * chunk, n = min(chunk, count - lo)
                    Half.expand(fch + lo, into: t, count: n, format, pool: .serialPool)
                    GELU.backward(dinp: t, inp: t, dout: dout + lo, count: n, pool: .serialPool)
                    Half.round(t, into: fch + lo, count: n, format, pool: .serialPool)
                }
            }
        }
    }

    // MARK: - Internals

    /// The 16-bit weight copies, refreshed if the weights changed since they were made.
    private func prepareHalfWeights(_ format: HalfFormat) -> HalfWeights {
        if halfWeights == nil || halfWeights!.format != format {
            halfWeights = HalfWeights(count: layout.totalCount, format: format)
        }
        let hw = halfWeights!
        guard hw.version != parameterVersion else { return hw }
        Half.round(params.pointer, into: hw.w, count: layout.totalCount, format, pool: pool)
        let matrices = layout.tensors.filter { $0.shape.count == 2 && $0.name != "transformer.wpe.weight" }
        let src = UnsafePointer(params.pointer), dst = hw.wT
        pool.parallelRanges(matrices.count) { range in
            for t in matrices[range] {
                Half.transposeRound(src + t.offset, rows: t.shape[0], cols: t.shape[1], into: dst + t.offset, format)
            }
        }
        hw.version = parameterVersion
        return hw
    }

    private func halfActivations(batch: Int, seqLen: Int, options: MemoryOptions, format: HalfFormat) -> HalfActivations {
        if let i = halfSets.firstIndex(where: { $0.batch == batch && $0.seqLen == seqLen && $0.options == options && $0.format == format }) {
            if i > 0 { halfSets.insert(halfSets.remove(at: i), at: 0) }
            return halfSets[0]
        }
        if halfSets.count >= 2 { halfSets.removeLast() }
        let a = HalfActivations(config: config, batch: batch, seqLen: seqLen, workers: pool.workers, options: options, format: format)
        halfSets.insert(a, at: 0)
        return a
    }
}
