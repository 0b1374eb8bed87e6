/// Small vector helpers over raw Float buffers, 16 lanes at a time with a scalar tail.
public enum Buffers {
    typealias V = SIMD16<Float>

    /// Σ x[i]
    @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V()
        var i = 0
        while i + 16 <= n { acc += V.load(x + i); i += 16 }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Σ x[i]·y[i]
    @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V()
        var i = 0
        while i + 16 <= n { acc = acc.addingProduct(V.load(x + i), V.load(y + i)); i += 16 }
        var s = acc.sum()
        while i < n { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// dst[i] += src[i]
    @inline(__always)
    public static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n { (V.load(dst + i) + V.load(src + i)).store(dst + i); i += 16 }
        while i < n { dst[i] += src[i]; i += 1 }
    }

    /// dst[i] += a · src[i]
    @inline(__always)
    public static func addScaled(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ a: Float, _ n: Int) {
        var i = 0
        let av = V(repeating: a)
        while i + 16 <= n { V.load(dst + i).addingProduct(av, V.load(src + i)).store(dst + i); i += 16 }
        while i < n { dst[i] += a * src[i]; i += 1 }
    }

    /// dst[i] *= a
    @inline(__always)
    public static func scale(_ dst: UnsafeMutablePointer<Float>, _ a: Float, _ n: Int) {
        var i = 0
        while i + 16 <= n { (V.load(dst + i) * a).store(dst + i); i += 16 }
        while i < n { dst[i] *= a; i += 1 }
    }

    /// out[i] = a[i] + b[i], in parallel (the residual connections).
    public static func addParallel(out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                   count: Int, pool: WorkerPool = .shared) {
        pool.parallelRanges(count / 16, serialBelow: 1024) { range in
            for v in range { (V.load(a + v * 16) + V.load(b + v * 16)).store(out + v * 16) }
        }
        for i in (count / 16 * 16)..<count { out[i] = a[i] + b[i] }
    }

    /// dst[i] += src[i], in parallel.
    public static func accumulateParallel(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                          count: Int, pool: WorkerPool = .shared) {
        pool.parallelRanges(count / 16, serialBelow: 1024) { range in
            for v in range { (V.load(dst + v * 16) + V.load(src + v * 16)).store(dst + v * 16) }
        }
        for i in (count / 16 * 16)..<count { dst[i] += src[i] }
    }

    /// Sets `count` floats to zero, in parallel for large buffers.
    public static func zero(_ p: UnsafeMutablePointer<Float>, count: Int, pool: WorkerPool = .shared) {
        if count < 1 << 16 { p.update(repeating: 0, count: count); return }
        pool.parallelRanges(count) { r in (p + r.lowerBound).update(repeating: 0, count: r.count) }
    }
}
