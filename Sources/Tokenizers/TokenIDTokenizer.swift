import Foundation

/// A vocabulary of `vocabSize` bare ids with no text behind them: what `data = "random:N"`
/// trains on, to measure speed and memory at a model's shape (GPT-2's 50304 tokens) without a
/// corpus of that vocabulary. Text is the ids written out, space-separated ("17 4 50000"), so a
/// sample from such a model is readable as numbers and a prompt can name ids.
public struct TokenIDTokenizer: Tokenizer, Equatable {
    public let vocabSize: Int

    public init(vocabSize: Int) throws {
        guard vocabSize > 0, vocabSize <= Int(Int32.max) else {
            throw TokenizerError.malformed("an id vocabulary needs 1 to \(Int32.max) ids, not \(vocabSize)")
        }
        self.vocabSize = vocabSize
    }

    public func encode(_ text: String) throws -> [Int32] {
        try text.split(whereSeparator: \.isWhitespace).map { word in
            guard let id = Int32(word), id >= 0, Int(id) < vocabSize else {
                throw TokenizerError.malformed("\(String(reflecting: String(word))) is not a token id in 0..<\(vocabSize)")
            }
            return id
        }
    }

    public func decode(_ ids: [Int32]) -> String {
        ids.map { $0 >= 0 && Int($0) < vocabSize ? String($0) : "\u{FFFD}" }.joined(separator: " ")
    }

    public func metadataJSON() -> String { #"{"type":"ids","vocab_size":\#(vocabSize)}"# }

    /// Rebuilds the tokenizer from `{"type":"ids","vocab_size":N}`.
    public init(metadataJSON json: String) throws {
        struct Metadata: Decodable { let type: String; let vocab_size: Int }
        let metadata: Metadata
        do { metadata = try JSONDecoder().decode(Metadata.self, from: Data(json.utf8)) } catch {
            throw TokenizerError.malformed("ids metadata is not {\"type\":\"ids\",\"vocab_size\":N}: \(error)")
        }
        try self.init(vocabSize: metadata.vocab_size)
    }
}
