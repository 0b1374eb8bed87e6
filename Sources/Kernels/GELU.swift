import Foundation

/// The Gaussian Error Linear Unit with the exact error function (PyTorch's default `F.gelu`):
///
///     gelu(x)  = x · Φ(x) = ½ x (1 + erf(x / √2))
///     gelu'(x) = Φ(x) + x · φ(x) = ½ (1 + erf(x / √2)) + x · e^(−x²/2) / √(2π)
public enum GELU {
    typealias V = SIMD16<Float>
    static let invSqrt2: Float = 0.70710678118654752
    static let invSqrt2Pi: Float = 0.39894228040143268

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int,
                               pool: WorkerPool = .shared) {
        pool.parallelRanges(count / 16, serialBelow: 512) { range in
            for v in range {
                let x = V.load(inp + v * 16)
                let y = 0.5 * x * (1 + VectorMath.erf(x * invSqrt2))
                y.store(out + v * 16)
            }
        }
        for i in (count / 16 * 16)..<count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + erff(x * invSqrt2))
        }
    }

    /// `dinp = gelu'(inp) · dout` (`dinp` may alias `dout`: the gradient is rewritten in place).
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                dout: UnsafeMutablePointer<Float>, count: Int, pool: WorkerPool = .shared) {
        pool.parallelRanges(count / 16, serialBelow: 512) { range in
            for v in range {
                let x = V.load(inp + v * 16)
                // e^(−x²/2) is both the Gaussian density's core and erf(x/√2)'s e^(−(x/√2)²).
                let e = VectorMath.exp(-0.5 * x * x)
                let cdf = 0.5 * (1 + VectorMath.erf(x * invSqrt2, expOfMinusSquare: e))
                let pdf = e * invSqrt2Pi
                ((cdf + x * pdf) * V.load(dout + v * 16)).store(dinp + v * 16)
            }
        }
        for i in (count / 16 * 16)..<count {
            let x = inp[i]
            let cdf = 0.5 * (1 + erff(x * invSqrt2))
            let pdf = expf(-0.5 * x * x) * invSqrt2Pi
            dinp[i] = (cdf + x * pdf) * dout[i]
        }
    }
}
