/// Inverted dropout (Srivastava et al. 2014), as `nn.Dropout(p)` in training mode:
///
///     y = x · m / (1 − p),   m ~ Bernoulli(1 − p) per element;   ∂L/∂x = ∂L/∂y · m / (1 − p)
///
/// The mask is not stored: element `i` of a dropout site keeps its value when a hash of
/// (`seed`, `i`) falls above `p`. The backward pass re-derives the same mask from the same seed,
/// which saves a mask buffer the size of every activation it touches, and makes a step exactly
/// reproducible from the seed alone (needed for exact resume).
public enum Dropout {
    /// SplitMix64's finaliser: a strong 64-bit mix, cheap enough to run per element.
    @inline(__always)
    public static func hash(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ index &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Whether element `index` survives: compares 24 uniform bits with p.
    @inline(__always)
    public static func keeps(seed: UInt64, index: Int, p: Float) -> Bool {
        Float(hash(seed, UInt64(index)) >> 40) * (1.0 / 16_777_216.0) >= p
    }

    /// `x[i] = keeps(i) ? x[i] / (1 − p) : 0` in place — used for both directions, since the
    /// backward pass applies the same mask and scale to the gradient.
    public static func apply(_ x: UnsafeMutablePointer<Float>, count: Int, p: Float, seed: UInt64,
                             indexOffset: Int = 0, pool: WorkerPool = .shared) {
        if p <= 0 { return }
        let scale = 1 / (1 - p)
        pool.parallelRanges(count, serialBelow: 4096) { range in
            for i in range {
                x[i] = keeps(seed: seed, index: indexOffset + i, p: p) ? x[i] * scale : 0
            }
        }
    }
}
