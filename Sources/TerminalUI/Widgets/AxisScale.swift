import Foundation

/// Maps data values to screen positions along one axis and chooses readable tick values.
public struct AxisScale: Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var logarithmic: Bool

    /// A scale covering `lower…upper`, widened when the range is empty so a flat series still
    /// draws (in the middle), and restricted to positive values on a log axis.
    public init(lower: Double, upper: Double, logarithmic: Bool = false) {
        var lo = lower, hi = upper
        if logarithmic {
            lo = max(lo, Double.leastNormalMagnitude)
            hi = max(hi, lo)
            if hi <= lo * 1.0001 { lo /= 1.5; hi *= 1.5 }
        } else if hi - lo <= Swift.max(abs(hi), abs(lo)) * 1e-9 {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        self.lower = lo
        self.upper = hi
        self.logarithmic = logarithmic
    }

    /// Position of `value` in 0…1 (outside when the value is out of range; NaN for log of ≤ 0).
    @inline(__always)
    public func fraction(_ value: Double) -> Double {
        if logarithmic {
            guard value > 0 else { return .nan }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// Round values inside the range: 1-2-5 steps on a linear axis; powers of ten (with 2× and 5×
    /// when there are few decades) on a log axis that spans a decade or more, linear steps otherwise.
    public func ticks(maxCount: Int) -> [Double] {
        guard maxCount >= 1 else { return [] }
        if logarithmic && upper / lower >= 10 {
            let first = Int(floor(log10(lower))), last = Int(ceil(log10(upper)))
            let decades = last - first
            let multipliers: [Double] = decades * 3 <= maxCount ? [1, 2, 5] : [1]
            var ticks: [Double] = []
            for e in first...last {
                for m in multipliers {
                    let v = m * pow(10, Double(e))
                    if v >= lower * 0.999999 && v <= upper * 1.000001 { ticks.append(v) }
                }
            }
            if ticks.count > maxCount {
                let stride = Int((Double(ticks.count) / Double(maxCount)).rounded(.up))
                ticks = ticks.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
            }
            return ticks
        }
        let step = Self.niceStep((upper - lower) / Double(max(1, maxCount)))
        var v = (lower / step).rounded(.up) * step
        var ticks: [Double] = []
        while v <= upper + step * 1e-9 && ticks.count <= maxCount {
            ticks.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return ticks
    }

    /// The smallest of 1, 2, 5 × 10^k not below `rough`.
    public static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(rough)))
        for m in [1.0, 2, 5, 10] where m * magnitude >= rough * 0.999999 { return m * magnitude }
        return 10 * magnitude
    }

    /// A short label: enough decimals to tell neighbouring ticks apart, k/M for big numbers,
    /// scientific notation for tiny ones (learning rates).
    public static func label(_ value: Double, step: Double) -> String {
        let a = abs(value)
        if a == 0 { return "0" }
        if a >= 1_000_000 { return trimmed(String(format: "%.1f", value / 1_000_000)) + "M" }
        if a >= 10_000 { return trimmed(String(format: "%.1f", value / 1_000)) + "k" }
        if a < 0.01 { return String(format: "%.0e", value) }
        let decimals = step > 0 ? max(0, min(4, Int(-floor(log10(step) + 1e-9)))) : 2
        return String(format: "%.\(decimals)f", value)
    }

    private static func trimmed(_ s: String) -> String {
        s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }
}
