import Foundation

/// A histogram of log₁₀|x| over fixed decades, the usual way to look at gradients: their
/// magnitudes span many orders, so equal-width bins of the raw values put nearly everything in
/// the middle bin.
///
/// Binning, with `lower` = L (a log₁₀), bin width w decades and n bins:
///
///     bin k (0 ≤ k < n) holds   10^(L + k·w) ≤ |x| < 10^(L + (k+1)·w)        (half-open)
///     zeros                     x = ±0                  (log₁₀ 0 = −∞: counted apart, never binned)
///     below                     0 < |x| < 10^L          (tiny values, subnormals included)
///     above                     |x| ≥ 10^(L + n·w)      (finite)
///     nonFinite                 NaN, ±∞
///
/// The edges are the `Float`s nearest to 10^(L + k·w), and a value is placed by comparing its
/// magnitude with them, never by evaluating log₁₀ on it. For finite non-negative floats the
/// order of the bit patterns is the order of the values — subnormals (exponent field 0) sit below
/// every normal number — so the comparison is an integer binary search on the bits: exact at
/// the edges, and a subnormal such as 1e-40 needs no special case.
///
/// The range is the same for every tensor and every step, so bars stay comparable over time.
public struct LogMagnitudeHistogram: Sendable, Equatable {
    /// log₁₀ of the lowest edge.
    public var lower: Float
    /// Bin width in decades.
    public var binWidth: Float
    public var counts: [Int]
    public var zeros = 0
    public var below = 0
    public var above = 0
    public var nonFinite = 0

    /// 10⁻¹⁰ … 10¹ in quarter decades: gradients of these models live in 1e-8 … 1e-1.
    public init(lower: Float = -10, binWidth: Float = 0.25, bins: Int = 44) {
        precondition(bins > 0 && binWidth > 0)
        self.lower = lower
        self.binWidth = binWidth
        counts = [Int](repeating: 0, count: bins)
    }

    /// log₁₀ of the upper edge of the last bin.
    public var upper: Float { lower + Float(counts.count) * binWidth }

    /// Every value that was counted, whatever its category.
    public var total: Int { counts.reduce(0, +) + zeros + below + above + nonFinite }

    /// Edge k as a bit pattern, for k in 0...bins (the last one closes the last bin).
    func edgeBits() -> [UInt32] {
        (0...counts.count).map { k in Float(pow(10, Double(lower) + Double(k) * Double(binWidth))).bitPattern }
    }

    public enum Placement: Equatable, Sendable {
        case bin(Int), zero, below, above, nonFinite
    }

    /// Where `x` goes, given the edges from `edgeBits()`.
    @inline(__always)
    static func place(_ x: Float, edges: UnsafeBufferPointer<UInt32>) -> Placement {
        let bits = x.bitPattern & 0x7FFF_FFFF  // |x|
        if bits >= 0x7F80_0000 { return .nonFinite }
        if bits == 0 { return .zero }
        if bits < edges[0] { return .below }
        if bits >= edges[edges.count - 1] { return .above }
        // The last edge ≤ bits: invariant edges[lo] ≤ bits < edges[hi].
        var lo = 0, hi = edges.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if edges[mid] <= bits { lo = mid } else { hi = mid }
        }
        return .bin(lo)
    }

    /// Where `x` goes in this histogram.
    public func placement(of x: Float) -> Placement {
        edgeBits().withUnsafeBufferPointer { Self.place(x, edges: $0) }
    }

    public mutating func add(_ values: UnsafeBufferPointer<Float>) {
        let edges = edgeBits()
        edges.withUnsafeBufferPointer { e in
            for x in values {
                switch Self.place(x, edges: e) {
                case .bin(let k): counts[k] += 1
                case .zero: zeros += 1
                case .below: below += 1
                case .above: above += 1
                case .nonFinite: nonFinite += 1
                }
            }
        }
    }
}

/// A histogram of the raw values over n equal bins spanning −m … m, where m is the largest
/// finite |x| of the tensor (symmetric, so zero is always the centre of the middle bin when n is
/// odd):
///
///     width = 2m / n;   bin k holds  −m + k·width ≤ x < −m + (k+1)·width,   and x = m goes in bin n−1
///     bin(x) = min(n − 1, ⌊(x + m) / width⌋)
///
/// An all-zero tensor (m = 0) puts every value in the middle bin. Non-finite values are not binned.
public struct ValueHistogram: Sendable, Equatable {
    /// m: the bins span −limit … limit.
    public var limit: Float
    public var counts: [Int]

    public init(limit: Float, bins: Int = 41) {
        precondition(bins > 0)
        self.limit = limit
        counts = [Int](repeating: 0, count: bins)
    }

    /// The bin of a finite `x` (which must lie in −limit … limit).
    @inline(__always)
    public func bin(of x: Float) -> Int {
        let n = counts.count
        guard limit > 0 else { return n / 2 }
        let k = Int(((Double(x) + Double(limit)) / (2 * Double(limit)) * Double(n)).rounded(.down))
        return min(n - 1, max(0, k))
    }
}

/// What the Gradients pane shows for one parameter tensor.
public struct TensorStatistics: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// Finite values counted (non-finite ones are in `logHistogram.nonFinite`).
    public var count: Int
    public var mean: Float
    /// Population standard deviation, √(Σ(x − mean)² / count).
    public var std: Float
    /// Fraction of exact zeros (±0) among all values.
    public var zeroFraction: Float
    public var logHistogram: LogMagnitudeHistogram
    public var valueHistogram: ValueHistogram
    /// std(Δθ)/std(θ) across the optimizer step (see `UpdateRatio`); nil when the step was
    /// skipped or the weights are constant (LayerNorm gains at initialisation).
    public var updateRatio: Float?
    /// How much of S·g float16 and bfloat16 would flush to zero or to ∞, S the step's loss scale
    /// (`Telemetry.lossScale`); nil where it was not measured (a telemetry log that lacks it).
    public var halfRange: HalfRangeStatistics?

    /// Statistics of `values` in two passes (mean and largest magnitude, then spread and bins),
    /// sums in Double.
    public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
        self.name = name
        self.shape = shape
        var sum = 0.0, n = 0
        var limit: Float = 0
        for x in values where x.isFinite {
            sum += Double(x); n += 1
            limit = max(limit, abs(x))
        }
        let mean = n > 0 ? sum / Double(n) : 0
        var log = LogMagnitudeHistogram()
        var raw = ValueHistogram(limit: limit)
        var squares = 0.0
        let edges = log.edgeBits()
        edges.withUnsafeBufferPointer { e in
            for x in values {
                switch LogMagnitudeHistogram.place(x, edges: e) {
                case .bin(let k): log.counts[k] += 1
                case .zero: log.zeros += 1
                case .below: log.below += 1
                case .above: log.above += 1
                case .nonFinite: log.nonFinite += 1; continue
                }
                let d = Double(x) - mean
                squares += d * d
                raw.counts[raw.bin(of: x)] += 1
            }
        }
        count = n
        self.mean = Float(mean)
        std = n > 0 ? Float((squares / Double(n)).squareRoot()) : 0
        zeroFraction = values.isEmpty ? 0 : Float(log.zeros) / Float(values.count)
        logHistogram = log
        valueHistogram = raw
        updateRatio = nil
        halfRange = nil
    }
}

/// The update-to-data ratio of a group of weights across one optimizer step (Karpathy's
/// "update:data ratio", makemore part 3), with θ the weights before the step and Δ = θ_new − θ
/// the whole change the optimizer made (lr · Adam direction + weight decay):
///
///     ratio = std(Δ) / std(θ),    std(x) = √(Σx²/n − (Σx/n)²)
///
/// Around 1e-3 is healthy: much lower and the weights barely move (lr too small), much higher
/// and each step rewrites them (lr too large). Sums are kept so a layer's ratio can be formed
/// over several tensors at once.
public struct UpdateRatio: Sendable, Equatable {
    public var n = 0
    public var weightSum = 0.0, weightSquares = 0.0
    public var updateSum = 0.0, updateSquares = 0.0

    public init() {}

    /// Adds the elements of one tensor: `before` the step and `after` it.
    public mutating func add(before: UnsafePointer<Float>, after: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let w = Double(before[i]), d = Double(after[i]) - w
            weightSum += w; weightSquares += w * w
            updateSum += d; updateSquares += d * d
        }
        n += count
    }

    public mutating func add(_ other: UpdateRatio) {
        n += other.n
        weightSum += other.weightSum; weightSquares += other.weightSquares
        updateSum += other.updateSum; updateSquares += other.updateSquares
    }

    static func std(sum: Double, squares: Double, n: Int) -> Double {
        guard n > 0 else { return 0 }
        let mean = sum / Double(n)
        return max(0, squares / Double(n) - mean * mean).squareRoot()
    }

    /// nil when the weights have no spread (the ratio is undefined) or nothing was added.
    public var ratio: Float? {
        let w = Self.std(sum: weightSum, squares: weightSquares, n: n)
        guard w > 0, w.isFinite else { return nil }
        let r = Self.std(sum: updateSum, squares: updateSquares, n: n) / w
        return r.isFinite ? Float(r) : nil
    }
}
