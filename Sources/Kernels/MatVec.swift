/// Vector × matrix for one token at a time, the shape of every product in incremental
/// generation:
///
///     y[j] (+)= Σₖ x[k] · B[k, j]        x: [K]   B: [K, N] row-major, row stride ldb   y: [N]
///
/// With B = Wᵀ this is one row of `Linear.forward` (y = x·Wᵀ + b); with B = a head's cached Kᵀ it
/// is the attention scores q·Kᵀ; with B = the cached V it is P·V.
///
/// Why not `GEMM.serial` with M = 1: its 8×32 register tile would waste 7 of its 8 rows, and the
/// ragged-edge path copies a zero-padded tile per call. Here the accumulators run along the
/// output instead: 64 columns at a time in four `SIMD16` registers, streaming contiguous rows of
/// B past one broadcast `x[k]`, so every weight is loaded exactly once per token.
///
/// Each y[j] is accumulated over k in increasing order with fused multiply-adds, starting from
/// y[j] (accumulate) or 0 — the same order as `GEMM` — so a token's result is bit-for-bit the
/// row the batched forward pass computes.
public enum MatVec {
    typealias V = SIMD16<Float>

    public static func multiply(
        x: UnsafePointer<Float>, k: Int,
        b: UnsafePointer<Float>, ldb: Int, n: Int,
        y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var j = 0
        while j + 64 <= n {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            let yj = y + j
            if accumulate { a0 = V.load(yj); a1 = V.load(yj + 16); a2 = V.load(yj + 32); a3 = V.load(yj + 48) }
            var bp = b + j
            for kk in 0..<k {
                let xv = V(repeating: x[kk])
                a0 = a0.addingProduct(xv, V.load(bp))
                a1 = a1.addingProduct(xv, V.load(bp + 16))
                a2 = a2.addingProduct(xv, V.load(bp + 32))
                a3 = a3.addingProduct(xv, V.load(bp + 48))
                bp += ldb
            }
            a0.store(yj); a1.store(yj + 16); a2.store(yj + 32); a3.store(yj + 48)
            j += 64
        }
        while j + 16 <= n {
            var a0 = accumulate ? V.load(y + j) : V()
            var bp = b + j
            for kk in 0..<k {
                a0 = a0.addingProduct(V(repeating: x[kk]), V.load(bp))
                bp += ldb
            }
            a0.store(y + j)
            j += 16
        }
        // Scalar tail (a vocabulary of 65, or fewer than 16 cached positions).
        while j < n {
            var s: Float = accumulate ? y[j] : 0
            var bp = b + j
            for kk in 0..<k {
                s = s.addingProduct(x[kk], bp[0])
                bp += ldb
            }
            y[j] = s
            j += 1
        }
    }
}
