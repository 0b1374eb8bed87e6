import Foundation
import Kernels
import Synchronization
import Tokenizers

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
/// Speed. A token's cost is dominated by streaming every weight once from cache (3.2 MB for the
/// baby model: ~35 µs on one core here, near the L3 bandwidth), so by default everything runs on
/// the calling thread — in the dashboard, training keeps the worker pool busy. Given a `pool`, the
/// products share their 64-column panels out over its threads, which pays off when cores are idle
/// (the `sample` command). Per-panel work is identical either way, so are the results.
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
    /// Every matrix the forward pass multiplies by, packed in panels (`MatVec.pack`).
    private let packed: FloatBuffer
    private let packedBlocks: [PackedBlock]
    private let packedHead: Int
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
        var packedCount = 0
        func place(_ n: Int, _ k: Int) -> Int { defer { packedCount += MatVec.packedCount(outFeatures: n, inFeatures: k) }; return packedCount }
        packedBlocks = layout.blocks.map { _ in
            PackedBlock(attn: place(3 * c, c), attnProj: place(c, c), fc: place(4 * c, c), fcProj: place(c, 4 * c))
        }
        packedHead = place(weights.config.vocabSize, c)
        packed = FloatBuffer(count: packedCount)
        if config.posEncoding == .sinusoidal {
            let table = FloatBuffer(count: block * config.nEmbd)
            Embedding.sinusoidalTable(table.pointer, maxLen: block, channels: config.nEmbd)
            sinusoids = table
        } else {
            sinusoids = nil
        }
        keysT = FloatBuffer(count: config.nLayer * c * block)
        values = FloatBuffer(count: config.nLayer * block * c)
        scratch = Scratch(config: config)
        load(weights)
    }

    /// Replaces the weights (same shape) and empties the cache: the next call must be `start`.
    public func load(_ weights: ModelWeights) {
        precondition(weights.config == config && weights.parameters.count == params.count,
                     "new weights must have the generator's shape")
        weights.parameters.withUnsafeBufferPointer { params.pointer.update(from: $0.baseAddress!, count: params.count) }
        let c = config.nEmbd, p = UnsafePointer(params.pointer), dst = packed.pointer
        for (blk, pk) in zip(layout.blocks, packedBlocks) {
            MatVec.pack(weight: p + blk.attnWeight, outFeatures: 3 * c, inFeatures: c, into: dst + pk.attn)
            MatVec.pack(weight: p + blk.attnProjWeight, outFeatures: c, inFeatures: c, into: dst + pk.attnProj)
            MatVec.pack(weight: p + blk.fcWeight, outFeatures: 4 * c, inFeatures: c, into: dst + pk.fc)
            MatVec.pack(weight: p + blk.fcProjWeight, outFeatures: c, inFeatures: 4 * c, into: dst + pk.fcProj)
        }
        // The output head is tied to the token embedding.
        MatVec.pack(weight: p + layout.wte, outFeatures: config.vocabSize, inFeatures: c, into: dst + packedHead)
        context = []
    }

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
            if onToken(GeneratedToken(token: token, index: index, distribution: distribution)) == .stop {
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

    /// `out = inp · Wᵀ + b` over `rows` tokens (`packedWeight` an offset into `packed`).
    @inline(__always)
    private func linear(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Int,
                        packedWeight: Int, bias: Int?, in ic: Int, out oc: Int) {
        MatVec.linear(out: out, inp: inp, packed: packed.pointer + packedWeight,
                      bias: bias.map { UnsafePointer(params.pointer + $0) }, rows: rows, inFeatures: ic, outFeatures: oc,
                      pool: pool)
    }

    private func layerNorm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: Int, bias: Int?, rows: Int) {
        let p = params.pointer
        LayerNorm.forward(out: out, mean: scratch.mean, rstd: scratch.rstd, inp: inp, weight: p + weight,
                          bias: bias.map { UnsafePointer(p + $0) }, rows: rows, channels: config.nEmbd, pool: .serialPool)
    }

    /// One new token at `position` (< block_size), its keys and values appended to the cache.
    private func step(token: Int32, position t: Int) {
        let c = config.nEmbd, nh = config.nHead, hs = config.headSize, block = config.blockSize
        let s = scratch, x = s.x
        let scale = 1 / Float(hs).squareRoot()
        let embedding = params.pointer + layout.wte + Int(token) * c, position = positionTable + t * c
        for i in 0..<c { x[i] = embedding[i] + position[i] }
        // Scores are computed up to the next multiple of 16 columns of the cache (stale columns
        // cost nothing extra in a vector and are ignored by the softmax), avoiding a scalar tail.
        let n = t + 1, paddedN = min(block, (n + 15) / 16 * 16)
        for (l, (blk, pk)) in zip(layout.blocks, packedBlocks).enumerated() {
            layerNorm(s.ln, x, weight: blk.ln1Weight, bias: blk.ln1Bias, rows: 1)
            linear(s.qkv, s.ln, rows: 1, packedWeight: pk.attn, bias: blk.attnBias, in: c, out: 3 * c)
            let kT = keysT(layer: l), v = values(layer: l)
            for i in 0..<c { kT[i * block + t] = s.qkv[c + i] }  // channel i = head i/hs, dim i%hs
            (v + t * c).update(from: s.qkv + 2 * c, count: c)
            for h in 0..<nh {
                MatVec.multiply(x: s.qkv + h * hs, k: hs, b: kT + h * hs * block, ldb: block, n: paddedN,
                                y: s.scores, accumulate: false)
                Attention.causalSoftmax(s.scores, valid: n, width: n, scale: scale)
                MatVec.multiply(x: s.scores, k: n, b: v + h * hs, ldb: c, n: hs, y: s.atty + h * hs, accumulate: false)
            }
            linear(s.branch, s.atty, rows: 1, packedWeight: pk.attnProj, bias: blk.attnProjBias, in: c, out: c)
            Buffers.add(x, s.branch, c)
            layerNorm(s.ln, x, weight: blk.ln2Weight, bias: blk.ln2Bias, rows: 1)
            linear(s.fch, s.ln, rows: 1, packedWeight: pk.fc, bias: blk.fcBias, in: c, out: 4 * c)
            GELU.forward(out: s.fchGelu, inp: s.fch, count: 4 * c, pool: .serialPool)
            linear(s.branch, s.fchGelu, rows: 1, packedWeight: pk.fcProj, bias: blk.fcProjBias, in: 4 * c, out: c)
            Buffers.add(x, s.branch, c)
        }
        head(row: x)
    }

    /// Runs `tokens` (1…block_size of them) from position 0 in one batched pass, refilling the
    /// cache; `context` becomes `tokens`.
    private func prefill(_ tokens: [Int32]) {
        let n = tokens.count, c = config.nEmbd, nh = config.nHead, hs = config.headSize, block = config.blockSize
        let s = scratch
        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: s.x, tokens: tok.baseAddress!, wte: params.pointer + layout.wte, pos: positionTable,
                              batch: 1, seqLen: n, channels: c, pool: .serialPool)
        }
        for (l, (blk, pk)) in zip(layout.blocks, packedBlocks).enumerated() {
            layerNorm(s.ln, s.x, weight: blk.ln1Weight, bias: blk.ln1Bias, rows: n)
            linear(s.qkv, s.ln, rows: n, packedWeight: pk.attn, bias: blk.attnBias, in: c, out: 3 * c)
            Attention.forward(out: s.atty, att: s.att, qkv: s.qkv, batch: 1, seqLen: n, channels: c, heads: nh,
                              scratch: s.attentionScratch, pool: .serialPool)
            // Keep this layer's keys (transposed per head) and values for the steps that follow.
            let kT = keysT(layer: l), v = values(layer: l)
            for h in 0..<nh {
                GEMM.transpose(rows: n, cols: hs, src: s.qkv + c + h * hs, lds: 3 * c, dst: kT + h * hs * block, ldd: block)
            }
            for t in 0..<n { (v + t * c).update(from: s.qkv + t * 3 * c + 2 * c, count: c) }
            linear(s.branch, s.atty, rows: n, packedWeight: pk.attnProj, bias: blk.attnProjBias, in: c, out: c)
            Buffers.add(s.x, s.branch, n * c)
            layerNorm(s.ln, s.x, weight: blk.ln2Weight, bias: blk.ln2Bias, rows: n)
            linear(s.fch, s.ln, rows: n, packedWeight: pk.fc, bias: blk.fcBias, in: c, out: 4 * c)
            GELU.forward(out: s.fchGelu, inp: s.fch, count: n * 4 * c, pool: .serialPool)
            linear(s.branch, s.fchGelu, rows: n, packedWeight: pk.fcProj, bias: blk.fcProjBias, in: 4 * c, out: c)
            Buffers.add(s.x, s.branch, n * c)
        }
        // Only the last position's logits are needed.
        head(row: s.x + (n - 1) * c)
        context = tokens
        prefillCount += 1
    }

    /// logits = ln_f(x) · wteᵀ for one position.
    private func head(row x: UnsafePointer<Float>) {
        let c = config.nEmbd
        layerNorm(scratch.ln, x, weight: layout.lnfWeight, bias: layout.lnfBias, rows: 1)
        linear(scratch.logits, scratch.ln, rows: 1, packedWeight: packedHead, bias: nil, in: c, out: config.vocabSize)
    }

    /// Offsets in `packed` of one block's matrices.
    private struct PackedBlock {
        var attn, attnProj, fc, fcProj: Int
    }

    /// Working memory for a whole window (prefill) or one token (steps use row 0).
    private final class Scratch {
        let memory: FloatBuffer
        let x, ln, qkv, atty, branch, fch, fchGelu, mean, rstd, att, attentionScratch, scores, logits: UnsafeMutablePointer<Float>

        init(config: GPTConfig) {
            let b = config.blockSize, c = config.nEmbd
            let attentionFloats = Attention.scratchCount(seqLen: b, headSize: config.headSize, pool: .serialPool)
            // Each buffer is rounded up to 16 floats, so every one starts on a 64-byte boundary.
            let sizes = [b * c, b * c, b * 3 * c, b * c, b * c, b * 4 * c, b * 4 * c, b, b,
                         config.nHead * b * b, attentionFloats, b, config.vocabSize]
            memory = FloatBuffer(count: sizes.map { ($0 + 15) / 16 * 16 }.reduce(0, +))
            var cursor = memory.pointer
            func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += (n + 15) / 16 * 16 }; return cursor }
            x = take(b * c); ln = take(b * c); qkv = take(b * 3 * c); atty = take(b * c); branch = take(b * c)
            fch = take(b * 4 * c); fchGelu = take(b * 4 * c); mean = take(b); rstd = take(b)
            att = take(config.nHead * b * b); attentionScratch = take(attentionFloats)
            scores = take(b); logits = take(config.vocabSize)
        }
    }
}

/// A model's shape and a copy of its flat parameters (in `ParameterLayout` order): what a
/// generator is built from. A value, so it can be taken on the training thread at a step boundary
/// and handed to another thread.
public struct ModelWeights: Sendable, Equatable {
    public var config: GPTConfig
    public var parameters: [Float]

    public init(config: GPTConfig, parameters: [Float]) {
        self.config = config
        self.parameters = parameters
    }

    /// Copies the model's current parameters (call between optimizer steps).
    public init(copying model: GPT) {
        self.init(config: model.config, parameters: model.params.array)
    }
}

/// What `Generator.generate` hands to its callback for every token.
public struct GeneratedToken: Sendable, Equatable {
    public var token: Int32
    /// 0 for the first generated token.
    public var index: Int
    /// The distribution the token was drawn from, when asked for (`inspectTop`).
    public var distribution: NextTokenDistribution?
}

/// The callback's answer: keep going or stop now.
public enum GenerationControl: Sendable, Equatable {
    case proceed
    case stop
}

/// Why `generate` returned.
public enum GenerationEnd: Sendable, Equatable {
    /// `maxTokens` were generated.
    case finished
    /// The callback returned `.stop`.
    case stopped
    /// The cancellation was set.
    case cancelled
}

/// A flag another thread sets to stop a running `generate` before its next token. One per run:
/// to restart after a settings change, cancel the old one and start with a fresh flag.
public final class GenerationCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Turning the user's prompt text into the tokens generation starts from.
public enum GenerationPrompt {
    /// The prompt's tokens. An empty prompt starts from a newline when the vocabulary has one (as
    /// nanoGPT's sample.py does by default), else from token 0.
    public static func tokens(for text: String, tokenizer: any Tokenizer) throws(GenerationError) -> [Int32] {
        let ids: [Int32]
        do {
            ids = try tokenizer.encode(text.isEmpty ? "\n" : text)
        } catch let error as TokenizerError {
            if text.isEmpty { return [0] }
            if case .unknownCharacters(let chars) = error {
                let shown = chars.prefix(5).map { String(reflecting: String($0)) }.joined(separator: ", ")
                throw GenerationError("the prompt contains characters the model has never seen: \(shown)\(chars.count > 5 ? ", …" : "") — use only characters of its training text")
            }
            throw GenerationError("cannot encode the prompt: \(error)")
        } catch {
            throw GenerationError("cannot encode the prompt: \(error)")
        }
        if ids.isEmpty { return [0] }
        return ids
    }
}

/// Decodes a token stream piece by piece for display. Tokens that end inside a multi-byte
/// character (byte-level BPE) are held back until the character is complete.
public struct StreamingTextDecoder {
    private let tokenizer: any Tokenizer
    private var pending: [Int32] = []

    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// The text that `token` completes (possibly empty).
    public mutating func push(_ token: Int32) -> String {
        pending.append(token)
        let text = tokenizer.decode(pending)
        // A trailing U+FFFD may be a character whose remaining bytes are in the next token(s);
        // a UTF-8 character has at most 4 bytes, so give up waiting after 4 tokens.
        if text.unicodeScalars.last == "\u{FFFD}" && pending.count < 4 { return "" }
        pending.removeAll(keepingCapacity: true)
        return text
    }

    /// Whatever is still held back.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : tokenizer.decode(pending)
    }
}

/// A problem with a generation request, phrased for the user.
public struct GenerationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
