import Foundation
import Testing
import Kernels
import TestSupport

@Suite struct GEMMTests {
    /// C = A·B (and Aᵀ·B) against a plain triple loop, over shapes with every kind of ragged edge.
    // (150, 270, 530) crosses every cache block (M 128, N 256, K 512) with ragged remainders.
    @Test(arguments: [(1, 1, 1), (8, 32, 5), (9, 33, 17), (64, 96, 300), (13, 65, 128), (100, 7, 600), (150, 270, 530)])
    func matchesNaiveProduct(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 1000 + n))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s: Float = 0
            for kk in 0..<k { s += a[i * k + kk] * b[kk * n + j] }
            expected[i * n + j] = s
        } }
        // A·B, written fresh, then accumulated onto itself.
        let c = buffer(m * n)
        a.withPointer { ap in b.withPointer { bp in
            GEMM.multiply(m: m, n: n, k: k, a: ap, aRowStride: k, b: bp, ldb: n, c: c.baseAddress!, ldc: n, accumulate: false)
        } }
        for i in 0..<(m * n) { #expect(abs(c[i] - expected[i]) < 1e-4 * Float(k)) }
        a.withPointer { ap in b.withPointer { bp in
            GEMM.multiply(m: m, n: n, k: k, a: ap, aRowStride: k, b: bp, ldb: n, c: c.baseAddress!, ldc: n, accumulate: true)
        } }
        for i in 0..<(m * n) { #expect(abs(c[i] - 2 * expected[i]) < 2e-4 * Float(k)) }
        // Aᵀ·B with A stored transposed ([k, m]).
        let at = buffer(k * m)
        a.withPointer { GEMM.transpose(rows: m, cols: k, src: $0, lds: k, dst: at.baseAddress!, ldd: m) }
        let c2 = buffer(m * n)
        b.withPointer { bp in
            GEMM.multiply(m: m, n: n, k: k, a: at.baseAddress!, aRowStride: 1, aColStride: m, b: bp, ldb: n,
                          c: c2.baseAddress!, ldc: n, accumulate: false)
        }
        for i in 0..<(m * n) { #expect(abs(c2[i] - expected[i]) < 1e-4 * Float(k)) }
    }

    /// A·Wᵀ with W in its stored layout `[n, k]` (the forward pass, packed straight from W) gives
    /// the bits of the product with an explicit Wᵀ — with every kernel family this machine runs,
    /// on one thread and on two, through both of its splits (few rows: by columns; many: by rows)
    /// and across K blocks, N blocks and ragged panels.
    @Test(arguments: KernelFamily.available, [(1, 40, 7), (13, 65, 128), (37, 300, 530), (300, 33, 260), (150, 600, 64)])
    func transposedWeightsGiveTheBitsOfAnExplicitTranspose(kernel: KernelFamily, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 7919 + n * 31 + k))
        let a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
        let w = (0..<(n * k)).map { _ in rng.nextFloat() - 0.5 }
        let start = (0..<(m * n)).map { _ in rng.nextFloat() - 0.5 }
        let wT = buffer(k * n)
        w.withPointer { GEMM.transpose(rows: n, cols: k, src: $0, lds: k, dst: wT.baseAddress!, ldd: n) }
        for pool in [WorkerPool.serialPool, WorkerPool(workers: 2)] {
            for accumulate in [false, true] {
                let explicit = buffer(m * n), packed = buffer(m * n)
                for i in 0..<(m * n) { explicit[i] = start[i]; packed[i] = start[i] }
                a.withPointer { ap in
                    GEMM.multiply(m: m, n: n, k: k, a: ap, aRowStride: k, b: wT.baseAddress!, ldb: n,
                                  c: explicit.baseAddress!, ldc: n, accumulate: accumulate, pool: .serialPool, kernel: kernel)
                    w.withPointer { wp in
                        GEMM.multiply(m: m, n: n, k: k, a: ap, aRowStride: k, transposedB: wp, ldw: k,
                                      c: packed.baseAddress!, ldc: n, accumulate: accumulate, pool: pool, kernel: kernel)
                    }
                }
                let first = (0..<(m * n)).first { explicit[$0] != packed[$0] }
                #expect(first == nil, "\(kernel) \(m)×\(n)×\(k), \(pool.workers) threads, accumulate \(accumulate): first difference at \(first ?? -1)")
            }
        }
    }

    @Test func vectorExpAndErfAreAccurate() {
        for x in stride(from: Float(-20), through: 20, by: 0.37) {
            let v = VectorMath.exp(SIMD16(repeating: x))[0]
            #expect(abs(v - expf(x)) <= 3e-7 * expf(x))
            let e = VectorMath.erf(SIMD16(repeating: x / 5))[0]
            #expect(abs(e - erff(x / 5)) < 5e-7)
        }
        #expect(VectorMath.exp(SIMD16(repeating: -200))[0] == 0)
    }

    @Test func workerPoolRunsEveryChunkOnce() {
        let pool = WorkerPool.shared
        let n = 1000
        let hits = buffer(n)
        pool.parallelFor(n) { i, _ in hits[i] += 1 }
        #expect(hits.allSatisfy { $0 == 1 })
        var total = 0
        pool.parallelRanges(12345) { r in _ = r }  // empty ranges never reach body
        pool.parallelRanges(10, serialBelow: 100) { r in total += r.count }
        #expect(total == 10)
    }
}
