import Foundation
import GPT
import Kernels

/// Data parallelism, llm.c-style: every rank holds the whole model, computes its share of each
/// step's micro-batches, and the gradients are summed over ranks before every rank applies the
/// same AdamW update — so the weights stay identical everywhere without ever being sent.
///
/// The global batch does not change with the number of ranks: `gradient_accumulation_steps` is
/// split over them (rank r takes micro-batches r·k ..< (r+1)·k, k = steps / ranks). Every rank
/// still draws every micro-batch from the batch stream (cheap: indices and a copy of tokens), so
/// the stream, dropout seeds (from the global micro-batch index) and checkpoints are exactly the
/// single process's, and a run resumes with any number of ranks.
///
/// Per step, after the backward passes:
/// 1. a barrier — its time is the wait for the slowest rank (imbalance, a busy core);
/// 2. `MPI_Allreduce` of the gradient in place — the communication itself;
/// 3. one small all-reduce carrying every micro-batch's loss (each rank fills its own slots,
///    others are zero, so the sum is exact) and every rank's timings, for the cluster view.
/// The loss is then added in micro-batch order, as a single process adds it.
public final class DataParallel {
    public let collective: Collective
    public var rank: Int { collective.rank }
    public var size: Int { collective.size }
    /// The cluster view of the latest step (every rank computes it; rank 0 shows it).
    public private(set) var status: ClusterStatus?
    /// Every step's status so far in this session (rank 0 summarises them at the end).
    public private(set) var history: [ClusterStatus] = []
    private var stepStart: UInt64 = 0
    private var tokensPerMicroBatch = 0
    /// ZeRO-1 (`zero_stage = 1`): the parameters whose AdamW state and update are this rank's;
    /// nil: every rank keeps the whole state (`OptimizerSharding.swift`).
    public internal(set) var sharding: OptimizerSharding?

    public init(collective: Collective) {
        self.collective = collective
    }

    /// The one-line error for a configuration that cannot be split over the ranks.
    public func validate(_ config: TrainConfig) throws(ConfigError) {
        let accum = config.gradientAccumulationSteps
        if accum % size != 0 {
            throw ConfigError("gradient_accumulation_steps = \(accum) does not divide over \(size) ranks: use a multiple of \(size) (each rank computes gradient_accumulation_steps / ranks micro-batches of every step; the global batch is batch_size × gradient_accumulation_steps)")
        }
    }

    /// The micro-batches of a step this rank computes.
    public func share(of count: Int) -> Range<Int> {
        let per = count / size, extra = count % size
        let start = rank * per + min(rank, extra)
        return start..<(start + per + (rank < extra ? 1 : 0))
    }

    /// Called as a step starts.
    func beginStep(tokensPerMicroBatch: Int) {
        stepStart = DispatchTime.now().uptimeNanoseconds
        self.tokensPerMicroBatch = tokensPerMicroBatch
    }

    /// Sums the gradient over ranks and completes `losses` (this rank filled its own slots).
    /// Under ZeRO-1 only this rank's shard of the sum is needed, unless rank 0 asks for the whole
    /// gradient (`wholeGradient`: its telemetry histograms are due this step).
    func combine(gradients grads: FloatBuffer, losses: inout [Float], localMicroBatches: Int, wholeGradient: Bool = false) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        collective.barrier()
        let t1 = DispatchTime.now().uptimeNanoseconds
        let buffer = UnsafeMutableBufferPointer(start: grads.pointer, count: grads.count)
        if let sharding { collective.reduceScatterSum(buffer, shards: sharding.shards) } else { collective.allReduceSum(buffer) }
        let t2 = DispatchTime.now().uptimeNanoseconds
        // [losses | compute, wait, all-reduce seconds of each rank | rank 0 wants the whole gradient]
        var small = [Double](repeating: 0, count: losses.count + 3 * size + 1)
        for (i, l) in losses.enumerated() { small[i] = Double(l) }
        small[losses.count + 3 * rank] = Double(t0 - stepStart) / 1e9
        small[losses.count + 3 * rank + 1] = Double(t1 - t0) / 1e9
        small[losses.count + 3 * rank + 2] = Double(t2 - t1) / 1e9
        if rank == 0 && wholeGradient { small[small.count - 1] = 1 }
        small.withUnsafeMutableBufferPointer { collective.allReduceSum($0) }
        for i in losses.indices { losses[i] = Float(small[i]) }
        if let sharding, small[small.count - 1] > 0 { collective.allGather(buffer, shards: sharding.shards) }
        let tokens = Double(localMicroBatches * tokensPerMicroBatch)
        status = ClusterStatus(label: collective.label, ranks: (0..<size).map { r in
            let base = losses.count + 3 * r
            return ClusterStatus.Rank(rank: r, computeSeconds: small[base], waitSeconds: small[base + 1],
                                      allReduceSeconds: small[base + 2],
                                      tokensPerSecond: small[base] > 0 ? tokens / small[base] : 0)
        }, gradientBytes: grads.count * MemoryLayout<Float>.size)
    }

    /// The global gradient norm. Under ZeRO-1 each rank holds the summed gradient of its shard
    /// only: it contributes the Σ g² of its own norm chunks and the ranks exchange them, so every
    /// rank adds the same chunk sums in the same order as one process does.
    func gradientNorm(_ grads: FloatBuffer) -> Float {
        guard let sharding else { return GradientClipping.norm(grads) }
        var partial = [Double](repeating: 0, count: GradientClipping.chunkCount(grads.count))
        partial.withUnsafeMutableBufferPointer { p in
            GradientClipping.squaredChunks(grads, chunks: sharding.chunks(of: rank), into: p.baseAddress!)
            collective.allReduceSum(p)
        }
        return GradientClipping.norm(squaredChunks: partial)
    }

    /// True on every rank if `mine` is true on every rank.
    func allAgree(_ mine: Bool) -> Bool {
        var refusals: [Double] = [mine ? 0 : 1]
        refusals.withUnsafeMutableBufferPointer { collective.allReduceSum($0) }
        return refusals[0] == 0
    }

    /// ZeRO-1's last step: every rank's updated shard of the weights to every rank.
    func gatherShards(_ buffer: FloatBuffer) {
        guard let sharding else { return }
        collective.allGather(UnsafeMutableBufferPointer(start: buffer.pointer, count: buffer.count), shards: sharding.shards)
    }

    /// Completes per-batch values this rank filled its share of (evaluation losses); exact.
    func combine(values: inout [Float]) {
        var d = values.map(Double.init)
        d.withUnsafeMutableBufferPointer { collective.allReduceSum($0) }
        for i in values.indices { values[i] = Float(d[i]) }
    }

    /// The step's wall time, once the update is done (for the share of the all-reduce).
    func endStep(seconds: Double) {
        status?.stepSeconds = seconds
        if let status { history.append(status) }
    }

    /// One line over the steps after the first (which includes warming up): medians of the
    /// step, the all-reduce and its share, the barrier wait, and each rank's tokens/s.
    public var summary: String? {
        let steps = history.count > 1 ? Array(history.dropFirst()) : history
        guard !steps.isEmpty else { return nil }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
        let perRank = (0..<size).map { r in String(format: "r%d %.0f", r, median(steps.map { $0.ranks[r].tokensPerSecond })) }
        return String(format: "cluster (%d ranks, %@, median of %d steps): step %.3f s, all-reduce %.2f ms = %.2f%% of the step (%.1f MB), barrier wait %.2f ms; tokens/s per rank over its compute: %@",
                      size, collective.label, steps.count, median(steps.map(\.stepSeconds)), 1e3 * median(steps.map(\.allReduceSeconds)),
                      100 * median(steps.map(\.allReduceShare)), Double(steps[0].gradientBytes) / 1e6,
                      1e3 * median(steps.map { $0.ranks.map(\.waitSeconds).max() ?? 0 }), perRank.joined(separator: ", "))
    }

    /// Rank 0's answer to `next` on every rank: pausing, saving and stopping happen together.
    func agree(on next: () -> TrainingRun.Directive) -> TrainingRun.Directive {
        let mine: TrainingRun.Directive = rank == 0 ? next() : .proceed
        switch collective.broadcast(Self.code(mine)) {
        case 1: return .pause
        case 2: return .save
        case 3: return .stop
        default: return .proceed
        }
    }

    private static func code(_ d: TrainingRun.Directive) -> Int {
        switch d {
        case .proceed: 0
        case .pause: 1
        case .save: 2
        case .stop: 3
        }
    }
}

/// What the dashboard's cluster view shows: one line per rank, for the latest step.
public struct ClusterStatus: Sendable, Equatable {
    public struct Rank: Sendable, Equatable {
        public var rank: Int
        /// Forward and backward passes of its micro-batches.
        public var computeSeconds: Double
        /// Waiting at the barrier for the slowest rank.
        public var waitSeconds: Double
        /// The gradient all-reduce itself.
        public var allReduceSeconds: Double
        /// Its tokens over its compute time.
        public var tokensPerSecond: Double
        public init(rank: Int, computeSeconds: Double, waitSeconds: Double, allReduceSeconds: Double, tokensPerSecond: Double) {
            self.rank = rank; self.computeSeconds = computeSeconds; self.waitSeconds = waitSeconds
            self.allReduceSeconds = allReduceSeconds; self.tokensPerSecond = tokensPerSecond
        }
    }
    public var label: String
    public var ranks: [Rank]
    /// Size of the gradient each all-reduce sums.
    public var gradientBytes: Int
    /// Wall time of the whole step (rank 0's).
    public var stepSeconds: Double = 0

    public init(label: String, ranks: [Rank], gradientBytes: Int, stepSeconds: Double = 0) {
        self.label = label; self.ranks = ranks; self.gradientBytes = gradientBytes; self.stepSeconds = stepSeconds
    }

    /// The slowest rank's all-reduce time (all ranks leave it together).
    public var allReduceSeconds: Double { ranks.map(\.allReduceSeconds).max() ?? 0 }
    /// The all-reduce's share of the step.
    public var allReduceShare: Double { stepSeconds > 0 ? allReduceSeconds / stepSeconds : 0 }
}
