import Foundation
import Synchronization
import Testing
import GPT
import Kernels
@testable import Training

/// `Collective` between threads of one process: what MPI does between processes, so that the
/// data-parallel step is tested by the default `swift test` (the real MPI runs are in
/// EndToEndTests/DistributedEndToEndTests, when an MPI build and `mpirun` exist).
final class ThreadCollective: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    private var floats: [UnsafeMutableBufferPointer<Float>?]
    private var doubles: [UnsafeMutableBufferPointer<Double>?]
    private var value = 0

    init(size: Int) {
        self.size = size
        floats = Array(repeating: nil, count: size)
        doubles = Array(repeating: nil, count: size)
    }

    func barrier() {
        condition.lock()
        let g = generation
        arrived += 1
        if arrived == size { arrived = 0; generation += 1; condition.broadcast() } else {
            while generation == g { condition.wait() }
        }
        condition.unlock()
    }

    /// Sums in rank order, as Open MPI does for two ranks (a + b, commutative).
    func allReduce<T: FloatingPoint>(_ rank: Int, _ buffer: UnsafeMutableBufferPointer<T>,
                                     _ slots: ReferenceWritableKeyPath<ThreadCollective, [UnsafeMutableBufferPointer<T>?]>) {
        self[keyPath: slots][rank] = buffer
        barrier()
        let all = self[keyPath: slots].map { $0! }
        let sum = (0..<buffer.count).map { i in all.dropFirst().reduce(all[0][i]) { $0 + $1[i] } }
        barrier()
        for i in 0..<buffer.count { buffer[i] = sum[i] }
        barrier()
    }

    func broadcast(_ rank: Int, _ v: Int) -> Int {
        if rank == 0 { value = v }
        barrier()
        let result = value
        barrier()
        return result
    }

    final class Rank: Collective {
        let shared: ThreadCollective
        let rank: Int
        init(_ shared: ThreadCollective, rank: Int) { self.shared = shared; self.rank = rank }
        var size: Int { shared.size }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) { shared.allReduce(rank, buffer, \.floats) }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) { shared.allReduce(rank, buffer, \.doubles) }
        func broadcast(_ value: Int) -> Int { shared.broadcast(rank, value) }
        func barrier() { shared.barrier() }
        var label: String { "threads" }
    }
}

@Suite struct DataParallelTests {
    static func config(_ c: inout TrainConfig) {
        c.gradientAccumulationSteps = 2; c.batchSize = 4; c.dropout = 0.1; c.maxIters = 6; c.evalIters = 3
    }

    struct RankResult {
        var losses: [Float], eval: Trainer.Evaluation, weights: [Float]
        /// The whole m and v (gathered under ZeRO-1), and how many moments this rank itself kept.
        var m: [Float], v: [Float], keptMoments: Int
    }

    /// Trains `ranks` trainers on threads, data-parallel; returns rank 0's results.
    static func train(ranks: Int, steps: Int, prepare: @escaping @Sendable (Trainer, Int) -> Void = { _, _ in },
                      edit: @escaping @Sendable (inout TrainConfig) -> Void = config) throws -> RankResult {
        let shared = ThreadCollective(size: ranks)
        let results = Mutex<[Int: RankResult]>([:])
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                guard let trainer = try? tinyTrainer(edit) else { return }
                trainer.dataParallel = DataParallel(collective: ThreadCollective.Rank(shared, rank: rank))
                prepare(trainer, rank)
                var losses: [Float] = []
                for _ in 0..<steps { if let r = try? trainer.trainStep() { losses.append(r.loss) } }
                let e = trainer.evaluate()
                trainer.gatherMoments()
                let whole = trainer.wholeMoments
                let result = RankResult(losses: losses, eval: e, weights: trainer.model.params.array, m: whole.m.array, v: whole.v.array,
                                        keptMoments: trainer.optimizer.m.count)
                results.withLock { $0[rank] = result }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        let all = results.withLock { $0 }
        let zero = try #require(all[0])
        for r in 1..<ranks { #expect(all[r]?.weights == zero.weights, "rank \(r)'s weights differ from rank 0's") }
        return zero
    }

    @Test func twoRanksTakeTheSingleProcessStepsBitForBit() throws {
        let single = try tinyTrainer(Self.config)
        var losses: [Float] = []
        for _ in 0..<4 { losses.append(try single.trainStep().loss) }
        let eval = single.evaluate()
        let parallel = try Self.train(ranks: 2, steps: 4)
        #expect(parallel.losses == losses)
        #expect(parallel.eval == eval)
        #expect(parallel.weights == single.model.params.array)
    }

    /// A model of several norm chunks, so that every rank's shard holds some; accumulation 6
    /// divides over 2 and 3 ranks.
    @Sendable static func wider(_ c: inout TrainConfig) {
        config(&c)
        c.nLayer = 2; c.nEmbd = 96; c.nHead = 2; c.gradientAccumulationSteps = 6
    }

    /// ZeRO-1 changes where AdamW's state lives, not one bit of training: the same steps as plain
    /// data parallelism on the same ranks (and so as one process wherever that is exact, see
    /// the two-rank test above), the same moments in the optimizer file.
    @Test(arguments: [2, 3])
    func zeroOneShardsTheMomentsAndTakesTheSameStepsBitForBit(ranks: Int) throws {
        let plain = try Self.train(ranks: ranks, steps: 4, edit: Self.wider)
        let sharded = try Self.train(ranks: ranks, steps: 4, edit: { c in Self.wider(&c); c.zeroStage = 1 })
        let count = plain.weights.count
        #expect(GradientClipping.chunkCount(count) >= 3, "the test needs a model of several chunks")
        #expect(sharded.losses == plain.losses)
        #expect(sharded.eval == plain.eval)
        let sameWeights = sharded.weights == plain.weights, sameMoments = sharded.m == plain.m && sharded.v == plain.v
        #expect(sameWeights && sameMoments, "weights equal: \(sameWeights), moments equal: \(sameMoments)")
        // Each rank kept about 1/ranks of the moments (whole norm chunks), not all of them.
        #expect(plain.keptMoments == count)
        #expect(sharded.keptMoments > 0 && sharded.keptMoments <= count / ranks + GradientClipping.chunk, "\(sharded.keptMoments) of \(count)")
    }

    @Test func zeroOneOnTwoRanksTakesTheSingleProcessStepsBitForBit() throws {
        @Sendable func edit(_ c: inout TrainConfig) { Self.wider(&c); c.gradientAccumulationSteps = 2 }
        let single = try tinyTrainer(edit)
        var losses: [Float] = []
        for _ in 0..<4 { losses.append(try single.trainStep().loss) }
        let sharded = try Self.train(ranks: 2, steps: 4, edit: { c in edit(&c); c.zeroStage = 1 })
        #expect(sharded.losses == losses)
        let same = sharded.weights == single.model.params.array && sharded.m == single.optimizer.m.array
        #expect(same, "weights and moments equal one process's")
    }

    @Test func theShardsAreWholeNormChunksThatCoverEveryParameter() {
        let c = GradientClipping.chunk
        for (count, ranks) in [(10 * c + 7, 3), (c / 2, 2), (5 * c, 5), (2 * c + 1, 4)] {
            let s = OptimizerSharding(parameterCount: count, ranks: ranks)
            #expect(s.shards.count == ranks && s.shards.first?.lowerBound == 0 && s.shards.last?.upperBound == count)
            #expect(zip(s.shards, s.shards.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(s.shards.allSatisfy { $0.lowerBound % c == 0 })
            let chunks = (0..<ranks).map { s.chunks(of: $0) }
            #expect(chunks.map(\.count).reduce(0, +) == GradientClipping.chunkCount(count), "\(count), \(ranks): \(chunks)")
        }
    }

    /// A corrupt moment in rank 1's shard only: rank 0's shard could update, but no rank applies
    /// its own, as one process skips the whole step.
    @Test func aShardThatCannotUpdateStopsEveryShard() throws {
        let sharded = try Self.train(ranks: 2, steps: 1, prepare: { trainer, rank in
            if rank == 1 { trainer.optimizer.v.pointer[0] = -.infinity }
        }, edit: { c in Self.wider(&c); c.zeroStage = 1 })
        let fresh = try tinyTrainer(Self.wider)
        #expect(sharded.weights == fresh.model.params.array, "no weight moved")
        #expect(sharded.losses.count == 1)
    }

    @Test func theAccumulationStepsAreSplitOverTheRanksOrRefused() throws {
        let three = DataParallel(collective: FixedRank(rank: 1, size: 3))
        #expect(three.share(of: 6) == 2..<4)
        #expect(three.share(of: 20) == 7..<14)
        var cfg = TrainConfig()
        cfg.gradientAccumulationSteps = 4
        #expect(throws: ConfigError.self) { try three.validate(cfg) }
        cfg.gradientAccumulationSteps = 6
        try three.validate(cfg)
    }

    @Test func clusterStatusSharesTheStepWithTheAllReduce() {
        var s = ClusterStatus(label: "x", ranks: [.init(rank: 0, computeSeconds: 0.9, waitSeconds: 0, allReduceSeconds: 0.05, tokensPerSecond: 1),
                                                    .init(rank: 1, computeSeconds: 0.8, waitSeconds: 0.1, allReduceSeconds: 0.1, tokensPerSecond: 1)],
                              gradientBytes: 4)
        s.stepSeconds = 1
        #expect(s.allReduceSeconds == 0.1)
        #expect(abs(s.allReduceShare - 0.1) < 1e-12)
    }
}

/// A rank that never communicates (for the arithmetic of shares).
final class FixedRank: Collective {
    let rank: Int, size: Int
    init(rank: Int, size: Int) { self.rank = rank; self.size = size }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}
    func broadcast(_ value: Int) -> Int { value }
    func barrier() {}
    var label: String { "fixed" }
}
