/// Layer normalisation over the channels of each token (Ba et al. 2016), as `nn.LayerNorm(C)`:
///
///     μ = (1/C) Σᵢ xᵢ        σ² = (1/C) Σᵢ (xᵢ − μ)²        r = 1 / √(σ² + ε)   (ε = 1e-5)
///     x̂ᵢ = (xᵢ − μ) · r     yᵢ = γᵢ · x̂ᵢ + βᵢ
///
/// Backward, with g = ∂L/∂y for one token:
///
///     ∂L/∂γᵢ += gᵢ x̂ᵢ        ∂L/∂βᵢ += gᵢ
///     ∂L/∂xᵢ  = r · ( γᵢgᵢ − mean(γg) − x̂ᵢ · mean(γg ⊙ x̂) )
///
/// The forward pass keeps μ and r per token so the backward pass need not recompute them.
/// `bias` is optional (nanoGPT's `bias=False` LayerNorm has γ only). Loops run 16 channels at a
/// time; a channel count that is not a multiple of 16 finishes with a scalar tail.
public enum LayerNorm {
    public static let eps: Float = 1e-5
    /// Row chunks of the backward pass (its scratch holds `backwardChunks · 2C` floats).
    public static let backwardChunks = 8
    typealias V = SIMD16<Float>

    public static func forward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows: Int, channels c: Int, pool: WorkerPool = .shared
    ) {
        let cv = c / 16 * 16
        pool.parallelRanges(rows, serialBelow: 32) { range in
            for row in range {
                let x = inp + row * c
                let y = out + row * c
                let m = Buffers.sum(x, c) / Float(c)
                var sq = V()
                var i = 0
                while i < cv { let d = V.load(x + i) - m; sq = sq.addingProduct(d, d); i += 16 }
                var sqs = sq.sum()
                while i < c { let d = x[i] - m; sqs += d * d; i += 1 }
                let r = 1 / (sqs / Float(c) + eps).squareRoot()
                i = 0
                while i < cv {
                    var v = (V.load(x + i) - m) * r * V.load(weight + i)
                    if let bias { v += V.load(bias + i) }
                    v.store(y + i)
                    i += 16
                }
                while i < c {
                    y[i] = (x[i] - m) * r * weight[i] + (bias?[i] ?? 0)
                    i += 1
                }
                mean[row] = m
                rstd[row] = r
            }
        }
    }

    /// Adds ∂L/∂x into `dinp` and accumulates ∂L/∂γ, ∂L/∂β.
    ///
    /// The parameter gradients are sums over all tokens; the rows are cut into
    /// `backwardChunks` fixed chunks, each summed into its own slice of `scratch`
    /// (`backwardChunks · 2C` floats), and the slices are added in chunk order — so the result
    /// is the same whichever threads ran which chunks.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        rows: Int, channels c: Int, scratch: UnsafeMutablePointer<Float>, pool: WorkerPool = .shared
    ) {
        let parts = backwardChunks
        let cv = c / 16 * 16
        scratch.update(repeating: 0, count: parts * 2 * c)
        pool.parallelFor(parts) { w, _ in
            let lo = rows * w / parts, hi = rows * (w + 1) / parts
            let dw = scratch + w * 2 * c
            let db = dw + c
            for row in lo..<hi {
                let x = inp + row * c, g = dout + row * c, dx = dinp + row * c
                let m = mean[row], r = rstd[row]
                var sG = V(), sGX = V()
                var i = 0
                while i < cv {
                    let gv = V.load(g + i)
                    let xhat = (V.load(x + i) - m) * r
                    let wg = V.load(weight + i) * gv
                    sG += wg
                    sGX = sGX.addingProduct(wg, xhat)
                    V.load(dw + i).addingProduct(gv, xhat).store(dw + i)
                    (V.load(db + i) + gv).store(db + i)
                    i += 16
                }
                var meanG = sG.sum(), meanGX = sGX.sum()
                while i < c {
                    let xhat = (x[i] - m) * r
                    let wg = weight[i] * g[i]
                    meanG += wg
                    meanGX += wg * xhat
                    dw[i] += g[i] * xhat
                    db[i] += g[i]
                    i += 1
                }
                meanG /= Float(c)
                meanGX /= Float(c)
                i = 0
                while i < cv {
                    let xhat = (V.load(x + i) - m) * r
                    let d = (V.load(weight + i) * V.load(g + i) - meanG - xhat * meanGX) * r
                    (V.load(dx + i) + d).store(dx + i)
                    i += 16
                }
                while i < c {
                    let xhat = (x[i] - m) * r
                    dx[i] += r * (weight[i] * g[i] - meanG - xhat * meanGX)
                    i += 1
                }
            }
        }
        for w in 0..<parts {
            let dw = scratch + w * 2 * c
            Buffers.add(dweight, dw, c)
            if let dbias { Buffers.add(dbias, dw + c, c) }
        }
    }
}
