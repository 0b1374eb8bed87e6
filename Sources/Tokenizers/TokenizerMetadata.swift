import Foundation

/// A decoding error in a few words (its full description dumps the whole coding context).
func decodingProblem(_ error: any Error) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "" : " at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    }
    switch error {
    case DecodingError.keyNotFound(let key, _): return "'\(key.stringValue)' is missing"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c): return "a value of the wrong type" + path(c)
    case DecodingError.dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "a bad value" + path(c)
    default: return "\(type(of: error))"
    }
}

/// Rebuilds tokenizers from the JSON that `Tokenizer.metadataJSON()` writes into checkpoints.
public enum TokenizerMetadata {
    /// The tokenizer described by `json`, whichever kind it is:
    /// `{"type":"char","vocab":[…]}` or `{"type":"bpe","pattern":…,"merges":[[a,b],…],"special":{…}}`.
    public static func tokenizer(fromJSON json: String) throws -> any Tokenizer {
        struct Header: Decodable { let type: String }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(json.utf8))
        } catch {
            throw TokenizerError.malformed("tokenizer metadata is not a JSON object with a \"type\" field (\(decodingProblem(error)))")
        }
        switch header.type {
        case "char": return try CharTokenizer(metadataJSON: json)
        case "bpe": return try BPETokenizer(metadataJSON: json)
        case "ids": return try TokenIDTokenizer(metadataJSON: json)
        default:
            throw TokenizerError.malformed("unknown tokenizer type \(String(reflecting: header.type)); expected \"char\", \"bpe\" or \"ids\"")
        }
    }
}

extension CharTokenizer {
    /// Rebuilds a character tokenizer from `{"type":"char","vocab":["\n"," ","a",…]}`.
    public init(metadataJSON json: String) throws {
        struct Metadata: Decodable {
            let type: String
            let vocab: [String]
        }
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(json.utf8))
        } catch {
            throw TokenizerError.malformed("char metadata is not {\"type\":\"char\",\"vocab\":[…]} (\(decodingProblem(error)))")
        }
        guard metadata.type == "char" else {
            throw TokenizerError.malformed("metadata type is \(String(reflecting: metadata.type)), not \"char\"")
        }
        var scalars: [Unicode.Scalar] = []
        for entry in metadata.vocab {
            guard entry.unicodeScalars.count == 1, let scalar = entry.unicodeScalars.first else {
                throw TokenizerError.malformed("char vocabulary entry \(String(reflecting: entry)) is not one Unicode scalar")
            }
            scalars.append(scalar)
        }
        try self.init(vocab: scalars)
    }
}
