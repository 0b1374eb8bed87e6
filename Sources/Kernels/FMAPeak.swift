import Foundation
import Synchronization

/// This core's FP32 fused multiply-add peak, measured: what the GEMM and a training step are
/// compared with (not with the GEMM's own best figure).
///
/// The loop runs 12 independent chains `x ← a + x·m` on vectors of the family's width, in
/// registers (12 accumulators + 2 constants fit even AVX2's 16): enough chains to keep every
/// FMA pipe busy through its latency (2 pipes × 4 cycles needs 8), nothing else in the loop but
/// the counter. With m = 0.999 and a = 0.001 every lane stays near 1, away from denormals.
public enum FMAPeak {
    public struct Result: Sendable {
        /// The vector family measured (its width; the widest that can run here by default).
        public let family: KernelFamily
        /// GFLOP/s (2 per lane per FMA) on one thread.
        public let oneCore: Double
        /// GFLOP/s with every worker of the pool running the loop at once.
        public let allCores: Double
        /// How many threads ran the all-core measurement.
        public let threads: Int

        /// The faster of two measurements of the same family, one core and all cores each: a
        /// peak taken before and after a measurement brackets it on a host whose speed moves.
        public func faster(_ other: Result) -> Result {
            Result(family: family, oneCore: max(oneCore, other.oneCore), allCores: max(allCores, other.allCores),
                   threads: threads)
        }
    }

    /// Best of `repeats` timings, one thread and all of `pool`'s threads.
    public static func measure(family: KernelFamily = .best, pool: WorkerPool = .shared,
                               repeats: Int = 9) -> Result {
        let iterations = 2_000_000
        let flopsPerIteration = Double(12 * family.lanes * 2)
        var bestOne = Double.infinity, bestAll = Double.infinity
        var threads = 1
        for _ in 0..<repeats {
            bestOne = min(bestOne, Stopwatch.seconds { run(family, iterations: iterations) })
            let members = Atomic<Int>(0)
            bestAll = min(bestAll, Stopwatch.seconds {
                pool.team { m in
                    if m.index == 0 { members.store(m.size, ordering: .relaxed) }
                    run(family, iterations: iterations)
                }
            })
            threads = members.load(ordering: .relaxed)
        }
        let flops = flopsPerIteration * Double(iterations)
        return Result(family: family, oneCore: flops / bestOne / 1e9,
                      allCores: Double(threads) * flops / bestAll / 1e9, threads: threads)
    }

    static func run(_ family: KernelFamily, iterations: Int) {
        switch family {
        case .avx512: chains(SIMD16<Float>.self, iterations: iterations)
        case .avx2: chains(SIMD8<Float>.self, iterations: iterations)
        case .generic: chains(SIMD4<Float>.self, iterations: iterations)
        }
    }

    /// Where the chains' results go, so that the loop cannot be optimised away.
    static let sink = Atomic<UInt32>(0)

    @inline(never)
    static func chains<V: SIMD>(_: V.Type, iterations: Int) where V.Scalar == Float {
        // Start values the compiler cannot see through (the iteration count).
        let start = V(repeating: Float(iterations & 1) + 0.5)
        let m = V(repeating: 0.999), a = V(repeating: 0.001)
        var x0 = start, x1 = start + 1, x2 = start + 2, x3 = start + 3, x4 = start + 4, x5 = start + 5
        var x6 = start + 6, x7 = start + 7, x8 = start + 8, x9 = start + 9, x10 = start + 10, x11 = start + 11
        for _ in 0..<iterations {
            x0 = a.addingProduct(x0, m); x1 = a.addingProduct(x1, m); x2 = a.addingProduct(x2, m)
            x3 = a.addingProduct(x3, m); x4 = a.addingProduct(x4, m); x5 = a.addingProduct(x5, m)
            x6 = a.addingProduct(x6, m); x7 = a.addingProduct(x7, m); x8 = a.addingProduct(x8, m)
            x9 = a.addingProduct(x9, m); x10 = a.addingProduct(x10, m); x11 = a.addingProduct(x11, m)
        }
        let total = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11))
        sink.store(total[0].bitPattern, ordering: .relaxed)
    }
}
