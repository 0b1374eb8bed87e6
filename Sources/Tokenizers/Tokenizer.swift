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
    /// A byte-level BPE vocabulary was asked to be smaller than its 256 byte tokens.
    case vocabSizeTooSmall(Int)
    /// Training ran out of adjacent pairs (every piece became a single token) before the
    /// requested number of merges.
    case notEnoughText(requestedMerges: Int, learnedMerges: Int)
    /// A `.model` file that does not follow minbpe's format; `line` counts from 1.
    case malformedModel(line: Int, problem: String)
    /// A split pattern other than the GPT-4 and GPT-2 ones, which are the only ones implemented.
    case unsupportedPattern(String)
    /// `allowedSpecial` named a special token that the tokenizer does not have.
    case unknownSpecialToken(String, registered: [String])
    /// The text contains a special token while encoding was told to raise on them.
    case disallowedSpecialToken(String)
    /// A special token that cannot be registered (empty, containing whitespace, or a clashing id).
    case invalidSpecialToken(String, problem: String)

    public var description: String {
        switch self {
        case .unknownCharacters(let chars):
            let shown = chars.prefix(5).map { String(reflecting: String($0)) }.joined(separator: ", ")
            return "text contains characters outside the vocabulary: \(shown)\(chars.count > 5 ? ", …" : "")"
        case .malformed(let why):
            return "malformed tokenizer: \(why)"
        case .vocabSizeTooSmall(let size):
            return "vocab size \(size) is below 256: a byte-level BPE vocabulary starts with the 256 byte tokens; "
                + "choose a vocab size of at least 256 (256 means no merges)"
        case .notEnoughText(let requested, let learned):
            return "the training text ran out of pairs to merge after \(learned) of \(requested) merges; "
                + "use a vocab size of at most \(256 + learned), or train on more text"
        case .malformedModel(let line, let problem):
            return "malformed .model file, line \(line): \(problem); "
                + "expected minbpe's format: \"minbpe v1\", the pattern, the number of special tokens, "
                + "\"token id\" lines, then \"idx1 idx2\" merge lines (re-create it with `nanoscope tokenizer train`)"
        case .unsupportedPattern(let pattern):
            return "unsupported split pattern \(String(reflecting: pattern)): only the GPT-4 (cl100k) and GPT-2 "
                + "patterns are implemented; retrain with --pattern gpt4 or --pattern gpt2"
        case .unknownSpecialToken(let token, let registered):
            let known = registered.isEmpty ? "none are registered" : "registered: " + registered.joined(separator: ", ")
            return "unknown special token \(String(reflecting: token)) (\(known)); "
                + "allow only registered special tokens, or register it first"
        case .disallowedSpecialToken(let token):
            return "the text contains the special token \(String(reflecting: token)), which this encoding does not allow; "
                + "allow it (allowed special \"all\", or a set that names it) to emit its id, "
                + "or allow \"none\" to encode it as ordinary text"
        case .invalidSpecialToken(let token, let problem):
            return "cannot register special token \(String(reflecting: token)): \(problem)"
        }
    }
}
