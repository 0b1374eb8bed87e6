import Foundation
import Testing
@testable import Tokenizers
import TestSupport

private struct ReferenceFixture: Decodable {
    struct Model: Decodable {
        struct Encoding: Decodable {
            let text: String
            let ids: [Int32]
        }
        let pattern: String
        let text: String
        let vocab_size: Int
        let special: [String: Int]
        let merges: [[Int32]]
        let encodings: [Encoding]
        let encode_ordinary_with_special_text: [Int32]
        let encode_only_fim: [Int32]
        let model_file: String
        let vocab_file: String
    }
    let models: [Model]
}

private struct ReplacementFixture: Decodable {
    struct Case: Decodable {
        let bytes: [UInt8]
        let text: String
    }
    let cases: [Case]
}


/// Strings made of the things that break tokenizers: multi-byte scalars, combining marks,
/// emoji sequences, "\r\n", unusual whitespace, and arbitrary scalars from the whole range.
func randomTrickyString(_ rng: inout SplitMix64) -> String {
    let pool: [String] = [
        "a", "Z", "'", "'s", "'LL", " ", "  ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{85}", "\u{A0}", "\u{2028}", "\u{3000}",
        "1", "234", "!", "?!", "...", "é", "e\u{301}", "\u{301}", "\u{308}\u{308}", "日本", "語", "한", "ع", "ह\u{93F}",
        "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "\u{200D}", "\u{200B}", "\u{FEFF}", "ſ", "ß", "½", "Ⅻ", "\u{E000}", "\u{10FFFF}",
        "<|endoftext", "|>",
    ]
    var s = ""
    for _ in 0..<Int.random(in: 0...30, using: &rng) {
        if Int.random(in: 0..<6, using: &rng) == 0 {
            // Any scalar at all, surrogates excluded (they cannot be in a String).
            var v = UInt32.random(in: 0...0x10FFFF, using: &rng)
            if (0xD800...0xDFFF).contains(v) { v = 0xFFFD }
            s.unicodeScalars.append(Unicode.Scalar(v)!)
        } else {
            s += pool.randomElement(using: &rng)!
        }
    }
    return s
}

/// minbpe's training loop, written as plainly as possible: recount all pairs every round, take
/// the first maximum in order of first sighting.
private func naiveTrain(_ text: String, vocabSize: Int, pattern: SplitPattern) -> [BPETokenizer.Pair] {
    var chunks = PreSplitter(pattern).pieces(of: text).map { $0.utf8.map { Int32($0) } }
    var merges: [BPETokenizer.Pair] = []
    for i in 0..<(vocabSize - 256) {
        var counts: [BPETokenizer.Pair: Int] = [:]
        var order: [BPETokenizer.Pair] = []
        for c in chunks where c.count >= 2 {
            for j in 0..<(c.count - 1) {
                let p = BPETokenizer.Pair(c[j], c[j + 1])
                if counts[p] == nil { order.append(p) }
                counts[p, default: 0] += 1
            }
        }
        guard var best = order.first else { break }
        for p in order where counts[p]! > counts[best]! { best = p }
        for k in chunks.indices { BPETokenizer.replace(best, with: Int32(256 + i), in: &chunks[k]) }
        merges.append(best)
    }
    return merges
}

private func sameScalars(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }

// MARK: - Agreement with the Python reference (minbpe's algorithm, regex module)

@Test func trainingEncodingAndFilesMatchThePythonReference() throws {
    let fixture = try loadFixture("bpe_reference", as: ReferenceFixture.self)
    #expect(fixture.models.count == 3)
    for model in fixture.models {
        let pattern = try #require(SplitPattern(rawValue: model.pattern))
        var tok = try BPETokenizer.train(text: model.text, vocabSize: model.vocab_size, pattern: pattern)
        #expect(tok.merges.map { [$0.left, $0.right] } == model.merges, "merges, \(model.pattern), vocab \(model.vocab_size)")
        try tok.registerSpecialTokens(model.special)
        for e in model.encodings {
            #expect(try tok.encode(e.text, allowedSpecial: .all) == e.ids, "encode \(String(reflecting: e.text))")
            #expect(sameScalars(tok.decode(e.ids), e.text))
        }
        #expect(try tok.encode("x<|endoftext|>y", allowedSpecial: .none) == model.encode_ordinary_with_special_text)
        #expect(try tok.encode("<|fim|><|endoftext|>", allowedSpecial: .only(["<|fim|>"])) == model.encode_only_fim)
        #expect(tok.modelFileText() == model.model_file)
        #expect(tok.vocabFileText() == model.vocab_file)
        #expect(try BPETokenizer(modelFileText: model.model_file) == tok)
    }
}

@Test func incrementalTrainingEqualsNaiveRecounting() throws {
    var rng = SplitMix64(seed: 42)
    // Small alphabets make many equal counts, which is where the tie rule matters.
    // Alphabets without a space make one long word, whose merges overlap a lot ("aaaa", "abab").
    let alphabets = [["a", "b", " "], ["a", "b", "c", " ", "\n"], ["x", "y", "'s", " ", "1", "!"], ["é", "🙂", "a", " "],
                     ["a", "b"], ["a", "a", "b", "c"]]
    for round in 0..<60 {
        let alphabet = alphabets[round % alphabets.count]
        let text = (0..<Int.random(in: 20...300, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
        let pattern: SplitPattern = round % 2 == 0 ? .gpt4 : .gpt2
        let naive = naiveTrain(text, vocabSize: 300, pattern: pattern)
        let vocabSize = 256 + naive.count  // as many merges as the text allows
        let fast = try BPETokenizer.train(text: text, vocabSize: vocabSize, pattern: pattern)
        #expect(fast.merges == naive, "text \(String(reflecting: text))")
    }
}

@Test func swiftRendersBrokenUTF8LikePythonsReplace() throws {
    let fixture = try loadFixture("utf8_replacement", as: ReplacementFixture.self)
    for c in fixture.cases {
        #expect(sameScalars(String(decoding: c.bytes, as: UTF8.self), c.text), "bytes \(c.bytes)")
    }
}

// MARK: - Round trip

@Test(arguments: SplitPattern.allCases)
func decodeInvertsEncodeOnRandomUnicode(pattern: SplitPattern) throws {
    let fixture = try loadFixture("bpe_reference", as: ReferenceFixture.self)
    var tok = try BPETokenizer.train(text: fixture.models[0].text, vocabSize: 400, pattern: pattern)
    try tok.registerSpecialTokens(["<|endoftext|>": 400])
    let bare = try BPETokenizer(pattern: pattern, merges: [])
    var rng = SplitMix64(seed: pattern == .gpt4 ? 1 : 2)
    for _ in 0..<2_000 {
        let s = randomTrickyString(&rng)
        for t in [tok, bare] {
            let ids = try t.encode(s, allowedSpecial: .none)
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < t.vocabSize })
            #expect(sameScalars(t.decode(ids), s), "round trip of \(String(reflecting: s))")
        }
        // With special tokens allowed, the text still comes back unchanged.
        let withSpecial = s + "<|endoftext|>" + s
        let ids = try tok.encode(withSpecial, allowedSpecial: .all)
        #expect(ids.contains(400))
        #expect(sameScalars(tok.decode(ids), withSpecial))
    }
}

@Test func decodingCutMultiByteCharactersGivesReplacementCharacters() throws {
    let tok = try BPETokenizer(pattern: .gpt4, merges: [])
    let ids = try tok.encode("a🙂b日")  // bytes: a, F0 9F 99 82, b, E6 97 A5
    #expect(ids.count == 9)
    #expect(tok.decode(Array(ids[0..<4])) == "a\u{FFFD}")       // 🙂 missing its last byte
    #expect(tok.decode(Array(ids[2...])) == "\u{FFFD}\u{FFFD}\u{FFFD}b日")  // three stray continuation bytes
    #expect(tok.decode(Array(ids[..<8])) == "a🙂b\u{FFFD}")
    #expect(tok.decode([0xF0, 0x9F]) == "\u{FFFD}")
    // Ids that are no token decode to U+FFFD rather than trapping.
    #expect(tok.decode([-1, 72, 9_999]) == "\u{FFFD}H\u{FFFD}")
}

@Test func mergedTokensCarryTheirBytes() throws {
    // Five merges join the six bytes of " hello", the only piece.
    let tok = try BPETokenizer.train(text: " hello hello hello", vocabSize: 261)
    #expect(tok.vocabSize == 261)
    let ids = try tok.encode(" hello")
    #expect(ids.count == 1)
    #expect(tok.bytes(ofToken: ids[0]) == Array(" hello".utf8))
    #expect(tok.bytes(ofToken: 261) == nil)
}

// MARK: - Special tokens

@Test func specialTokensFollowMinbpeAllowedSpecial() throws {
    var tok = try BPETokenizer.train(text: "one two three <|endoftext|> four", vocabSize: 270)
    try tok.registerSpecialTokens(["<|endoftext|>": 270, "<|pad|>": 271])
    #expect(tok.vocabSize == 272)
    let text = "a<|endoftext|>b<|pad|>"

    let all = try tok.encode(text, allowedSpecial: .all)
    #expect(all.filter { $0 >= 270 } == [270, 271])
    #expect(tok.decode(all) == text)

    let none = try tok.encode(text, allowedSpecial: .none)
    #expect(!none.contains { $0 >= 270 })
    #expect(none == tok.encodeOrdinary(text))
    #expect(tok.decode(none) == text)

    let onlyPad = try tok.encode(text, allowedSpecial: .only(["<|pad|>"]))
    #expect(onlyPad.filter { $0 >= 270 } == [271])

    // The default is minbpe's "none_raise".
    #expect(throws: TokenizerError.disallowedSpecialToken("<|endoftext|>")) { try tok.encode(text) }
    #expect(try tok.encode("plain text") == tok.encodeOrdinary("plain text"))

    #expect(throws: TokenizerError.unknownSpecialToken("<|eot|>", registered: ["<|endoftext|>", "<|pad|>"])) {
        try tok.encode(text, allowedSpecial: .only(["<|eot|>"]))
    }
    let message = TokenizerError.unknownSpecialToken("<|eot|>", registered: ["<|endoftext|>"]).description
    #expect(message.contains("<|eot|>") && message.contains("registered: <|endoftext|>"))
}

@Test func specialTokenRegistrationIsValidated() throws {
    var tok = try BPETokenizer.train(text: "aaaa bbbb", vocabSize: 258)
    #expect(throws: TokenizerError.self) { try tok.registerSpecialTokens(["<|x|>": 257]) }  // inside the merges
    #expect(throws: TokenizerError.self) { try tok.registerSpecialTokens(["<|x|>": 300, "<|y|>": 300]) }
    #expect(throws: TokenizerError.self) { try tok.registerSpecialTokens(["two words": 300]) }
    #expect(throws: TokenizerError.self) { try tok.registerSpecialTokens(["": 300]) }
    try tok.appendSpecialTokens(["<|endoftext|>", "<|pad|>"])
    #expect(tok.specialTokensByText == ["<|endoftext|>": 258, "<|pad|>": 259])
}

// MARK: - Errors

@Test func vocabularySmallerThanTheBytesIsRejected() throws {
    #expect(throws: TokenizerError.vocabSizeTooSmall(255)) { try BPETokenizer.train(text: "abc", vocabSize: 255) }
    #expect(TokenizerError.vocabSizeTooSmall(100).description.contains("at least 256"))
    #expect(try BPETokenizer.train(text: "abc", vocabSize: 256).merges.isEmpty)
}

@Test func textWithTooFewPairsIsRejected() throws {
    // "ab ab" has pairs (a,b), then ( ,ab): two merges at most.
    #expect(throws: TokenizerError.notEnoughText(requestedMerges: 5, learnedMerges: 2)) {
        try BPETokenizer.train(text: "ab ab", vocabSize: 261)
    }
    #expect(TokenizerError.notEnoughText(requestedMerges: 5, learnedMerges: 2).description.contains("at most 258"))
}

@Test func malformedModelFilesAreRejectedWithTheLine() throws {
    let tok = try BPETokenizer.train(text: "the cat sat on the mat", vocabSize: 262)
    let good = tok.modelFileText()
    #expect(try BPETokenizer(modelFileText: good) == tok)
    #expect(try BPETokenizer(modelFileText: good.replacingOccurrences(of: "\n", with: "\r\n")) == tok)

    func lines(_ edit: (inout [String]) -> Void) -> String {
        var l = good.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        edit(&l)
        return l.joined(separator: "\n")
    }
    func expectLine(_ text: String, _ line: Int, mentioning word: String) {
        do {
            _ = try BPETokenizer(modelFileText: text)
            Issue.record("accepted a malformed model file")
        } catch let TokenizerError.malformedModel(l, problem) {
            #expect(l == line, "\(problem)")
            #expect(problem.contains(word), "\(problem)")
            #expect(TokenizerError.malformedModel(line: l, problem: problem).description.contains("minbpe v1"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
    expectLine("", 1, mentioning: "minbpe v1")
    expectLine(lines { $0[0] = "minbpe v2" }, 1, mentioning: "minbpe v2")
    expectLine(lines { $0[2] = "many" }, 3, mentioning: "many")
    expectLine(lines { $0[2] = "1"; $0.insert("<|eot|>", at: 3) }, 4, mentioning: "special token line")
    expectLine(lines { $0[2] = "20" }, 10, mentioning: "ends after 6 of 20")
    expectLine(lines { $0[4] = "256" }, 5, mentioning: "merge line")
    expectLine(lines { $0[4] = "300 1" }, 5, mentioning: "does not exist")
    expectLine(lines { $0[3] = "0 1"; $0[4] = "0 1" }, 5, mentioning: "repeats")
    expectLine(lines { $0[2] = "1"; $0.insert("<|eot|> 3", at: 3) }, 4, mentioning: "after the merges")
    #expect(throws: TokenizerError.unsupportedPattern(#"\w+"#)) { try BPETokenizer(modelFileText: lines { $0[1] = #"\w+"# }) }
    #expect(TokenizerError.unsupportedPattern("x").description.contains("--pattern gpt4"))
}

// MARK: - Persistence

@Test func saveWritesModelAndVocabThatLoadBack() throws {
    var tok = try BPETokenizer.train(text: "low lower lowest newer wider\n", vocabSize: 270, pattern: .gpt2)
    try tok.registerSpecialTokens(["<|endoftext|>": 300])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let paths = try tok.save(prefix: dir.appendingPathComponent("tok").path)
    #expect(try BPETokenizer(contentsOfModelFile: paths.model) == tok)
    let vocab = try String(contentsOfFile: paths.vocab, encoding: .utf8)
    #expect(vocab.hasPrefix("[\\u0000] 0\n[\\u0001] 1\n"))
    #expect(vocab.contains("[ ] 32\n"))
    #expect(vocab.contains("[<|endoftext|>] 300\n"))
    #expect(vocab.split(separator: "\n").count == 270 + 1)
}

@Test func metadataJSONRebuildsEitherKindOfTokenizer() throws {
    var bpe = try BPETokenizer.train(text: "to be or not to be, that is the question", vocabSize: 280)
    try bpe.registerSpecialTokens(["<|endoftext|>": 280])
    let json = bpe.metadataJSON()
    #expect(json.hasPrefix(#"{"merges":[["#))
    #expect(json.contains(#""type":"bpe""#) && json.contains(#""special":{"<|endoftext|>":280}"#))
    let rebuilt = try TokenizerMetadata.tokenizer(fromJSON: json)
    #expect(rebuilt as? BPETokenizer == bpe)
    #expect(rebuilt.vocabSize == 281)

    let char = try CharTokenizer(corpus: "hello\r\n")
    #expect(try TokenizerMetadata.tokenizer(fromJSON: char.metadataJSON()) as? CharTokenizer == char)

    let byName = try BPETokenizer(metadataJSON: #"{"type":"bpe","pattern":"gpt2","merges":[[104,105]]}"#)
    #expect(byName.pattern == .gpt2 && byName.merges == [BPETokenizer.Pair(104, 105)])

    #expect(throws: TokenizerError.self) { try TokenizerMetadata.tokenizer(fromJSON: #"{"type":"wordpiece"}"#) }
    #expect(throws: TokenizerError.self) { try TokenizerMetadata.tokenizer(fromJSON: "not json") }
    #expect(throws: TokenizerError.self) {
        try TokenizerMetadata.tokenizer(fromJSON: #"{"type":"bpe","pattern":"gpt4","merges":[[104,999]]}"#)
    }
    #expect(throws: TokenizerError.self) { try TokenizerMetadata.tokenizer(fromJSON: #"{"type":"char","vocab":["ab"]}"#) }
}

@Test func longPiecesEncodeLikeShortOnes() throws {
    // A paragraph without spaces is a single piece; long pieces take a different merge loop.
    let fixture = try loadFixture("bpe_reference", as: ReferenceFixture.self)
    let tok = try BPETokenizer.train(text: fixture.models[0].text, vocabSize: 520)
    var rng = SplitMix64(seed: 7)
    let letters = Array("thekeepercountedshipsaaaaeeeellll灯台守のログ")
    for _ in 0..<60 {
        let piece = String((0..<Int.random(in: 2...160, using: &rng)).map { _ in letters.randomElement(using: &rng)! })
        var rescanned = piece.utf8.map { Int32($0) }
        var viaHeap = rescanned
        while rescanned.count >= 2 {  // the plain loop, whatever the length
            let mergeable = (0..<(rescanned.count - 1)).compactMap {
                tok.merges.firstIndex(of: BPETokenizer.Pair(rescanned[$0], rescanned[$0 + 1]))
            }
            guard let earliest = mergeable.min() else { break }
            BPETokenizer.replace(tok.merges[earliest], with: Int32(256 + earliest), in: &rescanned)
        }
        tok.applyMergesWithHeap(to: &viaHeap)
        #expect(viaHeap == rescanned, "piece \(piece)")
        #expect(try tok.encode(piece) == rescanned)
    }
}
