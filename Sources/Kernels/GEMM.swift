import CCPUFeatures
import Foundation

/// General matrix multiply, the workhorse of the model: `C[M,N] (+)= A[M,K] · B[K,N]`.
///
/// All matrices are row-major `Float` buffers. `B` must have contiguous rows (`ldb` between
/// rows); `A` is addressed through two strides, so the same kernel computes `A·B`
/// (`aRowStride = lda, aColStride = 1`) and `Aᵀ·B` (`aRowStride = 1, aColStride = lda`) without
/// copying. Callers that need `A·Bᵀ` transpose `B` first (`transpose(…)`): the weights are small
/// next to the activations, so a copy is cheaper than a slower inner loop.
///
/// How it is fast: the output is cut into register tiles — the micro-kernel of the active
/// `KernelFamily` (12×32 of `SIMD16` on AVX-512, 6×16 of `SIMD8` on AVX2, 8×12 of `SIMD4` for
/// NEON; see `GEMMTile*.swift`) holds one tile of C in vector registers while its K loop streams
/// one row of `B` and broadcasts one value of `A` per tile row. Around it, the loops are blocked
/// for the caches (K, then N; sizes per micro-kernel, e.g. K 512 and N 256 for the 12×32 tile):
/// the K×N block of `B` is copied once into contiguous panels of the tile's width (`packsB`:
/// when enough row tiles share it, or its stride would crowd a few cache sets) and stays in L2
/// for every row tile of C, and a row tile's strip of `A` stays in L1 for every column tile.
/// The copy matters: read in place, B's rows are a stride apart that is a multiple of 1 KB for
/// the model's widths, so they fall into a few cache sets, evict each other, and the block came
/// from L3 for every row tile (1024³ ran at 68 % of the peak on Zen 3, 90 % packed). The large
/// configs need both blocks: without N blocks a 384×1536 weight falls out of L2; with short K
/// blocks the [16384, 1536] output is read and written back to memory once per block.
///
/// Ragged edges (M or N not a multiple of the tile) go through the same kernel: short rows
/// by repeating the last valid row, short columns on B's columns padded with zeros.
///
/// Every C element is one chain of fused multiply-adds over k in increasing order, starting from
/// C (accumulate) or 0, whatever the tile, the blocks or the thread split: results are the same
/// bit for bit across kernel families and thread counts.
public enum GEMM {
    /// Multiplies on all cores of `pool` (split over row tiles, or column tiles when M is small).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, pool: WorkerPool = .shared, kernel: KernelFamily = .active
    ) {
        if m == 0 || n == 0 { return }
        let (tileRows, tileCols) = kernel.gemmTile
        let rowTiles = (m + tileRows - 1) / tileRows
        let colTiles = (n + tileCols - 1) / tileCols
        // Tiny products are not worth waking a helper for.
        if pool.workers == 1 || m * n * k < 64 * 64 * 64 {
            serial(m: m, n: n, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                   b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, kernel: kernel)
            return
        }
        // Split where the other operand is the smaller one: every share reads all of it (all of
        // B for a share of rows, all of A for a share of columns).
        let splitRows = rowTiles >= 2 * pool.workers && colTiles >= 2 * pool.workers ? m >= n : rowTiles >= colTiles
        if splitRows && m >= shareBFromRowsPerThread * pool.workers && k > 0 {
            multiplySharingB(m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: b, ldb: ldb,
                             c: c, ldc: ldc, accumulate: accumulate, pool: pool, kernel: kernel)
        } else if splitRows {
            pool.parallelRanges(rowTiles) { tiles in
                let r0 = tiles.lowerBound * tileRows, r1 = min(m, tiles.upperBound * tileRows)
                serial(m: r1 - r0, n: n, k: k, a: a + r0 * aRowStride, aRowStride: aRowStride,
                       aColStride: aColStride, b: b, ldb: ldb, c: c + r0 * ldc, ldc: ldc,
                       accumulate: accumulate, kernel: kernel)
            }
        } else {
            pool.parallelRanges(colTiles) { tiles in
                let c0 = tiles.lowerBound * tileCols, c1 = min(n, tiles.upperBound * tileCols)
                serial(m: m, n: c1 - c0, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                       b: b + c0, ldb: ldb, c: c + c0, ldc: ldc, accumulate: accumulate, kernel: kernel)
            }
        }
    }

    /// Products split by rows that pack B: each K×N block of B is packed once, its panels shared
    /// out over the pool, and then every thread multiplies its row tiles by the one packed block
    /// (`serial(packedB:)`). Packed inside each thread's `serial` instead, every thread copied
    /// all of B. K blocks of `maxPackedK`; every element is still one chain over k in order, so
    /// the bits are the same.
    static func multiplySharingB(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                                 b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 accumulate: Bool, pool: WorkerPool, kernel: KernelFamily) {
        let (tileRows, cols) = kernel.gemmTile
        let rowTiles = (m + tileRows - 1) / tileRows
        // The caller's own buffer: its B part is free while the pool runs (the caller's share of
        // the rows uses only the A part, for Aᵀ·B), and every thread reads it.
        let packed = GEMMPackingBuffer.current + GEMMPackingBuffer.aCapacity
        forEachBlock(k, by: maxPackedK) { ks in
            let kc = ks.count, load = accumulate || ks.lowerBound > 0
            forEachBlock(n, by: kernel.gemmNBlock) { ns in
                let bBlock = b + ks.lowerBound * ldb + ns.lowerBound
                pool.parallelRanges((ns.count + cols - 1) / cols) { panels in
                    let j0 = panels.lowerBound * cols, j1 = min(ns.count, panels.upperBound * cols)
                    packColumns(cols: cols, kc: kc, nc: j1 - j0, b: bBlock + j0, ldb: ldb, into: packed + j0 * kc)
                }
                pool.parallelRanges(rowTiles) { tiles in
                    let r0 = tiles.lowerBound * tileRows, r1 = min(m, tiles.upperBound * tileRows)
                    serial(m: r1 - r0, n: ns.count, k: kc, a: a + r0 * ars + ks.lowerBound * acs, aRowStride: ars,
                           aColStride: acs, packedB: packed, c: c + r0 * ldc + ns.lowerBound, ldc: ldc,
                           accumulate: load, kernel: kernel)
                }
            }
        }
    }

    /// C (+)= A·Wᵀ for W stored `[n, k]` row-major (row stride `ldw`): a layer's forward pass
    /// with PyTorch's weight layout, and no transposed copy of W kept beside it. Each K×N block of
    /// Wᵀ is transposed straight into the panels the micro-kernel reads (`packTransposed`), where
    /// a copy of Wᵀ would have been transposed once per optimizer step and then copied into the
    /// same panels: one pass over the weights instead of two, and N floats less memory. With
    /// enough row tiles the threads pack a block together and share it, then split the rows;
    /// otherwise each thread packs and computes its own columns. Every element is still one chain
    /// over k in order, so the bits are those of `multiply` on an explicit Wᵀ.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int,
        transposedB w: UnsafePointer<Float>, ldw: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, pool: WorkerPool = .shared, kernel: KernelFamily = .active
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let (tileRows, cols) = kernel.gemmTile
        let rowTiles = (m + tileRows - 1) / tileRows
        let threads = pool.workers > 1 && m * n * k >= 64 * 64 * 64 ? pool : .serialPool
        // The caller's own buffer, as in `multiplySharingB`: helpers only read it.
        let packed = GEMMPackingBuffer.current + GEMMPackingBuffer.aCapacity
        forEachBlock(k, by: maxPackedK) { ks in
            let kc = ks.count, load = accumulate || ks.lowerBound > 0
            forEachBlock(n, by: kernel.gemmNBlock) { ns in
                let panels = (ns.count + cols - 1) / cols
                let block = w + ns.lowerBound * ldw + ks.lowerBound
                func product(rows: Range<Int>, panels ps: Range<Int>) {
                    let j0 = ps.lowerBound * cols, j1 = min(ns.count, ps.upperBound * cols)
                    serial(m: rows.count, n: j1 - j0, k: kc, a: a + rows.lowerBound * aRowStride + ks.lowerBound,
                           aRowStride: aRowStride, packedB: packed + j0 * kc,
                           c: c + rows.lowerBound * ldc + ns.lowerBound + j0, ldc: ldc, accumulate: load, kernel: kernel)
                }
                if rowTiles >= 2 * threads.workers {
                    threads.parallelRanges(panels) { ps in
                        packTransposed(cols: cols, kc: kc, panels: ps, nc: ns.count, w: block, ldw: ldw, into: packed, kernel: kernel)
                    }
                    threads.parallelRanges(rowTiles) { tiles in
                        product(rows: (tiles.lowerBound * tileRows)..<min(m, tiles.upperBound * tileRows), panels: 0..<panels)
                    }
                } else {
                    threads.parallelRanges(panels) { ps in
                        packTransposed(cols: cols, kc: kc, panels: ps, nc: ns.count, w: block, ldw: ldw, into: packed, kernel: kernel)
                        product(rows: 0..<m, panels: ps)
                    }
                }
            }
        }
    }

    /// Panels `ps` of Wᵀ's `kc × nc` block, from W's rows (`w` at the block's first row and
    /// column): panel p is `[kc][cols]` at `packed + p·cols·kc`, element (kk, x) = w[(p·cols + x)·ldw + kk],
    /// the columns past `nc` zero — `packColumns`' layout, transposed on the way in.
    static func packTransposed(cols: Int, kc: Int, panels ps: Range<Int>, nc: Int, w: UnsafePointer<Float>, ldw: Int,
                               into packed: UnsafeMutablePointer<Float>, kernel: KernelFamily) {
        for p in ps {
            let j = p * cols, valid = min(cols, nc - j), panel = packed + j * kc
            transpose(rows: valid, cols: kc, src: w + j * ldw, lds: ldw, dst: panel, ldd: cols, inRegisters: kernel == .avx512)
            if valid < cols {
                for kk in 0..<kc { (panel + kk * cols + valid).update(repeating: 0, count: cols - valid) }
            }
        }
    }

    /// The same product on the calling thread only (for use inside already-parallel loops).
    public static func serial(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernel: KernelFamily = .active
    ) {
        onKernel(kernel, m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: b, ldb: ldb,
                 c: c, ldc: ldc, accumulate: accumulate, prepacked: false)
    }

    /// `serial` with B already in `packColumns`' layout for all of its N: `[⌈n/cols⌉ panels][k][cols]`,
    /// `cols` = `kernel.gemmTile.cols`, the last panel zero-padded; `k` at most `maxPackedK`. For a
    /// caller that makes B anyway (GEMM16 widens 16-bit B straight into panels): B is then neither
    /// written out row-major nor copied again per call. Same bits as `serial` on the unpacked B.
    public static func serial(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int = 1,
        packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernel: KernelFamily = .active
    ) {
        precondition(k <= maxPackedK, "a packed B holds at most \(maxPackedK) rows of K")
        onKernel(kernel, m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: packedB, ldb: 0,
                 c: c, ldc: ldc, accumulate: accumulate, prepacked: true)
    }

    /// Both `serial`s: the empty cases, then the family's micro-kernel in the blocked loops.
    private static func onKernel(
        _ kernel: KernelFamily, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, prepacked: Bool
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        switch kernel {
        case .avx512:
            blocked(Tile12x32AVX512.self, m: m, n: n, k: k, a: a, ars: ars, acs: acs, b: b, ldb: ldb,
                    c: c, ldc: ldc, accumulate: accumulate, prepacked: prepacked)
        case .avx2:
            blocked(Tile6x16AVX2.self, m: m, n: n, k: k, a: a, ars: ars, acs: acs, b: b, ldb: ldb,
                    c: c, ldc: ldc, accumulate: accumulate, prepacked: prepacked)
        case .generic:
            blocked(Tile8x12Generic.self, m: m, n: n, k: k, a: a, ars: ars, acs: acs, b: b, ldb: ldb,
                    c: c, ldc: ldc, accumulate: accumulate, prepacked: prepacked)
        }
    }

    /// The most K a prepacked B may have: the smallest K block of any micro-kernel, so that it
    /// is one block whatever the kernel.
    public static let maxPackedK = 256

    /// The cache-blocked loops around one micro-kernel (specialised for each).
    // Debug builds pass -Onone before the package's -Ounchecked, and there the generic driver
    // was left unspecialised (SIMD metadata looked up per call: 30× slower); asking for the
    // three specialisations keeps every configuration at full speed.
    @_specialize(exported: false, where T == Tile12x32AVX512)
    @_specialize(exported: false, where T == Tile6x16AVX2)
    @_specialize(exported: false, where T == Tile8x12Generic)
    // Never inlined: inlined into a larger caller (GEMM16's widening loop) the 6×16 tile's twelve
    // accumulators were spilled to the stack and the product ran at half speed.
    @inline(never)
    static func blocked<T: GEMMMicroKernel>(
        _: T.Type, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, ars: Int, acs: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, prepacked: Bool = false
    ) {
        let rows = T.rows, cols = T.cols
        // Aᵀ·B (the weight gradients) reads a row tile's strip of A across `kc` rows of memory:
        // pack it. A·B reads it along `rows` rows, which the prefetchers follow; a copy there
        // measured slower.
        let packA = acs != 1
        let packB = !prepacked && packsB(m: m, ldb: ldb)
        let scratch = packA || packB ? GEMMPackingBuffer.current : nil
        let panelA = packA ? scratch : nil
        let packedB = packB ? scratch.map { $0 + GEMMPackingBuffer.aCapacity } : nil
        forEachBlock(k, by: T.kBlock) { ks in
            let kc = ks.count, load = accumulate || ks.lowerBound > 0
            forEachBlock(n, by: T.nBlock) { ns in
                let bBlock = b + ks.lowerBound * ldb + ns.lowerBound
                if let packedB {
                    packColumns(cols: cols, kc: kc, nc: ns.count, b: bBlock, ldb: ldb, into: packedB)
                }
                for i in stride(from: 0, to: m, by: rows) {
                    let mc = min(rows, m - i)
                    var aTile = a + i * ars + ks.lowerBound * acs, tars = ars, tacs = acs
                    if let panelA {
                        // A group's panels are packed together, when its first row tile comes.
                        let tile = (i / rows) % aGroupTiles(rows), panelStride = aPanelStride(rows: rows, kc: kc)
                        if tile == 0 {
                            packRowGroup(rows: rows, tiles: min(aGroupTiles(rows), (m - i + rows - 1) / rows), rowsLeft: m - i,
                                         kc: kc, a: aTile, ars: ars, acs: acs, into: panelA, panelStride: panelStride)
                        }
                        aTile = UnsafePointer(panelA + tile * panelStride); tars = 1; tacs = rows
                    }
                    for j in stride(from: 0, to: ns.count, by: cols) {
                        let nc = min(cols, ns.count - j)
                        let cTile = c + i * ldc + ns.lowerBound + j
                        prefetchNextTile(c: c + ns.lowerBound, ldc: ldc, i: i, j: j, m: m, n: ns.count, rows: rows, cols: cols)
                        // A packed panel of B is `[kc][cols]`, its short columns zero-padded.
                        let bTile = prepacked ? b + (ns.lowerBound + j) * kc
                            : packedB.map { UnsafePointer($0 + j * kc) } ?? bBlock + j
                        let tldb = packB || prepacked ? cols : ldb
                        if nc == cols {
                            T.tile(kc: kc, a: aTile, ars: tars, acs: tacs, b: bTile, ldb: tldb,
                                   c: cTile, ldc: ldc, load: load, validRows: mc)
                        } else {
                            edgeTile(T.self, mc: mc, nc: nc, kc: kc, a: aTile, ars: tars, acs: tacs,
                                     b: bTile, ldb: tldb, bPadded: packB || prepacked, c: cTile, ldc: ldc, load: load)
                        }
                    }
                }
            }
        }
    }

    /// Products split by rows pack B once for all threads (`multiplySharingB`) when every thread
    /// has at least this many rows: then the copies saved outweigh a second fork and join per block.
    static let shareBFromRowsPerThread = 128

    /// Whether `blocked` copies B's blocks into panels (`packColumns`) or reads B in place. The
    /// copy pays when enough row tiles share it (`packBFromRows`); below `packBAlwaysFromRows`
    /// rows it is made only for row strides that are a multiple of 1 KB, the ones that fall into
    /// a few cache sets. Other strides stream from L2 in place as fast as from panels, and a
    /// small product then skips the copy: the 128×128 weight gradient (∂L/∂W of a 128-wide
    /// layer, B = its 128-wide input) went from 148–151 to 162–168 GFLOP/s on one Emerald Rapids
    /// core. (With a 512-wide input, a 2 KB stride, B is still packed.)
    @inline(__always)
    static func packsB(m: Int, ldb: Int) -> Bool {
        m >= packBAlwaysFromRows || (m >= packBFromRows && ldb % 256 == 0)
    }

    static let packBFromRows = 48
    static let packBAlwaysFromRows = 256

    /// Copies B's `kc × nc` block into `packed` as consecutive `[kc][cols]` panels, one per
    /// column tile, the last one's missing columns zero. Read in place, a panel is `kc` pieces of
    /// rows `ldb` apart; for the model's widths (768, 1024, 3072 floats: multiples of 1 KB) those
    /// pieces fall into a few cache sets and evict each other, so the block that should stay in L2
    /// came from L3 for every row tile.
    @inline(__always)
    static func packColumns(cols: Int, kc: Int, nc: Int, b: UnsafePointer<Float>, ldb: Int,
                            into packed: UnsafeMutablePointer<Float>) {
        for j in stride(from: 0, to: nc, by: cols) {
            let w = min(cols, nc - j)
            let dst = packed + j * kc
            for kk in 0..<kc {
                let src = b + kk * ldb + j, row = dst + kk * cols
                if w == cols {
                    // A panel row is 12–32 floats: vector copies, not a memmove call per row
                    // (in attention's small products the calls cost more than the copying).
                    var x = 0
                    while x + 16 <= cols { SIMD16<Float>.load(src + x).store(row + x); x += 16 }
                    while x + 4 <= cols { SIMD4<Float>.load(src + x).store(row + x); x += 4 }
                    while x < cols { row[x] = src[x]; x += 1 }
                } else {
                    row.update(from: src, count: w)
                    (row + w).update(repeating: 0, count: cols - w)
                }
            }
        }
    }

    /// Copies the strips of A of `tiles` consecutive row tiles, each `rows × kc`, into panels
    /// `panelStride` apart, each `[kc][rows]`, so that a tile reads each k's `rows` values from
    /// one place. Used for Aᵀ·B (the weight gradients), where a strip is `kc` pieces of memory
    /// rows a stride apart (`acs`, with `ars` = 1). Read in place, those pieces share a few L1
    /// sets and evict each other every column tile; copied one tile at a time, each memory line
    /// (16 floats) was fetched again for each of the two or three tiles it feeds — from L3 when
    /// A's block is larger than L2, as the 512-wide layer's ∂L/∂W is (`[768, 512]`, stride 2 KB:
    /// 78 % of the peak on Zen 3, where the 384-wide ran at 86 %). A group spans whole lines
    /// (`aGroupTiles`), so each is read once. A piece is copied as one vector of the width just
    /// above `rows` when it lies inside A's row (`rowsLeft` from the strip's start): the next
    /// k's store overwrites the extra lanes, and the panels' stride leaves room for the last.
    /// Rows past `rowsLeft` repeat the last valid row (see `GEMMMicroKernel`).
    @inline(__always)
    static func packRowGroup(rows: Int, tiles: Int, rowsLeft: Int, kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                             into panels: UnsafeMutablePointer<Float>, panelStride: Int) {
        let width = rows > 8 ? 16 : 8
        // Tiles whose vector load stays inside A's row; the rest are copied float by float.
        let fullTiles = ars == 1 && rows <= 16 && rowsLeft >= width ? min(tiles, (rowsLeft - width) / rows + 1) : 0
        if fullTiles > 0 {
            var src = a
            var dst = panels
            for _ in 0..<kc {
                // Asks for the group's lines `packAhead` rows of A further down (see `packAhead`).
                let ahead = src + packAhead * acs
                var line = 0
                while line < fullTiles * rows { nanoscope_prefetch_for_read(ahead + line); line += 16 }
                for t in 0..<fullTiles {
                    if width == 16 {
                        SIMD16<Float>.load(src + t * rows).store(dst + t * panelStride)
                    } else {
                        SIMD8<Float>.load(src + t * rows).store(dst + t * panelStride)
                    }
                }
                src += acs; dst += rows
            }
        }
        for t in fullTiles..<tiles {
            let valid = min(rows, rowsLeft - t * rows)
            for kk in 0..<kc {
                let src = a + kk * acs + t * rows * ars, dst = panels + t * panelStride + kk * rows
                for r in 0..<rows { dst[r] = src[min(r, valid - 1) * ars] }
            }
        }
    }

    /// How many rows of A ahead `packRowGroup` asks for the lines it will copy. Its rows are
    /// `acs` floats apart — kilobytes, a page or more for the head's ∂logits — and the hardware
    /// prefetchers do not follow such a stride, so without the hint every row's three lines were
    /// a wait (in a GPT-2-small step, the most-sampled instruction outside the tile). Measured
    /// on Zen 3, each weight gradient (Gᵀ·x) of `bench CONFIG --gemm` with and without the hint
    /// alternating, medians of 8 pairs: GPT-2 small's layers 0.964–0.989× the time and its head
    /// 0.931×, the large config's layers 0.936–0.956×; 4 and 16 rows ahead did no better.
    static let packAhead = 8

    /// Row tiles whose strips of A are packed together: 48 rows (three 64-byte lines of floats)
    /// or the nearest whole number of tiles above.
    @inline(__always)
    static func aGroupTiles(_ rows: Int) -> Int { (48 + rows - 1) / rows }

    /// Floats between two packed panels of A: a panel and the slack of one vector store.
    @inline(__always)
    static func aPanelStride(rows: Int, kc: Int) -> Int { kc * rows + 16 }

    /// Asks for the lines of C's next tile — the next column tile, or after the last one the
    /// next row tile's first — to be brought in for writing while this tile computes. In a
    /// training step C is usually a buffer last touched a whole step ago and gone from the
    /// caches: without the hint the tile's 12 × 2 stores each wait for their line at the end of
    /// the tile (with `accumulate` its loads do, at the start). Measured on the baby config,
    /// steps alternating with and without it in one process (5 runs of 300 pairs, Emerald
    /// Rapids): 1.1–3.0 % less time per step.
    @inline(__always)
    static func prefetchNextTile(c: UnsafeMutablePointer<Float>, ldc: Int, i: Int, j: Int, m: Int, n: Int,
                                 rows: Int, cols: Int) {
        let nextJ = j + cols < n ? j + cols : 0, nextI = j + cols < n ? i : i + rows
        guard nextI < m else { return }
        let tile = c + nextI * ldc + nextJ
        for r in 0..<min(rows, m - nextI) {
            for l in stride(from: 0, to: min(cols, n - nextJ), by: 16) { nanoscope_prefetch_for_write(tile + r * ldc + l) }
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

    /// A tile on the right edge of C (fewer than `cols` columns left): the kernel runs on a
    /// scratch tile of C and only the valid columns are copied back. Short columns read B's
    /// columns padded with zeros (packed panels are padded already; else into scratch). The
    /// extra lanes are thrown away, so the valid outputs are the same chains as in a full tile.
    /// (The bottom edge needs none of this: the kernel reads and writes only `validRows` rows.)
    @inline(never)
    @_specialize(exported: false, where T == Tile12x32AVX512)
    @_specialize(exported: false, where T == Tile6x16AVX2)
    @_specialize(exported: false, where T == Tile8x12Generic)
    static func edgeTile<T: GEMMMicroKernel>(
        _: T.Type, mc: Int, nc: Int, kc: Int,
        a: UnsafePointer<Float>, ars: Int, acs: Int,
        b: UnsafePointer<Float>, ldb: Int, bPadded: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool
    ) {
        let cols = T.cols
        // The thread's own scratch (the packing buffer's edge part): a temporary allocation of
        // this size went to malloc and free on every edge tile.
        let pc = GEMMPackingBuffer.current + GEMMPackingBuffer.edgeOffset
        let pb = pc + GEMMPackingBuffer.edgeCCapacity
        var tb = b, tldb = ldb
        if !bPadded {
            for kk in 0..<kc {
                (pb + kk * cols).update(from: b + kk * ldb, count: nc)
                (pb + kk * cols + nc).update(repeating: 0, count: cols - nc)
            }
            tb = UnsafePointer(pb); tldb = cols
        }
        if load {
            for r in 0..<mc { (pc + r * cols).update(from: c + r * ldc, count: nc) }
        }
        T.tile(kc: kc, a: a, ars: ars, acs: acs, b: tb, ldb: tldb, c: pc, ldc: cols, load: load, validRows: mc)
        for r in 0..<mc { (c + r * ldc).update(from: pc + r * cols, count: nc) }
    }

    /// `dst[cols, rows] = srcᵀ` for a row-major `src[rows, cols]` with row stride `lds`.
    /// Blocked 16×16 so that both sides are read and written a cache line at a time; with the
    /// AVX-512 family, whole blocks go through registers (`transposeBlock16`).
    public static func transpose(rows: Int, cols: Int, src: UnsafePointer<Float>, lds: Int,
                                 dst: UnsafeMutablePointer<Float>, ldd: Int,
                                 inRegisters: Bool = KernelFamily.active == .avx512) {
        forEachBlock(rows, by: 16) { rs in
            forEachBlock(cols, by: 16) { cs in
                if inRegisters && rs.count == 16 && cs.count == 16 {
                    transposeBlock16(src + rs.lowerBound * lds + cs.lowerBound, lds,
                                     dst + cs.lowerBound * ldd + rs.lowerBound, ldd)
                    return  // on to the next block (this is `forEachBlock`'s closure)
                }
                for i in rs {
                    let s = src + i * lds
                    for j in cs { dst[j * ldd + i] = s[j] }
                }
            }
        }
    }

    /// One 16×16 block transposed in sixteen `SIMD16` registers. Element (i, j) — row i, lane j,
    /// four bits each — is moved by *unzipping* pairs of rows: rows 2k and 2k+1, side by side,
    /// split into their even lanes (new row k) and odd lanes (new row k + 8). That sends (i, j)
    /// to (j₀i₃i₂i₁, i₀j₃j₂j₁): the eight bits i₃i₂i₁i₀j₃j₂j₁j₀ rotated right by one. Four
    /// rounds rotate them by four, which is (j, i): the transpose. Each unzip is two 512-bit
    /// permutes, 64 in all for 256 values, where the scalar loop moves them one by one (1.8×
    /// faster on Emerald Rapids). On AVX2 the 32-lane permutes are split up and it was 1.5×
    /// slower than the scalar loop, so only the AVX-512 family uses it.
    // Not inlined: inside `transpose`'s loops the compiler called SIMD32's `evenHalf` and
    // `oddHalf` out of line instead of emitting permutes (slower than the scalar loop).
    @inline(never)
    static func transposeBlock16(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
        typealias V = SIMD16<Float>
        var r = (V.load(src), V.load(src + lds), V.load(src + 2 * lds), V.load(src + 3 * lds),
                 V.load(src + 4 * lds), V.load(src + 5 * lds), V.load(src + 6 * lds), V.load(src + 7 * lds),
                 V.load(src + 8 * lds), V.load(src + 9 * lds), V.load(src + 10 * lds), V.load(src + 11 * lds),
                 V.load(src + 12 * lds), V.load(src + 13 * lds), V.load(src + 14 * lds), V.load(src + 15 * lds))
        @inline(__always) func unzip(_ a: V, _ b: V) -> (V, V) {
            let both = SIMD32<Float>(lowHalf: a, highHalf: b)
            return (both.evenHalf, both.oddHalf)
        }
        for _ in 0..<4 {
            let (n0, n8) = unzip(r.0, r.1), (n1, n9) = unzip(r.2, r.3)
            let (n2, n10) = unzip(r.4, r.5), (n3, n11) = unzip(r.6, r.7)
            let (n4, n12) = unzip(r.8, r.9), (n5, n13) = unzip(r.10, r.11)
            let (n6, n14) = unzip(r.12, r.13), (n7, n15) = unzip(r.14, r.15)
            r = (n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n13, n14, n15)
        }
        r.0.store(dst); r.1.store(dst + ldd); r.2.store(dst + 2 * ldd); r.3.store(dst + 3 * ldd)
        r.4.store(dst + 4 * ldd); r.5.store(dst + 5 * ldd); r.6.store(dst + 6 * ldd); r.7.store(dst + 7 * ldd)
        r.8.store(dst + 8 * ldd); r.9.store(dst + 9 * ldd); r.10.store(dst + 10 * ldd); r.11.store(dst + 11 * ldd)
        r.12.store(dst + 12 * ldd); r.13.store(dst + 13 * ldd); r.14.store(dst + 14 * ldd); r.15.store(dst + 15 * ldd)
    }
}

/// One register tile of C: `C[rows, cols] (+)= A[rows, kc] · B[kc, cols]`, with A addressed
/// through a row and a column stride and B through its row stride. Implementations keep the
/// tile in vector registers for the whole K loop (`load`: start from C, else from 0) and add
/// the terms in increasing k with one fused multiply-add each.
///
/// `validRows` < `rows` (the bottom edge of C): rows past the last valid one read A's last valid
/// row instead of their own, so that nothing past A's end is read, and only the valid rows of C
/// are loaded and stored. A short tile then costs at most one full tile (the AVX-512 kernel runs
/// a 4- or 8-row variant when that is enough), and no copy of A or C.
protocol GEMMMicroKernel {
    static var rows: Int { get }
    static var cols: Int { get }
    /// Cache blocks of K and N (a multiple of `cols`).
    static var kBlock: Int { get }
    static var nBlock: Int { get }
    static func tile(kc: Int, a: UnsafePointer<Float>, ars: Int, acs: Int,
                     b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool, validRows: Int)
}

// Unaligned vector loads and stores (activations are sliced at arbitrary float offsets), one
// concrete extension per width: a single generic `extension SIMD` was left unspecialised in debug
// builds (SwiftPM puts -Onone before the package's -Ounchecked), making every tile 30× slower.
extension SIMD16 where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
extension SIMD8 where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
extension SIMD4 where Scalar == Float {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}

/// Each thread's scratch for the GEMM: A's packed panels (`packRowGroup`), one packed block of B
/// (`packColumns`) and a right-edge tile (`edgeTile`), one after the other. Made on the thread's
/// first product that packs or meets a right edge (about 690 KB), freed when the thread exits.
/// Per thread, because products run inside parallel loops as well as across the pool. In
/// `multiplySharingB` the calling thread's B part is the block every thread of the pool reads.
/// The sizes are the largest of any micro-kernel (K block 512, 12 rows, N block 256, 32 columns).
enum GEMMPackingBuffer {
    /// Floats for A's panels (`packRowGroup`): a group of `kBlock × rows` panels with their
    /// slack, for the largest of the micro-kernels' groups.
    static let aCapacity = [Tile12x32AVX512.self, Tile6x16AVX2.self, Tile8x12Generic.self as any GEMMMicroKernel.Type]
        .map { GEMM.aGroupTiles($0.rows) * GEMM.aPanelStride(rows: $0.rows, kc: $0.kBlock) }.max()!
    /// Floats for B's block: the largest `kBlock × nBlock`, its last panel padded.
    static let bCapacity = 512 * 256
    /// Where `GEMM.edgeTile`'s scratch starts: an edge tile of C (`edgeCCapacity`, the largest
    /// `rows × cols`), then one padded panel of B (`edgeBCapacity`, `kBlock × cols`).
    static let edgeOffset = aCapacity + bCapacity
    static let edgeCCapacity = 12 * 32
    static let edgeBCapacity = 512 * 32
    static let capacity = edgeOffset + edgeCCapacity + edgeBCapacity

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static var current: UnsafeMutablePointer<Float> {
        if let p = pthread_getspecific(key) { return p.assumingMemoryBound(to: Float.self) }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        pthread_setspecific(key, p)
        return p
    }
}
