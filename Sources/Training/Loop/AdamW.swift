import Kernels
import GPT

/// AdamW (Loshchilov & Hutter 2019), step for step as `torch.optim.AdamW` computes it:
///
///     θ ← θ · (1 − lr·λ)                         decoupled weight decay (decay group only)
///     m ← β₁m + (1 − β₁)g                        first moment
///     v ← β₂v + (1 − β₂)g²                       second moment
///     θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// nanoGPT's decay groups: λ applies to tensors with two or more dimensions (matmul weights and
/// embeddings), never to biases or LayerNorm gains (`ParameterLayout.Tensor.decays`).
public final class AdamW {
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// Steps taken so far (t in the bias corrections).
    public private(set) var step: Int = 0
    /// First and second moments of the parameters in `shard`: `m[i − shard.lowerBound]` is
    /// parameter i's. The whole model unless ZeRO-1 gave this process one part of it.
    public private(set) var m: FloatBuffer
    public private(set) var v: FloatBuffer
    /// The parameters this optimizer updates (`Training/Distributed/OptimizerSharding.swift`).
    public private(set) var shard: Range<Int>
    /// Contiguous runs of parameters that share a decay setting (whole-model indices).
    private let groups: [(range: Range<Int>, decays: Bool)]

    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = FloatBuffer(count: layout.totalCount)
        v = FloatBuffer(count: layout.totalCount)
        shard = 0..<layout.totalCount
        var g: [(Range<Int>, Bool)] = []
        for t in layout.tensors {
            let r = t.offset..<(t.offset + t.count)
            if let last = g.last, last.1 == t.decays, last.0.upperBound == r.lowerBound {
                g[g.count - 1].0 = last.0.lowerBound..<r.upperBound
            } else {
                g.append((r, t.decays))
            }
        }
        groups = g.map { (range: $0.0, decays: $0.1) }
    }

    /// Restores the step counter (moments are restored by writing into `m` and `v`).
    public func restore(step: Int) {
        self.step = step
        invalidateBounds()
    }

    /// Keeps only the moments of `range` (ZeRO-1): from now on this optimizer updates those
    /// parameters alone, and the memory of the others' moments is given back.
    public func keepShard(_ range: Range<Int>) {
        precondition(range.lowerBound >= shard.lowerBound && range.upperBound <= shard.upperBound)
        let offset = range.lowerBound - shard.lowerBound
        let newM = FloatBuffer(count: range.count), newV = FloatBuffer(count: range.count)
        newM.pointer.update(from: m.pointer + offset, count: range.count)
        newV.pointer.update(from: v.pointer + offset, count: range.count)
        m = newM; v = newV; shard = range
        invalidateBounds()
    }

    /// The decay groups cut to this optimizer's shard (whole-model indices).
    private var shardGroups: [(range: Range<Int>, decays: Bool)] {
        groups.compactMap { g in
            let lo = max(g.range.lowerBound, shard.lowerBound), hi = min(g.range.upperBound, shard.upperBound)
            return lo < hi ? (lo..<hi, g.decays) : nil
        }
    }

    // MARK: Finite updates

    /// Upper bounds on max|θ|, max|m| and max v, carried from update to update, so that most
    /// updates are proven finite with a few scalar operations instead of a pass over memory.
    /// nil: unknown (at the start, or after weights or moments were replaced), measured next time.
    private var bounds: (p: Double, m: Double, v: Double)?

    /// Forget the bounds: call after writing into the parameters, `m` or `v` from outside.
    public func invalidateBounds() { bounds = nil }

    /// Values above this are treated as on their way to infinity (Float's max is 3.4e38).
    static let finiteLimit = 1e30

    /// `update`, but only if it leaves every weight and moment finite; returns whether it was
    /// applied. A non-finite update (an overflowing learning rate, corrupt moments) changes
    /// nothing, so the weights stay the last finite ones.
    ///
    /// With g the clipped gradient, ‖g‖ ≥ max|gᵢ|; m′ is a convex mix of m and g, so
    /// max|m′| ≤ max(M, ‖g‖), likewise v′ ≤ max(V, ‖g‖²); the step's size is at most
    /// lr/(1−β₁ᵗ) · max|m′| / ε, so max|θ′| ≤ P·|1 − lr·λ| + that. When those bounds stay far
    /// below Float's range the update is finite and is applied at once; otherwise one read-only
    /// pass computes the new values exactly and decides.
    ///
    /// With ZeRO-1 each process decides for its own shard; `agree` (true only if every process
    /// said true) makes the decision one for the whole model, so all shards move or none does.
    public func checkedUpdate(params: FloatBuffer, grads: FloatBuffer, lr: Float, gradScale: Float = 1, gradNorm: Float,
                              clearingGradients: Bool = false, pool: WorkerPool = .shared,
                              agree: ((Bool) -> Bool)? = nil) -> Bool {
        let g = Double(gradNorm) * Double(gradScale)
        // The same values on every process, so this early answer is everyone's.
        guard g.isFinite, lr.isFinite, gradScale.isFinite else { return false }
        var next: (p: Double, m: Double, v: Double)?
        if let current = bounds ?? measure(params) {
            let t = step + 1
            let bc1 = 1 - Double(beta1).power(t)
            let stepSize = Double(lr) / bc1
            let decay = max(1, abs(1 - Double(lr) * Double(weightDecay)))
            let m = max(current.m, g), v = max(current.v, g * g)
            let p = current.p * decay + stepSize * m / Double(eps)
            next = (p: p, m: m, v: v)
            if !(p < Self.finiteLimit && v < Self.finiteLimit && m < Self.finiteLimit) {
                next = probe(params: params, grads: grads, lr: lr, gradScale: gradScale)
            }
        }
        let everyone = agree.map { $0(next != nil) } ?? (next != nil)
        guard everyone, let next else { return false }
        update(params: params, grads: grads, lr: lr, gradScale: gradScale, clearingGradients: clearingGradients, pool: pool)
        bounds = next
        return true
    }

    /// max|θ|, max|m|, max v now, or nil if any is not finite (or v is negative).
    private func measure(_ params: FloatBuffer) -> (p: Double, m: Double, v: Double)? {
        var p: Float = 0, mm: Float = 0, vv: Float = 0
        let pp = params.pointer + shard.lowerBound, mp = m.pointer, vp = v.pointer
        for i in 0..<shard.count {
            p = max(p, abs(pp[i]))
            mm = max(mm, abs(mp[i]))
            vv = max(vv, vp[i])
            if !(pp[i].isFinite && mp[i].isFinite && vp[i].isFinite && vp[i] >= 0) { return nil }
        }
        return (Double(p), Double(mm), Double(vv))
    }

    /// The maxima of θ′, m′, v′ that `update` would produce (nothing is written), or nil when any
    /// of them would not be finite.
    private func probe(params: FloatBuffer, grads: FloatBuffer, lr: Float, gradScale: Float) -> (p: Double, m: Double, v: Double)? {
        let t = step + 1
        let b1 = beta1, b2 = beta2, eps = eps
        let bc1 = 1 - Float(Double(b1).power(t))
        let bc2Sqrt = (1 - Float(Double(b2).power(t))).squareRoot()
        let stepSize = lr / bc1
        let p = params.pointer, g = grads.pointer, s = shard.lowerBound
        let m = m.pointer - s, v = v.pointer - s  // indexed by whole-model position, only within the shard
        var maxP: Float = 0, maxM: Float = 0, maxV: Float = 0
        for group in shardGroups {
            let decay: Float = group.decays ? 1 - lr * weightDecay : 1
            for i in group.range {
                let gi = g[i] * gradScale
                let mi = m[i] * b1 + gi * (1 - b1)
                let vi = v[i] * b2 + gi * gi * (1 - b2)
                let pi = p[i] * decay - stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
                guard pi.isFinite, mi.isFinite, vi.isFinite, Double(abs(pi)) < Self.finiteLimit else { return nil }
                maxP = max(maxP, abs(pi)); maxM = max(maxM, abs(mi)); maxV = max(maxV, vi)
            }
        }
        return (Double(maxP), Double(maxM), Double(maxV))
    }

    /// One update of `params` from `gradScale · grads` at learning rate `lr` (`gradScale` carries
    /// gradient clipping into the update, so the gradients are read once instead of scaled first).
    /// With `clearingGradients`, each gradient is set to 0 right after it is read, while it is in
    /// cache: the next step's accumulation starts from zero without a separate pass over memory.
    public func update(params: FloatBuffer, grads: FloatBuffer, lr: Float, gradScale: Float = 1,
                       clearingGradients: Bool = false, pool: WorkerPool = .shared) {
        step += 1
        let b1 = beta1, b2 = beta2, eps = eps
        let bc1 = 1 - Float(Double(b1).power(step))
        let bc2Sqrt = (1 - Float(Double(b2).power(step))).squareRoot()
        let stepSize = lr / bc1
        let p = params.pointer, g = grads.pointer, s = shard.lowerBound
        let m = m.pointer - s, v = v.pointer - s  // indexed by whole-model position, only within the shard
        for group in shardGroups {
            let decay: Float = group.decays ? 1 - lr * weightDecay : 1
            let base = group.range.lowerBound
            let n = group.range.count
            pool.parallelRanges(n, serialBelow: 8192) { r in
                typealias V = SIMD16<Float>
                var i = base + r.lowerBound
                let end = base + r.upperBound
                while i + 16 <= end {
                    let gi = V.loadUnaligned(g + i) * gradScale
                    if clearingGradients { V().storeUnaligned(g + i) }
                    let mi = V.loadUnaligned(m + i) * b1 + gi * (1 - b1)
                    let vi = V.loadUnaligned(v + i) * b2 + gi * gi * (1 - b2)
                    let denom = vi.squareRoot() / bc2Sqrt + eps
                    let pi = V.loadUnaligned(p + i) * decay - stepSize * mi / denom
                    mi.storeUnaligned(m + i); vi.storeUnaligned(v + i); pi.storeUnaligned(p + i)
                    i += 16
                }
                while i < end {
                    let gi = g[i] * gradScale
                    if clearingGradients { g[i] = 0 }
                    m[i] = m[i] * b1 + gi * (1 - b1)
                    v[i] = v[i] * b2 + gi * gi * (1 - b2)
                    p[i] = p[i] * decay - stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
                    i += 1
                }
            }
        }
    }
}

/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`:
///
///     ‖g‖ = √(Σ g²) over every parameter;   if ‖g‖ > max:  g ← g · max / (‖g‖ + 1e-6)
public enum GradientClipping {
    /// Elements per partial sum. Fixed, so the norm's rounding depends neither on the thread
    /// count nor on how ZeRO-1 splits the gradient over processes (its shards are whole chunks).
    public static let chunk = 65536

    /// Σ g² of each chunk in `chunks` (in Double, so a million squares lose nothing), written to
    /// `partial[c]`.
    public static func squaredChunks(_ grads: FloatBuffer, chunks: Range<Int>, into partial: UnsafeMutablePointer<Double>,
                                     pool: WorkerPool = .shared) {
        pool.parallelRanges(chunks.count, serialBelow: 2) { r in
            for c in (chunks.lowerBound + r.lowerBound)..<(chunks.lowerBound + r.upperBound) {
                let hi = min(grads.count, (c + 1) * chunk)
                var s: Double = 0
                var i = c * chunk
                while i < hi {
                    let n = min(4096, hi - i)
                    s += Double(Buffers.dot(grads.pointer + i, grads.pointer + i, n))
                    i += n
                }
                partial[c] = s
            }
        }
    }

    public static func chunkCount(_ count: Int) -> Int { (count + chunk - 1) / chunk }

    /// √(Σ of the chunks' sums, added in chunk order).
    public static func norm(squaredChunks partial: [Double]) -> Float {
        var total: Double = 0
        for p in partial { total += p }
        return Float(total.squareRoot())
    }

    /// The global L2 norm of `grads`.
    public static func norm(_ grads: FloatBuffer, pool: WorkerPool = .shared) -> Float {
        var partial = [Double](repeating: 0, count: chunkCount(grads.count))
        partial.withUnsafeMutableBufferPointer { squaredChunks(grads, chunks: 0..<$0.count, into: $0.baseAddress!, pool: pool) }
        return norm(squaredChunks: partial)
    }

    /// The factor that brings a gradient of norm `norm` down to `maxNorm` (1 when it is already
    /// within it, or when clipping is off with `maxNorm` ≤ 0).
    public static func scale(norm: Float, maxNorm: Float) -> Float {
        guard maxNorm > 0, norm.isFinite else { return 1 }
        return min(1, maxNorm / (norm + 1e-6))
    }

    /// Scales `grads` down to `maxNorm` if their norm exceeds it; returns the norm before clipping.
    @discardableResult
    public static func clip(_ grads: FloatBuffer, maxNorm: Float, pool: WorkerPool = .shared) -> Float {
        let total = norm(grads, pool: pool)
        guard maxNorm > 0, total.isFinite else { return total }
        let coef = maxNorm / (total + 1e-6)
        if coef < 1 {
            pool.parallelRanges(grads.count, serialBelow: 8192) { r in
                Buffers.scale(grads.pointer + r.lowerBound, coef, r.count)
            }
        }
        return total
    }
}

extension Double {
    fileprivate func power(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= self }
        return r
    }
}

extension SIMD16 where Scalar == Float {
    @inline(__always) fileprivate static func loadUnaligned(_ p: UnsafeMutablePointer<Float>) -> Self {
        UnsafeRawPointer(p).loadUnaligned(as: Self.self)
    }
    @inline(__always) fileprivate func storeUnaligned(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
    }
}
