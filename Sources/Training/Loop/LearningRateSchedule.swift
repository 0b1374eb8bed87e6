import Foundation

/// nanoGPT's learning-rate schedule (`train.py`'s `get_lr`): linear warmup, then cosine decay
/// to a floor.
///
///     it < warmup:          lr = lr_max · (it + 1) / (warmup + 1)
///     it > decay_iters:     lr = lr_min
///     otherwise:            r  = (it − warmup) / (decay_iters − warmup)
///                           lr = lr_min + ½ (1 + cos(π r)) · (lr_max − lr_min)
public struct LearningRateSchedule: Sendable, Equatable {
    public var maxLR: Float
    public var minLR: Float
    public var warmupIters: Int
    public var decayIters: Int
    /// `false` keeps `maxLR` throughout (nanoGPT's `decay_lr = False`).
    public var decays: Bool

    public init(maxLR: Float, minLR: Float, warmupIters: Int, decayIters: Int, decays: Bool = true) {
        self.maxLR = maxLR
        self.minLR = minLR
        self.warmupIters = warmupIters
        self.decayIters = decayIters
        self.decays = decays
    }

    public func lr(at it: Int) -> Float {
        guard decays else { return maxLR }
        if it < warmupIters { return maxLR * Float(it + 1) / Float(warmupIters + 1) }
        if it > decayIters { return minLR }
        let span = max(1, decayIters - warmupIters)
        let ratio = Double(it - warmupIters) / Double(span)
        let coeff = 0.5 * (1 + cos(Double.pi * ratio))
        return minLR + Float(coeff) * (maxLR - minLR)
    }
}
