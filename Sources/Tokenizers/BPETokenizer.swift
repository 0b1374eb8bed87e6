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

    private let splitter: PreSplitter
    /// Pair key → id of the token the pair merges into (a smaller id was learned earlier).
    private let mergeIDs: [UInt64: Int32]
    /// Bytes of every non-special token, by id.
    private let tokenBytes: [[UInt8]]

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

    // MARK: - Training

    /// Learns `vocabSize − 256` merges from `text` (see the type's documentation for the algorithm).
    /// `onMerge` is called after each merge, e.g. to show progress.
    public static func train(
        text: String, vocabSize: Int, pattern: SplitPattern = .gpt4,
        onMerge: ((MergeEvent) -> Void)? = nil
    ) throws -> BPETokenizer {
        guard vocabSize >= 256 else { throw TokenizerError.vocabSizeTooSmall(vocabSize) }
        let wanted = vocabSize - 256
        var trainer = Trainer(text: text, splitter: PreSplitter(pattern))
        var merges: [Pair] = []
        merges.reserveCapacity(wanted)
        var tokenBytes = (0..<256).map { [UInt8($0)] }
        for i in 0..<wanted {
            guard let (pair, count) = trainer.mostFrequentPair() else {
                throw TokenizerError.notEnoughText(requestedMerges: wanted, learnedMerges: i)
            }
            let id = Int32(256 + i)
            trainer.merge(pair, into: id)
            merges.append(pair)
            tokenBytes.append(tokenBytes[Int(pair.left)] + tokenBytes[Int(pair.right)])
            onMerge?(MergeEvent(index: i, pair: pair, id: id, count: count, bytes: tokenBytes[Int(id)]))
        }
        return try BPETokenizer(pattern: pattern, merges: merges)
    }

    /// The training corpus as distinct words and the live counts of their adjacent pairs.
    private struct Trainer {
        /// Distinct pieces of the text as current token ids, in order of first appearance.
        var words: [[Int32]] = []
        /// How many times each word occurs in the text.
        var wordCounts: [Int] = []

        /// Pairs are numbered by a slot; these arrays are indexed by slot.
        var slots: [UInt64: Int] = [:]
        var pairs: [Pair] = []
        /// Occurrences of the pair in the whole text (0 once it has been merged away).
        var counts: [Int] = []
        /// Ascending indices of the words the pair occurs in, plus some it no longer occurs in.
        /// Ascending because words are listed in text order and a pair's words are all found in
        /// one pass: pairs come into existence with their newer token, and a merge creates new
        /// neighbours only for the new token.
        var wordsWithPair: [[Int32]] = []

        /// One entry per pair and count, best first, so finding the next merge scans nothing.
        /// An entry also holds where the pair first occurs, which decides ties. That place stays
        /// right as long as the count does: a pair's occurrences are all created in one merge (with
        /// its newer token) and afterwards can only be merged away, which lowers the count. So an
        /// entry whose count is no longer the pair's count is stale, and is dropped when it
        /// surfaces; the pair's current count has its own entry.
        var heap = BinaryHeap<PairCandidate>()
        /// The count each pair last had an entry pushed for, and the pairs whose count may have
        /// changed since (pushed once the merge is done, not at every change).
        var pushedCounts: [Int] = []
        var touched: [Int] = []
        /// Byte length of each token, to locate pairs by byte offset within a word: unlike token
        /// positions, byte offsets do not shift when an earlier part of the word is merged.
        var tokenLengths = [Int32](repeating: 1, count: 256)

        init(text: String, splitter: PreSplitter) {
            var text = text
            text.withUTF8 { bytes in
                var wordIndex: [ByteSpan: Int] = [:]
                splitter.forEachPiece(inUTF8: bytes) { range in
                    let span = ByteSpan(bytes, range)
                    if let w = wordIndex[span] {
                        wordCounts[w] += 1
                    } else {
                        wordIndex[span] = words.count
                        words.append(bytes[range].map { Int32($0) })
                        wordCounts.append(1)
                    }
                }
            }
            for w in words.indices { count(word: w) }
            pushTouchedCounts()
        }

        mutating func slot(of pair: Pair) -> Int {
            if let s = slots[pair.key] { return s }
            let s = pairs.count
            slots[pair.key] = s
            pairs.append(pair)
            counts.append(0)
            pushedCounts.append(0)
            wordsWithPair.append([])
            return s
        }

        /// Counts all pairs of word `w` (at the start of training).
        mutating func count(word w: Int) {
            let tokens = words[w]
            guard tokens.count >= 2 else { return }
            for i in 0..<(tokens.count - 1) { add(Pair(tokens[i], tokens[i + 1]), occurrences: wordCounts[w], in: w) }
        }

        /// Changes the pair's count by `occurrences` (negative to take away); when adding, lists
        /// word `w` under the pair.
        mutating func add(_ pair: Pair, occurrences: Int, in w: Int) {
            let s = slot(of: pair)
            counts[s] += occurrences
            touched.append(s)
            if occurrences > 0 && wordsWithPair[s].last != Int32(w) { wordsWithPair[s].append(Int32(w)) }
        }

        /// The most frequent pair and its count; among equals, the one that occurs first in the text.
        mutating func mostFrequentPair() -> (Pair, Int)? {
            while let top = heap.popFirst() {
                if top.count == counts[Int(top.slot)] { return (pairs[Int(top.slot)], top.count) }
            }
            return nil
        }

        /// Where the pair first occurs: word index and byte offset in the word. Drops the words
        /// at the front of its list that no longer contain it, so they are not scanned again.
        mutating func firstOccurrence(slot s: Int) -> (word: Int32, offset: Int32) {
            let pair = pairs[s]
            var stale = 0
            defer { if stale > 0 { wordsWithPair[s].removeFirst(stale) } }
            for w in wordsWithPair[s] {
                let tokens = words[Int(w)]
                if let i = Trainer.position(of: pair, in: tokens) {
                    return (w, tokens[..<i].reduce(0) { $0 + tokenLengths[Int($1)] })
                }
                stale += 1
            }
            preconditionFailure("pair \(pair) has count \(counts[s]) but occurs in no word")
        }

        static func position(of pair: Pair, in tokens: [Int32]) -> Int? {
            guard tokens.count >= 2 else { return nil }
            for i in 0..<(tokens.count - 1) where tokens[i] == pair.left && tokens[i + 1] == pair.right {
                return i
            }
            return nil
        }

        mutating func merge(_ pair: Pair, into newID: Int32) {
            tokenLengths.append(tokenLengths[Int(pair.left)] + tokenLengths[Int(pair.right)])
            let s = slot(of: pair)
            let affected = wordsWithPair[s]
            wordsWithPair[s] = []
            for w in affected { merge(pair, into: newID, inWord: Int(w)) }
            pushTouchedCounts()
        }

        /// Replaces the pair's occurrences in one word, left to right without overlap, and updates
        /// the counts of just the pairs that change: those that touched a merged occurrence are
        /// taken away, those that touch a new token are added. (Re-counting the whole word would
        /// be quadratic for long words, such as CJK paragraphs, which have no spaces to split on.)
        mutating func merge(_ pair: Pair, into newID: Int32, inWord w: Int) {
            let old = words[w]
            let n = old.count
            let weight = wordCounts[w]
            var new: [Int32] = []
            new.reserveCapacity(n)
            var newTokenPositions: [Int] = []
            var takenUpTo = -1  // pairs at old positions ≤ this one are already taken away
            var i = 0
            while i < n {
                if i + 1 < n && old[i] == pair.left && old[i + 1] == pair.right {
                    var p = max(i - 1, takenUpTo + 1)
                    while p <= min(i + 1, n - 2) {
                        add(Pair(old[p], old[p + 1]), occurrences: -weight, in: w)
                        p += 1
                    }
                    takenUpTo = min(i + 1, n - 2)
                    newTokenPositions.append(new.count)
                    new.append(newID)
                    i += 2
                } else {
                    new.append(old[i])
                    i += 1
                }
            }
            guard !newTokenPositions.isEmpty else { return }  // the word no longer had the pair
            var addedUpTo = -1
            for k in newTokenPositions {
                var p = max(k - 1, addedUpTo + 1)
                while p <= min(k, new.count - 2) {
                    add(Pair(new[p], new[p + 1]), occurrences: weight, in: w)
                    p += 1
                }
                addedUpTo = min(k, new.count - 2)
            }
            words[w] = new
        }

        mutating func pushTouchedCounts() {
            for s in touched where counts[s] != pushedCounts[s] {
                pushedCounts[s] = counts[s]
                if counts[s] > 0 {
                    let first = firstOccurrence(slot: s)
                    heap.push(.init(count: counts[s], word: first.word, offset: first.offset, slot: Int32(s)))
                }
            }
            touched.removeAll(keepingCapacity: true)
        }
    }

    /// A candidate merge in the trainer's heap. It sorts best first: highest count, then earliest
    /// first occurrence (word index, then byte offset in the word).
    struct PairCandidate: Comparable {
        let count: Int
        let word: Int32
        let offset: Int32
        let slot: Int32

        static func < (a: PairCandidate, b: PairCandidate) -> Bool {
            if a.count != b.count { return a.count > b.count }
            if a.word != b.word { return a.word < b.word }
            return a.offset < b.offset
        }

        static func == (a: PairCandidate, b: PairCandidate) -> Bool {
            a.count == b.count && a.word == b.word && a.offset == b.offset
        }
    }

    /// Replaces every occurrence of `pair` in `tokens`, scanning left to right without overlap
    /// (so "a a a" merging (a, a) gives "aa a"), as minbpe's `merge`.
    static func replace(_ pair: Pair, with id: Int32, in tokens: inout [Int32]) {
        var read = 0
        var write = 0
        let n = tokens.count
        while read < n {
            if read + 1 < n && tokens[read] == pair.left && tokens[read + 1] == pair.right {
                tokens[write] = id
                read += 2
            } else {
                tokens[write] = tokens[read]
                read += 1
            }
            write += 1
        }
        tokens.removeLast(n - write)
    }

    // MARK: - Encoding

    /// Encodes with minbpe's default: the text must not contain special tokens (`.noneRaise`).
    public func encode(_ text: String) throws -> [Int32] {
        try encode(text, allowedSpecial: .noneRaise)
    }

    public func encode(_ text: String, allowedSpecial: AllowedSpecial) throws -> [Int32] {
        var allowed: [SpecialToken] = []
        switch allowedSpecial {
        case .all:
            allowed = specialTokens
        case .none:
            break
        case .noneRaise:
            if let found = firstSpecial(in: text, among: specialTokens) { throw TokenizerError.disallowedSpecialToken(found.text) }
        case .only(let names):
            let registered = Set(specialTokens.map(\.text))
            if let unknown = names.subtracting(registered).sorted().first {
                throw TokenizerError.unknownSpecialToken(unknown, registered: specialTokens.map(\.text))
            }
            allowed = specialTokens.filter { names.contains($0.text) }
        }
        return encode(text, specials: allowed)
    }

    /// Encodes as if no special tokens existed (minbpe's `encode_ordinary`).
    public func encodeOrdinary(_ text: String) -> [Int32] {
        encode(text, specials: [])
    }

    private func encode(_ text: String, specials: [SpecialToken]) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            var ids: [Int32] = []
            ids.reserveCapacity(bytes.count / 3)
            var encoder = PieceEncoder(tokenizer: self)
            // Pieces never span a special token: the text between them is split on its own.
            var start = 0
            while let (special, at) = SpecialMatcher.first(of: specials, in: bytes, from: start) {
                encoder.encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start..<at]), into: &ids)
                ids.append(special.id)
                start = at + special.text.utf8.count
            }
            encoder.encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start...]), into: &ids)
            return ids
        }
    }

    private func firstSpecial(in text: String, among specials: [SpecialToken]) -> SpecialToken? {
        var text = text
        return text.withUTF8 { SpecialMatcher.first(of: specials, in: $0, from: 0)?.token }
    }

    /// Encodes pieces, remembering the ids of each distinct piece for the rest of one `encode` call.
    private struct PieceEncoder {
        let tokenizer: BPETokenizer
        /// Piece bytes (pointing into the text being encoded) → range in `cachedIDs`.
        var cache: [ByteSpan: Range<Int>] = [:]
        var cachedIDs: [Int32] = []
        var scratch: [Int32] = []

        init(tokenizer: BPETokenizer) {
            self.tokenizer = tokenizer
        }

        mutating func encodeOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
            tokenizer.splitter.forEachPiece(inUTF8: bytes) { range in
                if range.count == 1 {
                    ids.append(Int32(bytes[range.lowerBound]))
                    return
                }
                let span = ByteSpan(bytes, range)
                if let cached = cache[span] {
                    ids.append(contentsOf: cachedIDs[cached])
                    return
                }
                scratch.removeAll(keepingCapacity: true)
                for b in bytes[range] { scratch.append(Int32(b)) }
                tokenizer.applyMerges(to: &scratch)
                cache[span] = cachedIDs.count..<(cachedIDs.count + scratch.count)
                cachedIDs.append(contentsOf: scratch)
                ids.append(contentsOf: scratch)
            }
        }
    }

    /// Applies the earliest-learned merge present in `tokens`, everywhere, until none is present.
    func applyMerges(to tokens: inout [Int32]) {
        // Rescanning is quadratic in the piece's length, which only hurts long pieces (a
        // paragraph of CJK text is one \p{L}+ piece); those take the heap route.
        if tokens.count > 64 {
            applyMergesWithHeap(to: &tokens)
            return
        }
        while tokens.count >= 2 {
            var earliest = Int32.max
            for i in 0..<(tokens.count - 1) {
                if let id = mergeIDs[Pair(tokens[i], tokens[i + 1]).key], id < earliest { earliest = id }
            }
            if earliest == .max { return }
            BPETokenizer.replace(merges[Int(earliest) - 256], with: earliest, in: &tokens)
        }
    }

    /// Same result as the rescanning loop in O(n log n): tokens form a linked list, and a heap
    /// holds every mergeable adjacent pair by (merge id, position). Popping in that order applies
    /// the earliest merge everywhere, left to right, before any later one — pairs formed by a
    /// merge involve its new token and so always have later ids. An entry is skipped if its
    /// tokens have changed since it was pushed.
    func applyMergesWithHeap(to tokens: inout [Int32]) {
        let n = tokens.count
        var next = Array(1...n)  // n means "none"
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = BinaryHeap<UInt64>()
        func push(_ i: Int) {
            let j = next[i]
            if j < n, let id = mergeIDs[Pair(tokens[i], tokens[j]).key] { heap.push(UInt64(id) << 32 | UInt64(i)) }
        }
        for i in 0..<(n - 1) { push(i) }
        while let entry = heap.popFirst() {
            let id = Int32(entry >> 32)
            let i = Int(entry & 0xFFFF_FFFF)
            guard alive[i], next[i] < n else { continue }
            let j = next[i]
            let pair = merges[Int(id) - 256]
            guard tokens[i] == pair.left, tokens[j] == pair.right else { continue }
            tokens[i] = id
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            if prev[i] >= 0 { push(prev[i]) }
            push(i)
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i < n {
            out.append(tokens[i])
            i = next[i]
        }
        tokens = out
    }

    // MARK: - Decoding

    /// The text of `ids`. Ids that are no token, and bytes that do not form UTF-8, become U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: decodeBytes(ids), as: UTF8.self)
    }

    /// The concatenated bytes of `ids` (an id that is no token contributes U+FFFD's bytes).
    public func decodeBytes(_ ids: [Int32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            if id >= 0 && Int(id) < tokenBytes.count {
                out.append(contentsOf: tokenBytes[Int(id)])
            } else if let special = specialTokens.first(where: { $0.id == id }) {
                out.append(contentsOf: special.text.utf8)
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            }
        }
        return out
    }

    // MARK: - minbpe files

    /// The `.model` file: "minbpe v1", the pattern, the number of special tokens, one "token id"
    /// line each, then one "idx1 idx2" line per merge in order.
    public func modelFileText() -> String {
        var lines = ["minbpe v1", pattern.regex, String(specialTokens.count)]
        lines += specialTokens.map { "\($0.text) \($0.id)" }
        lines += merges.map { "\($0.left) \($0.right)" }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Reads a `.model` file's text; errors name the line and what is wrong with it.
    public init(modelFileText text: String) throws {
        // Split scalars, not Characters: "\r\n" is one Character and would hide the "\n".
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.last == "\r" ? $0.dropLast() : $0)
        }
        while lines.last?.trimmingWhitespace().isEmpty == true { lines.removeLast() }
        func fail(_ line: Int, _ problem: String) -> TokenizerError { .malformedModel(line: line, problem: problem) }

        guard let version = lines.first, version.trimmingWhitespace() == "minbpe v1" else {
            throw fail(1, "the first line is \(String(reflecting: lines.first ?? "")), not \"minbpe v1\"")
        }
        guard lines.count >= 3 else { throw fail(lines.count + 1, "the file ends before the number of special tokens") }
        guard let pattern = SplitPattern(regex: lines[1]) else {
            throw TokenizerError.unsupportedPattern(lines[1].trimmingWhitespace())
        }
        guard let specialCount = Int(lines[2].trimmingWhitespace()), specialCount >= 0 else {
            throw fail(3, "\(String(reflecting: lines[2])) is not a number of special tokens")
        }
        guard lines.count >= 3 + specialCount else {
            throw fail(lines.count + 1, "the file ends after \(lines.count - 3) of \(specialCount) special tokens")
        }
        var specials: [(text: String, id: Int, line: Int)] = []
        for n in 3..<(3 + specialCount) {
            let fields = lines[n].split(whereSeparator: { $0.isWhitespace })
            guard fields.count == 2, let id = Int(fields[1]) else {
                throw fail(n + 1, "\(String(reflecting: lines[n])) is not a special token line \"token id\"")
            }
            specials.append((String(fields[0]), id, n + 1))
        }
        var merges: [Pair] = []
        var mergeLines: [Pair: Int] = [:]
        for n in (3 + specialCount)..<lines.count {
            let fields = lines[n].split(whereSeparator: { $0.isWhitespace })
            guard fields.count == 2, let a = Int32(fields[0]), let b = Int32(fields[1]) else {
                throw fail(n + 1, "\(String(reflecting: lines[n])) is not a merge line \"idx1 idx2\"")
            }
            let id = 256 + merges.count
            guard a >= 0, b >= 0, a < id, b < id else {
                throw fail(n + 1, "merge (\(a), \(b)) refers to a token that does not exist before token \(id)")
            }
            if let earlier = mergeLines[Pair(a, b)] {
                throw fail(n + 1, "merge (\(a), \(b)) repeats line \(earlier)")
            }
            mergeLines[Pair(a, b)] = n + 1
            merges.append(Pair(a, b))
        }
        do {
            try self.init(pattern: pattern, merges: merges)
            var seen: [String: Int] = [:]
            for special in specials {
                if seen[special.text] != nil {
                    throw fail(special.line, "special token \(String(reflecting: special.text)) is listed twice")
                }
                seen[special.text] = special.id
            }
            try registerSpecialTokens(seen)
        } catch TokenizerError.malformed(let why) {
            throw fail(3 + specialCount + 1, why)
        } catch TokenizerError.invalidSpecialToken(let token, let problem) {
            throw fail(specials.first { $0.text == token }?.line ?? 4, "special token \(String(reflecting: token)): \(problem)")
        }
    }

    /// Reads a minbpe `.model` file.
    public init(contentsOfModelFile path: String) throws {
        try self.init(modelFileText: String(contentsOfFile: path, encoding: .utf8))
    }

    /// The human-readable `.vocab` listing, as minbpe writes it: "[token] id" for the bytes and
    /// special tokens, "[left][right] -> [token] id" for merges. Control and other invisible
    /// characters are shown as \uXXXX; partial UTF-8 as U+FFFD.
    public func vocabFileText() -> String {
        var out = ""
        for (id, bytes) in tokenBytes.enumerated() {
            if id >= 256 {
                let pair = merges[id - 256]
                out += "[\(Self.renderToken(tokenBytes[Int(pair.left)]))][\(Self.renderToken(tokenBytes[Int(pair.right)]))] -> "
            }
            out += "[\(Self.renderToken(bytes))] \(id)\n"
        }
        for special in specialTokens { out += "[\(Self.renderToken(Array(special.text.utf8)))] \(special.id)\n" }
        return out
    }

    /// A token's bytes as text for people (minbpe's `render_token`): UTF-8 with U+FFFD for broken
    /// sequences, and control, format, private-use and unassigned characters as \\uXXXX.
    public static func renderToken(_ bytes: [UInt8]) -> String {
        var out = String.UnicodeScalarView()
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned:
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Writes `prefix.model` and `prefix.vocab`; returns their paths.
    @discardableResult
    public func save(prefix: String) throws -> (model: String, vocab: String) {
        let paths = (model: prefix + ".model", vocab: prefix + ".vocab")
        try modelFileText().write(toFile: paths.model, atomically: true, encoding: .utf8)
        try vocabFileText().write(toFile: paths.vocab, atomically: true, encoding: .utf8)
        return paths
    }

    // MARK: - Checkpoint metadata

    private struct Metadata: Codable {
        var type: String
        var pattern: String
        var merges: [[Int32]]
        var special: [String: Int]?
    }

    /// `{"merges":[[a,b],…],"pattern":"…","special":{"<|endoftext|>":1024},"type":"bpe"}`
    public func metadataJSON() -> String {
        let metadata = Metadata(type: "bpe", pattern: pattern.regex, merges: merges.map { [$0.left, $0.right] },
                                special: specialTokensByText)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, integers and arrays of them cannot fail.
        return String(decoding: try! encoder.encode(metadata), as: UTF8.self)
    }

    /// Rebuilds a tokenizer from `metadataJSON()`. The pattern may also be given by name ("gpt4").
    public init(metadataJSON json: String) throws {
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(json.utf8))
        } catch {
            throw TokenizerError.malformed("BPE metadata is not {\"type\":\"bpe\",\"pattern\":…,\"merges\":[[a,b],…],\"special\":{…}}: \(error)")
        }
        guard metadata.type == "bpe" else { throw TokenizerError.malformed("metadata type is \(String(reflecting: metadata.type)), not \"bpe\"") }
        guard let pattern = SplitPattern(regex: metadata.pattern) ?? SplitPattern(rawValue: metadata.pattern) else {
            throw TokenizerError.unsupportedPattern(metadata.pattern)
        }
        var merges: [Pair] = []
        for (i, m) in metadata.merges.enumerated() {
            guard m.count == 2 else { throw TokenizerError.malformed("merge \(i) is \(m), not a pair [a, b]") }
            merges.append(Pair(m[0], m[1]))
        }
        try self.init(pattern: pattern, merges: merges, specialTokens: metadata.special ?? [:])
    }
}

/// A piece of a byte buffer, hashed and compared by content. Used as a dictionary key while the
/// buffer is alive (inside one `withUTF8`), so pieces are looked up without copying them.
struct ByteSpan: Hashable {
    let start: UnsafePointer<UInt8>
    let count: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        start = buffer.baseAddress! + range.lowerBound
        count = range.count
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(bytes: UnsafeRawBufferPointer(start: start, count: count))
    }

    static func == (a: ByteSpan, b: ByteSpan) -> Bool {
        a.count == b.count && (a.start == b.start || memcmp(a.start, b.start, a.count) == 0)
    }
}

/// Finds special tokens in UTF-8 text. Matching bytes is matching code points: in valid UTF-8 a
/// token's bytes can only match where a scalar starts.
enum SpecialMatcher {
    /// The leftmost special token at or after byte `from`; at one position, the first in `specials`.
    static func first(
        of specials: [BPETokenizer.SpecialToken], in bytes: UnsafeBufferPointer<UInt8>, from: Int
    ) -> (token: BPETokenizer.SpecialToken, at: Int)? {
        guard !specials.isEmpty else { return nil }
        let needles = specials.map { Array($0.text.utf8) }
        var firstBytes = [Bool](repeating: false, count: 256)
        for n in needles { firstBytes[Int(n[0])] = true }
        var i = from
        while i < bytes.count {
            if firstBytes[Int(bytes[i])] {
                for (k, needle) in needles.enumerated() where needle.count <= bytes.count - i {
                    if memcmp(bytes.baseAddress! + i, needle, needle.count) == 0 { return (specials[k], i) }
                }
            }
            i += 1
        }
        return nil
    }
}
