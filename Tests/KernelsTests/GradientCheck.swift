import Kernels
import TestSupport

/// Finite-difference gradient checking for kernels over Float buffers.
///
/// For a kernel y = f(x), take a fixed random projection L = Σ wᵢ yᵢ. The analytic gradient is
/// the kernel's backward pass with ∂L/∂y = w; the numeric one is the central difference
/// (L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h for each input element j. Float32 rounding limits the
/// agreement to about 1e-3 relative, so errors are measured against the gradient's scale.
struct GradientCheck {
    var rng = SplitMix64(seed: 42)

    mutating func randoms(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * scale }
    }

    /// Largest |analytic − numeric| over the largest |numeric| (the error relative to the
    /// gradient's scale), checking every element of `x` or `samples` evenly spaced ones.
    static func compare(x: inout [Float], analytic: [Float], h: Float = 1e-2, samples: Int = 200,
                        loss: ([Float]) -> Double) -> Float {
        precondition(analytic.count == x.count)
        let step = max(1, x.count / samples)
        var maxErr: Double = 0, maxMag: Double = 1e-6
        for j in stride(from: 0, to: x.count, by: step) {
            let saved = x[j]
            x[j] = saved + h
            let lp = loss(x)
            x[j] = saved - h
            let lm = loss(x)
            x[j] = saved
            let numeric = (lp - lm) / Double(2 * h)
            maxErr = max(maxErr, abs(numeric - Double(analytic[j])))
            maxMag = max(maxMag, abs(numeric))
        }
        return Float(maxErr / maxMag)
    }

    static func project(_ y: UnsafeBufferPointer<Float>, _ w: [Float]) -> Double {
        var s: Double = 0
        for i in 0..<w.count { s += Double(y[i]) * Double(w[i]) }
        return s
    }
}


extension Array where Element == Float {
    func withPointer<R>(_ body: (UnsafePointer<Float>) -> R) -> R { withUnsafeBufferPointer { body($0.baseAddress!) } }
}

func buffer(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
    let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
    b.initialize(repeating: 0)
    return b
}
