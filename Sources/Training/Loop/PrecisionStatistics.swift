import Kernels

/// Where gradient values fall against a 16-bit format's range at a loss scale S: the fraction of
/// all values that are nonzero in float32 but whose S·g rounds to zero (below half the smallest
/// subnormal: 2⁻²⁵ for float16, 2⁻¹³⁴ for bfloat16), and the fraction whose S·g rounds to ±∞
/// (≥ 65520 in float16). This is the lesson of loss scaling: at S = 1 a large share of float16
/// gradients vanish; at S = 65536 they fit; bfloat16 has float32's range and loses none.
public struct HalfRangeFractions: Sendable, Equatable {
    public var underflow: Double
    public var overflow: Double

    public init(underflow: Double, overflow: Double) {
        self.underflow = underflow
        self.overflow = overflow
    }

    public static func of(_ values: UnsafeBufferPointer<Float>, scale: Float, format: HalfFormat) -> HalfRangeFractions {
        var zero = 0, inf = 0
        for g in values where g != 0 {
            let bits = Half.bits(g * scale, format)
            if bits & 0x7FFF == 0 { zero += 1 } else if Half.value(bits, format).isInfinite { inf += 1 }
        }
        let n = Double(max(1, values.count))
        return HalfRangeFractions(underflow: Double(zero) / n, overflow: Double(inf) / n)
    }
}

/// One tensor's gradient against both 16-bit formats at the same loss scale S, for the Gradients
/// pane: S·g is what a 16-bit backward pass would hold for this gradient (the scaled loss's
/// gradient, before it is unscaled), so the fractions say how much of it float16 and bfloat16
/// would lose to zero or to ∞.
public struct HalfRangeStatistics: Sendable, Equatable {
    public var float16: HalfRangeFractions
    public var bfloat16: HalfRangeFractions

    public init(float16: HalfRangeFractions, bfloat16: HalfRangeFractions) {
        self.float16 = float16
        self.bfloat16 = bfloat16
    }

    public init(_ values: UnsafeBufferPointer<Float>, scale: Float) {
        float16 = .of(values, scale: scale, format: .float16)
        bfloat16 = .of(values, scale: scale, format: .bfloat16)
    }
}
