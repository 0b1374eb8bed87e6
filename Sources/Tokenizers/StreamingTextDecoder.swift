/// Decodes a token stream piece by piece for display. Tokens that end inside a multi-byte
/// character (byte-level BPE) are held back until the character is complete.
public struct StreamingTextDecoder {
    private let tokenizer: any Tokenizer
    private var pending: [Int32] = []

    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// The text that `token` completes (possibly empty).
    public mutating func push(_ token: Int32) -> String {
        pending.append(token)
        let text = tokenizer.decode(pending)
        // A trailing U+FFFD may be a character whose remaining bytes are in the next token(s);
        // a UTF-8 character has at most 4 bytes, so give up waiting after 4 tokens.
        if text.unicodeScalars.last == "\u{FFFD}" && pending.count < 4 { return "" }
        pending.removeAll(keepingCapacity: true)
        return text
    }

    /// Whatever is still held back.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : tokenizer.decode(pending)
    }
}
