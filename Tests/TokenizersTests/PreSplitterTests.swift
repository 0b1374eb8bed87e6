import Foundation
import Testing
@testable import Tokenizers

private struct PreSplitFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let gpt4: [String]
        let gpt2: [String]
    }
    let patterns: [String: String]
    let cases: [Case]
}

private struct UnicodeClassFixture: Decodable {
    let whitespace: [[UInt32]]
    let letter: [[UInt32]]
    let number: [[UInt32]]
}

@Test func patternTextMatchesTheReferenceScript() throws {
    let fixture = try loadFixture("presplit", as: PreSplitFixture.self)
    #expect(fixture.patterns["gpt4"] == SplitPattern.gpt4.regex)
    #expect(fixture.patterns["gpt2"] == SplitPattern.gpt2.regex)
    #expect(SplitPattern(regex: SplitPattern.gpt2.regex + "\n") == .gpt2)
    #expect(SplitPattern(regex: "\\w+") == nil)
}

/// Every tricky and random string of the fixture splits exactly as Python's `regex.findall` does.
@Test(arguments: SplitPattern.allCases)
func preSplitMatchesPythonRegex(pattern: SplitPattern) throws {
    let fixture = try loadFixture("presplit", as: PreSplitFixture.self)
    #expect(fixture.cases.count > 300)
    let splitter = PreSplitter(pattern)
    for c in fixture.cases {
        let expected = pattern == .gpt4 ? c.gpt4 : c.gpt2
        // Compare scalars: Swift's String == would call "e\u{301}" and "é" equal.
        let got = splitter.pieces(of: c.text).map { Array($0.unicodeScalars) }
        #expect(got == expected.map { Array($0.unicodeScalars) }, "text: \(String(reflecting: c.text))")
    }
}

@Test func gpt4SplitsTheWayTheTokenizerNeeds() {
    let s = PreSplitter(.gpt4)
    #expect(s.pieces(of: "Hello world's 12345!!\r\n\r\n  end") ==
            ["Hello", " world", "'s", " ", "123", "45", "!!\r\n\r\n", " ", " end"])
    // "\r\n" is one Character in Swift but two scalars; the split must not glue it to a letter.
    #expect(s.pieces(of: "a\r\nb") == ["a", "\r\n", "b"])
    #expect(PreSplitter(.gpt2).pieces(of: "I'LL 12345!!\n") == ["I", "'", "LL", " 12345", "!!", "\n"])
}

/// The scanner's `\s`, `\p{L}` and `\p{N}` agree with the `regex` module on every code point that
/// Swift's Unicode tables have assigned. Python's tables may be a Unicode version ahead: characters
/// assigned since then are unassigned to Swift and count as "other" here.
@Test func characterClassesAgreeWithPythonRegex() throws {
    let fixture = try loadFixture("unicode_classes", as: UnicodeClassFixture.self)
    var expected = [UInt8](repeating: 0, count: 0x110000)  // 0 other, 1 whitespace, 2 letter, 3 number
    for (mark, ranges) in [(UInt8(1), fixture.whitespace), (2, fixture.letter), (3, fixture.number)] {
        for r in ranges { for v in r[0]...r[1] { expected[Int(v)] = mark } }
    }
    var disagreements = 0
    var newerThanSwift = 0
    for v in UInt32(0)..<0x110000 {
        guard let scalar = Unicode.Scalar(v) else { continue }
        let got: UInt8
        switch ScalarClass(v) {
        case .space, .lineBreak: got = 1
        case .letter: got = 2
        case .number: got = 3
        case .other: got = 0
        }
        if got == expected[Int(v)] { continue }
        if got == 0 && scalar.properties.generalCategory == .unassigned {
            newerThanSwift += 1
        } else {
            disagreements += 1
            if disagreements < 5 { Issue.record("U+\(String(v, radix: 16)): swift \(got), python \(expected[Int(v)])") }
        }
    }
    #expect(disagreements == 0)
    #expect(newerThanSwift < 5_000, "Swift's Unicode tables are far behind the regex module's")
}
