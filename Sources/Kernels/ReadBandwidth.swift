import Foundation
import Synchronization

/// How fast this machine's cores read a working set of a given size that is already in their
/// caches: the roofline of a product that uses each number it reads once.
///
/// Generation is such a product. A cached step multiplies one token's vector by every weight
/// matrix, one multiply-add per weight, so it cannot take less than
///
///     step ≥ weight bytes / read bandwidth
///
/// however few FLOPs it does. Which bandwidth applies depends on where the weights live: a
/// working set that fits a core's L2 is read from there, a larger one from L3. So this measures
/// with the generator's own working set — the same size, on 2 MB pages, each thread of a team
/// reading its own contiguous share — and reports the rate of the best of several passes.
///
/// The loop reads 256 bytes (four 64-byte lines) per iteration into eight sums of eight lanes,
/// so that neither an add's latency nor the loop's bookkeeping limits it: only the loads do.
public enum ReadBandwidth {
    public struct Result: Sendable {
        /// Bytes in the working set.
        public let bytes: Int
        /// GB/s read by one thread, the whole working set.
        public let oneThread: Double
        /// GB/s read by `threads` threads together, each its share.
        public let allThreads: Double
        public let threads: Int
    }

    /// Best of `repeats` timings, each of enough passes over the working set to last about a
    /// millisecond, on one thread and on every worker of `pool`.
    public static func measure(bytes: Int, pool: WorkerPool = .shared, repeats: Int = 20) -> Result {
        let floats = max(64, (bytes / 4 + 63) / 64 * 64)
        let buffer = FloatBuffer(count: floats, onHugePages: true)
        for i in 0..<floats { buffer[i] = Float(i & 7) }
        let passes = max(1, 1_000_000 / max(1, floats / 64))  // ~1 ms at tens of GB/s
        var bestOne = Double.infinity, bestAll = Double.infinity
        let members = Atomic<Int>(1)
        for _ in 0..<repeats {
            bestOne = min(bestOne, Stopwatch.seconds { for _ in 0..<passes { read(buffer.pointer, count: floats) } })
            bestAll = min(bestAll, Stopwatch.seconds {
                pool.team { m in
                    if m.index == 0 { members.store(m.size, ordering: .relaxed) }
                    // Shares in whole 256-byte steps, as the generator shares whole panels.
                    let share = m.share(of: floats / 64)
                    for _ in 0..<passes { read(buffer.pointer + share.lowerBound * 64, count: share.count * 64) }
                }
            })
        }
        let total = Double(floats * 4 * passes)
        return Result(bytes: floats * 4, oneThread: total / bestOne / 1e9, allThreads: total / bestAll / 1e9,
                      threads: members.load(ordering: .relaxed))
    }

    /// Where the sums go, so that the reads cannot be optimised away.
    static let sink = Atomic<UInt32>(0)

    /// Reads `count` floats (a multiple of 64) once.
    @inline(never)
    static func read(_ p: UnsafePointer<Float>, count: Int) {
        typealias V = SIMD8<Float>
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V()
        var q = p
        for _ in 0..<(count / 64) {
            s0 += V.load(q); s1 += V.load(q + 8); s2 += V.load(q + 16); s3 += V.load(q + 24)
            s4 += V.load(q + 32); s5 += V.load(q + 40); s6 += V.load(q + 48); s7 += V.load(q + 56)
            q += 64
        }
        let total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        sink.store(total.sum().bitPattern, ordering: .relaxed)
    }
}
