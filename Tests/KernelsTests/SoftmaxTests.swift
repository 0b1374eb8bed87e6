import Foundation
import Testing
import Kernels

@Suite struct CausalSoftmaxTests {
    /// Every split of a row into whole vectors, a masked vector tail and a scalar tail, against
    /// softmax computed plainly in Double.
    @Test func matchesPlainSoftmaxForEveryValidCountAndWidth() {
        var rng = SystemRandomNumberGenerator()
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
                for i in 0..<valid { #expect(abs(Double(row[i]) - e[i] / total) < 1e-6, "width \(width) valid \(valid) i \(i)") }
                for i in valid..<width { #expect(row[i] == 0) }
            }
        }
    }
}
