import Foundation
import GPT
import Tokenizers

/// Rebuilds the tokenizer that a checkpoint's `tokenizer` metadata describes.
///
/// Every place that turns checkpoint metadata into a tokenizer calls this one function, so that
/// when the Tokenizers module gains its own metadata factory (with BPE), only this body changes.
/// For now it understands the character tokenizer's form, `{"type":"char","vocab":["\n"," ","!",…]}`,
/// with the characters in id order (each exactly one Unicode scalar, as `CharTokenizer` counts them).
public func makeTokenizer(fromMetadataJSON json: String) throws(ConfigError) -> any Tokenizer {
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
        throw ConfigError("the checkpoint's tokenizer metadata is not a JSON object")
    }
    guard let type = object["type"] as? String else {
        throw ConfigError("the checkpoint's tokenizer metadata has no \"type\"")
    }
    guard type == "char" else {
        throw ConfigError("the checkpoint uses a \"\(type)\" tokenizer, which this build of Nanoscope cannot rebuild yet")
    }
    guard let entries = object["vocab"] as? [String] else {
        throw ConfigError("the checkpoint's character tokenizer has no \"vocab\" list of strings")
    }
    var scalars: [Unicode.Scalar] = []
    for entry in entries {
        let units = Array(entry.unicodeScalars)
        guard units.count == 1 else {
            throw ConfigError("the checkpoint's character vocabulary holds \(String(reflecting: entry)), which is not one character")
        }
        scalars.append(units[0])
    }
    do {
        return try CharTokenizer(vocab: scalars)
    } catch {
        throw ConfigError("the checkpoint's character vocabulary is unusable: \(error)")
    }
}
