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
public struct MemoryOptions: Sendable, Equatable, Hashable {
    public enum AttentionKernel: String, Sendable, CaseIterable {
        /// `Attention`: stores P (needed for the dashboard's attention maps).
        case standard
        /// `FusedAttention`: stores O(T) per head.
        case fused
    }

    public var attention: AttentionKernel
    public var activationCheckpointing: Bool

    public init(attention: AttentionKernel = .standard, activationCheckpointing: Bool = false) {
        self.attention = attention
        self.activationCheckpointing = activationCheckpointing
    }

    public static let standard = MemoryOptions()
}

/// How many floats the model's activations take for one forward-and-backward shape, by part:
/// what `nanoscope` prints at start as the memory estimate. Counted with overflow checks, so an
/// absurd configuration gives nil instead of a crash.
public struct ActivationFootprint: Sendable, Equatable {
    /// Kept per layer for the backward pass (without attention).
    public var perLayer: Int
    /// Attention's share per layer (P, or the log-sum-exp when fused).
    public var attentionPerLayer: Int
    /// Layers that keep their own copy of `perLayer` (all of them, or none with checkpointing).
    public var storedLayers: Int
    /// The rest: embeddings, the head's logits (overwritten by the probabilities), gradient scratch.
    public var shared: Int
    /// Attention kernels' per-worker scratch.
    public var scratch: Int

    public var total: Int? {
        let layerTotal = (perLayer + attentionPerLayer).multipliedReportingOverflow(by: storedLayers)
        guard !layerTotal.overflow else { return nil }
        let sum = [layerTotal.partialValue, shared, scratch].reduce((0, false)) { acc, x in
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
              let btv = product(options.activationCheckpointing ? min(bt, 1024) : bt, config.vocabSize),
              let p = product(batch, config.nHead, seqLen, options.attention == .fused ? 1 : seqLen),
              btc <= Int.max / 32, btv <= Int.max / 4 else { return nil }
        let internals = btc * 2 + bt * 4 + btc * 3 + btc + btc * 8   // ln1, stats, qkv, atty, ln2, fch, fchGelu
        let residuals = btc * 2                                      // residual2, residual3
        let stored = options.activationCheckpointing ? 1 : config.nLayer
        let attScratch: Int
        switch options.attention {
        case .standard: attScratch = workers * Attention.scratchCount(seqLen: seqLen, headSize: config.headSize, pool: .serialPool)
        case .fused: attScratch = workers * FusedAttention.scratchCount(seqLen: seqLen, headSize: config.headSize, pool: .serialPool)
        }
        guard let checkpointed = options.activationCheckpointing ? product(config.nLayer, btc) : 0,  // each block's output
              checkpointed <= Int.max / 4 else { return nil }
        return ActivationFootprint(
            perLayer: options.activationCheckpointing ? internals + residuals - btc : internals + residuals,
            attentionPerLayer: p, storedLayers: stored,
            shared: checkpointed + btc * 2 + bt * 2 + btv + bt + btc * 4 + btc * 3 + btc * 4 + LayerNorm.backwardChunks * 2 * config.nEmbd,
            scratch: attScratch)
    }
}
