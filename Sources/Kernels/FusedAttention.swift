import Foundation

/// Causal multi-head attention without the T×T matrix: FlashAttention-2 (Dao 2023) on the CPU.
/// It computes exactly what `Attention` does — Y = dropout(softmax(Q·Kᵀ/√hs + M))·V per head —
/// but never stores P, so the memory it keeps for the backward pass is O(T) per head instead of
/// O(T²): 4·T bytes (one log-sum-exp per query) against 4·T² (the whole probability matrix).
/// At T = 1024 that is 4 KB per head against 4 MB; for GPT-2 small (12 layers × 12 heads, batch
/// 4) it is the difference between 2.4 MB and 2.4 GB.
///
/// **Forward.** Queries are taken in tiles of `queryTile` rows; for each, keys and values stream
/// past in tiles of `keyTile` columns (only those at or left of the tile's last query: the causal
/// mask). A tile's scores S = Q_i·K_jᵀ/√hs live only in a small scratch block. The softmax is
/// computed *online*: for each query row, keep the running maximum m and the running sum ℓ of
/// exp(s − m); when a new key tile raises the maximum to m′, everything accumulated so far is
/// rescaled by exp(m − m′):
///
///     m′ = max(m, max_j S[r, j])
///     P[r, j] = exp(S[r, j] − m′)
///     ℓ′ = ℓ·exp(m − m′) + Σ_j P[r, j]
///     O[r] = O[r]·exp(m − m′) + Σ_j dropout(P)[r, j]·V[j]
///
/// After the last key tile, Y[r] = O[r]/ℓ, and the row's log-sum-exp L[r] = m + log ℓ is saved.
///
/// **Backward.** P is recomputed tile by tile from the saved L — P[r, j] = exp(S[r, j] − L[r]),
/// exact probabilities, no renormalisation needed — which costs one more Q·Kᵀ product per tile,
/// the price of not storing P. With G = ∂L/∂Y and D[r] = Σ_c G[r, c]·Y[r, c] (= Σ_j P·∂L/∂P,
/// the softmax-backward row sum, computed once from the output instead of from P):
///
///     ∂L/∂V_j += dropout(P)ᵀ·G_i
///     ∂L/∂P    = (G_i·V_jᵀ) ⊙ mask
///     ∂L/∂S    = P ⊙ (∂L/∂P − D) / √hs
///     ∂L/∂Q_i += ∂L/∂S·K_j          ∂L/∂K_j += ∂L/∂Sᵀ·Q_i
///
/// Dropout uses the same counter-based mask as `Attention` (element index b·nh·T² + t·T + s), so
/// the two kernels give the same numbers with dropout on as well. Results agree with `Attention`
/// to float rounding: the sums are the same, taken in a different order.
///
/// Which to use: `Attention` is the readable reference and keeps P for the dashboard's maps; at
/// short blocks its two big products per head beat many small tiles. `FusedAttention` wins on
/// memory always and on speed once T² no longer fits the caches (see `nanoscope bench --scaling`).
public enum FusedAttention {
    static let queryTile = 64
    static let keyTile = 64
    /// A key tile's keys rounded up to whole panels of any micro-kernel's columns (12, 16 or 32):
    /// the room one key tile takes per channel in `packTransposed`'s layout.
    static let paddedKeyTile = keyTile + 31

    /// Floats of scratch space the forward and backward passes need (per pool): O(T·hs) per worker.
    public static func scratchCount(seqLen t: Int, headSize hs: Int, pool: WorkerPool = .shared) -> Int {
        pool.workers * scratchPerWorker(t, hs)
    }

    /// One worker's share: K and V of one head transposed and packed (`packTransposed`), two
    /// score tiles, the row sums D, and the running max and sum of a query tile.
    static func scratchPerWorker(_ t: Int, _ hs: Int) -> Int {
        2 * packedCount(t, hs) + 2 * queryTile * keyTile + t + 2 * queryTile
    }

    /// Floats of one head's K (or V) in `packTransposed`'s layout.
    static func packedCount(_ t: Int, _ hs: Int) -> Int {
        (t + keyTile - 1) / keyTile * paddedKeyTile * hs
    }

    /// Xᵀ for one head's keys or values X ([T, hs], row stride `ld`), made once per head in the
    /// layout `GEMM.serial(packedB:)` reads: key tile by key tile, each tile's keys in panels of
    /// the kernel's `cols` ([hs][cols], the last one zero-padded). Every product against Kᵀ or Vᵀ
    /// then reads its B straight from here; transposed plainly, a key tile of Xᵀ is `hs` rows
    /// 4·T bytes apart (1 KB at T = 256), which `GEMM` copies into panels again on every call —
    /// once per query tile and key tile.
    static func packTransposed(_ x: UnsafePointer<Float>, ld: Int, t: Int, hs: Int, into dst: UnsafeMutablePointer<Float>) {
        let cols = KernelFamily.active.gemmTile.cols
        forEachTile(t, by: keyTile) { j0, cb in
            var panel = tilePanels(dst, j0: j0, hs: hs)
            forEachTile(cb, by: cols) { p0, w in
                GEMM.transpose(rows: w, cols: hs, src: x + (j0 + p0) * ld, lds: ld, dst: panel, ldd: cols)
                if w < cols { for kk in 0..<hs { (panel + kk * cols + w).update(repeating: 0, count: cols - w) } }
                panel += hs * cols
            }
        }
    }

    /// C = A·X_jᵀ for one key tile (`n` keys) whose Xᵀ is in `packTransposed`'s panels. Heads
    /// wider than `GEMM.maxPackedK` take the panels one at a time as plain [hs, cols] matrices.
    @inline(__always)
    static func timesTransposed(m: Int, n: Int, k hs: Int, a: UnsafePointer<Float>, aRowStride: Int,
                                panels: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if hs <= GEMM.maxPackedK {
            GEMM.serial(m: m, n: n, k: hs, a: a, aRowStride: aRowStride, packedB: panels, c: c, ldc: ldc, accumulate: false)
            return
        }
        let cols = KernelFamily.active.gemmTile.cols
        forEachTile(n, by: cols) { p0, w in
            GEMM.serial(m: m, n: w, k: hs, a: a, aRowStride: aRowStride, b: panels + p0 * hs, ldb: cols,
                        c: c + p0, ldc: ldc, accumulate: false)
        }
    }

    /// Where key tile `j0`'s panels start in `packTransposed`'s output.
    @inline(__always)
    static func tilePanels(_ packed: UnsafeMutablePointer<Float>, j0: Int, hs: Int) -> UnsafeMutablePointer<Float> {
        packed + j0 / keyTile * paddedKeyTile * hs
    }

    /// Writes Y into `out` ([B, T, C]) and each query's log-sum-exp into `logSumExp` ([B, nh, T]).
    public static func forward(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        batch: Int, seqLen t: Int, channels c: Int, heads nh: Int,
        dropout p: Float = 0, dropoutSeed: UInt64 = 0,
        scratch: UnsafeMutablePointer<Float>, pool: WorkerPool = .shared
    ) {
        let hs = c / nh, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        pool.parallelFor(batch * nh) { task, w in
            let kT = scratch + w * scratchPerWorker(t, hs)
            let s = kT + 2 * packedCount(t, hs)
            let runningMax = s + 2 * queryTile * keyTile + t, runningSum = runningMax + queryTile
            let b = task / nh, h = task % nh
            let q = qkv + b * t * ld + h * hs, k = q + c, v = q + 2 * c
            let y = out + b * t * c + h * hs
            let lse = logSumExp + task * t
            packTransposed(k, ld: ld, t: t, hs: hs, into: kT)
            forEachTile(t, by: queryTile) { i0, rb in
                runningMax.update(repeating: -.infinity, count: rb)
                runningSum.update(repeating: 0, count: rb)
                for r in 0..<rb { (y + (i0 + r) * c).update(repeating: 0, count: hs) }
                forEachTile(i0 + rb, by: keyTile) { j0, cb in
                    let diagonal = j0 == i0
                    queryHalves(rb, cb, diagonal: diagonal) { r0, rows, keys in
                        timesTransposed(m: rows, n: keys, k: hs, a: q + (i0 + r0) * ld, aRowStride: ld,
                                        panels: tilePanels(kT, j0: j0, hs: hs), c: s + r0 * keyTile, ldc: keyTile)
                    }
                    for r in 0..<rb {
                        let query = i0 + r
                        let valid = min(cb, query - j0 + 1)
                        let row = s + r * keyTile
                        if valid <= 0 { row.update(repeating: 0, count: cb); continue }
                        let (newMax, sum) = exponentiate(row, valid: valid, width: cb, scale: scale,
                                                         minus: runningMax[r], subtractMax: true)
                        let correction = expf(runningMax[r] - newMax)
                        runningSum[r] = runningSum[r] * correction + sum
                        runningMax[r] = newMax
                        if correction != 1 { Buffers.scale(y + query * c, correction, hs) }
                        if p > 0 {
                            Dropout.apply(row, count: valid, p: p, seed: dropoutSeed,
                                          indexOffset: task * t * t + query * t + j0, pool: .serialPool)
                        }
                    }
                    queryHalves(rb, cb, diagonal: diagonal) { r0, rows, keys in
                        GEMM.serial(m: rows, n: hs, k: keys, a: s + r0 * keyTile, aRowStride: keyTile, b: v + j0 * ld,
                                    ldb: ld, c: y + (i0 + r0) * c, ldc: c, accumulate: true)
                    }
                }
                for r in 0..<rb {
                    Buffers.scale(y + (i0 + r) * c, 1 / runningSum[r], hs)
                    lse[i0 + r] = runningMax[r] + logf(runningSum[r])
                }
            }
        }
    }

    /// Writes ∂L/∂qkv (all three parts) from ∂L/∂out, recomputing P from the saved log-sum-exp.
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, out: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>,
        batch: Int, seqLen t: Int, channels c: Int, heads nh: Int,
        dropout p: Float = 0, dropoutSeed: UInt64 = 0,
        scratch: UnsafeMutablePointer<Float>, pool: WorkerPool = .shared
    ) {
        let hs = c / nh, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        pool.parallelFor(batch * nh) { task, w in
            let kT = scratch + w * scratchPerWorker(t, hs), vT = kT + packedCount(t, hs)
            let probs = vT + packedCount(t, hs), dP = probs + queryTile * keyTile
            let rowDot = dP + queryTile * keyTile
            let b = task / nh, h = task % nh
            let q = qkv + b * t * ld + h * hs, k = q + c, v = q + 2 * c
            let dq = dqkv + b * t * ld + h * hs, dk = dq + c, dv = dq + 2 * c
            let g = dout + b * t * c + h * hs, y = out + b * t * c + h * hs
            let lse = logSumExp + task * t
            packTransposed(k, ld: ld, t: t, hs: hs, into: kT)
            packTransposed(v, ld: ld, t: t, hs: hs, into: vT)
            for row in 0..<t {
                rowDot[row] = Buffers.dot(g + row * c, y + row * c, hs)
                (dq + row * ld).update(repeating: 0, count: hs)
                (dk + row * ld).update(repeating: 0, count: hs)
                (dv + row * ld).update(repeating: 0, count: hs)
            }
            forEachTile(t, by: keyTile) { j0, cb in
                // Query tiles whose last row reaches this key tile.
                var i0 = j0 / queryTile * queryTile
                while i0 < t {
                    let rb = min(queryTile, t - i0), diagonal = j0 == i0
                    queryHalves(rb, cb, diagonal: diagonal) { r0, rows, keys in
                        timesTransposed(m: rows, n: keys, k: hs, a: q + (i0 + r0) * ld, aRowStride: ld,
                                        panels: tilePanels(kT, j0: j0, hs: hs), c: probs + r0 * keyTile, ldc: keyTile)
                        timesTransposed(m: rows, n: keys, k: hs, a: g + (i0 + r0) * c, aRowStride: c,
                                        panels: tilePanels(vT, j0: j0, hs: hs), c: dP + r0 * keyTile, ldc: keyTile)
                    }
                    for r in 0..<rb {
                        let query = i0 + r
                        let valid = min(cb, query - j0 + 1)
                        let pRow = probs + r * keyTile, dRow = dP + r * keyTile
                        if valid <= 0 {
                            pRow.update(repeating: 0, count: cb)
                            dRow.update(repeating: 0, count: cb)
                            continue
                        }
                        _ = exponentiate(pRow, valid: valid, width: cb, scale: scale, minus: lse[query], subtractMax: false)
                        if p > 0 {
                            Dropout.apply(dRow, count: valid, p: p, seed: dropoutSeed,
                                          indexOffset: task * t * t + query * t + j0, pool: .serialPool)
                        }
                        // dS = P ⊙ (dP − D)·scale, in place of dP; P itself stays for ∂L/∂V.
                        let d = rowDot[query]
                        for col in 0..<valid { dRow[col] = pRow[col] * (dRow[col] - d) * scale }
                        if cb > valid { (dRow + valid).update(repeating: 0, count: cb - valid) }
                        if p > 0 {
                            Dropout.apply(pRow, count: valid, p: p, seed: dropoutSeed,
                                          indexOffset: task * t * t + query * t + j0, pool: .serialPool)
                        }
                    }
                    // ∂L/∂V_j += dropout(P)ᵀ·G_i,  ∂L/∂K_j += dSᵀ·Q_i,  ∂L/∂Q_i += dS·K_j
                    keyHalves(rb, cb, diagonal: diagonal) { s0, keys, r0 in
                        let rows = rb - r0
                        GEMM.serial(m: keys, n: hs, k: rows, a: probs + r0 * keyTile + s0, aRowStride: 1, aColStride: keyTile,
                                    b: g + (i0 + r0) * c, ldb: c, c: dv + (j0 + s0) * ld, ldc: ld, accumulate: true)
                        GEMM.serial(m: keys, n: hs, k: rows, a: dP + r0 * keyTile + s0, aRowStride: 1, aColStride: keyTile,
                                    b: q + (i0 + r0) * ld, ldb: ld, c: dk + (j0 + s0) * ld, ldc: ld, accumulate: true)
                    }
                    queryHalves(rb, cb, diagonal: diagonal) { r0, rows, keys in
                        GEMM.serial(m: rows, n: hs, k: keys, a: dP + r0 * keyTile, aRowStride: keyTile, b: k + j0 * ld,
                                    ldb: ld, c: dq + (i0 + r0) * ld, ldc: ld, accumulate: true)
                    }
                    i0 += queryTile
                }
            }
        }
    }

    /// In place over one tile row of raw scores x: the first `valid` entries become
    /// exp(scale·x − m) and the rest of the `width` become 0. With `subtractMax`, m is the larger
    /// of `minus` and the row's own max of scale·x (the online softmax's new running max);
    /// otherwise m = `minus` (the saved log-sum-exp, giving exact probabilities).
    /// Returns m and the sum of the exponentials.
    ///
    /// The row has room for `keyTile` floats, so a ragged end (the diagonal tile's rows: valid =
    /// r + 1) is one more vector with the lanes past `valid` set to −∞, whose exponentials are
    /// exactly 0; a scalar tail cost a libm `expf` per entry, 7.5 a row on average.
    @inline(__always)
    static func exponentiate(_ row: UnsafeMutablePointer<Float>, valid n: Int, width: Int, scale: Float,
                             minus: Float, subtractMax: Bool) -> (max: Float, sum: Float) {
        typealias V = SIMD16<Float>
        let full = n / 16 * 16
        let tail = full < n ? VectorMath.loadMaskedTail(row + full, count: n - full) : V(repeating: -.infinity)
        var m = minus
        if subtractMax {
            var maxV = tail
            var i = 0
            while i < full { let x = V.load(row + i); maxV.replace(with: x, where: x .> maxV); i += 16 }
            m = max(m, VectorMath.max(maxV) * scale)
        }
        var sumV = V()
        var i = 0
        while i < full {
            let e = VectorMath.exp(V.load(row + i) * scale - m)
            e.store(row + i)
            sumV += e
            i += 16
        }
        if full < n {
            let e = VectorMath.exp(tail * scale - m)
            e.store(row + full)
            sumV += e
            i += 16
        }
        if width > i { (row + i).update(repeating: 0, count: width - i) }
        return (m, VectorMath.sum(sumV))
    }

    /// The tile on the diagonal (key tile = query tile) is causal inside: query r sees keys ≤ r,
    /// so its upper-right quarter — the first half of the queries against the second half of
    /// the keys — is all masked. Its products go in two parts that leave that quarter out:
    /// queries [0, h) against keys [0, h), then queries [h, rb) against all the tile's keys.
    /// Off the diagonal, one part: all of it. Skipped entries are exactly 0 in P and ∂L/∂S, so
    /// every sum is the same one less some +0 terms. At T = 256 that is a tenth of the products.
    @inline(__always)
    static func queryHalves(_ rb: Int, _ cb: Int, diagonal: Bool, _ body: (_ r0: Int, _ rows: Int, _ keys: Int) -> Void) {
        let h = keyTile / 2
        if diagonal && rb > h {
            body(0, h, min(cb, h))
            body(h, rb - h, cb)
        } else {
            body(0, rb, cb)
        }
    }

    /// `queryHalves` for the products that run over queries (∂L/∂V and ∂L/∂K, one row per key):
    /// keys [0, h) against all the tile's queries, keys [h, cb) against queries [h, rb) only.
    @inline(__always)
    static func keyHalves(_ rb: Int, _ cb: Int, diagonal: Bool, _ body: (_ s0: Int, _ keys: Int, _ r0: Int) -> Void) {
        let h = keyTile / 2
        if diagonal && rb > h && cb > h {
            body(0, h, 0)
            body(h, cb - h, h)
        } else {
            body(0, cb, 0)
        }
    }

    @inline(__always)
    static func forEachTile(_ count: Int, by size: Int, _ body: (Int, Int) -> Void) {
        var start = 0
        while start < count {
            body(start, min(size, count - start))
            start += size
        }
    }
}

extension FusedAttention {
    /// Bytes kept from the forward pass for the backward pass, per head and batch row: one
    /// log-sum-exp per query.
    public static func keptBytesPerHead(seqLen t: Int) -> Int { 4 * t }
}

extension Attention {
    /// Bytes kept from the forward pass for the backward pass, per head and batch row: the whole
    /// causal probability matrix (stored square, upper triangle zero).
    public static func keptBytesPerHead(seqLen t: Int) -> Int { 4 * t * t }
}
