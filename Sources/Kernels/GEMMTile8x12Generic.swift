/// The portable micro-kernel, shaped for ARM NEON: an 8×12 tile of C in twenty-four
/// `SIMD4<Float>` accumulators.
///
///     for k in 0..<kc:   C[r, 0..<12] += A[r, k] · B[k, 0..<12]    for r in 0..<8
///
/// Why this shape: NEON has 32 128-bit registers. 8 rows × 3 vectors = 24 accumulators, + 3
/// for the row of B + 1 for the broadcast of A (`ld1r`) = 28, so nothing spills; 24 independent
/// chains cover 4 FMA pipes × 4 cycles of latency on the wider ARM cores. Per k: 3 vector loads
/// and 8 broadcasts for 24 FMAs.
///
/// It is plain Swift SIMD, so it builds and runs everywhere (on x86 in XMM registers: it is the
/// fallback, and its test there is the NEON tile's test). On an AVX2 CPU, which has 16 XMM/YMM
/// registers, it spills; the `avx2` family is the one for those.
///
/// Blocks: K 512, N 252 (21 column tiles): B's packed block is 504 KB.
enum Tile8x12Generic: GEMMMicroKernel {
    static let rows = 8
    static let cols = 12
    static let kBlock = 512
    static let nBlock = 252

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, validRows: Int) {
        // Rows of A past `validRows` repeat the last valid one (see `GEMMMicroKernel`).
        let last = validRows - 1
        let r1 = min(1, last) * ars, r2 = min(2, last) * ars
        let r3 = min(3, last) * ars, r4 = min(4, last) * ars
        let r5 = min(5, last) * ars, r6 = min(6, last) * ars
        let r7 = min(7, last) * ars
        typealias V = SIMD4<Float>
        var c00 = V(), c01 = V(), c02 = V(), c10 = V(), c11 = V(), c12 = V()
        var c20 = V(), c21 = V(), c22 = V(), c30 = V(), c31 = V(), c32 = V()
        var c40 = V(), c41 = V(), c42 = V(), c50 = V(), c51 = V(), c52 = V()
        var c60 = V(), c61 = V(), c62 = V(), c70 = V(), c71 = V(), c72 = V()
        if load {
            c00 = V.load(c); c01 = V.load(c + 4); c02 = V.load(c + 8)
            if last >= 1 { c10 = V.load(c + ldc); c11 = V.load(c + ldc + 4); c12 = V.load(c + ldc + 8) }
            if last >= 2 { c20 = V.load(c + 2 * ldc); c21 = V.load(c + 2 * ldc + 4); c22 = V.load(c + 2 * ldc + 8) }
            if last >= 3 { c30 = V.load(c + 3 * ldc); c31 = V.load(c + 3 * ldc + 4); c32 = V.load(c + 3 * ldc + 8) }
            if last >= 4 { c40 = V.load(c + 4 * ldc); c41 = V.load(c + 4 * ldc + 4); c42 = V.load(c + 4 * ldc + 8) }
            if last >= 5 { c50 = V.load(c + 5 * ldc); c51 = V.load(c + 5 * ldc + 4); c52 = V.load(c + 5 * ldc + 8) }
            if last >= 6 { c60 = V.load(c + 6 * ldc); c61 = V.load(c + 6 * ldc + 4); c62 = V.load(c + 6 * ldc + 8) }
            if last >= 7 { c70 = V.load(c + 7 * ldc); c71 = V.load(c + 7 * ldc + 4); c72 = V.load(c + 7 * ldc + 8) }
        }
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let b0 = V.load(bp), b1 = V.load(bp + 4), b2 = V.load(bp + 8)
            var x = V(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1); c02 = c02.addingProduct(x, b2)
            x = V(repeating: ap[r1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1); c12 = c12.addingProduct(x, b2)
            x = V(repeating: ap[r2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1); c22 = c22.addingProduct(x, b2)
            x = V(repeating: ap[r3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1); c32 = c32.addingProduct(x, b2)
            x = V(repeating: ap[r4])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1); c42 = c42.addingProduct(x, b2)
            x = V(repeating: ap[r5])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1); c52 = c52.addingProduct(x, b2)
            x = V(repeating: ap[r6])
            c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1); c62 = c62.addingProduct(x, b2)
            x = V(repeating: ap[r7])
            c70 = c70.addingProduct(x, b0); c71 = c71.addingProduct(x, b1); c72 = c72.addingProduct(x, b2)
            ap += acs
            bp += ldb
        }
        // Only the valid rows of C are read and written (see `GEMMMicroKernel`).
        c00.store(c); c01.store(c + 4); c02.store(c + 8)
        if last >= 1 { c10.store(c + ldc); c11.store(c + ldc + 4); c12.store(c + ldc + 8) }
        if last >= 2 { c20.store(c + 2 * ldc); c21.store(c + 2 * ldc + 4); c22.store(c + 2 * ldc + 8) }
        if last >= 3 { c30.store(c + 3 * ldc); c31.store(c + 3 * ldc + 4); c32.store(c + 3 * ldc + 8) }
        if last >= 4 { c40.store(c + 4 * ldc); c41.store(c + 4 * ldc + 4); c42.store(c + 4 * ldc + 8) }
        if last >= 5 { c50.store(c + 5 * ldc); c51.store(c + 5 * ldc + 4); c52.store(c + 5 * ldc + 8) }
        if last >= 6 { c60.store(c + 6 * ldc); c61.store(c + 6 * ldc + 4); c62.store(c + 6 * ldc + 8) }
        if last >= 7 { c70.store(c + 7 * ldc); c71.store(c + 7 * ldc + 4); c72.store(c + 7 * ldc + 8) }
    }
}
