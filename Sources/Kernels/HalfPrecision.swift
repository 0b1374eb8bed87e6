/// The two 16-bit floating-point formats of mixed-precision training, and rounding to them
/// exactly as PyTorch's CPU conversions do (`tensor.to(torch.bfloat16)`, `.to(torch.float16)`).
///
///     format     sign  exponent  mantissa  largest finite   smallest normal  smallest subnormal  ≈ digits
///     float32      1      8         23     3.4028235e38     1.1754944e-38    1.4e-45             7.2
///     bfloat16     1      8          7     3.3895314e38     1.1754944e-38    9.2e-41             2.4
///     float16      1      5         10     65504            6.1035156e-05    5.9604645e-08       3.3
///
/// **bfloat16** is float32 with the low 16 mantissa bits cut off: the same exponent, so the same
/// range — a gradient that fits in float32 fits in bf16 — but only 8 significant bits (1 in 256).
/// **float16** keeps 3 more bits of precision but has 5 exponent bits: anything below 6e-8 is zero
/// and anything above 65504 is infinite. Small gradients (1e-9 is common late in training) vanish,
/// which is why float16 training multiplies the loss by a large *loss scale* before the backward
/// pass and divides the gradients by it afterwards (`LossScaler`); bfloat16 needs none.
///
/// **Why FP32 master weights.** An AdamW update is often 1e-4 of the weight it changes. In bf16,
/// with 8 significant bits, w + 1e-4·w rounds back to w: the update is lost entirely. So the
/// weights, gradients and moments stay in float32; only the operands of the matrix products (and
/// the activations kept for the backward pass) are rounded to 16 bits, and products are
/// accumulated in float32 — which is what `torch.autocast` does.
///
/// **Rounding** is to nearest, ties to even: the kept bits are rounded up when the dropped bits
/// are more than half an ulp, or exactly half and the last kept bit is odd. Overflow becomes ±∞;
/// values below the smallest subnormal become ±0; subnormals are kept, not flushed. NaNs:
/// PyTorch turns every float32 NaN into the bf16 pattern 0xFFFF, and into a quiet float16 NaN that
/// keeps the sign and the top 9 payload bits (what the F16C instruction `vcvtps2ph` does).
public enum HalfPrecision {
    // MARK: bfloat16

    /// The bfloat16 bit pattern nearest to `x`.
    @inline(__always)
    public static func bfloat16Bits(_ x: Float) -> UInt16 {
        if x.isNaN { return 0xFFFF }
        let u = x.bitPattern
        // Adding 0x7FFF rounds up exactly the values above the halfway point; adding the kept
        // least significant bit as well rounds the halfway point itself up only when it is odd.
        let roundingBias = 0x7FFF &+ ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: (u &+ roundingBias) >> 16)
    }

    /// The float32 a bfloat16 pattern stands for (exact: bf16 is a prefix of float32).
    @inline(__always)
    public static func float(bfloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// `x` rounded to the nearest bfloat16, as a float32.
    @inline(__always)
    public static func roundedToBFloat16(_ x: Float) -> Float { float(bfloat16: bfloat16Bits(x)) }

    // MARK: float16

    /// The float16 bit pattern nearest to `x`.
    @inline(__always)
    public static func float16Bits(_ x: Float) -> UInt16 {
        if x.isNaN {
            let u = x.bitPattern
            return UInt16(truncatingIfNeeded: (u >> 16) & 0x8000) | 0x7E00 | UInt16(truncatingIfNeeded: (u >> 13) & 0x01FF)
        }
        let u = x.bitPattern
        let sign = UInt16(truncatingIfNeeded: (u >> 16) & 0x8000)
        let magnitude = u & 0x7FFF_FFFF
        // ≥ 65520 (halfway between 65504 and the next power of two) rounds to infinity.
        if magnitude >= 0x4780_0000 - 0x1000 { return sign | 0x7C00 }
        if magnitude < 0x3880_0000 {
            // Below float16's smallest normal (2⁻¹⁴): a subnormal, counted in units of 2⁻²⁴.
            // Adding 0.5 (as a float32 with exponent 2⁻¹) makes the FPU round the value to a
            // multiple of 2⁻²⁴ with ties to even; the multiple is then the low mantissa bits.
            let shifted = Float(bitPattern: magnitude) + Float(bitPattern: 0x3F00_0000)
            return sign | UInt16(truncatingIfNeeded: shifted.bitPattern - 0x3F00_0000)
        }
        // Normal: rebias the exponent (127 → 15) and round the 13 dropped mantissa bits to even.
        let odd = (magnitude >> 13) & 1
        let rounded = (magnitude &+ 0xFFF &+ odd) >> 13
        return sign | UInt16(truncatingIfNeeded: rounded &- ((127 - 15) << 10))
    }

    /// The float32 a float16 pattern stands for (exact).
    @inline(__always)
    public static func float(float16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F, mantissa = UInt32(bits) & 0x3FF
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            // Subnormal (or zero): mantissa × 2⁻²⁴, exact in float32.
            let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
    }

    /// `x` rounded to the nearest float16, as a float32.
    @inline(__always)
    public static func roundedToFloat16(_ x: Float) -> Float { float(float16: float16Bits(x)) }
}
