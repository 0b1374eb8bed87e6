import Testing
import Kernels
import TestSupport

/// The model computes the probabilities over its logits buffer (one B·T·V buffer instead of
/// two); the loss must not change when `probs` aliases `logits`.
@Suite struct CrossEntropyAliasingTests {
    @Test func probabilitiesOverTheLogitsGiveTheSameLossAndProbabilities() {
        var rng = SplitMix64(seed: 8)
        let rows = 5, v = 37
        let logits = (0..<(rows * v)).map { _ in (rng.nextFloat() * 2 - 1) * 4 }
        let targets: [Int32] = [3, 0, 36, 17, 9]
        let probs = buffer(rows * v), losses = buffer(rows), aliasedLosses = buffer(rows)
        let inPlace = buffer(rows * v)
        _ = inPlace.update(fromContentsOf: logits)
        let separate = logits.withPointer { z in targets.withUnsafeBufferPointer { t in
            CrossEntropy.forward(probs: probs.baseAddress!, losses: losses.baseAddress!, logits: z,
                                 targets: t.baseAddress!, rows: rows, vocab: v)
        } }
        let aliased = targets.withUnsafeBufferPointer { t in
            CrossEntropy.forward(probs: inPlace.baseAddress!, losses: aliasedLosses.baseAddress!,
                                 logits: inPlace.baseAddress!, targets: t.baseAddress!, rows: rows, vocab: v)
        }
        #expect(aliased == separate)
        #expect(Array(aliasedLosses) == Array(losses))
        #expect(Array(inPlace) == Array(probs))
    }
}
