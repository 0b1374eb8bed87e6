import Foundation

/// Byte-level byte-pair encoding, compatible with Karpathy's minbpe `RegexTokenizer`: the same
/// training text and vocabulary size give the same merges, the same ids and the same `.model` file.
///
/// **Tokens.** Ids 0…255 are the bytes. Id 256 + i is merge `i`: the concatenation of the two
/// tokens in `merges[i]`. Special tokens (such as `<|endoftext|>`) get ids after the merges.
///
/// **Training** (`train(text:vocabSize:pattern:)`):
/// 1. Cut the text into pieces with the split pattern (`PreSplitter`); each piece is its UTF-8
///    bytes. Merges never cross a piece boundary.
/// 2. Repeat `vocabSize − 256` times: count every adjacent pair of tokens in every piece; the most
///    frequent pair becomes the next token, and every occurrence of it, scanning each piece left to
///    right without overlap, is replaced by that token.
/// 3. Ties go to the pair that occurs first when the (partly merged) pieces are read in text
///    order. That is what minbpe does implicitly: its pair counts live in a Python dict, which
///    iterates in insertion order, and `max()` returns the first maximum.
///
/// minbpe recounts every pair of the whole text for each merge. The same merges come out faster
/// here (see `Trainer`):
/// - the text is kept as its distinct pieces ("words") with their number of occurrences, in order
///   of first appearance, so a pair's first occurrence in the text is its first in this list;
/// - a merge visits only the words that contain the pair (each pair keeps the list of words it
///   occurs in) and re-counts only the pairs around each merged occurrence;
/// - the next merge comes off a heap ordered by count, then first occurrence.
///
/// **Encoding**: pre-split the same way, then within each piece repeatedly apply the earliest-
/// learned merge that occurs in it until none does. Pieces repeat a lot, so each call caches the
/// ids of the pieces it has seen.
///
/// **Decoding** concatenates the tokens' bytes and reads them as UTF-8, rendering bytes that do not
/// form UTF-8 (a multi-byte character cut in the middle) as U+FFFD.
public struct BPETokenizer: Tokenizer, Equatable {
    /// Two token ids, left then right.
    public struct Pair: Hashable, Sendable, CustomStringConvertible {
        public let left: Int32
        public let right: Int32
        public init(_ left: Int32, _ right: Int32) {
            self.left = left
            self.right = right
        }
        public var description: String { "(\(left), \(right))" }
        var key: UInt64 { UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)) }
    }

    public struct SpecialToken: Hashable, Sendable {
        public let text: String
        public let id: Int32
    }

    /// Which special tokens `encode` turns into their ids, as minbpe's `allowed_special`.
    public enum AllowedSpecial: Sendable, Equatable {
        /// Every registered special token.
        case all
        /// None: special-token text is encoded as ordinary text.
        case none
        /// None, and the text must not contain any (minbpe's default, "none_raise").
        case noneRaise
        /// Only these; naming an unregistered token is an error.
        case only(Set<String>)
    }

    /// One learned merge, reported while training.
    public struct MergeEvent: Sendable {
        public let index: Int
        public let pair: Pair
        public let id: Int32
        /// How often the pair occurred in the training text when it was merged.
        public let count: Int
        /// The new token's bytes.
        public let bytes: [UInt8]
    }

    public let pattern: SplitPattern
    /// `merges[i]` made token `256 + i`.
    public let merges: [Pair]
    /// In ascending id order, which is also the order in which they are tried when two start at
    /// the same place in the text.
    public private(set) var specialTokens: [SpecialToken] = []

    let splitter: PreSplitter
    /// Pair key → id of the token the pair merges into (a smaller id was learned earlier).
    let mergeIDs: [UInt64: Int32]
    /// Bytes of every non-special token, by id.
    let tokenBytes: [[UInt8]]

    /// A tokenizer with these merges, validated: each merge must combine tokens that exist before it.
    public init(pattern: SplitPattern, merges: [Pair], specialTokens: [String: Int] = [:]) throws {
        var mergeIDs: [UInt64: Int32] = [:]
        var bytes = (0..<256).map { [UInt8($0)] }
        for (i, pair) in merges.enumerated() {
            let id = Int32(256 + i)
            guard pair.left >= 0, pair.right >= 0, pair.left < id, pair.right < id else {
                throw TokenizerError.malformed("merge \(i) \(pair) uses a token that does not exist before it (id \(id))")
            }
            if let earlier = mergeIDs[pair.key] {
                throw TokenizerError.malformed("merge \(i) \(pair) repeats merge \(earlier - 256)")
            }
            mergeIDs[pair.key] = id
            bytes.append(bytes[Int(pair.left)] + bytes[Int(pair.right)])
        }
        self.pattern = pattern
        self.merges = merges
        self.splitter = PreSplitter(pattern)
        self.mergeIDs = mergeIDs
        self.tokenBytes = bytes
        try registerSpecialTokens(specialTokens)
    }

    /// Replaces the special tokens. Ids must lie after the merges (≥ 256 + merges.count) and be
    /// distinct; the text must be non-empty and free of whitespace (the `.model` format separates
    /// token from id by whitespace).
    public mutating func registerSpecialTokens(_ tokens: [String: Int]) throws {
        var seen: [Int: String] = [:]
        for (text, id) in tokens {
            if text.isEmpty { throw TokenizerError.invalidSpecialToken(text, problem: "it is empty") }
            if text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
                throw TokenizerError.invalidSpecialToken(text, problem: "it contains whitespace, which the .model format cannot store")
            }
            guard id >= 256 + merges.count, id <= Int(Int32.max) else {
                throw TokenizerError.invalidSpecialToken(
                    text, problem: "id \(id) is not after the merges; use an id ≥ \(256 + merges.count)")
            }
            if let other = seen[id] {
                throw TokenizerError.invalidSpecialToken(text, problem: "id \(id) is already taken by \(String(reflecting: other))")
            }
            seen[id] = text
        }
        specialTokens = tokens.map { SpecialToken(text: $0.key, id: Int32($0.value)) }.sorted { $0.id < $1.id }
    }

    /// Registers `texts` with the ids right after the current vocabulary, in the order given.
    public mutating func appendSpecialTokens(_ texts: [String]) throws {
        var all = specialTokensByText
        var next = vocabSize
        for text in texts where all[text] == nil {
            all[text] = next
            next += 1
        }
        try registerSpecialTokens(all)
    }

    public var specialTokensByText: [String: Int] {
        Dictionary(uniqueKeysWithValues: specialTokens.map { ($0.text, Int($0.id)) })
    }

    public var vocabSize: Int {
        max(256 + merges.count, specialTokens.map { Int($0.id) + 1 }.max() ?? 0)
    }

    /// The bytes of token `id`, or nil if no token has that id.
    public func bytes(ofToken id: Int32) -> [UInt8]? {
        if id >= 0 && Int(id) < tokenBytes.count { return tokenBytes[Int(id)] }
        return specialTokens.first { $0.id == id }.map { Array($0.text.utf8) }
    }

    public static func == (a: BPETokenizer, b: BPETokenizer) -> Bool {
        a.pattern == b.pattern && a.merges == b.merges && a.specialTokens == b.specialTokens
    }
}
