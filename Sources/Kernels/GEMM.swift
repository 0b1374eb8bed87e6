/// General matrix multiply, the workhorse of the model: `C[M,N] (+)= A[M,K] · B[K,N]`.
///
/// All matrices are row-major `Float` buffers. `B` must have contiguous rows (`ldb` between
/// rows); `A` is addressed through two strides, so the same kernel computes `A·B`
/// (`aRowStride = lda, aColStride = 1`) and `Aᵀ·B` (`aRowStride = 1, aColStride = lda`) without
/// copying. Callers that need `A·Bᵀ` transpose `B` first (`transpose(…)`): the weights are small
/// next to the activations, so a copy is cheaper than a slower inner loop.
///
/// How it is fast: the output is cut into 8×32 tiles, each held in sixteen `SIMD16<Float>`
/// registers (8 rows × 2 vectors) while the K loop streams one 32-wide row of `B` and
/// broadcasts 8 values of `A` per step — 16 fused multiply-adds per 2 vector loads. Around it,
/// the loops are blocked for the caches (K by 512, then M by 128 rows, then N by 256 columns):
/// a row tile's 8×512 strip of `A` stays in L1 while the 512×256 block of `B` it meets (512 KB)
/// streams from L2, where it stays for the 16 row tiles of the M block, next to that block's
/// 128×512 of `A` (256 KB). The large configs need all three: without N blocks a 384×1536 weight falls out of L2
/// and is re-read from L3 for every row tile; with short K blocks the [16384, 1536] output is
/// read and written back to memory once per block.
/// Ragged edges (M not a multiple of 8, N not a multiple of 32) go through the same kernel on a
/// zero-padded copy of the tile.
public enum GEMM {
    public static let tileRows = 8
    public static let tileCols = 32
    static let kBlock = 512
    static let mBlock = 128
    static let nBlock = 256

    /// Multiplies on all cores of `pool` (split over row tiles, or column tiles when M is small).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, pool: WorkerPool = .shared
    ) {
        if m == 0 || n == 0 { return }
        let rowTiles = (m + tileRows - 1) / tileRows
        let colTiles = (n + tileCols - 1) / tileCols
        // Tiny products are not worth waking a helper for.
        if pool.workers == 1 || m * n * k < 64 * 64 * 64 {
            serial(m: m, n: n, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                   b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        if rowTiles >= 2 * pool.workers || rowTiles >= colTiles {
            pool.parallelRanges(rowTiles) { tiles in
                let r0 = tiles.lowerBound * tileRows, r1 = min(m, tiles.upperBound * tileRows)
                serial(m: r1 - r0, n: n, k: k, a: a + r0 * aRowStride, aRowStride: aRowStride,
                       aColStride: aColStride, b: b, ldb: ldb, c: c + r0 * ldc, ldc: ldc,
                       accumulate: accumulate)
            }
        } else {
            pool.parallelRanges(colTiles) { tiles in
                let c0 = tiles.lowerBound * tileCols, c1 = min(n, tiles.upperBound * tileCols)
                serial(m: m, n: c1 - c0, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                       b: b + c0, ldb: ldb, c: c + c0, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    /// The same product on the calling thread only (for use inside already-parallel loops).
    public static func serial(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        forEachBlock(k, by: kBlock) { ks in
            let kc = ks.count, load = accumulate || ks.lowerBound > 0
            forEachBlock(m, by: mBlock) { ms in
                forEachBlock(n, by: nBlock) { ns in
                    for i in stride(from: ms.lowerBound, to: ms.upperBound, by: tileRows) {
                        let mc = min(tileRows, ms.upperBound - i)
                        for j in stride(from: ns.lowerBound, to: ns.upperBound, by: tileCols) {
                            let nc = min(tileCols, ns.upperBound - j)
                            let aTile = a + i * aRowStride + ks.lowerBound * aColStride
                            let bTile = b + ks.lowerBound * ldb + j
                            let cTile = c + i * ldc + j
                            if mc == tileRows && nc == tileCols {
                                tile8x32(kc: kc, a: aTile, ars: aRowStride, acs: aColStride,
                                         b: bTile, ldb: ldb, c: cTile, ldc: ldc, load: load)
                            } else {
                                edgeTile(mc: mc, nc: nc, kc: kc, a: aTile, ars: aRowStride, acs: aColStride,
                                         b: bTile, ldb: ldb, c: cTile, ldc: ldc, load: load)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with the consecutive ranges of at most `size` that cover `0..<count`.
    @inline(__always)
    static func forEachBlock(_ count: Int, by size: Int, _ body: (Range<Int>) -> Void) {
        var lo = 0
        while lo < count {
            let hi = min(count, lo + size)
            body(lo..<hi)
            lo = hi
        }
    }

    /// A partial tile: pad A's rows and B's columns with zeros into fixed-size scratch, run the
    /// full kernel, and copy back only the valid part.
    @inline(never)
    static func edgeTile(mc: Int, nc: Int, kc: Int,
                         a: UnsafePointer<Float>, ars: Int, acs: Int,
                         b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: kBlock * (tileRows + tileCols) + tileRows * tileCols) { scratch in
            let pa = scratch.baseAddress!
            let pb = pa + kBlock * tileRows
            let pc = pb + kBlock * tileCols
            // A as [kc][8]: row r of the tile at column kk → pa[kk*8 + r].
            for kk in 0..<kc {
                for r in 0..<tileRows {
                    pa[kk * tileRows + r] = r < mc ? a[r * ars + kk * acs] : 0
                }
                for col in 0..<tileCols {
                    pb[kk * tileCols + col] = col < nc ? b[kk * ldb + col] : 0
                }
            }
            for r in 0..<tileRows {
                for col in 0..<tileCols {
                    pc[r * tileCols + col] = (load && r < mc && col < nc) ? c[r * ldc + col] : 0
                }
            }
            tile8x32(kc: kc, a: pa, ars: 1, acs: tileRows, b: pb, ldb: tileCols, c: pc, ldc: tileCols, load: true)
            for r in 0..<mc {
                for col in 0..<nc { c[r * ldc + col] = pc[r * tileCols + col] }
            }
        }
    }

    /// The register-tiled micro-kernel: an 8×32 block of C in 16 vector registers.
    @inline(__always)
    static func tile8x32(kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                         b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool) {
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
        let r1 = ars, r2 = 2 * ars, r3 = 3 * ars, r4 = 4 * ars, r5 = 5 * ars, r6 = 6 * ars, r7 = 7 * ars
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

    /// `dst[cols, rows] = srcᵀ` for a row-major `src[rows, cols]` with row stride `lds`.
    /// Blocked 16×16 so that both sides are read and written a cache line at a time.
    public static func transpose(rows: Int, cols: Int, src: UnsafePointer<Float>, lds: Int,
                                 dst: UnsafeMutablePointer<Float>, ldd: Int) {
        forEachBlock(rows, by: 16) { rs in
            forEachBlock(cols, by: 16) { cs in
                for i in rs {
                    let s = src + i * lds
                    for j in cs { dst[j * ldd + i] = s[j] }
                }
            }
        }
    }
}

extension SIMD16 where Scalar == Float {
    /// Unaligned vector load: activations are sliced at arbitrary float offsets.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }
    @inline(__always)
    func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
    }
}
