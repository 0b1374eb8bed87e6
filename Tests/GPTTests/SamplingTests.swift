import Foundation
import Testing
@testable import GPT

/// Runs `settings.apply` on `logits` and returns the final distribution and the cut.
func applied(_ settings: SamplingSettings, _ logits: [Float]) -> ([Float], SamplingCut) {
    var probs = [Float](repeating: -1, count: logits.count)
    var ranking: [Int32] = []
    let cut = logits.withUnsafeBufferPointer { l in
        probs.withUnsafeMutableBufferPointer { settings.apply(l, into: $0, ranking: &ranking) }
    }
    return (probs, cut)
}

func sampleMany(_ settings: SamplingSettings, _ logits: [Float], count: Int, seed: UInt64 = 11) -> [Int32] {
    var sampler = Sampler(settings: settings, seed: seed)
    return logits.withUnsafeBufferPointer { l in (0..<count).map { _ in sampler.sample(l) } }
}

func randomLogits(_ n: Int, seed: UInt64) -> [Float] {
    var rng = RandomNumbers(seed: seed)
    return (0..<n).map { _ in 3 * rng.nextGaussian() }
}

func argmax(_ logits: [Float]) -> Int32 {
    Int32(logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!)
}

func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) { #expect(abs(x - y) <= tolerance, "\(a) vs \(b)", sourceLocation: sourceLocation) }
}

@Suite struct SamplingTests {
    /// Probabilities 0.05, 0.5, 0.1, 0.2, 0.15 on ids 0…4 (ranking: 1, 3, 4, 2, 0).
    let known: [Float] = [0.05, 0.5, 0.1, 0.2, 0.15].map { Float(log(Double($0))) }

    @Test func temperatureOneIsTheSoftmax() {
        let (p, cut) = applied(SamplingSettings(), known)
        expectClose(p, [0.05, 0.5, 0.1, 0.2, 0.15])
        #expect(cut == SamplingCut(kept: 5, keptByTopK: nil, keptByTopP: nil, keptMass: 1))
    }

    @Test func temperatureRescalesLogits() {
        // T = 2: pᵢ ∝ exp(log qᵢ / 2) = √qᵢ.
        let roots = [0.05, 0.5, 0.1, 0.2, 0.15].map { Float($0.squareRoot()) }
        let total = roots.reduce(0, +)
        expectClose(applied(SamplingSettings(temperature: 2), known).0, roots.map { $0 / total })
    }

    @Test func topKKeepsTheKBestRenormalised() {
        let (p, cut) = applied(SamplingSettings(topK: 2), known)
        expectClose(p, [0, 5.0 / 7, 0, 2.0 / 7, 0])
        #expect(cut.kept == 2 && cut.keptByTopK == 2 && cut.keptByTopP == nil)
        #expect(abs(cut.keptMass - 0.7) < 1e-6)
    }

    @Test func topPKeepsTheSmallestSetReachingP() {
        // 0.5 < 0.6 ≤ 0.5 + 0.2: two tokens.
        expectClose(applied(SamplingSettings(topP: 0.6), known).0, [0, 5.0 / 7, 0, 2.0 / 7, 0])
        // 0.7 < 0.75 ≤ 0.85: three.
        let (p, cut) = applied(SamplingSettings(topP: 0.75), known)
        expectClose(p, [0, 0.5 / 0.85, 0, 0.2 / 0.85, 0.15 / 0.85])
        #expect(cut.kept == 3 && cut.keptByTopP == 3 && abs(cut.keptMass - 0.85) < 1e-6)
        // Exactly the top token's probability: the top token alone reaches it.
        expectClose(applied(SamplingSettings(topP: 0.4), known).0, [0, 1, 0, 0, 0])
    }

    @Test func topPAppliesToTheTopKDistribution() {
        // Top-3 renormalised: 0.588, 0.235, 0.176 → 0.8 is reached by two tokens (0.824).
        let (p, cut) = applied(SamplingSettings(topK: 3, topP: 0.8), known)
        expectClose(p, [0, 5.0 / 7, 0, 2.0 / 7, 0])
        #expect(cut.keptByTopK == 3 && cut.keptByTopP == 2 && cut.kept == 2)
        // On the untruncated distribution the same p would need four tokens.
        #expect(applied(SamplingSettings(topP: 0.8), known).1.kept == 3)
        #expect(applied(SamplingSettings(topP: 0.86), known).1.kept == 4)
    }

    @Test func tiesAreBrokenByTheLowerId() {
        let tied: [Float] = [1, 3, 3, 0, 3]
        expectClose(applied(.greedy, tied).0, [0, 1, 0, 0, 0])
        expectClose(applied(SamplingSettings(topK: 1), tied).0, [0, 1, 0, 0, 0])
        expectClose(applied(SamplingSettings(topK: 2), tied).0, [0, 0.5, 0.5, 0, 0])
        expectClose(applied(SamplingSettings(topP: 0.001), tied).0, [0, 1, 0, 0, 0])
        // Two of three equal tokens reach 0.6 of their mass: the two lower ids.
        let (p, _) = applied(SamplingSettings(topP: 0.6), tied)
        #expect(p[1] > 0 && p[2] > 0 && p[4] == 0)
    }

    @Test func switchedOffTransformsChangeNothing() {
        for seed in 0..<20 as Range<UInt64> {
            let logits = randomLogits(65, seed: seed)
            let plain = applied(SamplingSettings(temperature: 0.8), logits).0
            #expect(applied(SamplingSettings(temperature: 0.8, topK: 0, topP: 1), logits).0 == plain)
            #expect(applied(SamplingSettings(temperature: 0.8, topK: 65), logits).0 == plain)
            #expect(sampleMany(SamplingSettings(temperature: 0.8, topK: 0, topP: 1), logits, count: 50)
                    == sampleMany(SamplingSettings(temperature: 0.8), logits, count: 50))
        }
    }

    @Test func limitsEqualGreedy() {
        for seed in 0..<50 as Range<UInt64> {
            let logits = randomLogits(65, seed: seed)
            let best = argmax(logits)
            let greedy = sampleMany(.greedy, logits, count: 20, seed: seed)
            #expect(greedy == Array(repeating: best, count: 20))
            #expect(sampleMany(SamplingSettings(temperature: 1e-6), logits, count: 20, seed: seed) == greedy)
            #expect(sampleMany(SamplingSettings(topK: 1), logits, count: 20, seed: seed) == greedy)
            #expect(sampleMany(SamplingSettings(topP: 1e-6), logits, count: 20, seed: seed) == greedy)
            #expect(sampleMany(SamplingSettings(topP: 0), logits, count: 20, seed: seed) == greedy)
        }
    }

    @Test func drawsFollowTheDistribution() {
        let n = 40_000
        let tokens = sampleMany(SamplingSettings(topK: 3), known, count: n)
        var counts = [Int](repeating: 0, count: 5)
        for t in tokens { counts[Int(t)] += 1 }
        let expected: [Double] = [0, 0.5 / 0.85, 0, 0.2 / 0.85, 0.15 / 0.85]
        for i in 0..<5 {
            // Five standard deviations of a binomial count.
            let sd = (Double(n) * expected[i] * (1 - expected[i])).squareRoot()
            #expect(abs(Double(counts[i]) - Double(n) * expected[i]) <= 5 * sd + 1e-9, "\(counts)")
        }
    }

    @Test func sameSeedSameTokens() {
        let logits = randomLogits(65, seed: 3)
        let settings = SamplingSettings(temperature: 1.3, topK: 30, topP: 0.9)
        #expect(sampleMany(settings, logits, count: 200, seed: 42) == sampleMany(settings, logits, count: 200, seed: 42))
        #expect(sampleMany(settings, logits, count: 200, seed: 42) != sampleMany(settings, logits, count: 200, seed: 43))
    }

    @Test func nanLogitsFallBackToTheBestFiniteToken() {
        let (p, _) = applied(SamplingSettings(), [.nan, 2, .nan, 1])
        #expect(p[0] == 0 && p[2] == 0 && abs(p[1] + p[3] - 1) < 1e-6)
        expectClose(applied(.greedy, [.nan, 2, .nan, 5]).0, [0, 0, 0, 1])
    }

    @Test func distributionShowsBeforeAndAfterAndTheCut() {
        let settings = SamplingSettings(temperature: 2, topK: 3, topP: 0.5)
        let d = known.withUnsafeBufferPointer { settings.distribution($0, top: 4) }
        #expect(d.entries.map(\.token) == [1, 3, 4, 2])
        #expect(d.entries.map(\.rank) == [0, 1, 2, 3])
        expectClose(d.entries.map(\.modelProbability), [0.5, 0.2, 0.15, 0.1])
        let roots = [0.5, 0.2, 0.15, 0.1, 0.05].map { Float($0.squareRoot()) }, total = roots.reduce(0, +)
        expectClose(d.entries.map(\.temperedProbability), roots.prefix(4).map { $0 / total })
        // Top-3 of the tempered distribution, then the nucleus reaching 0.5 of it: two tokens.
        let top2 = roots[0] + roots[1]
        expectClose(d.entries.map(\.probability), [roots[0] / top2, roots[1] / top2, 0, 0])
        #expect(d.cut.keptByTopK == 3 && d.cut.keptByTopP == 2 && d.cut.kept == 2)
        #expect(abs(d.cut.keptMass - top2 / total) < 1e-6)
    }

    @Test func settingsAreValidated() {
        #expect(throws: ConfigError.self) { try SamplingSettings(temperature: -1).validate() }
        #expect(throws: ConfigError.self) { try SamplingSettings(temperature: .nan).validate() }
        #expect(throws: ConfigError.self) { try SamplingSettings(topK: -2).validate() }
        #expect(throws: ConfigError.self) { try SamplingSettings(topP: 1.5).validate() }
        #expect(throws: Never.self) { try SamplingSettings(temperature: 0, topK: 0, topP: 0).validate() }
    }
}
