import Testing
import GPT
@testable import Training

@Suite struct MemoryEstimateTests {
    /// The estimate's parameter count is the layout's, for every shape option.
    @Test(arguments: [false, true])
    func parameterCountMatchesTheLayout(bias: Bool) throws {
        for pos in GPTConfig.PositionalEncoding.allCases {
            let config = GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 3, nHead: 4, nEmbd: 32, bias: bias, posEncoding: pos)
            #expect(config.checkedParameterCount == ParameterLayout(config: config).totalCount)
        }
    }

    @Test func absurdSizesAreNilNotACrash() {
        var config = TrainConfig()
        config.nLayer = 1 << 62
        config.nEmbd = 1 << 62
        #expect(MemoryEstimate.of(config, vocabSize: 65, workers: 2) == nil)
        config = TrainConfig()
        config.batchSize = 1_000_000_000
        let huge = MemoryEstimate.of(config, vocabSize: 65, workers: 2)
        #expect(huge == nil || huge!.total > MemoryEstimate.available)
    }

    /// The baby config: 0.80M parameters, activations of a few tens of MB.
    @Test func theBabyConfigsEstimateIsWhatTheModelHolds() throws {
        let config = TrainConfig()
        let e = try #require(MemoryEstimate.of(config, vocabSize: 65, workers: 2))
        #expect(e.parameters == 804_096)  // 65·128 + 64·128 + 4·(12·128² + 2·128) + 128
        #expect(e.total > 10_000_000 && e.total < 150_000_000, "\(e.summary)")
        #expect(e.summary.contains("AdamW moments 6.4 MB"), "\(e.summary)")
        // float32 multiplies by W itself; a 16-bit run also holds W and Wᵀ in 16 bits.
        #expect(!e.summary.contains("16-bit weights"), "\(e.summary)")
        var half = config
        half.dtype = .bfloat16
        let h = try #require(MemoryEstimate.of(half, vocabSize: 65, workers: 2))
        #expect(h.summary.contains("16-bit weights 3.2 MB") && h.total == e.total + 4 * 804_096, "\(h.summary)")
        #expect(MemoryEstimate.available > 1_000_000_000)
    }
}
