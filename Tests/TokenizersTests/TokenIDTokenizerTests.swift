import Testing
@testable import Tokenizers

@Suite struct TokenIDTokenizerTests {
    @Test func idsRoundTripAsNumbersAndOutOfRangeIsRefused() throws {
        let t = try TokenIDTokenizer(vocabSize: 50304)
        #expect(try t.encode("0 17\n50303") == [0, 17, 50303])
        #expect(t.decode([3, 50303]) == "3 50303")
        #expect(t.decode([-1, 50304]) == "\u{FFFD} \u{FFFD}")
        #expect(throws: TokenizerError.self) { try t.encode("50304") }
        #expect(throws: TokenizerError.self) { try t.encode("seven") }
        #expect(throws: TokenizerError.self) { try TokenIDTokenizer(vocabSize: 0) }
        let rebuilt = try TokenizerMetadata.tokenizer(fromJSON: t.metadataJSON())
        #expect((rebuilt as? TokenIDTokenizer) == t)
    }
}
