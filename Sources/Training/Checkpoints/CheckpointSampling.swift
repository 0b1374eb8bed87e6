import Foundation
import GPT
import Tokenizers
import SafeTensors

/// What sampling needs from a checkpoint: its weights as a generator's flat parameters, and the
/// tokenizer that turns its token ids back into text.
extension LoadedCheckpoint {
    /// The tensors copied into `ParameterLayout` order (`load` has already checked every name and
    /// shape against the configuration).
    public func modelWeights() -> ModelWeights {
        let layout = ParameterLayout(config: config)
        var flat = [Float](repeating: 0, count: layout.totalCount)
        for t in layout.tensors {
            let values = t.name == NanoGPTStateDict.tokenEmbedding ? tokenEmbedding.values : file[t.name]!.values
            flat.replaceSubrange(t.offset..<(t.offset + t.count), with: values)
        }
        return ModelWeights(config: config, parameters: flat)
    }

    /// The tokenizer stored in the metadata, checked against the model's vocabulary.
    public func tokenizer() throws(CheckpointError) -> any Tokenizer {
        guard let json = metadata.tokenizerJSON else {
            throw CheckpointError(path, "no tokenizer in the metadata, so its token ids cannot be turned into text (a checkpoint written by Nanoscope always has one; files from other tools do not)")
        }
        let tokenizer: any Tokenizer
        do {
            tokenizer = try makeTokenizer(fromMetadataJSON: json)
        } catch {
            throw CheckpointError(path, error.message.contains("tokenizer") ? error.message : "metadata 'tokenizer' is unusable: \(error.message)")
        }
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw CheckpointError(path, "the tokenizer has \(tokenizer.vocabSize) tokens but the model only \(config.vocabSize)")
        }
        return tokenizer
    }
}
