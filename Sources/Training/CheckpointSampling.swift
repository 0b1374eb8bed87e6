import Foundation
import GPT
import Tokenizers

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
            tokenizer = try makeTokenizer(fromMetadata: json)
        } catch {
            throw CheckpointError(path, "metadata 'tokenizer' is unusable: \(error)")
        }
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw CheckpointError(path, "the tokenizer has \(tokenizer.vocabSize) tokens but the model only \(config.vocabSize)")
        }
        return tokenizer
    }
}

/// Rebuilds a tokenizer from its `metadataJSON()`. Only character tokenizers for now
/// (`{"type":"char","vocab":["\n"," ","!",…]}`); to be replaced by the Tokenizers module's
/// factory, which also knows BPE, when it lands.
func makeTokenizer(fromMetadata json: String) throws -> any Tokenizer {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
        throw TokenizerError.malformed("not a JSON object")
    }
    guard let type = object["type"] as? String else { throw TokenizerError.malformed("no 'type'") }
    guard type == "char" else { throw TokenizerError.malformed("tokenizer type '\(type)' is not supported by this build") }
    guard let entries = object["vocab"] as? [String] else { throw TokenizerError.malformed("'vocab' is not a list of strings") }
    var vocab: [Unicode.Scalar] = []
    for entry in entries {
        guard entry.unicodeScalars.count == 1, let scalar = entry.unicodeScalars.first else {
            throw TokenizerError.malformed("vocabulary entry \(String(reflecting: entry)) is not a single character")
        }
        vocab.append(scalar)
    }
    return try CharTokenizer(vocab: vocab)
}
