/// Linear layers for generation, where most calls see a single token:
///
///     y (+)= x · Wᵀ        x: [rows, K]   W: [N, K] (PyTorch's layout)   y: [rows, N]
///
/// With one row this is a vector × matrix product, and its speed is the speed at which the
/// weights stream in from cache: every weight is used once per token, for one multiply-add. So
/// the weights are repacked once into *panels* of 64 output columns, each panel a row-major
/// [K, 64] block of Wᵀ stored contiguously (zero-padded past N):
///
///     packed[p][k][c] = W[64p + c, k]
///
/// A panel's 64 outputs live in four `SIMD16` registers while the K loop walks through its
/// memory strictly sequentially, which the hardware prefetcher follows at full speed (the same
/// product over plain Wᵀ, jumping N floats per k, is about 1.5× slower on the baby model).
/// `GEMM.serial` with M = 1 would waste all but one of its tile's rows.
///
/// Batches of rows (a prompt being prefilled) use `GEMM` on each panel, a [K, 64] matrix with row
/// stride 64. Both paths accumulate every y[j] over k in increasing order with fused
/// multiply-adds, starting from y[j] (accumulate) or 0 — the order `GEMM` uses in the training
/// forward pass — so generation reproduces the model's logits bit for bit.
public enum MatVec {
    typealias V = SIMD16<Float>
    public static let panelWidth = 64

    /// Floats needed to pack a `[outFeatures, inFeatures]` weight.
    public static func packedCount(outFeatures n: Int, inFeatures k: Int) -> Int {
        (n + panelWidth - 1) / panelWidth * panelWidth * k
    }

    /// Repacks `weight` (`[n, k]`, row-major) into panels (see above): panel p at
    /// `packed + panelOffsets[p]` when given (floats), else one after another.
    public static func pack(weight: UnsafePointer<Float>, outFeatures n: Int, inFeatures k: Int,
                            into packed: UnsafeMutablePointer<Float>, panelOffsets: UnsafePointer<Int>? = nil) {
        let w = panelWidth
        for p in 0..<((n + w - 1) / w) {
            let panel = packed + (panelOffsets?[p] ?? p * k * w)
            for c in 0..<w {
                let row = p * w + c
                for kk in 0..<k { panel[kk * w + c] = row < n ? weight[row * k + kk] : 0 }
            }
        }
    }

    /// Panels of a layer with `n` outputs (the unit of work to share out).
    public static func panelCount(outFeatures n: Int) -> Int { (n + panelWidth - 1) / panelWidth }

    /// The output columns that `panels` produce.
    public static func columns(ofPanels panels: Range<Int>, outFeatures n: Int) -> Range<Int> {
        min(n, panels.lowerBound * panelWidth) ..< min(n, panels.upperBound * panelWidth)
    }

    /// `out = inp · Wᵀ (+ bias)` over `rows` tokens, with W packed by `pack` (with the same
    /// `panelOffsets`), for some of its panels: writes only `columns(ofPanels: panels)` of every
    /// row of `out`. Panels are independent, so a team's members each take a share
    /// (`0..<panelCount` is the whole product).
    public static func linear(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, packed: UnsafePointer<Float>,
        panelOffsets: UnsafePointer<Int>? = nil,
        bias: UnsafePointer<Float>?, rows: Int, inFeatures k: Int, outFeatures n: Int,
        panels: Range<Int>
    ) {
        let w = panelWidth
        for p in panels {
            let j = p * w, cols = min(w, n - j), panel = packed + (panelOffsets?[p] ?? p * k * w)
            if let bias {
                for r in 0..<rows { (out + r * n + j).update(from: bias + j, count: cols) }
            }
            if rows == 1 {
                panelTimesVector(x: inp, k: k, panel: panel, y: out + j, cols: cols, accumulate: bias != nil)
            } else {
                GEMM.serial(m: rows, n: cols, k: k, a: inp, aRowStride: k, b: panel, ldb: w,
                            c: out + j, ldc: n, accumulate: bias != nil)
            }
        }
    }

    /// y[0..<cols] (+)= x · panel, for one [k, 64] panel. A partial panel (the last one when N is
    /// not a multiple of 64) runs through a 64-float scratch row: its padding columns are zero.
    @inline(__always)
    static func panelTimesVector(x: UnsafePointer<Float>, k: Int, panel: UnsafePointer<Float>,
                                 y: UnsafeMutablePointer<Float>, cols: Int, accumulate: Bool) {
        if cols == panelWidth {
            fullPanel(x: x, k: k, panel: panel, y: y, accumulate: accumulate)
            return
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: panelWidth) { row in
            let t = row.baseAddress!
            for c in 0..<panelWidth { t[c] = accumulate && c < cols ? y[c] : 0 }
            fullPanel(x: x, k: k, panel: panel, y: t, accumulate: true)
            for c in 0..<cols { y[c] = t[c] }
        }
    }

    @inline(__always)
    static func fullPanel(x: UnsafePointer<Float>, k: Int, panel: UnsafePointer<Float>,
                          y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        if accumulate { a0 = V.load(y); a1 = V.load(y + 16); a2 = V.load(y + 32); a3 = V.load(y + 48) }
        var bp = panel
        for kk in 0..<k {
            let xv = V(repeating: x[kk])
            a0 = a0.addingProduct(xv, V.load(bp))
            a1 = a1.addingProduct(xv, V.load(bp + 16))
            a2 = a2.addingProduct(xv, V.load(bp + 32))
            a3 = a3.addingProduct(xv, V.load(bp + 48))
            bp += panelWidth
        }
        a0.store(y); a1.store(y + 16); a2.store(y + 32); a3.store(y + 48)
    }

    /// y[j] (+)= Σₖ x[k] · B[k, j] for a plain row-major B with row stride `ldb`: attention over
    /// the cache (scores q·Kᵀ against transposed keys, and P·V), where B changes every token and
    /// is too small to be worth packing. Same accumulation order as above.
    ///
    /// Up to four 16-column groups share one pass over k: each keeps its own chain of dependent
    /// multiply-adds, and one chain alone would wait on the previous result at every k.
    public static func multiply(
        x: UnsafePointer<Float>, k: Int,
        b: UnsafePointer<Float>, ldb: Int, n: Int,
        y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        var j = 0
        while j + 64 <= n {
            var a0 = accumulate ? V.load(y + j) : V(), a1 = accumulate ? V.load(y + j + 16) : V()
            var a2 = accumulate ? V.load(y + j + 32) : V(), a3 = accumulate ? V.load(y + j + 48) : V()
            var bp = b + j
            for kk in 0..<k {
                let xv = V(repeating: x[kk])
                a0 = a0.addingProduct(xv, V.load(bp)); a1 = a1.addingProduct(xv, V.load(bp + 16))
                a2 = a2.addingProduct(xv, V.load(bp + 32)); a3 = a3.addingProduct(xv, V.load(bp + 48))
                bp += ldb
            }
            a0.store(y + j); a1.store(y + j + 16); a2.store(y + j + 32); a3.store(y + j + 48)
            j += 64
        }
        while j + 32 <= n {
            var a0 = accumulate ? V.load(y + j) : V(), a1 = accumulate ? V.load(y + j + 16) : V()
            var bp = b + j
            for kk in 0..<k {
                let xv = V(repeating: x[kk])
                a0 = a0.addingProduct(xv, V.load(bp)); a1 = a1.addingProduct(xv, V.load(bp + 16))
                bp += ldb
            }
            a0.store(y + j); a1.store(y + j + 16)
            j += 32
        }
        while j + 16 <= n {
            var a0 = accumulate ? V.load(y + j) : V()
            var bp = b + j
            for kk in 0..<k {
                a0 = a0.addingProduct(V(repeating: x[kk]), V.load(bp))
                bp += ldb
            }
            a0.store(y + j)
            j += 16
        }
        while j < n {
            var s: Float = accumulate ? y[j] : 0
            var bp = b + j
            for kk in 0..<k {
                s = s.addingProduct(x[kk], bp[0])
                bp += ldb
            }
            y[j] = s
            j += 1
        }
    }
}
