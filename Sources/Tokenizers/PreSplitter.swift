/// The regular expressions that GPT-2 and GPT-4 (cl100k) use to cut text into pieces before BPE.
///
/// BPE never merges across a piece boundary, so these patterns decide what a token can be: a word
/// with its leading space, a run of up to three digits, a run of punctuation, a run of whitespace.
public enum SplitPattern: String, Sendable, CaseIterable {
    case gpt4
    case gpt2

    /// The pattern's text, exactly as minbpe and tiktoken spell it (and as `.model` files store it).
    public var regex: String {
        switch self {
        case .gpt4:
            return #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#
        case .gpt2:
            return #"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        }
    }

    /// The split pattern whose regex text is `regex` (surrounding whitespace ignored), if it is one
    /// of the two this tokenizer implements.
    public init?(regex: String) {
        let trimmed = regex.trimmingWhitespace()
        guard let match = SplitPattern.allCases.first(where: { $0.regex == trimmed }) else { return nil }
        self = match
    }
}

/// Cuts text into pieces exactly as Python's `regex.findall(pattern, text)` does for the GPT-4 and
/// GPT-2 patterns, working on Unicode scalars (code points) as Python strings do.
///
/// This is a hand-written scanner rather than a `Regex`: Swift's regex engine matches grapheme
/// clusters by default (so "\r\n" would be one character) and is far too slow for tokenising a
/// corpus. Each `…PieceEnd` function below tries the pattern's alternatives in the pattern's order,
/// because a backtracking regex takes the first alternative that matches, not the longest.
///
/// Character classes follow the `regex` module: `\s` is the Unicode White_Space property,
/// `\p{L}` and `\p{N}` are the Letter and Number general categories (from Swift's Unicode tables,
/// which may lag Python's by a Unicode version for newly assigned characters).
public struct PreSplitter: Sendable {
    public let pattern: SplitPattern

    public init(_ pattern: SplitPattern) {
        self.pattern = pattern
    }

    /// The pieces of `text`, in order; they concatenate back to `text`.
    public func pieces(of text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [String] = []
            forEachPiece(inUTF8: bytes) { range in
                out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return out
        }
    }

    /// Calls `body` with the byte range of each piece of `bytes`, which must be valid UTF-8 (as a
    /// `String`'s storage always is). The ranges are consecutive and cover all of `bytes`.
    public func forEachPiece(inUTF8 bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let scanner = Scanner(bytes: bytes)
        var start = 0
        while start < bytes.count {
            let end: Int
            switch pattern {
            case .gpt4: end = scanner.gpt4PieceEnd(from: start)
            case .gpt2: end = scanner.gpt2PieceEnd(from: start)
            }
            body(start..<end)
            start = end
        }
    }
}

/// What the split patterns need to know about a scalar. `\r` and `\n` are whitespace that the
/// GPT-4 pattern treats specially, so they get a class of their own.
enum ScalarClass: UInt8 {
    case letter, number, lineBreak, space, other

    var isWhitespace: Bool { self == .space || self == .lineBreak }

    init(_ value: UInt32) {
        if value < 0x80 {
            self = asciiClasses[Int(value)]
        } else {
            self = ScalarClass.classifyNonASCII(value)
        }
    }

    private static func classifyNonASCII(_ value: UInt32) -> ScalarClass {
        switch value {
        // White_Space beyond ASCII; a fixed, long-stable list, spelled out so `\s` cannot drift.
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return .space
        default:
            guard let scalar = Unicode.Scalar(value) else { return .other }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                return .letter
            case .decimalNumber, .letterNumber, .otherNumber:
                return .number
            default:
                return .other
            }
        }
    }
}

/// ASCII is nearly all of most corpora, so its classes come from a table instead of the Unicode
/// property lookup.
private let asciiClasses: [ScalarClass] = (0..<128).map { (v: UInt32) -> ScalarClass in
    switch v {
    case 0x0A, 0x0D: return .lineBreak
    case 0x09, 0x0B, 0x0C, 0x20: return .space
    case 0x30...0x39: return .number
    case 0x41...0x5A, 0x61...0x7A: return .letter
    default: return .other
    }
}

/// Reads scalars out of valid UTF-8 and finds where each piece ends.
struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>

    /// The scalar starting at byte `i`, and the byte index just after it.
    @inline(__always)
    func scalar(at i: Int) -> (value: UInt32, next: Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, i + 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), i + 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), i + 3)
        }
        let v = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
            | UInt32(bytes[i + 3] & 0x3F)
        return (v, i + 4)
    }

    @inline(__always)
    func classAt(_ i: Int) -> ScalarClass? {
        i < bytes.count ? ScalarClass(scalar(at: i).value) : nil
    }

    /// End of the run of scalars of class `cls` that starts at `i` (which may be empty).
    @inline(__always)
    func endOfRun(of cls: ScalarClass, from i: Int) -> Int {
        var i = i
        while i < bytes.count {
            let (value, next) = scalar(at: i)
            if ScalarClass(value) != cls { break }
            i = next
        }
        return i
    }

    /// After an apostrophe at `i - 1`: the end of `s`, `d`, `m`, `t`, `ll`, `ve` or `re` if one
    /// follows. Ignoring case, `regex` also matches U+017F LATIN SMALL LETTER LONG S to `s` (its
    /// simple case fold); no other non-ASCII scalar folds to any of these letters.
    func contractionEnd(after i: Int, ignoringCase: Bool) -> Int? {
        guard i < bytes.count else { return nil }
        let (c1, n1) = scalar(at: i)
        let first = ignoringCase ? foldedASCII(c1) : c1
        switch first {
        case 0x73, 0x64, 0x6D, 0x74:  // s d m t
            return n1
        case 0x6C, 0x76, 0x72:  // l v r, which need a second letter: ll ve re
            guard n1 < bytes.count else { return nil }
            let (c2, n2) = scalar(at: n1)
            let second = ignoringCase ? foldedASCII(c2) : c2
            let wanted: UInt32 = first == 0x6C ? 0x6C : 0x65
            return second == wanted ? n2 : nil
        default:
            return nil
        }
    }

    private func foldedASCII(_ v: UInt32) -> UInt32 {
        if v >= 0x41 && v <= 0x5A { return v + 0x20 }
        if v == 0x17F { return 0x73 }
        return v
    }

    /// Scans the whitespace run starting at `start` (whose first scalar is whitespace).
    /// Returns the run's end, the start of its last scalar, and the end of its last line break.
    func whitespaceRun(from start: Int) -> (end: Int, lastStart: Int, lastBreakEnd: Int?) {
        var i = start
        var lastStart = start
        var lastBreakEnd: Int?
        while i < bytes.count {
            let (value, next) = scalar(at: i)
            let cls = ScalarClass(value)
            if !cls.isWhitespace { break }
            if cls == .lineBreak { lastBreakEnd = next }
            lastStart = i
            i = next
        }
        return (i, lastStart, lastBreakEnd)
    }

    /// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`
    func gpt4PieceEnd(from start: Int) -> Int {
        let (first, afterFirst) = scalar(at: start)
        let firstClass = ScalarClass(first)

        // '(?i:[sdmt]|ll|ve|re)
        if first == 0x27, let end = contractionEnd(after: afterFirst, ignoringCase: true) { return end }

        // [^\r\n\p{L}\p{N}]?+\p{L}+ — a word, which may take one leading space or symbol
        // (but never a line break or digit) with it.
        if firstClass == .letter { return endOfRun(of: .letter, from: afterFirst) }
        if (firstClass == .space || firstClass == .other) && classAt(afterFirst) == .letter {
            return endOfRun(of: .letter, from: afterFirst)
        }

        // \p{N}{1,3} — long numbers are cut into groups of three, counted from the left.
        if firstClass == .number {
            var end = afterFirst
            var digits = 1
            while digits < 3, classAt(end) == .number {
                end = scalar(at: end).next
                digits += 1
            }
            return end
        }

        // ' ?[^\s\p{L}\p{N}]++[\r\n]*' — symbols, with one leading space and any trailing line breaks.
        if firstClass == .other || (first == 0x20 && classAt(afterFirst) == .other) {
            let symbolsEnd = endOfRun(of: .other, from: firstClass == .other ? start : afterFirst)
            return endOfRun(of: .lineBreak, from: symbolsEnd)
        }

        // Only whitespace is left.
        let run = whitespaceRun(from: start)
        // \s*[\r\n] — greedy, so it backtracks only as far as the run's last line break.
        if let lastBreakEnd = run.lastBreakEnd { return lastBreakEnd }
        // \s+(?!\S) — the whole run at the end of the text; otherwise all but the last scalar,
        // which stays to lead the next word (" world").
        if run.end == bytes.count { return run.end }
        if run.lastStart > start { return run.lastStart }
        // \s+ — a single whitespace scalar before non-whitespace.
        return run.end
    }

    /// `'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    func gpt2PieceEnd(from start: Int) -> Int {
        let (first, afterFirst) = scalar(at: start)
        let firstClass = ScalarClass(first)

        // '(?:[sdmt]|ll|ve|re) — case-sensitive here, unlike GPT-4.
        if first == 0x27, let end = contractionEnd(after: afterFirst, ignoringCase: false) { return end }

        // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+' — a run of one class, which may take one
        // leading ASCII space (no other whitespace) with it.
        if firstClass == .letter || firstClass == .number || firstClass == .other {
            return endOfRun(of: firstClass, from: afterFirst)
        }
        if first == 0x20, let next = classAt(afterFirst), next == .letter || next == .number || next == .other {
            return endOfRun(of: next, from: afterFirst)
        }

        // \s+(?!\S) then \s+, as in GPT-4; line breaks get no special treatment.
        let run = whitespaceRun(from: start)
        if run.end == bytes.count { return run.end }
        return run.lastStart > start ? run.lastStart : run.end
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
