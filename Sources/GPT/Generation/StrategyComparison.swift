import Foundation

/// log softmax(z)[i] = zᵢ − max z − log Σⱼ exp(zⱼ − max z), in one pass over the logits.
public enum LogProbability {
    public static func of(_ i: Int, _ logits: UnsafeBufferPointer<Float>) -> Float {
        var maximum = -Float.infinity
        for z in logits where z > maximum { maximum = z }
        guard maximum.isFinite else { return .nan }
        var sum: Float = 0
        for z in logits { sum += Foundation.exp(z - maximum) }
        return logits[i] - maximum - Foundation.log(sum)
    }
}

/// Decoding strategies side by side: the same prompt and seed, one column per strategy, so what a
/// strategy does is seen in its text and in three numbers:
///
/// - **mean log-probability** under the model, (1/n) Σₜ log p(xₜ | x<ₜ) with the model's own
///   softmax (no temperature, no cuts): how typical the model finds the text. Greedy is the
///   highest by construction, pure sampling the lowest;
/// - **distinct-2** (Li et al. 2016), unique token bigrams ÷ bigrams in the continuation: 1 = no
///   pair of tokens repeats, low = a loop;
/// - **repetition rate**, seq-rep-4 (Welleck et al. 2019), 1 − unique 4-grams ÷ 4-grams in the
///   continuation: the share of 4-grams that were already said.
public struct DecodingStrategy: Sendable, Equatable {
    public var name: String
    public var settings: SamplingSettings

    public init(name: String, settings: SamplingSettings) { self.name = name; self.settings = settings }

    /// greedy · temperature · top-k · top-p: the four that a first lesson on sampling compares.
    public static func standardFour(temperature: Float = 0.8, topK: Int = 10, topP: Float = 0.9) -> [DecodingStrategy] {
        [DecodingStrategy(name: "greedy", settings: .greedy),
         DecodingStrategy(name: String(format: "temperature %.2g", temperature), settings: .init(temperature: temperature)),
         DecodingStrategy(name: "top-k \(topK)", settings: .init(temperature: 1, topK: topK)),
         DecodingStrategy(name: String(format: "top-p %.2g", topP), settings: .init(temperature: 1, topP: topP))]
    }
}

/// The three numbers of one column (see `DecodingStrategy`).
public struct StrategyMetrics: Sendable, Equatable {
    public var tokens: Int
    public var meanLogProbability: Float
    public var distinct2: Float
    public var repetition4: Float

    public init(tokens: Int, meanLogProbability: Float, distinct2: Float, repetition4: Float) {
        self.tokens = tokens; self.meanLogProbability = meanLogProbability
        self.distinct2 = distinct2; self.repetition4 = repetition4
    }

    /// The metrics of a continuation `tokens` whose model log-probabilities are `logProbabilities`.
    public init(tokens: [Int32], logProbabilities: [Float]) {
        self.tokens = tokens.count
        meanLogProbability = logProbabilities.isEmpty ? .nan : logProbabilities.reduce(0, +) / Float(logProbabilities.count)
        distinct2 = Self.distinctFraction(tokens, n: 2)
        repetition4 = tokens.count < 4 ? 0 : 1 - Self.distinctFraction(tokens, n: 4)
    }

    /// Unique n-grams ÷ n-grams (NaN when there are none).
    public static func distinctFraction(_ tokens: [Int32], n: Int) -> Float {
        guard tokens.count >= n, n > 0 else { return .nan }
        var seen = Set<[Int32]>()
        for i in 0...(tokens.count - n) { seen.insert(Array(tokens[i..<(i + n)])) }
        return Float(seen.count) / Float(tokens.count - n + 1)
    }

    /// Equal when every number is (NaN equal to NaN: a column with no text yet).
    public static func == (a: StrategyMetrics, b: StrategyMetrics) -> Bool {
        a.tokens == b.tokens && a.meanLogProbability.bitPattern == b.meanLogProbability.bitPattern
            && a.distinct2.bitPattern == b.distinct2.bitPattern && a.repetition4.bitPattern == b.repetition4.bitPattern
    }
}

extension Generator {
    /// Generates `maxTokens` tokens from `prompt` with every strategy, each from a fresh sampler
    /// seeded with `seed`; returns the token ids and the metrics of each column.
    public func compareStrategies(_ strategies: [DecodingStrategy], prompt: [Int32], maxTokens: Int,
                                  seed: UInt64) -> [(tokens: [Int32], metrics: StrategyMetrics)] {
        strategies.map { strategy in
            var settings = strategy.settings
            settings.topK = min(settings.topK, config.vocabSize)
            var sampler = Sampler(settings: settings, seed: seed)
            var tokens: [Int32] = [], logs: [Float] = []
            generate(prompt: prompt, maxTokens: maxTokens, sampler: &sampler) { t in
                tokens.append(t.token)
                logs.append(t.modelLogProbability)
                return .proceed
            }
            return (tokens, StrategyMetrics(tokens: tokens, logProbabilities: logs))
        }
    }
}
