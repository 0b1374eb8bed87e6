import Foundation

/// Character-level tokenizer, exactly as nanoGPT's `shakespeare_char/prepare.py` builds it:
///
///     vocab = sorted(set(corpus))          # distinct characters, ordered by code point
///     stoi  = { ch: i for i, ch in enumerate(vocab) }
///
/// "Character" here means a Unicode scalar (a Python `str` element), not a Swift `Character`
/// (grapheme cluster): "\r\n" is two tokens, as it is in nanoGPT.
public struct CharTokenizer: Tokenizer, Equatable {
    /// The vocabulary in id order.
    public let vocab: [Unicode.Scalar]
    private let stoi: [Unicode.Scalar: Int32]

    public init(vocab: [Unicode.Scalar]) throws {
        guard !vocab.isEmpty else { throw TokenizerError.malformed("empty character vocabulary") }
        var map: [Unicode.Scalar: Int32] = [:]
        for (i, s) in vocab.enumerated() {
            if map[s] != nil { throw TokenizerError.malformed("character \(String(reflecting: String(s))) appears twice") }
            map[s] = Int32(i)
        }
        self.vocab = vocab
        self.stoi = map
    }

    /// The vocabulary of a corpus: its distinct scalars sorted by code point.
    public init(corpus: String) throws {
        try self.init(vocab: Set(corpus.unicodeScalars).sorted { $0.value < $1.value })
    }

    public var vocabSize: Int { vocab.count }

    public func encode(_ text: String) throws -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count)
        var unknown: [Character] = []
        for s in text.unicodeScalars {
            if let id = stoi[s] { ids.append(id) } else if unknown.count < 6 { unknown.append(Character(s)) }
        }
        if !unknown.isEmpty { throw TokenizerError.unknownCharacters(unknown) }
        return ids
    }

    public func decode(_ ids: [Int32]) -> String {
        var out = String.UnicodeScalarView()
        for id in ids {
            out.append(id >= 0 && Int(id) < vocab.count ? vocab[Int(id)] : "\u{FFFD}")
        }
        return String(out)
    }

    public func metadataJSON() -> String {
        let chars = vocab.map { String($0) }
        let data = try! JSONSerialization.data(withJSONObject: ["type": "char", "vocab": chars], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    public static func == (a: CharTokenizer, b: CharTokenizer) -> Bool { a.vocab == b.vocab }
}
