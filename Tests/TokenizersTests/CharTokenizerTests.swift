import Testing
@testable import Tokenizers

@Test func charVocabularyIsSortedByCodePoint() throws {
    let tok = try CharTokenizer(corpus: "hello, world\r\n")
    #expect(tok.vocab.map { String($0) } == ["\n", "\r", " ", ",", "d", "e", "h", "l", "o", "r", "w"])
    let ids = try tok.encode("hello\r\n")
    #expect(ids.count == 7)
    #expect(tok.decode(ids) == "hello\r\n")
    #expect(throws: TokenizerError.self) { try tok.encode("hellQ") }
}
