/// The AVX2 micro-kernel: a 6×16 tile of C in twelve `SIMD8<Float>` accumulators.
///
///     for k in 0..<kc:   C[r, 0..<16] += A[r, k] · B[k, 0..<16]    for r in 0..<6
///
/// Why this shape: AVX2 has 16 YMM registers. 6 rows × 2 vectors = 12 accumulators, + 2 for
/// the row of B + 1 for the broadcast of A = 15, so nothing spills; and 12 independent FMA
/// chains cover the 2 FMA pipes × 4–5 cycles of latency. Per k: 2 vector loads and 6 broadcasts
/// (loads too) for 12 FMAs (6 cycles at 2 FMAs per cycle; the 3 load ports need under 3).
/// The 12×32 `SIMD16` tile would need 48 YMM accumulators: it spills on every step.
///
/// Blocks: K by 256 and N by 256, so that the packed block of B (256 KB) sits in Zen 3's 512 KB
/// L2 beside the rows of A and C streaming past it.
enum Tile6x16AVX2: GEMMMicroKernel {
    static let rows = 6
    static let cols = 16
    static let kBlock = 256
    static let nBlock = 256

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, validRows: Int) {
        // Rows of A past `validRows` repeat the last valid one (see `GEMMMicroKernel`).
        let last = validRows - 1
        let r1 = min(1, last) * ars, r2 = min(2, last) * ars
        let r3 = min(3, last) * ars, r4 = min(4, last) * ars
        let r5 = min(5, last) * ars
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        if load {
            c00 = V.load(c); c01 = V.load(c + 8)
            if last >= 1 { c10 = V.load(c + ldc); c11 = V.load(c + ldc + 8) }
            if last >= 2 { c20 = V.load(c + 2 * ldc); c21 = V.load(c + 2 * ldc + 8) }
            if last >= 3 { c30 = V.load(c + 3 * ldc); c31 = V.load(c + 3 * ldc + 8) }
            if last >= 4 { c40 = V.load(c + 4 * ldc); c41 = V.load(c + 4 * ldc + 8) }
            if last >= 5 { c50 = V.load(c + 5 * ldc); c51 = V.load(c + 5 * ldc + 8) }
        }
        // One pointer per row of A, each stepping by `acs`: independent addresses (a single
        // pointer plus per-row offsets was compiled into a serial chain of adds, 6 per k).
        var a0 = a, a1 = a + r1, a2 = a + r2, a3 = a + r3, a4 = a + r4, a5 = a + r5
        var bp = b
        for _ in 0..<kc {
            let b0 = V.load(bp), b1 = V.load(bp + 8)
            var x = V(repeating: a0.pointee)
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: a1.pointee)
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: a2.pointee)
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V(repeating: a3.pointee)
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V(repeating: a4.pointee)
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V(repeating: a5.pointee)
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            a0 += acs; a1 += acs; a2 += acs; a3 += acs; a4 += acs; a5 += acs
            bp += ldb
        }
        // Only the valid rows of C are read and written (see `GEMMMicroKernel`).
        c00.store(c); c01.store(c + 8)
        if last >= 1 { c10.store(c + ldc); c11.store(c + ldc + 8) }
        if last >= 2 { c20.store(c + 2 * ldc); c21.store(c + 2 * ldc + 8) }
        if last >= 3 { c30.store(c + 3 * ldc); c31.store(c + 3 * ldc + 8) }
        if last >= 4 { c40.store(c + 4 * ldc); c41.store(c + 4 * ldc + 8) }
        if last >= 5 { c50.store(c + 5 * ldc); c51.store(c + 5 * ldc + 8) }
    }
}
