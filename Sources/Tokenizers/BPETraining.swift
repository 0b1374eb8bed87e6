import Foundation

extension BPETokenizer {
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
}
