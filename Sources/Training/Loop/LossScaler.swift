/// Dynamic loss scaling for float16 training, with `torch.amp.GradScaler`'s semantics.
///
/// float16 cannot hold numbers below 6e-8 (see `HalfPrecision`), and many gradients are smaller
/// than that: computed in float16 they would become 0 and the weights they belong to would stop
/// learning. So the loss is multiplied by a large factor S before the backward pass — every
/// gradient is then S times larger and clear of the underflow — and the gradients are divided by
/// S before the optimizer uses them:
///
///     backward of (S · loss)  →  g_scaled = S·g      g = g_scaled / S      AdamW(g)
///
/// S is chosen dynamically. Too large, and some g_scaled overflows float16's 65504 and becomes
/// ∞ or NaN; then the step is skipped (weights and moments untouched) and S is halved. After
/// `growthInterval` steps in a row without an overflow, S is doubled, to reclaim the range that
/// small gradients need. S starts at 2¹⁶ = 65536. bfloat16 has float32's exponent range and needs
/// none of this.
public struct LossScaler: Sendable, Equatable {
    /// S, the factor the loss is multiplied by for the next backward pass.
    public private(set) var scale: Float
    public let growthFactor: Float
    public let backoffFactor: Float
    public let growthInterval: Int
    /// Steps in a row without an overflow since the last change of S (GradScaler's growth tracker).
    public private(set) var finiteStreak = 0
    /// Steps skipped for an overflow, over the run.
    public private(set) var skippedSteps = 0

    public init(scale: Float = 65536, growthFactor: Float = 2, backoffFactor: Float = 0.5, growthInterval: Int = 2000) {
        self.scale = scale
        self.growthFactor = growthFactor
        self.backoffFactor = backoffFactor
        self.growthInterval = growthInterval
    }

    /// Restores a saved state (exact resume).
    public init(scale: Float, finiteStreak: Int, skippedSteps: Int, growthInterval: Int = 2000) {
        self.init(scale: scale, growthInterval: growthInterval)
        self.finiteStreak = finiteStreak
        self.skippedSteps = skippedSteps
    }

    /// Records the outcome of a step whose gradients were scaled by `scale`: returns whether the
    /// optimizer step may be applied (false: an overflow, skip it), and moves S for the next step.
    @discardableResult
    public mutating func update(gradientsAreFinite: Bool) -> Bool {
        if gradientsAreFinite {
            finiteStreak += 1
            if finiteStreak == growthInterval {
                // GradScaler keeps the old scale if growing it would overflow float32.
                let grown = scale * growthFactor
                if grown.isFinite { scale = grown }
                finiteStreak = 0
            }
            return true
        }
        scale *= backoffFactor
        finiteStreak = 0
        skippedSteps += 1
        return false
    }
}
