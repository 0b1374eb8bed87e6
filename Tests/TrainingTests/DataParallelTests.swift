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

    /// Trains `ranks` trainers on threads, data-parallel; returns rank 0's losses, evaluation and weights.
    static func train(ranks: Int, steps: Int) throws -> (losses: [Float], eval: Trainer.Evaluation, weights: [Float]) {
        let shared = ThreadCollective(size: ranks)
        let results = Mutex<[Int: ([Float], Trainer.Evaluation, [Float])]>([:])
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                guard let trainer = try? tinyTrainer(config) else { return }
                trainer.dataParallel = DataParallel(collective: ThreadCollective.Rank(shared, rank: rank))
                var losses: [Float] = []
                for _ in 0..<steps { if let r = try? trainer.trainStep() { losses.append(r.loss) } }
                let e = trainer.evaluate()
                results.withLock { $0[rank] = (losses, e, trainer.model.params.array) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        let all = results.withLock { $0 }
        let zero = try #require(all[0])
        for r in 1..<ranks { #expect(all[r]?.2 == zero.2, "rank \(r)'s weights differ from rank 0's") }
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
