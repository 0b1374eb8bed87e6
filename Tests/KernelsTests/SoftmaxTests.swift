import Foundation
import Testing
import Kernels
import TestSupport

@Suite struct CausalSoftmaxTests {
    /// Every split of a row into whole vectors, a masked vector tail and a scalar tail, against
    /// softmax computed plainly in Double.
    @Test func matchesPlainSoftmaxForEveryValidCountAndWidth() {
        // Seeded, and the seed in every failure: NANOSCOPE_TEST_SEED=<seed> replays a failure.
        let seed = ProcessInfo.processInfo.environment["NANOSCOPE_TEST_SEED"].flatMap { UInt64($0) } ?? 1
        var rng = SplitMix64(seed: seed)
        for width in [1, 5, 16, 20, 31, 32, 64, 70] {
            for valid in 1...width {
                let scale: Float = 0.3
                let scores = (0..<width).map { _ in Float.random(in: -8...8, using: &rng) }
                var row = scores
                row.withUnsafeMutableBufferPointer {
                    Attention.causalSoftmax($0.baseAddress!, valid: valid, width: width, scale: scale)
                }
                let top = scores[..<valid].max()!
                let e = scores[..<valid].map { exp(Double(($0 - top) * scale)) }
                let total = e.reduce(0, +)
                for i in 0..<valid {
                    #expect(abs(Double(row[i]) - e[i] / total) < 1e-6, "seed \(seed) width \(width) valid \(valid) i \(i)")
                }
                for i in valid..<width { #expect(row[i] == 0, "seed \(seed) width \(width) valid \(valid) i \(i)") }
            }
        }
    }
}
