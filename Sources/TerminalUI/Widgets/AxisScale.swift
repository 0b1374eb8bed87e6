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

    /// Round values inside the range, at most `maxCount` of them, all distinct: 1-2-5 × 10^k steps
    /// on a linear axis; on a log axis that spans a decade or more, powers of ten (with 2× and 5×
    /// when there are few decades, every other decade when there are many); on a log axis of less
    /// than a decade, the same 1-2-5 linear steps (a few round values, unevenly spaced).
    public func ticks(maxCount: Int) -> [Double] {
        guard maxCount >= 1 else { return [] }
        if logarithmic && upper / lower >= 10 {
            let first = Int(floor(log10(lower))), last = Int(ceil(log10(upper)))
            for multipliers in [[1.0, 2, 5], [1.0, 3], [1.0]] {
                var ticks: [Double] = []
                for e in first...last {
                    for m in multipliers {
                        let v = m * pow(10, Double(e))
                        if v >= lower * 0.999999 && v <= upper * 1.000001 { ticks.append(v) }
                    }
                }
                if ticks.count <= maxCount { return ticks }
                if multipliers.count == 1 {
                    let stride = Int((Double(ticks.count) / Double(maxCount)).rounded(.up))
                    return ticks.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
                }
            }
        }
        // Linear steps: the smallest nice step that gives at most maxCount ticks.
        var step = Self.niceStep((upper - lower) / Double(max(1, maxCount)))
        while true {
            var ticks: [Double] = []
            var v = (lower / step).rounded(.up) * step
            while v <= upper + step * 1e-9 {
                ticks.append(abs(v) < step * 1e-9 ? 0 : v)
                v += step
            }
            if ticks.count <= maxCount || step > (upper - lower) * 10 { return Array(ticks.prefix(maxCount)) }
            step = Self.niceStep(step * 1.0001)
        }
    }

    /// The smallest of 1, 2, 5 × 10^k not below `rough`.
    public static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(rough)))
        for m in [1.0, 2, 5, 10] where m * magnitude >= rough * 0.999999 { return m * magnitude }
        return 10 * magnitude
    }

    /// Labels for `ticks`, all distinct, with as many decimals as the smallest gap between
    /// neighbours needs (and no more): `1.5 2.0 2.5`, `2 3 4`, `0.2 0.5 1 2` on a log axis,
    /// `1e-4 1e-3` for tiny values, k/M for big ones.
    public static func labels(_ ticks: [Double], logarithmic: Bool = false) -> [String] {
        guard !ticks.isEmpty else { return [] }
        if logarithmic && ticks.count >= 2 {
            // Each tick by its own magnitude (0.2, 0.5, 1, 2, 50); tiny ones in scientific form.
            let own = ticks.map { label($0, step: $0 >= 1 ? 1 : pow(10, floor(log10($0)))) }
            if Set(own).count == own.count && zip(own, ticks).allSatisfy({ reads($0, as: $1) }) { return own }
        }
        var gap = Double.infinity
        for (a, b) in zip(ticks, ticks.dropFirst()) where b - a > 0 { gap = min(gap, b - a) }
        if !gap.isFinite { gap = ticks[0] == 0 ? 1 : abs(ticks[0]) }
        var step = gap
        for _ in 0..<6 {
            let result = ticks.map { label($0, step: step) }
            if Set(result).count == result.count && zip(result, ticks).allSatisfy({ reads($0, as: $1) }) { return result }
            step /= 10
        }
        return ticks.map { String(format: "%g", $0) }
    }

    /// A short label: enough decimals for ticks `step` apart, k/M for big numbers, scientific
    /// notation for tiny ones (learning rates, update ratios).
    public static func label(_ value: Double, step: Double) -> String {
        let a = abs(value)
        if a == 0 { return "0" }
        if a >= 1_000_000 { return trimmed(String(format: "%.\(bigDecimals(step, 1_000_000))f", value / 1_000_000)) + "M" }
        if a >= 10_000 { return trimmed(String(format: "%.\(bigDecimals(step, 1_000))f", value / 1_000)) + "k" }
        let decimals = step > 0 ? max(0, Int(-floor(log10(step) + 1e-9))) : 2
        if a < 0.01 || decimals > 4 {
            // Mantissa digits: as many as tell the ticks apart.
            let digits = max(0, min(3, Int(floor(log10(a) + 1e-9)) - Int(floor(log10(step) + 1e-9))))
            let s = String(format: "%.\(digits)e", value)
            // "1e-03" → "1e-3": shorter, and still a number.
            return s.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e+")
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// The label says the tick's value (to a millionth): no digit was lost.
    static func reads(_ label: String, as value: Double) -> Bool {
        var text = label, factor = 1.0
        if text.hasSuffix("k") { text.removeLast(); factor = 1e3 }
        if text.hasSuffix("M") { text.removeLast(); factor = 1e6 }
        guard let read = Double(text) else { return false }
        return abs(read * factor - value) <= abs(value) * 1e-6 + 1e-12
    }

    private static func bigDecimals(_ step: Double, _ unit: Double) -> Int {
        guard step > 0 else { return 1 }
        return max(0, min(3, Int(-floor(log10(step / unit) + 1e-9))))
    }

    private static func trimmed(_ s: String) -> String {
        s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }
}
