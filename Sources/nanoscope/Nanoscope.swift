import ArgumentParser
import Foundation

@main
struct Nanoscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nanoscope",
        abstract: "Train a small GPT from scratch on the CPU and watch it learn.",
        discussion: """
        With no subcommand, trains the default sample (Samples/shakespeare-char.toml) — in the \
        dashboard on a terminal, with a progress bar otherwise.
        """,
        subcommands: [TrainCommand.self, SampleCommand.self, BrowseCommand.self, EvalCommand.self, CheckpointsCommand.self, CompareCommand.self, LensCommand.self, BenchCommand.self,
                      TokenizerCommand.self],
        defaultSubcommand: TrainCommand.self
    )

    /// The entry point: every mistake on the command line is one `error: …` line (ArgumentParser's
    /// own errors would add the usage), negative numbers reach the options that must refuse them,
    /// and a mistyped command is called one.
    static func main() {
        // With a file-size limit (ulimit -f) a write must fail with EFBIG, reported like a full
        // disk, instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = CommandLineWords.prepare(Array(CommandLine.arguments.dropFirst()))
        let commands = configuration.subcommands.map { $0.configuration.commandName ?? "" }
        if let first = arguments.first, !first.hasPrefix("-"), !commands.contains(first), !first.hasSuffix(".toml"),
           !FileManager.default.fileExists(atPath: first) {
            fail("unknown command '\(first)' — the commands are \(commands.joined(separator: ", ")); see `nanoscope --help`")
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }  // help, version, chosen codes
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let trimmed = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            let sub = arguments.first.flatMap { commands.contains($0) ? $0 : nil }
            let help = sub.map { $0 == "tokenizer" && arguments.count > 1 ? "\($0) \(arguments[1])" : $0 }.map { "nanoscope \($0) --help" } ?? "nanoscope --help"
            fail(trimmed.contains(" — ") ? trimmed : "\(trimmed) — see `\(help)`")
        }
    }
}

/// Command-line words as ArgumentParser should see them.
enum CommandLineWords {
    /// `--seed -1` becomes `--seed=-1`: ArgumentParser would take `-1` for a short option and
    /// report a missing value, while the option's own check says what is wrong with -1. Negative
    /// token ids for `tokenizer decode` are put after `--`, so they are read as ids.
    static func prepare(_ words: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        let decoding = words.count >= 2 && words[0] == "tokenizer" && words[1] == "decode"
        var sawTerminator = false
        while i < words.count {
            let word = words[i]
            if word == "--" { sawTerminator = true }
            if !sawTerminator, word.hasPrefix("--"), !word.contains("="), i + 1 < words.count, isNegativeNumber(words[i + 1]) {
                out.append(word + "=" + words[i + 1])
                i += 2
                continue
            }
            if decoding, !sawTerminator, isNegativeNumber(word) {
                out.append("--")
                sawTerminator = true
            }
            out.append(word)
            i += 1
        }
        return out
    }

    static func isNegativeNumber(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word.count > 1 else { return false }
        let rest = word.dropFirst()
        return rest.first.map { $0.isNumber || $0 == "." } ?? false || rest.lowercased() == "inf" || rest.lowercased() == "nan"
            || rest.lowercased() == "infinity"
    }
}

/// A one-line error for the person at the keyboard: no stack trace, non-zero exit.
struct UserError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Prints `error: …` on stderr and exits with status 1.
func fail(_ message: String) -> Never {
    writeStandardError("error: " + message + "\n")
    Foundation.exit(1)
}

func printErr(_ s: String) {
    writeStandardError(s + "\n")
}

/// Writes to standard error, ignoring failures: a full disk or closed pipe behind stderr must not
/// crash the program (`FileHandle.write` traps on a failed write).
func writeStandardError(_ text: String) { writeIgnoringErrors(2, text) }

/// Writes to standard output, ignoring failures (see `writeStandardError`).
func writeStandardOutput(_ text: String) { writeIgnoringErrors(1, text) }

private func writeIgnoringErrors(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}
