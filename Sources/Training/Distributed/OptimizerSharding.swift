import Kernels

/// ZeRO stage 1 (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
/// Parameter Models", 2020; llm.c's `zero_stage = 1`): the optimizer's state sharded over ranks.
///
/// Plain data parallelism keeps the whole AdamW state on every rank — m and v, twice the
/// weights' memory — and every rank computes the same update. ZeRO-1 splits the P parameters
/// into N contiguous shards; rank r keeps m and v of shard r only and updates only those weights:
///
///     1. reduce-scatter the gradient:  rank r receives Σ_ranks g over shard r
///     2. the global norm ‖g‖ from every shard's Σ g² (exchanged per fixed chunk, then added in
///        chunk order: the same bits as one process, see `GradientClipping.chunk`)
///     3. AdamW on shard r (if any shard's update would not be finite, no rank applies its own)
///     4. all-gather the weights: every rank receives every updated shard
///
/// Reduce-scatter plus all-gather move the bytes of one all-reduce, so communication stays the
/// same, while AdamW's memory per rank falls from 2P to 2P/N floats. Every operation on a
/// parameter is the one a single process applies, so training is bit-for-bit the same; a
/// checkpoint gathers the moments and writes the single process's optimizer file, so a run
/// resumes with any number of ranks and either stage.
public struct OptimizerSharding: Sendable, Equatable {
    /// `shards[r]`: the parameters rank r updates; together, in order, all of them.
    public let shards: [Range<Int>]

    /// Whole norm chunks per shard (the last rank also takes the remainder), so each rank's
    /// share of the norm is a set of whole chunk sums.
    public init(parameterCount: Int, ranks: Int) {
        let chunks = GradientClipping.chunkCount(parameterCount)
        shards = (0..<ranks).map { r in
            let lo = min(parameterCount, chunks * r / ranks * GradientClipping.chunk)
            let hi = r == ranks - 1 ? parameterCount : min(parameterCount, chunks * (r + 1) / ranks * GradientClipping.chunk)
            return lo..<hi
        }
    }

    /// The norm chunks inside `shards[rank]`.
    public func chunks(of rank: Int) -> Range<Int> {
        let s = shards[rank]
        return (s.lowerBound / GradientClipping.chunk)..<GradientClipping.chunkCount(s.upperBound)
    }

    /// Bytes of AdamW state (m and v, float32) one rank keeps.
    public func momentBytes(of rank: Int) -> Int { 2 * shards[rank].count * MemoryLayout<Float>.size }
}
