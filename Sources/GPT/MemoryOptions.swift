import Kernels

/// How the model trades memory for compute while it trains. Neither option changes a single
/// number the model computes (the gradients are bit-identical with checkpointing, and fused
/// attention agrees with the standard kernel to float rounding); they change only what is kept
/// between the forward and the backward pass.
///
/// **Fused attention** (`FusedAttention.swift`): the T×T probability matrix of every head is not
/// stored; one log-sum-exp per query is, and the backward pass recomputes the probabilities tile
/// by tile. Attention's memory goes from B·nh·T² floats per layer to B·nh·T.
///
/// **Activation checkpointing** (Chen et al. 2016, "Training deep nets with sublinear memory
/// cost"): the forward pass keeps only each block's *output* (the residual stream, B·T·C floats
/// per layer) and one shared set of the block's internals (LayerNorm outputs and statistics,
/// q/k/v, attention, the MLP's 4C-wide hidden layer — about 16·B·T·C floats, plus attention).
/// The backward pass, arriving at block l, first runs block l's forward again from its saved
/// input — with the same weights and dropout seeds, so the same values bit for bit — then walks
/// it backwards. The recomputation stops at the MLP's hidden layer: the MLP's output projection
/// only produces the block's output, which is saved already (it is block l+1's input). Memory for
/// activations drops from ~L × (block internals) to L × (B·T·C) + one block's internals, for
/// two thirds of the blocks' forward matrix products done again (~¼ more compute per step).
///
/// **Selective checkpointing** (after Korthikanti et al. 2022, "Reducing activation recomputation
/// in large transformer models", the other way round): each block also keeps what its attention
/// produced — q, k, v, the attention output and, with the fused kernel, its log-sum-exp; 4·B·T·C
/// floats a layer — and the backward pass recomputes only ln_1, the attention's projection and
/// the MLP's first half. Megatron keeps the products and recomputes attention, because there
/// attention's T×T matrices are the memory; with fused attention they are gone, and what is left
/// is cheapest to keep where recomputing costs the most: the q/k/v product (a quarter of the
/// block's FLOPs) and attention itself. Memory: L × (5·B·T·C) + one block's internals.
public struct MemoryOptions: Sendable, Equatable, Hashable {
    public enum AttentionKernel: String, Sendable, CaseIterable {
        /// `Attention`: stores P (needed for the dashboard's attention maps).
        case standard
        /// `FusedAttention`: stores O(T) per head.
        case fused
    }

    /// What the forward pass keeps of each block (`activation_checkpointing` in a run config).
    public enum Checkpointing: String, Sendable, CaseIterable {
        /// Every block's internals: nothing recomputed.
        case off
        /// Only each block's output (the next one's input); the backward pass recomputes the block.
        case full
        /// Each block's output and its attention's q, k, v and output; the rest is recomputed.
        case selective
    }

    public var attention: AttentionKernel
    public var checkpointing: Checkpointing
    /// Whether blocks are recomputed in the backward pass (full or selective checkpointing).
    public var activationCheckpointing: Bool { checkpointing != .off }

    public init(attention: AttentionKernel = .standard, checkpointing: Checkpointing = .off) {
        self.attention = attention
        self.checkpointing = checkpointing
    }

    public static let standard = MemoryOptions()

    /// "fused attention, selective activation checkpointing", as the memory estimate is headed.
    public var summary: String {
        switch checkpointing {
        case .off: "\(attention.rawValue) attention"
        case .full: "\(attention.rawValue) attention, activation checkpointing"
        case .selective: "\(attention.rawValue) attention, selective activation checkpointing"
        }
    }
}

/// How many floats the model's activations take for one forward-and-backward shape, by part:
/// what `nanoscope` prints at start as the memory estimate. Counted with overflow checks, so an
/// absurd configuration gives nil instead of a crash.
public struct ActivationFootprint: Sendable, Equatable {
    /// What every layer keeps of its own for the backward pass, attention's probabilities or
    /// log-sum-exp aside: all its internals, or under checkpointing its output (and, selective,
    /// its q, k, v and attention output).
    public var perLayer: Int
    /// The model's layers (each keeps `perLayer`).
    public var layers: Int
    /// Attention's share per layer (P, or the log-sum-exp when fused)…
    public var attentionPerLayer: Int
    /// …kept by this many layers (all of them, or one shared set under full checkpointing).
    public var attentionLayers: Int
    /// Under checkpointing, the one set of block internals the recomputed blocks share.
    public var recomputed: Int
    /// The rest: embeddings, the head's logits (overwritten by the probabilities), gradient scratch.
    public var shared: Int
    /// Attention kernels' per-worker scratch.
    public var scratch: Int

    public var attention: Int? {
        let a = attentionPerLayer.multipliedReportingOverflow(by: attentionLayers)
        return a.overflow ? nil : a.partialValue
    }

    public var total: Int? {
        let layerTotal = perLayer.multipliedReportingOverflow(by: layers)
        guard !layerTotal.overflow, let attention else { return nil }
        let sum = [layerTotal.partialValue, attention, recomputed, shared, scratch].reduce((0, false)) { acc, x in
            let r = acc.0.addingReportingOverflow(x); return (r.partialValue, acc.1 || r.overflow)
        }
        return sum.1 ? nil : sum.0
    }

    /// Rows of the head's logits held at once: all B·T, or under checkpointing chunks of 1024 —
    /// a multiple of the GEMM's K block, so the chunked ∂L/∂wte sums in the same order as one
    /// product over every row (bit-identical gradients).
    public static func headRows(batch: Int, seqLen: Int, options: MemoryOptions) -> Int {
        let bt = batch * seqLen
        return options.activationCheckpointing ? min(bt, 1024) : bt
    }

    /// nil when any count overflows.
    public static func of(_ config: GPTConfig, batch: Int, seqLen: Int, workers: Int,
                          options: MemoryOptions) -> ActivationFootprint? {
        func product(_ xs: Int...) -> Int? {
            var r = 1
            for x in xs {
                let m = r.multipliedReportingOverflow(by: x)
                if m.overflow || x < 0 { return nil }
                r = m.partialValue
            }
            return r
        }
        guard let bt = product(batch, seqLen), let btc = product(bt, config.nEmbd),
              let btv = product(headRows(batch: batch, seqLen: seqLen, options: options), config.vocabSize),
              let p = product(batch, config.nHead, seqLen, options.attention == .fused ? 1 : seqLen),
              btc <= Int.max / 32, btv <= Int.max / 4 else { return nil }
        let attentionOutputs = btc * 3 + btc                          // qkv, atty
        let internals = btc * 2 + bt * 4 + attentionOutputs + btc * 8 // + ln1, stats, ln2, fch, fchGelu
        let residual2 = btc, output = btc                             // residual2, residual3
        let attScratch: Int
        switch options.attention {
        case .standard: attScratch = workers * Attention.scratchCount(seqLen: seqLen, headSize: config.headSize, pool: .serialPool)
        case .fused: attScratch = workers * FusedAttention.scratchCount(seqLen: seqLen, headSize: config.headSize, pool: .serialPool)
        }
        var footprint = ActivationFootprint(
            perLayer: internals + residual2 + output, layers: config.nLayer,
            attentionPerLayer: p, attentionLayers: config.nLayer, recomputed: 0,
            shared: btc * 2 + bt * 2 + btv + bt + btc * 4 + btc * 3 + btc * 4 + LayerNorm.backwardChunks * 2 * config.nEmbd,
            scratch: attScratch)
        switch options.checkpointing {
        case .off: break
        case .full:
            footprint.perLayer = output
            footprint.recomputed = internals + residual2
            footprint.attentionLayers = 1
        case .selective:
            footprint.perLayer = output + attentionOutputs
            footprint.recomputed = internals - attentionOutputs + residual2
        }
        guard footprint.total != nil else { return nil }
        return footprint
    }
}
