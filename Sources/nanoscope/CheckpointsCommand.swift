import ArgumentParser
import Foundation
import Training

/// `nanoscope checkpoints [runs-folder] [--json]`: every checkpoint of every run, from file
/// headers only (fast however large the files are).
struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "List the checkpoints of every run (step, train/val loss, age, size).",
        discussion: """
        Examples:
          nanoscope checkpoints                  # everything under runs/
          nanoscope checkpoints runs/baby        # one run
          nanoscope checkpoints --json | jq '.runs[].checkpoints[] | select(.best)'
        """
    )

    @Argument(help: "A folder of runs, or one run folder.")
    var folder = "runs"

    @Flag(help: "One JSON document for scripts instead of a table.")
    var json = false

    func run() throws {
        let runs: [RunListing]
        do { runs = try CheckpointCatalog.scan(folder) } catch { fail(error.description) }
        let now = Date()
        print(json ? CheckpointCatalog.json(runs, now: now) : CheckpointCatalog.table(runs, now: now), terminator: "")
    }
}
