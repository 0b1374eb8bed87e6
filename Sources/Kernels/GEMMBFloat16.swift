import CBFloat16

/// The two 16-bit formats a matrix operand can be stored in (see `HalfPrecision`).
public enum HalfFormat: Int32, Sendable, CaseIterable {
    case bfloat16 = 0
    case float16 = 1
}

/// Buffers of 16-bit values and the conversions between them and float32, vectorised in the C
/// target `CBFloat16` (F16C's `vcvtps2ph`/`vcvtph2ps` for float16 where the CPU has it). The
/// rounding is `HalfPrecision`'s — PyTorch's — bit for bit (tests compare the two).
public enum Half {
    /// Conversions of at least this many values are split over the pool.
    static let parallelFrom = 1 << 15

    /// `dst[i]` = the 16-bit pattern nearest to `src[i]`.
    public static func round(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count: Int,
                             _ format: HalfFormat, pool: WorkerPool = .shared) {
        split(count, pool) { r in nsc_round(src + r.lowerBound, dst + r.lowerBound, r.count, format.rawValue) }
    }

    /// `x[i]` rounded to 16 bits in place (still float32 values); with `store`, the patterns also go there.
    public static func roundValues(_ x: UnsafeMutablePointer<Float>, store: UnsafeMutablePointer<UInt16>? = nil,
                                   count: Int, _ format: HalfFormat, pool: WorkerPool = .shared) {
        split(count, pool) { r in nsc_round_values(x + r.lowerBound, store.map { $0 + r.lowerBound }, r.count, format.rawValue) }
    }

    /// Rounds `x[0..<count]` and writes the 16-bit patterns over the first half of the same memory
    /// (returned). Single-threaded: a second thread would overwrite floats not yet read.
    public static func roundInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, _ format: HalfFormat) -> UnsafeMutablePointer<UInt16> {
        nsc_round_in_place(x, count, format.rawValue)
        return UnsafeMutableRawPointer(x).assumingMemoryBound(to: UInt16.self)
    }

    /// `dst[i]` = the float32 value of `src[i]` (exact).
    public static func expand(_ src: UnsafePointer<UInt16>, into dst: UnsafeMutablePointer<Float>, count: Int,
                              _ format: HalfFormat, pool: WorkerPool = .shared) {
        split(count, pool) { r in nsc_expand(src + r.lowerBound, dst + r.lowerBound, r.count, format.rawValue) }
    }

    /// `dst[cols, rows]` = 16-bit `srcᵀ` of a row-major float32 `src[rows, cols]`.
    public static func transposeRound(_ src: UnsafePointer<Float>, rows: Int, cols: Int,
                                      into dst: UnsafeMutablePointer<UInt16>, _ format: HalfFormat) {
        nsc_transpose_round(src, rows, cols, cols, dst, rows, format.rawValue)
    }

    public static func value(_ bits: UInt16, _ format: HalfFormat) -> Float {
        format == .bfloat16 ? HalfPrecision.float(bfloat16: bits) : HalfPrecision.float(float16: bits)
    }

    public static func bits(_ x: Float, _ format: HalfFormat) -> UInt16 {
        format == .bfloat16 ? HalfPrecision.bfloat16Bits(x) : HalfPrecision.float16Bits(x)
    }

    private static func split(_ count: Int, _ pool: WorkerPool, _ body: (Range<Int>) -> Void) {
        if count < parallelFrom || pool.workers == 1 { body(0..<count); return }
        // Ranges in multiples of 64 values, so every piece but the last is whole vectors.
        let blocks = (count + 63) / 64
        pool.parallelRanges(blocks) { r in body((r.lowerBound * 64)..<min(count, r.upperBound * 64)) }
    }
}

/// Matrix multiply with 16-bit operands and float32 accumulation, as `torch.autocast` runs
/// `nn.Linear`: `C[M,N] (+)= A[M,K] · B[K,N]`, A and B holding bfloat16 or float16 patterns, C
/// float32. A is addressed through two strides (as in `GEMM`), so `A·B` and `Gᵀ·X` are one kernel;
/// B has contiguous rows.
///
/// Three kernels, chosen at run time from CPUID (the first this CPU has):
/// - **AMX** (AMX-BF16: Intel Sapphire Rapids and later), for bfloat16: `tdpbf16ps` multiplies a
///   16×32 tile of A by a 32×16 tile of B into a 16×16 tile of float32 C in one instruction. On
///   those CPUs `vdpbf16ps` runs at half the float32 FMA's rate, so AMX is where their bfloat16
///   speed is. In C (`Sources/CBFloat16/AMXBFloat16.c`, which explains the unit).
/// - **`vdpbf16ps`** (AVX512_BF16: AMD Zen 4 and later, Intel Cooper Lake, Sapphire Rapids), for
///   bfloat16. Each instruction multiplies 16 *pairs* of bf16 values and adds both products into 16
///   float32 lanes — twice the multiply-adds of a float32 FMA of the same width. B is packed into
///   pairs of rows (B[k,n], B[k+1,n]); A's pair (A[i,k], A[i,k+1]) is broadcast as one 32-bit
///   value; an 8×32 tile of C stays in 16 registers. Written in C (`Sources/CBFloat16`) with
///   per-function target attributes: Swift has no way to name the instruction.
/// - **convert and multiply in float32** everywhere else (and for float16, which no x86 CPU
///   before AVX512_FP16 multiplies natively): K blocks of A and B are widened to float32 as they
///   are packed (exact — every 16-bit value is a float32) and `GEMM`'s float32 kernel multiplies
///   them. The result is the same product of the same rounded operands; only the speed differs.
public enum GEMM16 {
    public enum Kernel: String, Sendable, CaseIterable {
        case amxBF16 = "AMX tdpbf16ps 32x32 (AMX-BF16)"
        case avx512bf16 = "vdpbf16ps 8x32 (AVX512_BF16)"
        case widenToFloat32 = "16-bit operands widened to float32 as packed + float32 GEMM"

        /// A few words for a one-line summary (the model card).
        public var shortName: String {
            switch self {
            case .amxBF16: "AMX tdpbf16ps"
            case .avx512bf16: "vdpbf16ps"
            case .widenToFloat32: "widened to float32"
            }
        }
    }

    /// Whether this CPU has AVX512_BF16 (read once from CPUID).
    public static let hasAVX512BF16: Bool = nsc_cpu_has_avx512bf16() != 0
    /// Whether this CPU has AMX-BF16 and Linux lets this process use the tiles (asked once).
    public static let hasAMXBF16: Bool = nsc_amx_bf16_available() != 0
    /// Whether this CPU has F16C (float16 conversions in hardware).
    public static let hasF16C: Bool = nsc_cpu_has_f16c() != 0

    /// The kernel `multiply` uses for `format` on this CPU. A float32 kernel family forced below
    /// AVX-512 (`--kernel avx2`, to stand in for an AVX2 machine) takes the widening kernel too,
    /// as such a machine would: none has AVX512_BF16 or AMX.
    public static func kernel(for format: HalfFormat) -> Kernel {
        guard format == .bfloat16, KernelFamily.active == .avx512 else { return .widenToFloat32 }
        return hasAMXBF16 ? .amxBF16 : hasAVX512BF16 ? .avx512bf16 : .widenToFloat32
    }

    /// The kernels `multiply` can run for `format` on this CPU, the default first.
    public static func kernels(for format: HalfFormat) -> [Kernel] {
        guard format == .bfloat16 else { return [.widenToFloat32] }
        return (hasAMXBF16 ? [.amxBF16] : []) + (hasAVX512BF16 ? [.avx512bf16] : []) + [.widenToFloat32]
    }

    public static func multiply(
        _ format: HalfFormat, m: Int, n: Int, k: Int,
        a: UnsafePointer<UInt16>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<UInt16>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernel: Kernel? = nil, pool: WorkerPool = .shared
    ) {
        if m == 0 || n == 0 { return }
        let kernel = kernel ?? Self.kernel(for: format)
        let colTiles = (n + 31) / 32
        if pool.workers == 1 || m * n * k < 64 * 64 * 64 {
            serial(format, m: m, n: n, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                   b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, kernel: kernel)
            return
        }
        let float32Rows = KernelFamily.active.gemmTile.rows
        if kernel == .widenToFloat32 || format == .float16, (m + float32Rows - 1) / float32Rows >= 2 * pool.workers {
            widenedByRows(format, m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: b, ldb: ldb,
                          c: c, ldc: ldc, accumulate: accumulate, pool: pool)
            return
        }
        // Row shares in whole tiles of the kernel: AMX pads a ragged strip to 32 rows, the
        // vdpbf16ps tile is 8 rows.
        let rowTile = kernel == .amxBF16 ? 32 : 8
        let rowShares = (m + rowTile - 1) / rowTile
        guard rowShares >= 2 * pool.workers || rowShares >= colTiles else {
            pool.parallelRanges(colTiles) { tiles in
                let c0 = tiles.lowerBound * 32, c1 = min(n, tiles.upperBound * 32)
                serial(format, m: m, n: c1 - c0, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride,
                       b: b + c0, ldb: ldb, c: c + c0, ldc: ldc, accumulate: accumulate, kernel: kernel)
            }
            return
        }
        if kernel == .amxBF16 && m >= 64 * pool.workers {
            amxSharingB(m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: b, ldb: ldb,
                        c: c, ldc: ldc, accumulate: accumulate, pool: pool)
            return
        }
        pool.parallelRanges(rowShares) { shares in
            let r0 = shares.lowerBound * rowTile, r1 = min(m, shares.upperBound * rowTile)
            serial(format, m: r1 - r0, n: n, k: k, a: a + r0 * aRowStride, aRowStride: aRowStride, aColStride: aColStride,
                   b: b, ldb: ldb, c: c + r0 * ldc, ldc: ldc, accumulate: accumulate, kernel: kernel)
        }
    }

    /// AMX split by rows, with each K×N block of B packed once into VNNI panels for every thread
    /// (a share of the 32-column groups each), then every thread's strips multiplied by it. Split
    /// plainly, each thread packed all of B, and those loads were the kernel's largest cost after
    /// the tile products. The blocks and each element's instructions are `nsc_gemm_bf16_amx`'s,
    /// so the bits are the same.
    static func amxSharingB(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, ars: Int, acs: Int,
                            b: UnsafePointer<UInt16>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                            accumulate: Bool, pool: WorkerPool) {
        let shared = nsc_amx_shared_b()!
        GEMM.forEachBlock(k, by: nsc_amx_block_k()) { ks in
            let load: Int32 = accumulate || ks.lowerBound > 0 ? 1 : 0
            let panel = nsc_amx_panel_halves(ks.count)
            GEMM.forEachBlock(n, by: nsc_amx_block_n()) { ns in
                let block = b + ks.lowerBound * ldb + ns.lowerBound
                pool.parallelRanges((ns.count + 31) / 32) { groups in
                    let j0 = groups.lowerBound * 32, j1 = min(ns.count, groups.upperBound * 32)
                    nsc_amx_pack_b(block + j0, ldb, ks.count, j1 - j0, shared + (j0 / 16) * panel)
                }
                pool.parallelRanges((m + 31) / 32) { strips in
                    let r0 = strips.lowerBound * 32, r1 = min(m, strips.upperBound * 32)
                    _ = nsc_gemm_bf16_amx_packed(r1 - r0, ns.count, ks.count, a + r0 * ars + ks.lowerBound * acs, ars, acs,
                                                 shared, c + r0 * ldc + ns.lowerBound, ldc, load)
                }
            }
        }
    }

    /// The same product on the calling thread.
    public static func serial(
        _ format: HalfFormat, m: Int, n: Int, k: Int,
        a: UnsafePointer<UInt16>, aRowStride: Int, aColStride: Int = 1,
        b: UnsafePointer<UInt16>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, kernel: Kernel
    ) {
        if m == 0 || n == 0 { return }
        if kernel == .amxBF16 && format == .bfloat16 {
            if nsc_gemm_bf16_amx(m, n, k, a, aRowStride, aColStride, b, ldb, c, ldc, accumulate ? 1 : 0) != 0 { return }
        }
        if kernel == .avx512bf16 && format == .bfloat16 {
            if nsc_gemm_bf16(m, n, k, a, aRowStride, aColStride, b, ldb, c, ldc, accumulate ? 1 : 0) != 0 { return }
        }
        widened(format, m: m, n: n, k: k, a: a, ars: aRowStride, acs: aColStride, b: b, ldb: ldb, c: c, ldc: ldc,
                accumulate: accumulate)
    }

    /// K blocks as the float32 kernel's packed B; row blocks of 120, a whole number of tiles of
    /// every family (6, 8 or 12 rows).
    static let kBlock = GEMM.maxPackedK, mBlock = 120

    /// The portable kernel over the pool, split by rows: per K block, B's rows are widened once
    /// for every thread, straight into the float32 kernel's panels (split per thread, each would
    /// widen all of B: as much conversion as the rows it owns), then each thread widens its rows
    /// of A and multiplies. The K blocks and each row's products are those of `widened`, so the
    /// bits are the same.
    static func widenedByRows(_ format: HalfFormat, m: Int, n: Int, k: Int,
                              a: UnsafePointer<UInt16>, ars: Int, acs: Int, b: UnsafePointer<UInt16>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, pool: WorkerPool) {
        if k == 0 {
            widened(format, m: m, n: n, k: k, a: a, ars: ars, acs: acs, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        let family = KernelFamily.active, cols = family.gemmTile.cols, tileRows = family.gemmTile.rows
        let panels = (n + cols - 1) / cols
        let kb = min(k, kBlock)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: kb * panels * cols) { shared in
            let bf = shared.baseAddress!
            GEMM.forEachBlock(k, by: kBlock) { ks in
                let kc = ks.count
                pool.parallelRanges(panels) { ps in
                    let j0 = ps.lowerBound * cols, j1 = min(n, ps.upperBound * cols)
                    nsc_expand_panels(b + ks.lowerBound * ldb + j0, ldb, kc, j1 - j0, cols, bf + j0 * kc, format.rawValue)
                }
                let load = accumulate || ks.lowerBound > 0
                // Shares in whole row tiles of the float32 kernel.
                pool.parallelRanges((m + tileRows - 1) / tileRows) { tiles in
                    let r0 = tiles.lowerBound * tileRows, r1 = min(m, tiles.upperBound * tileRows)
                    let mb = min(r1 - r0, mBlock)
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: mb * kc) { scratch in
                        let af = scratch.baseAddress!
                        GEMM.forEachBlock(r1 - r0, by: mBlock) { local in
                            let ms = (r0 + local.lowerBound)..<(r0 + local.upperBound)
                            let (aRow, aCol) = widenRows(format, ms, ks, a: a, ars: ars, acs: acs, into: af)
                            GEMM.serial(m: ms.count, n: n, k: kc, a: af, aRowStride: aRow, aColStride: aCol, packedB: bf,
                                        c: c + ms.lowerBound * ldc, ldc: ldc, accumulate: load, kernel: family)
                        }
                    }
                }
            }
        }
    }

    /// The portable kernel: per K block, B's rows are widened into the float32 kernel's panels
    /// and A's row blocks into float32 scratch, then multiplied by `GEMM.serial`.
    static func widened(_ format: HalfFormat, m: Int, n: Int, k: Int,
                        a: UnsafePointer<UInt16>, ars: Int, acs: Int, b: UnsafePointer<UInt16>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let family = KernelFamily.active, cols = family.gemmTile.cols
        let panels = (n + cols - 1) / cols
        let kb = min(k, kBlock), mb = min(m, mBlock)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: kb * panels * cols + mb * kb) { scratch in
            let bf = scratch.baseAddress!, af = bf + kb * panels * cols
            GEMM.forEachBlock(k, by: kBlock) { ks in
                let kc = ks.count
                nsc_expand_panels(b + ks.lowerBound * ldb, ldb, kc, n, cols, bf, format.rawValue)
                GEMM.forEachBlock(m, by: mBlock) { ms in
                    let (aRow, aCol) = widenRows(format, ms, ks, a: a, ars: ars, acs: acs, into: af)
                    GEMM.serial(m: ms.count, n: n, k: kc, a: af, aRowStride: aRow, aColStride: aCol, packedB: bf,
                                c: c + ms.lowerBound * ldc, ldc: ldc, accumulate: accumulate || ks.lowerBound > 0, kernel: family)
                }
            }
        }
    }

    /// Widens A's rows `ms` × columns `ks` into `af`; returns the strides to read it with.
    private static func widenRows(_ format: HalfFormat, _ ms: Range<Int>, _ ks: Range<Int>,
                                  a: UnsafePointer<UInt16>, ars: Int, acs: Int,
                                  into af: UnsafeMutablePointer<Float>) -> (rowStride: Int, colStride: Int) {
        let mc = ms.count, kc = ks.count
        let src = a + ms.lowerBound * ars + ks.lowerBound * acs
        if acs == 1 {          // rows of A contiguous in K: widen row by row, [mc][kc]
            for r in 0..<mc { nsc_expand(src + r * ars, af + r * kc, kc, format.rawValue) }
            return (kc, 1)
        }
        if ars == 1 {          // Gᵀ: contiguous in M: widen column by column, [kc][mc]
            for kk in 0..<kc { nsc_expand(src + kk * acs, af + kk * mc, mc, format.rawValue) }
            return (1, mc)
        }
        for r in 0..<mc { for kk in 0..<kc { af[r * kc + kk] = Half.value(src[r * ars + kk * acs], format) } }
        return (kc, 1)
    }
}

extension Buffers {
    /// dst[i] *= a, in parallel (unscaling loss-scaled gradients).
    public static func scaleParallel(_ dst: UnsafeMutablePointer<Float>, _ a: Float, count: Int, pool: WorkerPool = .shared) {
        pool.parallelRanges(count / 16, serialBelow: 1024) { range in
            scale(dst + range.lowerBound * 16, a, range.count * 16)
        }
        for i in (count / 16 * 16)..<count { dst[i] *= a }
    }
}
