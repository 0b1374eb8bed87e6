import ArgumentParser
import Foundation
import Tokenizers

/// `nanoscope tokenizer …`: train a byte-level BPE tokenizer and try it on text.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train and try out a byte-level BPE tokenizer (minbpe-compatible .model files).",
        subcommands: [Train.self, Encode.self, Decode.self]
    )
}

extension TokenizerCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn BPE merges from a text file; writes PREFIX.model and PREFIX.vocab."
        )

        @Option(help: "UTF-8 text file to learn from.")
        var data: String

        @Option(help: "Vocabulary size: the 256 byte tokens plus the merges to learn.")
        var vocabSize: Int

        @Option(help: "Output path prefix: PREFIX.model and PREFIX.vocab are written.")
        var out: String

        @Option(help: "Pre-split pattern: gpt4 (cl100k) or gpt2.")
        var pattern: String = SplitPattern.gpt4.rawValue

        @Option(name: .customLong("special"), help: "A special token to register after the merges, e.g. '<|endoftext|>' (repeatable).")
        var specials: [String] = []

        @Flag(help: "Print every merge as it is learned.")
        var verbose = false

        func validate() throws {
            guard SplitPattern(rawValue: pattern) != nil else {
                throw ValidationError("unknown pattern '\(pattern)'; use gpt4 or gpt2")
            }
        }

        func run() throws {
            let text = try readTextFile(data)
            let split = SplitPattern(rawValue: pattern)!
            let clock = ContinuousClock()
            let start = clock.now
            var tokenizer = try BPETokenizer.train(text: text, vocabSize: vocabSize, pattern: split) { event in
                guard verbose else { return }
                let token = BPETokenizer.renderToken(event.bytes)
                print("merge \(event.index + 1)/\(vocabSize - 256): \(event.pair) -> \(event.id) [\(token)] had \(event.count) occurrences")
            }
            let elapsed = clock.now - start
            try tokenizer.appendSpecialTokens(specials)
            let paths = try tokenizer.save(prefix: out)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            print("trained \(tokenizer.merges.count) merges on \(text.utf8.count) bytes in \(String(format: "%.3f", seconds)) s "
                + "(\(split.rawValue) pattern, vocab size \(tokenizer.vocabSize))")
            print("wrote \(paths.model) and \(paths.vocab)")
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the token ids of text (from --text, or standard input).")

        @Option(help: "A .model file written by `tokenizer train` (or by minbpe).")
        var model: String

        @Option(help: "Text to encode; standard input is read when it is absent.")
        var text: String?

        @Option(help: "Special tokens to emit as their ids: all, none, none_raise (text must contain none), or a comma-separated list.")
        var allowedSpecial: String = "none_raise"

        @Flag(help: "Report size, token count and encoding speed on standard error.")
        var stats = false

        func run() throws {
            let tokenizer = try BPETokenizer(contentsOfModelFile: model)
            let input = try text ?? readStandardInput()
            let allowed: BPETokenizer.AllowedSpecial
            switch allowedSpecial {
            case "all": allowed = .all
            case "none": allowed = .none
            case "none_raise": allowed = .noneRaise
            default: allowed = .only(Set(allowedSpecial.split(separator: ",").map(String.init)))
            }
            let clock = ContinuousClock()
            let start = clock.now
            let ids = try tokenizer.encode(input, allowedSpecial: allowed)
            let elapsed = clock.now - start
            writeStandardOutput(ids.map(String.init).joined(separator: " ") + "\n")
            if stats {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let bytes = input.utf8.count
                let report = "encoded \(bytes) bytes into \(ids.count) tokens "
                    + "(\(String(format: "%.2f", Double(bytes) / Double(max(ids.count, 1)))) bytes/token) in "
                    + "\(String(format: "%.3f", seconds)) s: \(String(format: "%.1f", Double(bytes) / seconds / 1e6)) MB/s\n"
                FileHandle.standardError.write(Data(report.utf8))
            }
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the text of token ids (arguments, or standard input).")

        @Option(help: "A .model file written by `tokenizer train` (or by minbpe).")
        var model: String

        @Argument(help: "Token ids, separated by spaces or commas; standard input is read when there are none.")
        var ids: [String] = []

        func run() throws {
            let tokenizer = try BPETokenizer(contentsOfModelFile: model)
            let source = ids.isEmpty ? try readStandardInput() : ids.joined(separator: " ")
            var parsed: [Int32] = []
            for field in source.split(whereSeparator: { $0.isWhitespace || $0 == "," }) {
                guard let id = Int32(field) else { throw ValidationError("'\(field)' is not a token id") }
                parsed.append(id)
            }
            writeStandardOutput(tokenizer.decode(parsed))
        }
    }
}

private func readTextFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read '\(path)'")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("'\(path)' is not UTF-8 text") }
    return text
}

private func readStandardInput() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("standard input is not UTF-8 text") }
    return text
}

private func writeStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
