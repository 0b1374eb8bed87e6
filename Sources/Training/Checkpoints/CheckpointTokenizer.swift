import Foundation
import GPT
import Tokenizers

/// Rebuilds the tokenizer that a checkpoint's `tokenizer` metadata describes — characters
/// (`{"type":"char","vocab":[…]}`) or byte-level BPE (`{"type":"bpe","merges":[…],…}`) — with the
/// problem phrased for the person loading the checkpoint.
public func makeTokenizer(fromMetadataJSON json: String) throws(ConfigError) -> any Tokenizer {
    do {
        return try TokenizerMetadata.tokenizer(fromJSON: json)
    } catch {
        throw ConfigError("the checkpoint's tokenizer metadata cannot be used: \(error)")
    }
}
