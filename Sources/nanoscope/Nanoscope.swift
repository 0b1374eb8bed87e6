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
        subcommands: [TrainCommand.self, SampleCommand.self, BrowseCommand.self, EvalCommand.self, CheckpointsCommand.self, BenchCommand.self,
                      TokenizerCommand.self],
        defaultSubcommand: TrainCommand.self
    )
}

/// A one-line error for the person at the keyboard: no stack trace, non-zero exit.
struct UserError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Prints `error: …` on stderr and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    Foundation.exit(1)
}

func printErr(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
