import ArgumentParser
import Foundation
import SafeTensors
import Training

/// `nanoscope compare RUN… [--json] [--svg FILE] [--csv FILE] [--x step|tokens]`: runs side by
/// side — outcomes, the config keys that differ, and the overlaid loss curves as a plot.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: params, steps, best and final val loss, tokens/s, wall time, and the config keys that differ.",
        discussion: """
        Each RUN is a run folder (runs/<name>) or the name of one under runs/.

        Examples:
          nanoscope compare runs/learned runs/sinusoidal
          nanoscope compare learned sinusoidal --svg loss.svg --csv loss.csv
          nanoscope compare learned sinusoidal --json | jq '.differing_keys'
        """
    )

    @Argument(help: ArgumentHelp("Run folders (or names under runs/).", valueName: "run"))
    var runs: [String]

    @Flag(help: "One JSON document instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Write the overlaid train and val curves as an SVG plot.", valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("Write every curve point as CSV (run,step,tokens,split,loss).", valueName: "file"))
    var csv: String?

    @Option(help: ArgumentHelp("The plot's x axis: step or tokens (tokens seen).", valueName: "axis"))
    var x = "step"

    func run() throws {
        guard !runs.isEmpty else { fail("give at least one run folder — e.g. nanoscope compare runs/a runs/b") }
        guard let axis = RunComparison.XAxis(rawValue: x) else { fail("--x \(x) must be step or tokens") }
        let paths = runs.map { name in
            !FileManager.default.fileExists(atPath: name) && !name.contains("/") && FileManager.default.fileExists(atPath: "runs/" + name)
                ? "runs/" + name : name
        }
        let comparison: RunComparison
        do { comparison = try RunComparison.load(paths) } catch { fail(error.description) }
        do {
            if let svg { try AtomicFile.write(text: comparison.svg(x: axis), to: svg) }
            if let csv { try AtomicFile.write(text: comparison.csv, to: csv) }
        } catch { fail(error.description) }
        writeStandardOutput(json ? comparison.json : comparison.table)
        if !json {
            if let svg { writeStandardError("wrote \(svg)\n") }
            if let csv { writeStandardError("wrote \(csv)\n") }
        }
    }
}
