import Foundation
import Testing
import GPT
import Kernels
import SafeTensors
import Tokenizers
@testable import Training

@Suite struct CheckpointSamplingTests {
    let letters = try! CharTokenizer(vocab: Array("abc \n".unicodeScalars).sorted { $0.value < $1.value })

    /// Writes a model as a checkpoint with the given metadata.
    func writeCheckpoint(_ model: GPT, metadata: [String: String], to path: String) throws {
        let views: [any WritableTensor] = model.layout.tensors.map { t in
            TensorView(name: t.name, shape: t.shape, values: UnsafeBufferPointer(start: model.params.pointer + t.offset, count: t.count))
        }
        try SafeTensors.write(views, metadata: metadata, to: path)
    }

    @Test func checkpointGivesTheModelsWeightsAndTokenizer() throws {
        let config = GPTConfig(vocabSize: 5, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, bias: true)
        let model = try GPT(config: config, seed: 7)
        let path = FileManager.default.temporaryDirectory.path + "/nanoscope-sample-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let meta = CheckpointMetadata(step: 3, config: config, tokenizerJSON: letters.metadataJSON())
        try writeCheckpoint(model, metadata: meta.dictionary, to: path)
        let loaded = try LoadedCheckpoint.load(path)
        #expect(loaded.modelWeights() == ModelWeights(copying: model))
        let tokenizer = try loaded.tokenizer()
        #expect(tokenizer.decode([4, 2, 3]) == "cab")
    }

    @Test func checkpointWithoutTokenizerOrWithABadOneSaysSo() throws {
        let config = GPTConfig(vocabSize: 5, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8)
        let model = try GPT(config: config, seed: 7)
        let path = FileManager.default.temporaryDirectory.path + "/nanoscope-sample-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var meta = CheckpointMetadata(step: 3, config: config, tokenizerJSON: "").dictionary
        meta["tokenizer"] = nil
        try writeCheckpoint(model, metadata: meta, to: path)
        #expect(throws: CheckpointError.self) { try LoadedCheckpoint.load(path).tokenizer() }
        do { _ = try LoadedCheckpoint.load(path).tokenizer() } catch {
            #expect(error.problem.contains("no tokenizer in the metadata"))
        }
        for (json, why) in [(#"{"type":"char","vocab":["a","b","c","d","e","f"]}"#, "only 5"),
                            (#"{"type":"bpe"}"#, "'pattern' is missing"), ("not json", "not a JSON object")] {
            meta["tokenizer"] = json
            try writeCheckpoint(model, metadata: meta, to: path)
            do { _ = try LoadedCheckpoint.load(path).tokenizer(); Issue.record("expected an error for \(json)") } catch {
                #expect(error.problem.contains(why), "\(error.problem)")
            }
        }
    }
}

