import Foundation
import Kernels
import Synchronization

/// Incremental generation with a key/value cache: the model's forward pass computed one new token
/// at a time, with everything that does not change kept from the previous tokens.
///
/// In a causal transformer, position t only ever attends to positions ≤ t, so the keys and values
/// of earlier positions never change once computed. For each layer l the cache holds
///
///     K⁽ˡ⁾[s] = ln_1(x⁽ˡ⁾[s]) · W_kᵀ + b_k      V⁽ˡ⁾[s] = ln_1(x⁽ˡ⁾[s]) · W_vᵀ + b_v      s < t
///
/// and a new token at position t needs only its own row of every layer:
///
///     x = wte[token] + pos[t]
///     for each layer:
///         q, k, v   = ln_1(x) · W_attnᵀ + b_attn             append k, v to the cache at row t
///         for each head h (width hs):
///             sₕ[s] = qₕ · Kₕ[s] / √hs,  s ≤ t             scores over the cached keys
///             yₕ    = Σₛ softmax(sₕ)[s] · Vₕ[s]
///         x = x + y · W_projᵀ + b_proj
///         x = x + gelu(ln_2(x) · W_fcᵀ + b_fc) · W_fc_projᵀ + b_fc_proj
///     logits = ln_f(x) · wteᵀ
///
/// — O(params + t·C) work per token instead of the O(t·params) of re-running the whole context, and
/// every product is a vector × matrix (`MatVec`, over weights repacked for streaming). The prompt is
/// *prefilled* in one batched pass (`GEMM` on the same packed weights, `Attention` over all its
/// rows), which also fills the cache. The arithmetic is done in the same order as in `GPT.forward`,
/// so the logits are the training model's, bit for bit.
///
/// The context window. Learned (or sinusoidal) positions stop at `block_size`: when the context is
/// full and another token arrives, the window *slides* as nanoGPT's `idx[:, -block_size:]` crop
/// does — the oldest tokens are dropped and the kept ones are re-encoded from position 0, which
/// means recomputing their keys and values (a prefill). nanoGPT re-runs the whole window for every
/// token; dropping one token per slide would cost the same. Instead the window drops down to
/// `slideKeep` tokens at once, so the next `block_size − slideKeep` tokens are cheap incremental
/// steps again. `slideKeep = block_size` reproduces nanoGPT's sample.py exactly (every token after
/// the first full window sees a full window), at the price of a prefill per token.
///
/// The generator owns its weights (a copy, repacked for the kernels) and all its buffers, so it
/// can run on its own thread while the training model keeps changing. It is not thread-safe: use
/// one generator from one thread. Build it from a `ModelWeights` snapshot taken at a step boundary.
///
/// Speed. A token's cost is dominated by streaming every weight once (3.1 MB for the baby
/// model). No core's L2 holds that (2 MB on Emerald Rapids, 512 KB on Zen 3), so on one thread
/// the weights come from L3; by default everything runs on the calling thread all the same — in
/// the dashboard, training keeps the worker pool busy. Given a `pool`, a token's whole pass runs
/// as one team job (`WorkerPool.team`): each thread streams its own share of every matrix's
/// panels and handles its share of the heads, with a barrier between dependent steps — five per
/// layer, where a fork/join per product would cost more than the product. Where each share
/// (1.55 MB on two threads) fits its core's L2, a cached step takes 35–55 µs (Emerald Rapids,
/// barriers ~0.2 µs); where it does not and the cores are far apart (Zen 3 under KVM: L3, and
/// 0.55 µs for a line to go between the two cores and back), 38–76 µs by the host's load.
/// Per-panel work is identical either way, so are the results.
///
/// Where a share lies matters as much as its size. An L2 cache picks a line's set from a few bits
/// of its physical address, 16 lines a set; a share that is most of the cache fits only if it
/// spreads evenly over the sets. So the packed weights are laid out member by member (each
/// member's share of every matrix, one contiguous run) on 2 MB pages (`FloatBuffer(onHugePages:)`,
/// physically contiguous). On 4 KB pages the frames fall on the sets at random; with the shares
/// interleaved (a member's third of q/k/v next to its half of the MLP's), some sets held more
/// than 16 of a member's lines and evicted their own data at every token. Measured, two
/// generators alternating in one process: 2 MB pages 0.91–0.97 the time per token, then the
/// member-by-member layout 0.91–0.93; both against neither 0.80–0.88.
public final class Generator {
    public let config: GPTConfig
    public let layout: ParameterLayout
    /// Tokens in the window right after a slide (including the token that caused it).
    public let slideKeep: Int

    /// The tokens whose keys and values are in the cache, oldest first (positions 0..<count).
    public private(set) var context: [Int32] = []
    /// How many batched prefills have run (one per `start` and one per slide); for tests and benches.
    public private(set) var prefillCount = 0
    /// Threads for the matrix products (see "Speed" above).
    public let pool: WorkerPool

    private let params: FloatBuffer
    /// Every matrix the forward pass multiplies by, packed in panels (`MatVec.pack`), member by
    /// member: all of the first team member's panels (its share of each matrix, in the order a
    /// token uses them), then the next member's. See "Speed" above.
    private let packed: FloatBuffer
    /// Panel p of a matrix is at `packed + panelOffsets[first + p]`, `first` from `packedBlocks`
    /// or `packedHead`.
    let panelOffsets: UnsafeMutableBufferPointer<Int>
    let packedBlocks: [PackedBlock]
    let packedHead: Int
    private let sinusoids: FloatBuffer?
    /// Per layer and head, the cached keys transposed: `[layer][head][hs][block_size]`, so that the
    /// scores qₕ·Kₕᵀ are one vector × matrix over contiguous rows.
    private let keysT: FloatBuffer
    /// Per layer the cached values: `[layer][block_size][C]` (head h in columns h·hs ..< (h+1)·hs).
    private let values: FloatBuffer
    private let scratch: Scratch

    /// A generator for `weights` (checked against its configuration).
    public init(_ weights: ModelWeights, slideKeep: Int? = nil, pool: WorkerPool = .serialPool) throws(ConfigError) {
        try weights.config.validate()
        try MemoryBudget.check(MemoryBudget.generationBytes(weights.config), for: "generating with \(MemoryBudget.shape(weights.config))",
                               fix: "sample a smaller model")
        let layout = ParameterLayout(config: weights.config)
        guard weights.parameters.count == layout.totalCount else {
            throw ConfigError("the weights hold \(weights.parameters.count) numbers but this model shape needs \(layout.totalCount)")
        }
        let block = weights.config.blockSize
        let keep = slideKeep ?? max(1, block / 2)
        guard (1...block).contains(keep) else {
            throw ConfigError("slideKeep = \(keep) must be between 1 and block_size = \(block)")
        }
        config = weights.config
        self.layout = layout
        self.slideKeep = keep
        self.pool = pool
        params = FloatBuffer(count: layout.totalCount)
        let c = weights.config.nEmbd
        // Every matrix in the order a token uses them, and where its panels' offsets start.
        let shapes = layout.blocks.flatMap { _ in [(n: 3 * c, k: c), (n: c, k: c), (n: 4 * c, k: c), (n: c, k: 4 * c)] }
            + [(n: weights.config.vocabSize, k: c)]
        let counts = shapes.map { MatVec.panelCount(outFeatures: $0.n) }
        var firsts: [Int] = [], panels = 0
        for count in counts {
            firsts.append(panels)
            panels += count
        }
        panelOffsets = .allocate(capacity: panels)
        // Member by member: each one's share of every matrix, one after another.
        var floats = 0
        for member in 0..<pool.workers {
            for (first, (shape, count)) in zip(firsts, zip(shapes, counts)) {
                for p in TeamMember.share(of: count, member: member, teamSize: pool.workers) {
                    panelOffsets[first + p] = floats
                    floats += shape.k * MatVec.panelWidth
                }
            }
        }
        packedBlocks = layout.blocks.indices.map {
            PackedBlock(attn: firsts[4 * $0], attnProj: firsts[4 * $0 + 1], fc: firsts[4 * $0 + 2], fcProj: firsts[4 * $0 + 3])
        }
        packedHead = firsts[firsts.count - 1]
        packed = FloatBuffer(count: floats, onHugePages: true)
        if config.posEncoding == .sinusoidal {
            let table = FloatBuffer(count: block * config.nEmbd)
            Embedding.sinusoidalTable(table.pointer, maxLen: block, channels: config.nEmbd)
            sinusoids = table
        } else {
            sinusoids = nil
        }
        keysT = FloatBuffer(count: config.nLayer * c * block)
        values = FloatBuffer(count: config.nLayer * block * c)
        scratch = Scratch(config: config, members: pool.workers)
        load(weights)
    }

    deinit { panelOffsets.deallocate() }

    /// Replaces the weights (same shape) and empties the cache: the next call must be `start`.
    public func load(_ weights: ModelWeights) {
        precondition(weights.config == config && weights.parameters.count == params.count,
                     "new weights must have the generator's shape")
        weights.parameters.withUnsafeBufferPointer { params.pointer.update(from: $0.baseAddress!, count: params.count) }
        let c = config.nEmbd, p = UnsafePointer(params.pointer)
        func pack(_ weight: Int, _ n: Int, _ k: Int, _ matrix: Int) {
            MatVec.pack(weight: p + weight, outFeatures: n, inFeatures: k, into: packed.pointer,
                        panelOffsets: panelOffsets.baseAddress! + matrix)
        }
        for (blk, pk) in zip(layout.blocks, packedBlocks) {
            pack(blk.attnWeight, 3 * c, c, pk.attn)
            pack(blk.attnProjWeight, c, c, pk.attnProj)
            pack(blk.fcWeight, 4 * c, c, pk.fc)
            pack(blk.fcProjWeight, c, 4 * c, pk.fcProj)
        }
        // The output head is tied to the token embedding.
        pack(layout.wte, config.vocabSize, c, packedHead)
        context = []
    }

    /// Bytes of packed weights a token's pass streams (every matrix once).
    public var weightBytes: Int { packed.count * MemoryLayout<Float>.stride }

    /// Logits for the token after `context` (valid after `start` or `append`).
    public var nextTokenLogits: UnsafeBufferPointer<Float> {
        precondition(!context.isEmpty, "call start(prompt:) first")
        return UnsafeBufferPointer(start: scratch.logits, count: config.vocabSize)
    }

    /// Empties the cache and prefills `prompt` (its last `block_size` tokens when longer, as
    /// nanoGPT's crop). The prompt must not be empty: see `GenerationPrompt.tokens`.
    public func start(prompt: [Int32]) {
        precondition(!prompt.isEmpty, "a prompt needs at least one token")
        checkTokens(prompt)
        prefill(Array(prompt.suffix(config.blockSize)))
    }

    /// Adds one token to the context and computes the logits for the one after it: an incremental
    /// step, or a slide (a prefill of the last `slideKeep` tokens) when the window is full.
    public func append(_ token: Int32) {
        precondition(!context.isEmpty, "call start(prompt:) first")
        checkTokens([token])
        if context.count == config.blockSize {
            prefill(Array((context + [token]).suffix(slideKeep)))
        } else {
            step(token: token, position: context.count)
            context.append(token)
        }
    }

    /// Streams up to `maxTokens` sampled tokens after `prompt`, calling `onToken` for each as soon
    /// as it is chosen, on the calling thread.
    ///
    /// Stops early when `onToken` returns `.stop` or `cancellation` is set (checked before every
    /// token, so a cancel takes effect within one token's time — microseconds). With `inspectTop`
    /// > 0 each token comes with the distribution it was drawn from (top `inspectTop` tokens).
    @discardableResult
    public func generate(prompt: [Int32], maxTokens: Int, sampler: inout Sampler,
                         cancellation: GenerationCancellation? = nil, inspectTop: Int = 0,
                         onToken: (GeneratedToken) -> GenerationControl) -> GenerationEnd {
        if cancellation?.isCancelled == true { return .cancelled }
        start(prompt: prompt)
        for index in 0..<max(0, maxTokens) {
            if cancellation?.isCancelled == true { return .cancelled }
            let logits = nextTokenLogits
            let distribution = inspectTop > 0 ? sampler.settings.distribution(logits, top: inspectTop) : nil
            let token = sampler.sample(logits)
            let logProbability = LogProbability.of(Int(token), logits)
            if onToken(GeneratedToken(token: token, index: index, distribution: distribution,
                                      modelLogProbability: logProbability)) == .stop {
                return .stopped
            }
            if index + 1 < maxTokens { append(token) }
        }
        return .finished
    }

    // MARK: - The forward pass

    private var positionTable: UnsafePointer<Float> {
        if let wpe = layout.wpe { return UnsafePointer(params.pointer + wpe) }
        return UnsafePointer(sinusoids!.pointer)
    }

    private func checkTokens(_ tokens: [Int32]) {
        for t in tokens {
            precondition(t >= 0 && Int(t) < config.vocabSize, "token \(t) is outside the vocabulary 0..<\(config.vocabSize)")
        }
    }

    private func keysT(layer: Int) -> UnsafeMutablePointer<Float> { keysT.pointer + layer * config.nEmbd * config.blockSize }
    private func values(layer: Int) -> UnsafeMutablePointer<Float> { values.pointer + layer * config.blockSize * config.nEmbd }

    /// This member's share of a product's output columns, `out = inp · Wᵀ + b` over `rows`
    /// tokens (`packedWeight` an offset into `packed`); returns the columns it wrote.
    @inline(__always) @discardableResult
    private func linear(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Int,
                        packedWeight: Int, bias: Int?, in ic: Int, out oc: Int, _ m: TeamMember) -> Range<Int> {
        let panels = m.share(of: MatVec.panelCount(outFeatures: oc))
        MatVec.linear(out: out, inp: inp, packed: packed.pointer, panelOffsets: panelOffsets.baseAddress! + packedWeight,
                      bias: bias.map { UnsafePointer(params.pointer + $0) }, rows: rows, inFeatures: ic, outFeatures: oc,
                      panels: panels)
        return MatVec.columns(ofPanels: panels, outFeatures: oc)
    }

    /// LayerNorm of `rows` rows, keeping its statistics in `stats` (2 × rows floats).
    private func layerNorm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: Int, bias: Int?,
                           rows: Int, stats: UnsafeMutablePointer<Float>) {
        let p = params.pointer
        LayerNorm.forward(out: out, mean: stats, rstd: stats + rows, inp: inp, weight: p + weight,
                          bias: bias.map { UnsafePointer(p + $0) }, rows: rows, channels: config.nEmbd, pool: .serialPool)
    }

    // The passes below run as a team over `pool` (see `WorkerPool.team`): in a step every member
    // takes a fixed share of each product's 64-column panels and of the heads (the prefill
    // splits by rows instead), and `sync()` separates steps that read what other members wrote.
    // Each output number is computed by exactly the same instructions whatever the team's size,
    // so one thread and many give identical logits.

    /// How many times a step's team meets (`sync()`): once after each layer's q/k/v product and
    /// four times in `finishLayer`.
    public var barriersPerStep: Int { 5 * config.nLayer }

    /// One new token at `position` (< block_size), its keys and values appended to the cache.
    private func step(token: Int32, position t: Int) {
        let c = config.nEmbd, x = scratch.x
        let embedding = params.pointer + layout.wte + Int(token) * c, position = positionTable + t * c
        for i in 0..<c { x[i] = embedding[i] + position[i] }
        pool.team { m in
            let mine = scratch.member(m.index)
            for l in 0..<config.nLayer {
                let blk = layout.blocks[l]
                layerNorm(mine.ln, x, weight: blk.ln1Weight, bias: blk.ln1Bias, rows: 1, stats: mine.stats)
                linear(scratch.qkv, mine.ln, rows: 1, packedWeight: packedBlocks[l].attn, bias: blk.attnBias,
                       in: c, out: 3 * c, m)
                m.sync()
                finishLayer(l, row: 0, position: t, cacheOwnHeads: true, &m)
            }
            head(row: x, &m)
        }
    }

    /// The rest of layer `l` for one token at position `t`, whose q, k, v are row `row` of
    /// `scratch.qkv` and whose residual stream is row `row` of `scratch.x`: attention over the
    /// cache, the projection and the MLP, with both residual additions. With `cacheOwnHeads`, the
    /// token's keys and values go into the cache first.
    private func finishLayer(_ l: Int, row: Int, position t: Int, cacheOwnHeads: Bool, _ m: inout TeamMember) {
        let c = config.nEmbd, hs = config.headSize, block = config.blockSize
        let blk = layout.blocks[l], pk = packedBlocks[l], mine = scratch.member(m.index)
        let qkv = scratch.qkv + row * 3 * c, x = scratch.x + row * c
        let kT = keysT(layer: l), v = values(layer: l)
        // Scores are computed up to the next multiple of 16 columns of the cache (stale columns
        // cost nothing extra in a vector and are ignored by the softmax), avoiding a scalar tail.
        let n = t + 1, paddedN = min(block, (n + 15) / 16 * 16)
        let scale = 1 / Float(hs).squareRoot()
        for h in m.share(of: config.nHead) {
            if cacheOwnHeads {
                for i in h * hs ..< (h + 1) * hs { kT[i * block + t] = qkv[c + i] }  // channel i = head i/hs, dim i%hs
                (v + t * c + h * hs).update(from: qkv + 2 * c + h * hs, count: hs)
            }
            MatVec.multiply(x: qkv + h * hs, k: hs, b: kT + h * hs * block, ldb: block, n: paddedN,
                            y: mine.scores, accumulate: false)
            Attention.causalSoftmax(mine.scores, valid: n, width: paddedN, scale: scale)
            MatVec.multiply(x: mine.scores, k: n, b: v + h * hs, ldb: c, n: hs, y: scratch.atty + h * hs, accumulate: false)
        }
        m.sync()
        var cols = linear(scratch.branch, scratch.atty, rows: 1, packedWeight: pk.attnProj, bias: blk.attnProjBias,
                          in: c, out: c, m)
        Buffers.add(x + cols.lowerBound, scratch.branch + cols.lowerBound, cols.count)
        m.sync()
        layerNorm(mine.ln, x, weight: blk.ln2Weight, bias: blk.ln2Bias, rows: 1, stats: mine.stats)
        cols = linear(scratch.fch, mine.ln, rows: 1, packedWeight: pk.fc, bias: blk.fcBias, in: c, out: 4 * c, m)
        GELU.forward(out: scratch.fchGelu + cols.lowerBound, inp: scratch.fch + cols.lowerBound, count: cols.count,
                     pool: .serialPool)
        m.sync()
        cols = linear(scratch.branch, scratch.fchGelu, rows: 1, packedWeight: pk.fcProj, bias: blk.fcProjBias,
                      in: 4 * c, out: c, m)
        Buffers.add(x + cols.lowerBound, scratch.branch + cols.lowerBound, cols.count)
        m.sync()
    }

    /// Runs `tokens` (1…block_size of them) from position 0 in one batched pass, refilling the
    /// cache; `context` becomes `tokens`.
    ///
    /// Every layer but the last runs over all rows, since the next layer's keys and values need
    /// them. The last layer only needs keys and values from the other rows: past them, just the
    /// final row goes on (attention, MLP, logits) — a fifth less work than the whole pass.
    ///
    /// Unlike a step, the team splits the prefill by rows: each member takes its own rows through
    /// LayerNorm, every product (all of the panels), GELU and the residual adds, and the members
    /// meet twice a layer — once the q/k/v of all rows are there (each then caches and attends for
    /// its share of the heads), and once attention's output is. Split by columns, every product
    /// read rows that the other core had just written, at five barriers a layer: a 64-token
    /// prefill took 0.60–0.82 ms on two threads (0.84 on one), and takes 0.47–0.53 ms so. Each
    /// row's numbers come from the same instructions either way.
    private func prefill(_ tokens: [Int32]) {
        let n = tokens.count, c = config.nEmbd, nh = config.nHead, hs = config.headSize, block = config.blockSize
        let s = scratch
        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: s.x, tokens: tok.baseAddress!, wte: params.pointer + layout.wte, pos: positionTable,
                              batch: 1, seqLen: n, channels: c, pool: .serialPool)
        }
        pool.team { m in
            let mine = s.member(m.index), rows = m.share(of: n), r0 = rows.lowerBound
            /// out = inp · Wᵀ + b for this member's rows, over all of W's panels.
            func ownRows(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, packedWeight: Int, bias: Int?,
                         in ic: Int, out oc: Int) {
                MatVec.linear(out: out + r0 * oc, inp: inp + r0 * ic, packed: packed.pointer,
                              panelOffsets: panelOffsets.baseAddress! + packedWeight,
                              bias: bias.map { UnsafePointer(params.pointer + $0) }, rows: rows.count, inFeatures: ic,
                              outFeatures: oc, panels: 0..<MatVec.panelCount(outFeatures: oc))
            }
            for l in 0..<config.nLayer {
                let blk = layout.blocks[l], pk = packedBlocks[l], last = l == config.nLayer - 1
                let kT = keysT(layer: l), v = values(layer: l)
                if !rows.isEmpty {
                    layerNorm(s.ln + r0 * c, s.x + r0 * c, weight: blk.ln1Weight, bias: blk.ln1Bias, rows: rows.count,
                              stats: s.stats + 2 * r0)
                    ownRows(s.qkv, s.ln, packedWeight: pk.attn, bias: blk.attnBias, in: c, out: 3 * c)
                }
                m.sync()
                // Keep this layer's keys (transposed per head) and values for the steps that follow.
                let heads = m.share(of: nh)
                for h in heads {
                    GEMM.transpose(rows: n, cols: hs, src: s.qkv + c + h * hs, lds: 3 * c, dst: kT + h * hs * block, ldd: block)
                    for t in 0..<n { (v + t * c + h * hs).update(from: s.qkv + t * 3 * c + 2 * c + h * hs, count: hs) }
                }
                if last {
                    finishLayer(l, row: n - 1, position: n - 1, cacheOwnHeads: false, &m)
                    break
                }
                Attention.forward(out: s.atty, att: s.att, qkv: s.qkv, batch: 1, seqLen: n, channels: c, heads: nh,
                                  onlyHeads: heads, scratch: mine.attention, pool: .serialPool)
                m.sync()
                // From here to the next layer's q/k/v, each member reads only the rows it wrote.
                if rows.isEmpty { continue }
                ownRows(s.branch, s.atty, packedWeight: pk.attnProj, bias: blk.attnProjBias, in: c, out: c)
                Buffers.add(s.x + r0 * c, s.branch + r0 * c, rows.count * c)
                layerNorm(s.ln + r0 * c, s.x + r0 * c, weight: blk.ln2Weight, bias: blk.ln2Bias, rows: rows.count,
                          stats: s.stats + 2 * r0)
                ownRows(s.fch, s.ln, packedWeight: pk.fc, bias: blk.fcBias, in: c, out: 4 * c)
                GELU.forward(out: s.fchGelu + r0 * 4 * c, inp: s.fch + r0 * 4 * c, count: rows.count * 4 * c, pool: .serialPool)
                ownRows(s.branch, s.fchGelu, packedWeight: pk.fcProj, bias: blk.fcProjBias, in: 4 * c, out: c)
                Buffers.add(s.x + r0 * c, s.branch + r0 * c, rows.count * c)
            }
            head(row: s.x + (n - 1) * c, &m)
        }
        context = tokens
        prefillCount += 1
    }

    /// logits = ln_f(x) · wteᵀ for one position.
    private func head(row x: UnsafePointer<Float>, _ m: inout TeamMember) {
        let c = config.nEmbd, mine = scratch.member(m.index)
        layerNorm(mine.ln, x, weight: layout.lnfWeight, bias: layout.lnfBias, rows: 1, stats: mine.stats)
        linear(scratch.logits, mine.ln, rows: 1, packedWeight: packedHead, bias: nil, in: c, out: config.vocabSize, m)
    }

    /// Where one block's matrices start in `panelOffsets`.
    struct PackedBlock {
        var attn, attnProj, fc, fcProj: Int
    }

    /// Working memory for a whole window (prefill) or one token (steps use row 0), shared by
    /// the team, plus each member's private rows.
    private final class Scratch {
        let memory: FloatBuffer
        let x, ln, qkv, atty, branch, fch, fchGelu, stats, att, logits: UnsafeMutablePointer<Float>
        private let privateRows: UnsafeMutablePointer<Float>
        private let privateFloats: Int
        private let channels, block, attentionFloats: Int

        /// One member's private space: a normalised row, its LayerNorm statistics, a row of
        /// attention scores and the attention kernel's scratch.
        struct Member {
            let ln, stats, scores, attention: UnsafeMutablePointer<Float>
        }

        init(config: GPTConfig, members: Int) {
            let b = config.blockSize, c = config.nEmbd
            channels = c
            block = b
            attentionFloats = Attention.scratchCount(seqLen: b, headSize: config.headSize, pool: .serialPool)
            // Each buffer is rounded up to 16 floats, so every one starts on a 64-byte boundary.
            func rounded(_ n: Int) -> Int { (n + 15) / 16 * 16 }
            privateFloats = rounded(c) + rounded(2) + rounded(b) + rounded(attentionFloats)
            let sizes = [b * c, b * c, b * 3 * c, b * c, b * c, b * 4 * c, b * 4 * c, 2 * b,
                         config.nHead * b * b, config.vocabSize]
            memory = FloatBuffer(count: sizes.map(rounded).reduce(0, +) + members * privateFloats)
            var cursor = memory.pointer
            func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += rounded(n) }; return cursor }
            x = take(b * c); ln = take(b * c); qkv = take(b * 3 * c); atty = take(b * c); branch = take(b * c)
            fch = take(b * 4 * c); fchGelu = take(b * 4 * c); stats = take(2 * b)
            att = take(config.nHead * b * b); logits = take(config.vocabSize)
            privateRows = cursor
        }

        func member(_ index: Int) -> Member {
            let base = privateRows + index * privateFloats
            func rounded(_ n: Int) -> Int { (n + 15) / 16 * 16 }
            return Member(ln: base, stats: base + rounded(channels), scores: base + rounded(channels) + 16,
                          attention: base + rounded(channels) + 16 + rounded(block))
        }
    }
}
