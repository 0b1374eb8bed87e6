import Foundation
import Testing
import Kernels
@testable import GPT

@Suite struct StrategyComparisonTests {
    static let config = GPTConfig(vocabSize: 37, blockSize: 20, nLayer: 2, nHead: 3, nEmbd: 36)

    @Test func metricsOfKnownSequences() {
        // 1 2 1 2 1 2: bigrams 12 21 12 21 12 → 2 unique of 5; 4-grams 1212 2121 1212 → 2 of 3.
        let loop: [Int32] = [1, 2, 1, 2, 1, 2]
        let m = StrategyMetrics(tokens: loop, logProbabilities: [-1, -2, -3, -1, -2, -3])
        #expect(m.tokens == 6 && m.meanLogProbability == -2)
        #expect(m.distinct2 == 0.4)
        #expect(abs(m.repetition4 - 1.0 / 3) < 1e-6)
        let fresh = StrategyMetrics(tokens: [1, 2, 3, 4, 5, 6], logProbabilities: [0])
        #expect(fresh.distinct2 == 1 && fresh.repetition4 == 0)
        #expect(StrategyMetrics(tokens: [], logProbabilities: []) == StrategyMetrics(tokens: [], logProbabilities: []))
    }

    @Test func logProbabilityIsTheLogSoftmax() {
        let logits: [Float] = [1, 2, 3, -1]
        let total = logits.map { exp(Double($0)) }.reduce(0, +)
        logits.withUnsafeBufferPointer { z in
            for i in 0..<4 { #expect(abs(Double(LogProbability.of(i, z)) - (Double(logits[i]) - log(total))) < 1e-6) }
        }
    }

    @Test func fourColumnsFromOneSeedAndGreedyIsTheMostLikely() throws {
        let generator = try Generator(ModelWeights(copying: try randomModel(Self.config)))
        let strategies = DecodingStrategy.standardFour()
        #expect(strategies.map(\.name) == ["greedy", "temperature 0.8", "top-k 10", "top-p 0.9"])
        let columns = generator.compareStrategies(strategies, prompt: [1, 2, 3], maxTokens: 30, seed: 42)
        #expect(columns.count == 4 && columns.allSatisfy { $0.tokens.count == 30 })
        // The same seed gives the same columns again.
        let again = generator.compareStrategies(strategies, prompt: [1, 2, 3], maxTokens: 30, seed: 42)
        #expect(columns.map(\.tokens) == again.map(\.tokens))
        // Each column is exactly what one generation with those settings gives.
        for (strategy, column) in zip(strategies, columns) {
            var sampler = Sampler(settings: strategy.settings, seed: 42)
            var tokens: [Int32] = []
            generator.generate(prompt: [1, 2, 3], maxTokens: 30, sampler: &sampler) { tokens.append($0.token); return .proceed }
            #expect(tokens == column.tokens, "\(strategy.name)")
        }
        // Each token's log-probability is the model's own: for greedy, the top token's.
        var sampler = Sampler(settings: .greedy, seed: 42)
        var logs: [Float] = [], tops: [Float] = []
        generator.generate(prompt: [1, 2, 3], maxTokens: 30, sampler: &sampler, inspectTop: 1) { t in
            logs.append(t.modelLogProbability)
            tops.append(log(t.distribution!.entries[0].modelProbability))
            return .proceed
        }
        #expect(zip(logs, tops).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(abs(columns[0].metrics.meanLogProbability - logs.reduce(0, +) / 30) < 1e-5)
    }
}
