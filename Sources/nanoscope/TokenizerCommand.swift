import ArgumentParser
import Foundation
import Tokenizers
import SafeTensors

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
                throw ValidationError("--pattern '\(pattern)' is unknown — use gpt4 or gpt2")
            }
            guard vocabSize >= 256 else {
                throw ValidationError("--vocab-size = \(vocabSize) is below 256 — a byte-level BPE starts with the 256 byte tokens (256 means no merges)")
            }
        }

        func run() throws {
            let text = try readTextFile(data, what: "--data")
            let split = SplitPattern(rawValue: pattern)!
            // Each merge joins two tokens of the text: there cannot be more merges than bytes.
            if vocabSize > 256 + text.utf8.count {
                fail("--vocab-size = \(vocabSize) asks for \(vocabSize - 256) merges, but \(data) has only \(text.utf8.count) bytes to merge — choose a vocab size of at most \(256 + max(0, text.utf8.count - 1))")
            }
            try checkOutputPrefix(out)
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
            let tokenizer = try loadModel(model)
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
                writeStandardError(report)
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
            let tokenizer = try loadModel(model)
            let source = ids.isEmpty ? try readStandardInput() : ids.joined(separator: " ")
            var parsed: [Int32] = []
            for field in source.split(whereSeparator: { $0.isWhitespace || $0 == "," }) {
                guard let id = Int(field), (0..<tokenizer.vocabSize).contains(id) else {
                    fail("'\(field)' is not a token id of \(model) — its ids are 0 to \(tokenizer.vocabSize - 1)")
                }
                parsed.append(Int32(id))
            }
            writeStandardOutput(tokenizer.decode(parsed))
        }
    }
}

/// The text of a regular, readable UTF-8 file, or a one-line error naming what is wrong.
private func readTextFile(_ path: String, what: String) throws -> String {
    if let problem = FileSystem.readProblem(path) { fail("\(what) \(path) \(problem) — give a UTF-8 text file") }
    guard let data = FileManager.default.contents(atPath: path) else { fail("\(what) \(path) cannot be read — give a UTF-8 text file") }
    guard let text = String(data: data, encoding: .utf8) else { fail("\(what) \(path) is not UTF-8 text — convert it, e.g. `iconv -f latin1 -t utf-8`") }
    return text
}

/// A `.model` file, with its problems as one line (never a Foundation error dump).
private func loadModel(_ path: String) throws -> BPETokenizer {
    let text = try readTextFile(path, what: "--model")
    do { return try BPETokenizer(modelFileText: text) } catch { fail("--model \(path): \(error)") }
}

/// `--out PREFIX` must name files (PREFIX.model, PREFIX.vocab) in a folder that exists.
private func checkOutputPrefix(_ prefix: String) throws {
    let (folder, name) = AtomicFile.splitPath(prefix)
    if name.isEmpty || prefix.hasSuffix("/") || FileSystem.isDirectory(prefix) {
        fail("--out \(prefix) names a folder — give a file prefix, e.g. --out \(prefix.hasSuffix("/") ? prefix : prefix + "/")bpe (writes bpe.model and bpe.vocab)")
    }
    if !FileSystem.isDirectory(folder) { fail("--out \(prefix): the folder \(folder) does not exist — create it first") }
}

private func readStandardInput() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("standard input is not UTF-8 text") }
    return text
}


