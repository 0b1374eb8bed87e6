/// What every tokenizer in Nanoscope offers: text ⇄ token ids.
///
/// Ids are `Int32` because that is what the model's input buffers hold; a vocabulary is at most a
/// few tens of thousands of tokens.
public protocol Tokenizer: Sendable {
    /// Number of distinct token ids: every id lies in `0..<vocabSize`.
    var vocabSize: Int { get }
    /// Text → ids. Throws `TokenizerError` for input the tokenizer cannot represent.
    func encode(_ text: String) throws -> [Int32]
    /// Ids → text. Never crashes on any id in range; bytes that do not form UTF-8 decode to U+FFFD.
    func decode(_ ids: [Int32]) -> String
    /// A JSON object that rebuilds this tokenizer (the checkpoint's `tokenizer` metadata).
    func metadataJSON() -> String
}

public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case unknownCharacters([Character])
    case malformed(String)

    public var description: String {
        switch self {
        case .unknownCharacters(let chars):
            let shown = chars.prefix(5).map { String(reflecting: String($0)) }.joined(separator: ", ")
            return "text contains characters outside the vocabulary: \(shown)\(chars.count > 5 ? ", …" : "")"
        case .malformed(let why):
            return "malformed tokenizer: \(why)"
        }
    }
}
