import Foundation

/// Causal multi-head self-attention (Vaswani et al. 2017), the core of every block:
///
///     for each batch row b and head h, with Q, K, V the head's [T, hs] slices of `qkv`:
///     S = Q·Kᵀ / √hs                      scores, [T, T]
///     P = softmax(S + M)                   M[t,s] = −∞ for s > t: a token sees only the past
///     Y = dropout(P)·V                     the head's output, written to channels h·hs ..< (h+1)·hs
///
/// Backward, with G = ∂L/∂Y and D the dropout mask scaled by 1/(1−p) (all ones without dropout):
///
///     ∂L/∂V = (P⊙D)ᵀ·G
///     ∂L/∂P = (G·Vᵀ) ⊙ D
///     ∂L/∂S[t,s] = P[t,s] · (∂L/∂P[t,s] − Σ_s' P[t,s']·∂L/∂P[t,s'])      (softmax backward)
///     ∂L/∂Q = ∂L/∂S·K / √hs          ∂L/∂K = ∂L/∂Sᵀ·Q / √hs
///
/// Every product is a small GEMM on strided views of `qkv`. Because of the causal mask, rows are
/// processed in blocks of 32 and each block only multiplies the columns at or left of its last
/// row — nearly half the work of the full T×T products for long contexts.
///
/// `att` keeps P (before dropout) for the backward pass and for the dashboard's attention maps.
public enum Attention {
    static let block = 32

    /// Floats of scratch space the forward and backward passes need (per pool).
    public static func scratchCount(seqLen t: Int, headSize hs: Int, pool: WorkerPool = .shared) -> Int {
        pool.workers * scratchPerWorker(t, hs)
    }

    /// One worker's share: a transposed K or V head [hs, T], and two T×T matrices.
    static func scratchPerWorker(_ t: Int, _ hs: Int) -> Int { hs * t + 2 * t * t }

    /// `onlyHeads` restricts the work to some heads (a generator's team member takes a share).
    public static func forward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        batch: Int, seqLen t: Int, channels c: Int, heads nh: Int, onlyHeads: Range<Int>? = nil,
        dropout p: Float = 0, dropoutSeed: UInt64 = 0,
        scratch: UnsafeMutablePointer<Float>, pool: WorkerPool = .shared
    ) {
        let hs = c / nh, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        let heads = onlyHeads ?? 0..<nh
        pool.parallelFor(batch * heads.count) { job, w in
            let kT = scratch + w * scratchPerWorker(t, hs)
            let dropped = kT + hs * t
            let b = job / heads.count, h = heads.lowerBound + job % heads.count
            let task = b * nh + h
            let q = qkv + b * t * ld + h * hs, k = q + c, v = q + 2 * c
            let probs = att + task * t * t
            GEMM.transpose(rows: t, cols: hs, src: k, lds: ld, dst: kT, ldd: t)
            forEachBlock(t) { i0, rb in
                GEMM.serial(m: rb, n: i0 + rb, k: hs, a: q + i0 * ld, aRowStride: ld, b: kT, ldb: t,
                            c: probs + i0 * t, ldc: t, accumulate: false)
            }
            for row in 0..<t { causalSoftmax(probs + row * t, valid: row + 1, width: t, scale: scale) }
            let pv = afterDropout(probs, scratch: dropped, count: t * t, p: p, seed: dropoutSeed, task: task)
            let y = out + b * t * c + h * hs
            forEachBlock(t) { i0, rb in
                GEMM.serial(m: rb, n: hs, k: i0 + rb, a: pv + i0 * t, aRowStride: t, b: v, ldb: ld,
                            c: y + i0 * c, ldc: c, accumulate: false)
            }
        }
    }

    /// Writes ∂L/∂qkv (all three parts) from ∂L/∂out.
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
        batch: Int, seqLen t: Int, channels c: Int, heads nh: Int,
        dropout p: Float = 0, dropoutSeed: UInt64 = 0,
        scratch: UnsafeMutablePointer<Float>, pool: WorkerPool = .shared
    ) {
        let hs = c / nh, ld = 3 * c
        let scale = 1 / Float(hs).squareRoot()
        let tasks = batch * nh
        pool.parallelFor(tasks) { task, w in
            let vT = scratch + w * scratchPerWorker(t, hs)
            let dropped = vT + hs * t
            let dP = dropped + t * t
            let b = task / nh, h = task % nh
            let q = qkv + b * t * ld + h * hs, k = q + c, v = q + 2 * c
            let dq = dqkv + b * t * ld + h * hs, dk = dq + c, dv = dq + 2 * c
            let g = dout + b * t * c + h * hs
            let probs = att + task * t * t
            let pv = afterDropout(probs, scratch: dropped, count: t * t, p: p, seed: dropoutSeed, task: task)
            // ∂L/∂(dropped P) = G·Vᵀ, only at or left of the diagonal.
            GEMM.transpose(rows: t, cols: hs, src: v, lds: ld, dst: vT, ldd: t)
            forEachBlock(t) { i0, rb in
                GEMM.serial(m: rb, n: i0 + rb, k: hs, a: g + i0 * c, aRowStride: c, b: vT, ldb: t,
                            c: dP + i0 * t, ldc: t, accumulate: false)
            }
            // ∂L/∂V[s] = Σ_{t ≥ s} P'[t,s]·G[t]: rows s0 ..< s0+sb of ∂L/∂V only need t ≥ s0.
            forEachBlock(t) { s0, sb in
                GEMM.serial(m: sb, n: hs, k: t - s0, a: pv + s0 * t + s0, aRowStride: 1, aColStride: t,
                            b: g + s0 * c, ldb: c, c: dv + s0 * ld, ldc: ld, accumulate: false)
            }
            if p > 0 { Dropout.apply(dP, count: t * t, p: p, seed: dropoutSeed, indexOffset: task * t * t, pool: .serialPool) }
            for row in 0..<t {
                softmaxBackward(dP + row * t, probs: probs + row * t, valid: row + 1, width: t, scale: scale)
            }
            forEachBlock(t) { i0, rb in
                GEMM.serial(m: rb, n: hs, k: i0 + rb, a: dP + i0 * t, aRowStride: t, b: k, ldb: ld,
                            c: dq + i0 * ld, ldc: ld, accumulate: false)
            }
            forEachBlock(t) { s0, sb in
                GEMM.serial(m: sb, n: hs, k: t - s0, a: dP + s0 * t + s0, aRowStride: 1, aColStride: t,
                            b: q + s0 * ld, ldb: ld, c: dk + s0 * ld, ldc: ld, accumulate: false)
            }
        }
    }

    /// P itself without dropout; with it, P ⊙ mask/(1−p) in `scratch` (the same mask in the
    /// forward and backward passes, since it is derived from the seed and the element's index).
    @inline(__always)
    static func afterDropout(_ probs: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, count: Int,
                             p: Float, seed: UInt64, task: Int) -> UnsafePointer<Float> {
        guard p > 0 else { return probs }
        scratch.update(from: probs, count: count)
        Dropout.apply(scratch, count: count, p: p, seed: seed, indexOffset: task * count, pool: .serialPool)
        return UnsafePointer(scratch)
    }

    @inline(__always)
    static func forEachBlock(_ t: Int, _ body: (Int, Int) -> Void) {
        var i0 = 0
        while i0 < t {
            body(i0, min(block, t - i0))
            i0 += block
        }
    }

    /// In place over one row of scores: the first `valid` entries become
    /// softmax(scale · row[0..<valid]); the rest (masked, s > t) become exactly 0.
    ///
    /// A ragged end (valid not a multiple of 16) is one more vector with the masked lanes set to
    /// −∞, whose exponentials are exactly 0, when the row is wide enough to load it; a scalar
    /// tail would cost a libm `expf` per element, more than the rest of a short row.
    @inline(__always)
    public static func causalSoftmax(_ row: UnsafeMutablePointer<Float>, valid n: Int, width: Int, scale: Float) {
        typealias V = SIMD16<Float>
        let full = n / 16 * 16
        let maskedTail = full < n && full + 16 <= width
        let tail = maskedTail ? VectorMath.loadMaskedTail(row + full, count: n - full) : V(repeating: -.infinity)
        var maxV = tail
        var i = 0
        while i < full { let x = V.load(row + i); maxV.replace(with: x, where: x .> maxV); i += 16 }
        var mx = VectorMath.max(maxV)
        if !maskedTail { while i < n { mx = max(mx, row[i]); i += 1 } }
        var sumV = V()
        i = 0
        while i < full {
            let e = VectorMath.exp((V.load(row + i) - mx) * scale)
            e.store(row + i)
            sumV += e
            i += 16
        }
        if maskedTail {
            let e = VectorMath.exp((tail - mx) * scale)
            e.store(row + full)
            sumV += e
            i = full + 16
        }
        var sum = VectorMath.sum(sumV)
        if !maskedTail { while i < n { let e = expf((row[i] - mx) * scale); row[i] = e; sum += e; i += 1 } }
        Buffers.scale(row, 1 / sum, n)
        if width > n { (row + n).update(repeating: 0, count: width - n) }
    }

    /// In place: `grad[s] ← scale · P[s]·(grad[s] − Σ P·grad)` for s < valid, and 0 beyond.
    @inline(__always)
    static func softmaxBackward(_ grad: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>,
                                valid n: Int, width: Int, scale: Float) {
        typealias V = SIMD16<Float>
        let dot = Buffers.dot(grad, probs, n)
        var i = 0
        while i + 16 <= n {
            ((V.load(grad + i) - dot) * V.load(probs + i) * scale).store(grad + i)
            i += 16
        }
        while i < n { grad[i] = (grad[i] - dot) * probs[i] * scale; i += 1 }
        if width > n { (grad + n).update(repeating: 0, count: width - n) }
    }
}

extension WorkerPool {
    /// A pool of one: runs everything on the caller. For kernels called inside parallel loops.
    public static let serialPool = WorkerPool(workers: 1)
}
