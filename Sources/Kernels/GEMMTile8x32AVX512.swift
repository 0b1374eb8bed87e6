/// The AVX-512 micro-kernel: an 8×32 tile of C in sixteen `SIMD16<Float>` accumulators.
///
///     for k in 0..<kc:   C[r, 0..<32] += A[r, k] · B[k, 0..<32]    for r in 0..<8
///
/// Per k it loads one 32-wide row of B (2 vectors), broadcasts 8 values of A, and issues 16
/// fused multiply-adds — 16 FMAs per 2 vector loads. Registers: 16 accumulators + 2 of B + 1
/// broadcast = 19 of AVX-512's 32 ZMM registers, and 16 independent FMA chains are more than
/// the 2 pipes × 4 cycles of latency need. (On AVX2 each `SIMD16` is two YMM registers: 32
/// accumulators for a file of 16, and the tile spills on every step — see `Tile6x16AVX2`.)
///
/// Blocks: an 8×512 strip of A (16 KB) stays in L1 while the 512×256 block of B (512 KB) it
/// meets streams from L2 (1 MB on Zen 4), where it stays for every row tile of C.
enum Tile8x32AVX512: GEMMMicroKernel {
    static let rows = 8
    static let cols = 32
    static let kBlock = 512
    static let nBlock = 256

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
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
        if load {
            c00 = V.load(c); c01 = V.load(c + 16)
            c10 = V.load(c + ldc); c11 = V.load(c + ldc + 16)
            c20 = V.load(c + 2 * ldc); c21 = V.load(c + 2 * ldc + 16)
            c30 = V.load(c + 3 * ldc); c31 = V.load(c + 3 * ldc + 16)
            c40 = V.load(c + 4 * ldc); c41 = V.load(c + 4 * ldc + 16)
            c50 = V.load(c + 5 * ldc); c51 = V.load(c + 5 * ldc + 16)
            c60 = V.load(c + 6 * ldc); c61 = V.load(c + 6 * ldc + 16)
            c70 = V.load(c + 7 * ldc); c71 = V.load(c + 7 * ldc + 16)
        }
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let b0 = V.load(bp), b1 = V.load(bp + 16)
            var x = V(repeating: ap[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: ap[r1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: ap[r2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V(repeating: ap[r3])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V(repeating: ap[r4])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V(repeating: ap[r5])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            x = V(repeating: ap[r6])
            c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1)
            x = V(repeating: ap[r7])
            c70 = c70.addingProduct(x, b0); c71 = c71.addingProduct(x, b1)
            ap += acs
            bp += ldb
        }
        c00.store(c); c01.store(c + 16)
        c10.store(c + ldc); c11.store(c + ldc + 16)
        c20.store(c + 2 * ldc); c21.store(c + 2 * ldc + 16)
        c30.store(c + 3 * ldc); c31.store(c + 3 * ldc + 16)
        c40.store(c + 4 * ldc); c41.store(c + 4 * ldc + 16)
        c50.store(c + 5 * ldc); c51.store(c + 5 * ldc + 16)
        c60.store(c + 6 * ldc); c61.store(c + 6 * ldc + 16)
        c70.store(c + 7 * ldc); c71.store(c + 7 * ldc + 16)
    }
}
