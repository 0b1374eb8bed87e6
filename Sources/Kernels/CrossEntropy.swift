import Foundation

/// Softmax cross-entropy of next-token logits, as `F.cross_entropy(logits, targets)`:
///
///     pᵢ = softmax(zᵢ) = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z)
///     lossᵢ = −log p[targetᵢ] = log Σⱼ exp(zⱼ − max z) + max z − z[targetᵢ]
///     L = (1/N) Σᵢ lossᵢ
///
/// Backward (the famous clean gradient of softmax + cross-entropy):
///
///     ∂L/∂zᵢⱼ = (pᵢⱼ − [j = targetᵢ]) / N
public enum CrossEntropy {
    typealias V = SIMD16<Float>

    /// Writes the probabilities over `probs` (may alias `logits`) and each row's loss into
    /// `losses`; returns the mean loss.
    @discardableResult
    public static func forward(
        probs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows: Int, vocab v: Int, pool: WorkerPool = .shared
    ) -> Float {
        pool.parallelRanges(rows, serialBelow: 16) { range in
            for r in range {
                let z = logits + r * v, p = probs + r * v
                var mx = -Float.infinity
                for j in 0..<v { mx = max(mx, z[j]) }
                // Read before the row is overwritten: `probs` may be the logits themselves.
                let targetLogit = z[Int(targets[r])]
                var sum: Float = 0
                var j = 0
                while j + 16 <= v {
                    let e = VectorMath.exp(V.load(z + j) - mx)
                    e.store(p + j)
                    sum += e.sum()
                    j += 16
                }
                while j < v { let e = expf(z[j] - mx); p[j] = e; sum += e; j += 1 }
                losses[r] = logf(sum) + mx - targetLogit
                Buffers.scale(p, 1 / sum, v)
            }
        }
        var total: Double = 0
        for r in 0..<rows { total += Double(losses[r]) }
        return Float(total / Double(rows))
    }

    /// `dlogits = (probs − onehot(targets)) · scale`; `dlogits` may alias `probs`.
    /// `scale` is ∂L/∂(mean loss) / N — usually 1/N, or 1/(N·accumulation steps).
    public static func backward(
        dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        rows: Int, vocab v: Int, scale: Float, pool: WorkerPool = .shared
    ) {
        pool.parallelRanges(rows, serialBelow: 16) { range in
            for r in range {
                let p = probs + r * v, d = dlogits + r * v
                var j = 0
                while j + 16 <= v { (V.load(p + j) * scale).store(d + j); j += 16 }
                while j < v { d[j] = p[j] * scale; j += 1 }
                d[Int(targets[r])] -= scale
            }
        }
    }
}
