import Foundation

extension BPETokenizer {
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
