import Testing
@testable import Tokenizers

@Suite struct PromptEncodingTests {
    let letters = try! CharTokenizer(vocab: Array("abc \n".unicodeScalars).sorted { $0.value < $1.value })

    @Test func emptyPromptStartsFromNewlineWhenInVocabularyElseTokenZero() throws {
        #expect(try GenerationPrompt.tokens(for: "", tokenizer: letters) == [0])  // "\n" sorts first
        let noNewline = try CharTokenizer(vocab: Array("xyz".unicodeScalars))
        #expect(try GenerationPrompt.tokens(for: "", tokenizer: noNewline) == [0])
        let newlineLast = try CharTokenizer(vocab: Array("xy\n".unicodeScalars))
        #expect(try GenerationPrompt.tokens(for: "", tokenizer: newlineLast) == [2])
        #expect(try GenerationPrompt.tokens(for: "cab", tokenizer: letters) == [4, 2, 3])
    }

    @Test func unknownCharactersGiveAClearMessage() {
        do {
            _ = try GenerationPrompt.tokens(for: "abé€", tokenizer: letters)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("\"é\"") && error.message.contains("\"€\""), "\(error.message)")
            #expect(error.message.contains("never seen"))
        }
    }
}

/// A byte-level tokenizer: token i is byte i, and text decodes as UTF-8 (U+FFFD for broken bytes).
struct ByteTokenizer: Tokenizer {
    var vocabSize: Int { 256 }
    func encode(_ text: String) throws -> [Int32] { text.utf8.map { Int32($0) } }
    func decode(_ ids: [Int32]) -> String { String(decoding: ids.map { UInt8($0) }, as: UTF8.self) }
    func metadataJSON() -> String { #"{"type":"bytes"}"# }
}

@Suite struct StreamingTextDecoderTests {
    @Test func holdsBackTokensThatEndInsideACharacter() throws {
        let tokenizer = ByteTokenizer()
        var decoder = StreamingTextDecoder(tokenizer: tokenizer)
        let pieces = try tokenizer.encode("a€b🙂").map { decoder.push($0) }
        // "€" is 3 bytes and "🙂" 4: nothing is shown until each is complete.
        #expect(pieces == ["a", "", "", "€", "b", "", "", "", "🙂"])
        #expect(decoder.flush() == "")
    }

    @Test func givesUpOnBytesThatNeverFormACharacter() {
        var decoder = StreamingTextDecoder(tokenizer: ByteTokenizer())
        let pieces = [0xE2, 0x82, 0x41].map { decoder.push(Int32($0)) }
        #expect(pieces == ["", "", "\u{FFFD}A"])
        #expect(decoder.push(0xF0) == "" && decoder.flush() == "\u{FFFD}")
    }
}
