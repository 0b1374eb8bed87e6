/// The AVX-512 micro-kernel: a 12×32 tile of C in twenty-four `SIMD16<Float>` accumulators.
///
///     for k in 0..<kc:   C[r, 0..<32] += A[r, k] · B[k, 0..<32]    for r in 0..<12
///
/// Per k it loads one 32-wide row of B (2 vectors), broadcasts 12 values of A, and issues 24
/// fused multiply-adds. Registers: 24 accumulators + 2 of B + 1 broadcast = 27 of AVX-512's 32
/// ZMM registers. (On AVX2 each `SIMD16` is two YMM registers, 48 accumulators for a file of 16:
/// the tile would spill on every step — see `Tile6x16AVX2`.)
///
/// Why 12 rows and not 8: B's panels stream from L2, and each vector of B loaded is used once
/// per row of the tile. With 8 rows that was 8 bytes of L2 traffic per FMA, and the kernel ran
/// at 76–91 % of the core's peak on the model's NN shapes (Emerald Rapids); with 12 rows it is
/// 5.3 bytes and 84–97 %, and two threads sharing the large config's [16384, 384]·[384, 1152]
/// went from 64 % to 78–86 % of the all-core peak (`bench --gemm`, 2026-12-07). 14 rows would
/// fit (31 registers) but waste more on the model's row counts that 12 does not divide.
///
/// Blocks: a 12×512 strip of A (24 KB) stays in L1 while the 512×256 block of B (512 KB) it
/// meets streams from L2 (1–2 MB a core on Zen 4 and Emerald Rapids), where it stays for every
/// row tile of C.
enum Tile12x32AVX512: GEMMMicroKernel {
    static let rows = 12
    static let cols = 32
    static let kBlock = 512
    static let nBlock = 256

    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, validRows: Int) {
        // A short tile (the bottom edge of C: 64 rows are 5 tiles and 4 rows) runs with only the
        // rows it needs, a third or two thirds of the work of a whole tile.
        if validRows <= 4 {
            tileRows(Rows4.self, kc: kc, a: a, ars: ars, acs: acs, b: b, ldb: ldb, c: c, ldc: ldc, load: load, validRows: validRows)
        } else if validRows <= 8 {
            tileRows(Rows8.self, kc: kc, a: a, ars: ars, acs: acs, b: b, ldb: ldb, c: c, ldc: ldc, load: load, validRows: validRows)
        } else {
            tileRows(Rows12.self, kc: kc, a: a, ars: ars, acs: acs, b: b, ldb: ldb, c: c, ldc: ldc, load: load, validRows: validRows)
        }
    }

    /// How many of the tile's rows a variant computes: a type, so that each variant is its own
    /// specialisation with the count a constant — the other rows' accumulators and multiply-adds
    /// are compiled away. (A plain `rows: Int` argument was compiled as one function with two
    /// branches inside the K loop.)
    protocol RowCount { static var rows: Int { get } }
    enum Rows4: RowCount { static var rows: Int { 4 } }
    enum Rows8: RowCount { static var rows: Int { 8 } }
    enum Rows12: RowCount { static var rows: Int { 12 } }

    // Its own function per row count (not inlined into `GEMM.blocked`: three copies of the
    // loop there were too large for the compiler to inline anyway); one call per tile.
    @inline(never)
    @_specialize(exported: false, where R == Rows4)
    @_specialize(exported: false, where R == Rows8)
    @_specialize(exported: false, where R == Rows12)
    static func tileRows<R: RowCount>(_: R.Type, kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                                      b: UnsafePointer<Float>, ldb: Int,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, validRows: Int) {
        let used = R.rows
        // Rows of A past `validRows` repeat the last valid one (see `GEMMMicroKernel`).
        let last = validRows - 1
        let r1 = min(1, last) * ars
        let r2 = min(2, last) * ars
        let r3 = min(3, last) * ars
        let r4 = min(4, last) * ars
        let r5 = min(5, last) * ars
        let r6 = min(6, last) * ars
        let r7 = min(7, last) * ars
        let r8 = min(8, last) * ars
        let r9 = min(9, last) * ars
        let r10 = min(10, last) * ars
        let r11 = min(11, last) * ars
        typealias V = SIMD16<Float>
        var c0_0 = V(), c0_1 = V()
        var c1_0 = V(), c1_1 = V()
        var c2_0 = V(), c2_1 = V()
        var c3_0 = V(), c3_1 = V()
        var c4_0 = V(), c4_1 = V()
        var c5_0 = V(), c5_1 = V()
        var c6_0 = V(), c6_1 = V()
        var c7_0 = V(), c7_1 = V()
        var c8_0 = V(), c8_1 = V()
        var c9_0 = V(), c9_1 = V()
        var c10_0 = V(), c10_1 = V()
        var c11_0 = V(), c11_1 = V()
        if load {
            c0_0 = V.load(c); c0_1 = V.load(c + 16)
            if last >= 1 { c1_0 = V.load(c + 1 * ldc); c1_1 = V.load(c + 1 * ldc + 16) }
            if last >= 2 { c2_0 = V.load(c + 2 * ldc); c2_1 = V.load(c + 2 * ldc + 16) }
            if last >= 3 { c3_0 = V.load(c + 3 * ldc); c3_1 = V.load(c + 3 * ldc + 16) }
            if last >= 4 { c4_0 = V.load(c + 4 * ldc); c4_1 = V.load(c + 4 * ldc + 16) }
            if last >= 5 { c5_0 = V.load(c + 5 * ldc); c5_1 = V.load(c + 5 * ldc + 16) }
            if last >= 6 { c6_0 = V.load(c + 6 * ldc); c6_1 = V.load(c + 6 * ldc + 16) }
            if last >= 7 { c7_0 = V.load(c + 7 * ldc); c7_1 = V.load(c + 7 * ldc + 16) }
            if last >= 8 { c8_0 = V.load(c + 8 * ldc); c8_1 = V.load(c + 8 * ldc + 16) }
            if last >= 9 { c9_0 = V.load(c + 9 * ldc); c9_1 = V.load(c + 9 * ldc + 16) }
            if last >= 10 { c10_0 = V.load(c + 10 * ldc); c10_1 = V.load(c + 10 * ldc + 16) }
            if last >= 11 { c11_0 = V.load(c + 11 * ldc); c11_1 = V.load(c + 11 * ldc + 16) }
        }
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let b0 = V.load(bp), b1 = V.load(bp + 16)
            var x = V(repeating: ap[0])
            c0_0 = c0_0.addingProduct(x, b0); c0_1 = c0_1.addingProduct(x, b1)
            x = V(repeating: ap[r1])
            c1_0 = c1_0.addingProduct(x, b0); c1_1 = c1_1.addingProduct(x, b1)
            x = V(repeating: ap[r2])
            c2_0 = c2_0.addingProduct(x, b0); c2_1 = c2_1.addingProduct(x, b1)
            x = V(repeating: ap[r3])
            c3_0 = c3_0.addingProduct(x, b0); c3_1 = c3_1.addingProduct(x, b1)
            if used > 4 {
                x = V(repeating: ap[r4])
                c4_0 = c4_0.addingProduct(x, b0); c4_1 = c4_1.addingProduct(x, b1)
                x = V(repeating: ap[r5])
                c5_0 = c5_0.addingProduct(x, b0); c5_1 = c5_1.addingProduct(x, b1)
                x = V(repeating: ap[r6])
                c6_0 = c6_0.addingProduct(x, b0); c6_1 = c6_1.addingProduct(x, b1)
                x = V(repeating: ap[r7])
                c7_0 = c7_0.addingProduct(x, b0); c7_1 = c7_1.addingProduct(x, b1)
            }
            if used > 8 {
                x = V(repeating: ap[r8])
                c8_0 = c8_0.addingProduct(x, b0); c8_1 = c8_1.addingProduct(x, b1)
                x = V(repeating: ap[r9])
                c9_0 = c9_0.addingProduct(x, b0); c9_1 = c9_1.addingProduct(x, b1)
                x = V(repeating: ap[r10])
                c10_0 = c10_0.addingProduct(x, b0); c10_1 = c10_1.addingProduct(x, b1)
                x = V(repeating: ap[r11])
                c11_0 = c11_0.addingProduct(x, b0); c11_1 = c11_1.addingProduct(x, b1)
            }
            ap += acs
            bp += ldb
        }
        // Only the valid rows of C are read and written (see `GEMMMicroKernel`).
        c0_0.store(c); c0_1.store(c + 16)
        if last >= 1 { c1_0.store(c + 1 * ldc); c1_1.store(c + 1 * ldc + 16) }
        if last >= 2 { c2_0.store(c + 2 * ldc); c2_1.store(c + 2 * ldc + 16) }
        if last >= 3 { c3_0.store(c + 3 * ldc); c3_1.store(c + 3 * ldc + 16) }
        if last >= 4 { c4_0.store(c + 4 * ldc); c4_1.store(c + 4 * ldc + 16) }
        if last >= 5 { c5_0.store(c + 5 * ldc); c5_1.store(c + 5 * ldc + 16) }
        if last >= 6 { c6_0.store(c + 6 * ldc); c6_1.store(c + 6 * ldc + 16) }
        if last >= 7 { c7_0.store(c + 7 * ldc); c7_1.store(c + 7 * ldc + 16) }
        if last >= 8 { c8_0.store(c + 8 * ldc); c8_1.store(c + 8 * ldc + 16) }
        if last >= 9 { c9_0.store(c + 9 * ldc); c9_1.store(c + 9 * ldc + 16) }
        if last >= 10 { c10_0.store(c + 10 * ldc); c10_1.store(c + 10 * ldc + 16) }
        if last >= 11 { c11_0.store(c + 11 * ldc); c11_1.store(c + 11 * ldc + 16) }
    }
}
