import Foundation

extension BPETokenizer {
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
            throw TokenizerError.malformed("BPE metadata is not {\"type\":\"bpe\",\"pattern\":…,\"merges\":[[a,b],…],\"special\":{…}} (\(decodingProblem(error)))")
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
