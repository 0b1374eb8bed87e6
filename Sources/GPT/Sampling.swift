import Foundation

/// How the next token is chosen from the model's logits z (one per vocabulary entry), applied in
/// nanoGPT's and Hugging Face's order: temperature, then top-k, then top-p.
///
/// **Temperature** T rescales the logits before the softmax:
///
///     pᵢ = exp(zᵢ / T) / Σⱼ exp(zⱼ / T)
///
/// T < 1 sharpens the distribution, T > 1 flattens it. As T → 0 all the mass goes to the largest
/// logit, so T = 0 means **greedy**: always the argmax (ties to the lower token id).
///
/// **Top-k** keeps the k most likely tokens and renormalises:
///
///     p'ᵢ = pᵢ / Σ_{j ∈ K} pⱼ  for i ∈ K (the k largest),  0 otherwise          (k = 0: off)
///
/// Tokens are ranked by logit, ties broken by the lower id, so exactly k survive (nanoGPT keeps
/// every token tied with the k-th; with real-valued logits ties practically never happen).
///
/// **Top-p** (nucleus sampling, Holtzman et al. 2019) keeps the smallest set of most likely tokens
/// whose probability reaches p, and renormalises over it:
///
///     N = the shortest prefix of the ranking with Σ_{i ∈ N} p'ᵢ ≥ p             (p ≥ 1: off)
///
/// It is never empty: the top token alone is kept when p ≤ its probability, so p → 0 is greedy.
///
/// The token is then drawn by inverse transform sampling: one uniform u ∈ [0, 1) from
/// `RandomNumbers`, and the first token id whose cumulative probability exceeds u. Exactly one
/// draw per token whatever the settings, so a seed fixes the whole text.
public struct SamplingSettings: Sendable, Equatable, Codable {
    /// 0 = greedy.
    public var temperature: Float
    /// 0 = off (all tokens).
    public var topK: Int
    /// 1 = off (all tokens).
    public var topP: Float

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingSettings(temperature: 0)

    /// Checks the values; the message names the problem.
    public func validate() throws(ConfigError) {
        if !(temperature >= 0 && temperature.isFinite) {
            throw ConfigError("temperature = \(temperature) must be 0 (greedy) or positive")
        }
        if topK < 0 { throw ConfigError("top-k = \(topK) must be 0 (off) or a positive number of tokens") }
        if !(topP >= 0 && topP <= 1) { throw ConfigError("top-p = \(topP) must be between 0 and 1 (1 = off)") }
    }

    /// Writes the final sampling distribution of `logits` into `probs` (same count): the tokens
    /// that survive the transforms with their renormalised probabilities, every other token 0.
    /// `ranking` is scratch space. Returns where the cuts fell.
    @discardableResult
    public func apply(_ logits: UnsafeBufferPointer<Float>, into probs: UnsafeMutableBufferPointer<Float>,
                      ranking: inout [Int32]) -> SamplingCut {
        let n = logits.count
        precondition(n > 0 && probs.count == n)
        // Greedy, and the fallback for logits with no usable maximum (a diverged model's NaNs).
        let best = Self.argmax(logits)
        let top = logits[best]
        if temperature == 0 || !top.isFinite {
            probs.update(repeating: 0)
            probs[best] = 1
            return SamplingCut(kept: 1, keptByTopK: topK > 0 ? 1 : nil, keptByTopP: topP < 1 ? 1 : nil, keptMass: 1)
        }
        // Tempered softmax; subtracting the maximum first keeps exp() in range for any T.
        var sum: Float = 0
        for i in 0..<n {
            let e = expf((logits[i] - top) / temperature)
            probs[i] = e.isNaN ? 0 : e
            sum += probs[i]
        }
        for i in 0..<n { probs[i] /= sum }

        var cut = SamplingCut(kept: n, keptByTopK: nil, keptByTopP: nil, keptMass: 1)
        let useTopK = topK > 0 && topK < n, useTopP = topP < 1
        guard useTopK || useTopP else { return cut }

        // Rank the candidates, best first. Top-k only needs its k; top-p alone only needs the
        // tokens with pᵢ ≥ τ = (1 − p)/2n: the rest together hold less than (1 − p)/2, so the
        // tokens above τ hold more than p and the nucleus (a prefix of the ranking) lies among them.
        ranking.removeAll(keepingCapacity: true)
        let threshold: Float = useTopK ? 0 : (1 - topP) / Float(2 * n)
        for i in 0..<n where probs[i] >= threshold {
            ranking.append(Int32(i))
        }
        if useTopK {
            Self.keepBest(&ranking, count: topK, logits: logits)
        } else {
            ranking.sort { Self.ranksBefore($0, $1, logits) }
        }
        var keptMass: Float = 0
        if useTopK {
            for id in ranking { keptMass += probs[Int(id)] }
            cut.keptByTopK = ranking.count
        }
        if useTopP {
            // The nucleus of the (renormalised) top-k distribution, as HF applies top-p after top-k.
            let total = useTopK ? keptMass : 1
            var cumulative: Float = 0, length = 0
            for id in ranking {
                cumulative += probs[Int(id)] / total
                length += 1
                if cumulative >= topP { break }
            }
            ranking.removeSubrange(length...)
            cut.keptByTopP = length
            keptMass = 0
            for id in ranking { keptMass += probs[Int(id)] }
        }
        // Renormalise over the survivors; everything else becomes exactly 0.
        var kept = [Float](repeating: 0, count: ranking.count)
        for (r, id) in ranking.enumerated() { kept[r] = probs[Int(id)] / keptMass }
        probs.update(repeating: 0)
        for (r, id) in ranking.enumerated() { probs[Int(id)] = kept[r] }
        cut.kept = ranking.count
        cut.keptMass = keptMass
        return cut
    }

    /// The distribution the dashboard shows: the `top` most likely tokens (by logit, ties to the
    /// lower id) with their probabilities before and after the transforms, and where the cuts fell.
    public func distribution(_ logits: UnsafeBufferPointer<Float>, top: Int) -> NextTokenDistribution {
        let n = logits.count
        var raw = [Float](repeating: 0, count: n), final = [Float](repeating: 0, count: n)
        var ranking: [Int32] = []
        raw.withUnsafeMutableBufferPointer { _ = SamplingSettings(temperature: 1).apply(logits, into: $0, ranking: &ranking) }
        var tempered = raw
        if temperature != 1 {
            tempered.withUnsafeMutableBufferPointer {
                _ = SamplingSettings(temperature: temperature).apply(logits, into: $0, ranking: &ranking)
            }
        }
        let cut = final.withUnsafeMutableBufferPointer { apply(logits, into: $0, ranking: &ranking) }
        var best = (0..<Int32(n)).map { $0 }
        Self.keepBest(&best, count: max(0, top), logits: logits)
        let entries = best.enumerated().map { rank, id in
            let i = Int(id)
            return NextTokenDistribution.Entry(token: id, rank: rank, logit: logits[i], modelProbability: raw[i],
                                               temperedProbability: tempered[i], probability: final[i])
        }
        return NextTokenDistribution(entries: entries, cut: cut)
    }

    // MARK: - Ranking

    /// Token a ranks before token b: larger logit, or the same logit and a lower id.
    @inline(__always)
    static func ranksBefore(_ a: Int32, _ b: Int32, _ logits: UnsafeBufferPointer<Float>) -> Bool {
        let la = logits[Int(a)], lb = logits[Int(b)]
        return la > lb || (la == lb && a < b) || (lb.isNaN && !la.isNaN)
    }

    /// The first maximum (NaNs never win).
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<logits.count where ranksBefore(Int32(i), Int32(best), logits) { best = i }
        return best
    }

    /// Reduces `ids` to its best `count` in ranking order, in O(n·log count) plus insertions:
    /// most tokens lose to the current k-th at once.
    static func keepBest(_ ids: inout [Int32], count k: Int, logits: UnsafeBufferPointer<Float>) {
        if k >= ids.count { ids.sort { ranksBefore($0, $1, logits) }; return }
        var best: [Int32] = []
        best.reserveCapacity(k + 1)
        for id in ids {
            if best.count == k, let last = best.last, !ranksBefore(id, last, logits) { continue }
            // Binary search for the insertion point.
            var lo = 0, hi = best.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ranksBefore(best[mid], id, logits) { lo = mid + 1 } else { hi = mid }
            }
            best.insert(id, at: lo)
            if best.count > k { best.removeLast() }
        }
        ids = best
    }
}

/// Where the transforms cut the distribution.
public struct SamplingCut: Sendable, Equatable {
    /// Tokens left with a non-zero probability.
    public var kept: Int
    /// Tokens top-k kept (nil when off).
    public var keptByTopK: Int?
    /// Tokens top-p kept (nil when off).
    public var keptByTopP: Int?
    /// The tempered probability mass of the kept tokens before renormalisation (1 when nothing
    /// was cut): how much of the model's belief the cuts threw away is 1 − keptMass.
    public var keptMass: Float
}

/// The next-token distribution as the sampling console shows it.
public struct NextTokenDistribution: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var token: Int32
        /// 0 for the most likely token.
        public var rank: Int
        public var logit: Float
        /// softmax(z): the model's own belief (temperature 1, no cuts).
        public var modelProbability: Float
        /// softmax(z / T): after the temperature, before top-k and top-p.
        public var temperedProbability: Float
        /// What the token is actually drawn with (0 if cut).
        public var probability: Float
    }

    /// The most likely tokens, best first.
    public var entries: [Entry]
    public var cut: SamplingCut
}

/// Draws tokens with `settings` from a seeded stream: the same seed, settings and logits give the
/// same tokens.
public struct Sampler: Sendable {
    public var settings: SamplingSettings
    public private(set) var random: RandomNumbers
    private var probs: [Float] = []
    private var ranking: [Int32] = []

    public init(settings: SamplingSettings, seed: UInt64) {
        self.settings = settings
        random = RandomNumbers(seed: seed)
    }

    /// The next token for `logits`.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if probs.count != logits.count { probs = [Float](repeating: 0, count: logits.count) }
        let settings = self.settings
        probs.withUnsafeMutableBufferPointer { _ = settings.apply(logits, into: $0, ranking: &ranking) }
        return Self.draw(probs, uniform: random.nextUniform())
    }

    /// Inverse transform sampling: the first id whose cumulative probability exceeds u. If
    /// rounding leaves the total a hair below u, the last token with any probability.
    public static func draw(_ probs: [Float], uniform u: Float) -> Int32 {
        var cumulative: Float = 0
        var last = 0
        for (i, p) in probs.enumerated() where p > 0 {
            cumulative += p
            last = i
            if u < cumulative { return Int32(i) }
        }
        return Int32(last)
    }
}
