import Foundation
import Synchronization
import Testing
@testable import Kernels

/// Box for counting from several threads in a test.
private final class Counters: Sendable {
    private let calls: Mutex<[Int]>
    init(_ n: Int) { calls = Mutex([Int](repeating: 0, count: n)) }
    func count(_ i: Int) { calls.withLock { $0[i] += 1 } }
    var values: [Int] { calls.withLock { $0 } }
}

@Suite struct WorkerPoolTests {
    @Test func parallelForRunsEveryChunkExactlyOnce() {
        let pool = WorkerPool(workers: 2)
        for chunks in [1, 2, 3, 17, 200] {
            let counters = Counters(chunks)
            pool.parallelFor(chunks) { i, worker in
                #expect((0..<2).contains(worker))
                counters.count(i)
            }
            #expect(counters.values == [Int](repeating: 1, count: chunks))
        }
    }

    /// Each thread starts in its own contiguous share (the caller in the first half, the helper
    /// in the second), so consecutive jobs over the same rows keep them on the same core. That
    /// holds whatever the timing: a thread takes from the other's share only after its own is
    /// used up, so the other's first claim still finds its own share, or nothing left at all.
    @Test func eachThreadStartsInItsOwnShare() {
        let pool = WorkerPool(workers: 2)
        for chunks in [2, 8, 9] {
            for _ in 0..<20 {
                let order = Mutex<[(chunk: Int, worker: Int)]>([])
                pool.parallelFor(chunks) { i, worker in
                    order.withLock { $0.append((i, worker)) }
                    usleep(200)
                }
                let runs = order.withLock { $0 }
                #expect(runs.map(\.chunk).sorted() == Array(0..<chunks))
                let share = [0..<(chunks / 2), (chunks / 2)..<chunks]
                for worker in 0..<2 {
                    if let first = runs.first(where: { $0.worker == worker }) {
                        #expect(share[worker].contains(first.chunk), "worker \(worker) began at chunk \(first.chunk) of \(chunks)")
                    }
                }
            }
        }
    }

    /// Members pass values to each other through plain memory; each round checks what the
    /// others wrote before the barrier. Without a working `sync()` a member reads a stale round.
    @Test func teamMembersSeeEachOthersWritesAfterSync() {
        let pool = WorkerPool(workers: 3)
        let rounds = 2000
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 3 * 16)
        defer { slots.deallocate() }
        slots.initialize(repeating: -1, count: 3 * 16)
        let stale = Atomic<Int>(0)
        let seen = Counters(3)
        pool.team { m in
            seen.count(m.index)
            #expect(m.size == 3)
            for round in 0..<rounds {
                slots[m.index * 16] = round
                m.sync()
                for other in 0..<m.size where slots[other * 16] != round { stale.wrappingAdd(1, ordering: .relaxed) }
                m.sync()
            }
        }
        #expect(seen.values == [1, 1, 1])
        #expect(stale.load(ordering: .relaxed) == 0)
    }

    @Test func teamInsideABusyPoolIsTheCallerAlone() {
        let pool = WorkerPool(workers: 2)
        let sizes = Counters(3)
        pool.parallelFor(2) { _, _ in
            pool.team { m in
                sizes.count(m.size)
                m.sync()  // must not wait for members that do not exist
            }
        }
        #expect(sizes.values == [0, 2, 0])
    }

    @Test func sharesTileTheRangeInOrder() {
        for size in 1...5 {
            for count in [0, 1, 4, 7, 64] {
                let shares = (0..<size).map { TeamMember(index: $0, size: size, arrivals: nil).share(of: count) }
                #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == count)
                for (a, b) in zip(shares, shares.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            }
        }
    }
}

@Suite struct MatVecTests {
    /// Every column-group path (64, 32, 16 and single columns) against a plain loop in the same
    /// order, written fresh and accumulated.
    @Test(arguments: [1, 16, 48, 117])
    func multiplyMatchesAPlainLoop(n: Int) {
        let k = 19, ldb = n + 3
        var rng = SystemRandomNumberGenerator()
        let x = (0..<k).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<k * ldb).map { _ in Float.random(in: -1...1, using: &rng) }
        let start = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        for accumulate in [false, true] {
            var y = start
            MatVec.multiply(x: x, k: k, b: b, ldb: ldb, n: n, y: &y, accumulate: accumulate)
            for j in 0..<n {
                var s: Float = accumulate ? start[j] : 0
                for kk in 0..<k { s = s.addingProduct(x[kk], b[kk * ldb + j]) }
                #expect(y[j] == s, "n \(n) column \(j)")
            }
        }
    }

    /// The product run share by share writes exactly the whole product, and it is x·Wᵀ + b.
    @Test(arguments: [1, 5], [3, 64, 130])
    func panelSharesTileTheFullProduct(rows: Int, n: Int) {
        let k = 24
        var rng = SystemRandomNumberGenerator()
        let x = (0..<rows * k).map { _ in Float.random(in: -1...1, using: &rng) }
        let w = (0..<n * k).map { _ in Float.random(in: -1...1, using: &rng) }
        let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
        var packed = [Float](repeating: 0, count: MatVec.packedCount(outFeatures: n, inFeatures: k))
        packed.withUnsafeMutableBufferPointer { MatVec.pack(weight: w, outFeatures: n, inFeatures: k, into: $0.baseAddress!) }
        var whole = [Float](repeating: .nan, count: rows * n)
        let panels = MatVec.panelCount(outFeatures: n)
        MatVec.linear(out: &whole, inp: x, packed: packed, bias: bias, rows: rows, inFeatures: k, outFeatures: n,
                      panels: 0..<panels)
        var shared = [Float](repeating: .nan, count: rows * n)
        for member in 0..<3 {
            let share = TeamMember(index: member, size: 3, arrivals: nil).share(of: panels)
            MatVec.linear(out: &shared, inp: x, packed: packed, bias: bias, rows: rows, inFeatures: k, outFeatures: n,
                          panels: share)
        }
        #expect(shared == whole)
        // And the product is the product: y = x·Wᵀ + b.
        for r in 0..<rows {
            for j in 0..<n {
                let expected = bias[j] + (0..<k).reduce(Float(0)) { $0 + x[r * k + $1] * w[j * k + $1] }
                #expect(abs(whole[r * n + j] - expected) <= 1e-4)
            }
        }
    }
}
