/// Vectorised `exp` and `erf` for 16 floats at a time.
///
/// The scalar `expf`/`erff` from libm cost ~10 ns each; GELU alone evaluates `erf` on every
/// hidden unit of every token (400k values per layer per step in the baby model), so the
/// transcendental functions must run in SIMD registers too.
public enum VectorMath {
    public typealias V = SIMD16<Float>

    /// eˣ, relative error < 2e-7 on the whole Float range (inputs below -87.3 give 0).
    ///
    /// Range reduction: x = n·ln2 + r with |r| ≤ ln2/2, so eˣ = 2ⁿ · eʳ; eʳ comes from a degree-6
    /// minimax polynomial and 2ⁿ is built directly in the exponent bits.
    @_transparent
    public static func exp(_ x: V) -> V {
        let hi = V(repeating: 88.0), lo = V(repeating: -87.33654)
        // (`clamped` is generic and not vectorised; masked selects are single instructions.)
        var xc = x.replacing(with: hi, where: x .> hi)
        xc.replace(with: lo, where: xc .< lo)
        // n = round(x / ln2): adding 1.5·2²³ rounds to an integer held in the low mantissa bits.
        let shifter = V(repeating: 12582912.0)
        let shifted = shifter.addingProduct(xc, V(repeating: 1.44269504088896341))
        let n = shifted - shifter
        // r = x − n·ln2, with ln2 split in two parts so that n·ln2 is exact enough.
        var r = xc.addingProduct(n, V(repeating: -0.693359375))
        r = r.addingProduct(n, V(repeating: 2.12194440e-4))
        // eʳ ≈ 1 + r + r²·P(r): Cephes' minimax coefficients for single precision.
        // Each Horner step is one fused multiply-add (`addingProduct`): half the instructions of
        // a multiply then an add, and one rounding instead of two.
        var p = V(repeating: 1.9875691500e-4)
        p = V(repeating: 1.3981999507e-3).addingProduct(p, r)
        p = V(repeating: 8.3334519073e-3).addingProduct(p, r)
        p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
        p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
        p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
        let er = (r + 1).addingProduct(p, r * r)
        // 2ⁿ straight into the exponent field.
        let nBits = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: V.self)
        return (er * scale).replacing(with: 0, where: x .< lo)
    }

    /// erf(x), absolute error < 2e-7 (Abramowitz & Stegun 7.1.26, extended to x < 0 by symmetry):
    ///
    ///     erf(x) ≈ 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)·e^(−x²),  t = 1 / (1 + p·x),  x ≥ 0
    @_transparent
    public static func erf(_ x: V) -> V {
        erf(x, expOfMinusSquare: VectorMath.exp(-(x * x)))
    }

    /// erf(x) when e^(−x²) is already at hand (GELU's backward pass needs that exponential for
    /// the Gaussian density too, so it is computed once).
    // `@_transparent`: plain `@inline(__always)` was not honoured here, and an out-of-line call
    // passes every SIMD16 through memory — it cost GELU a third of its time.
    @_transparent
    public static func erf(_ x: V, expOfMinusSquare e2: V) -> V {
        let ax = x.replacing(with: -x, where: x .< 0)
        let t = 1 / V(repeating: 1).addingProduct(ax, V(repeating: 0.3275911))
        var y = V(repeating: 1.061405429)
        y = V(repeating: -1.453152027).addingProduct(y, t)
        y = V(repeating: 1.421413741).addingProduct(y, t)
        y = V(repeating: -0.284496736).addingProduct(y, t)
        y = V(repeating: 0.254829592).addingProduct(y, t)
        y = y * t
        let e = V(repeating: 1).addingProduct(-y, e2)
        return e.replacing(with: -e, where: x .< 0)
    }

    /// The first `count` (0…16) floats at `p` with the other lanes −∞: a softmax row's ragged end
    /// as one vector, whose masked lanes drop out of a max and whose exponentials are exactly 0.
    /// All 16 floats at `p` must be readable (the lanes past `count` are loaded, then replaced).
    @inline(__always)
    public static func loadMaskedTail(_ p: UnsafePointer<Float>, count: Int) -> V {
        let live = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .< Int32(count)
        return V(repeating: -.infinity).replacing(with: V.load(p), where: live)
    }

    /// Horizontal sum of one vector, halving it four times. (The standard library's `sum()` is
    /// an out-of-line call adding the 16 lanes one after another: a chain of 16 dependent adds,
    /// paid once per softmax row.)
    @inline(__always)
    public static func sum(_ v: V) -> Float {
        let h = v.lowHalf + v.highHalf, q = h.lowHalf + h.highHalf, e = q.lowHalf + q.highHalf
        return e[0] + e[1]
    }

    /// Horizontal maximum of one vector, halving it as `sum` does (exact in any order). With
    /// masked replacements: the standard library's `pointwiseMax` was not inlined, a call per halving.
    @inline(__always)
    public static func max(_ v: V) -> Float {
        var h = v.lowHalf
        h.replace(with: v.highHalf, where: v.highHalf .> h)
        var q = h.lowHalf
        q.replace(with: h.highHalf, where: h.highHalf .> q)
        var e = q.lowHalf
        e.replace(with: q.highHalf, where: q.highHalf .> e)
        return Swift.max(e[0], e[1])
    }
}
