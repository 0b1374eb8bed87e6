import Foundation
import Testing
@testable import Training
import GPT
import SafeTensors

/// Every JSON Nanoscope writes goes through one writer, `StrictJSON`; the bytes of what other
/// programs read (checkpoint headers, metrics.jsonl) are pinned here.
@Suite struct JSONWriterTests {
    /// Checkpoints written before the switch carry `JSONEncoder`'s bytes: the new writer must
    /// produce the very same, or every header would change.
    @Test(arguments: [
        GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128),
        GPTConfig(vocabSize: 512, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, bias: true, dropout: 0.2, posEncoding: .sinusoidal),
        GPTConfig(vocabSize: 7, blockSize: 5, nLayer: 1, nHead: 1, nEmbd: 2, dropout: 0.25),
        GPTConfig(vocabSize: 7, blockSize: 5, nLayer: 1, nHead: 1, nEmbd: 2, dropout: 1e-5),
    ])
    func configJSONHasTheBytesJSONEncoderWrote(config: GPTConfig) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let before = String(decoding: try encoder.encode(config), as: UTF8.self)
        #expect(CheckpointMetadata.configJSON(config) == before)
        #expect(try JSONDecoder().decode(GPTConfig.self, from: Data(CheckpointMetadata.configJSON(config).utf8)) == config)
    }

    @Test func aMetricsLineKeepsItsBytes() {
        let record = MetricsRecord(step: 500, trainLoss: 1.9234, valLoss: nil, lr: 0.00094, gradNorm: .nan,
                                   tokensPerSecond: 24100, time: 61.3)
        #expect(record.jsonLine == #"{"step":500,"train_loss":1.9234,"val_loss":null,"lr":0.00094,"grad_norm":null,"tokens_per_s":24100,"time":61.3}"#)
    }

    @Test func theCheckpointListEmbedsTheConfigAsAnObject() throws {
        let config = GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128)
        let object = CheckpointMetadata.configObject(config)
        #expect(object == (try StrictJSON.parse(Array(CheckpointMetadata.configJSON(config).utf8))))
    }
}
