import ArgumentParser
import Foundation
import Training
import Dashboard

/// The dashboard without training: browse the runs folder's checkpoints, sample them in the
/// console, and resume one (`r` starts training in this process, from that checkpoint).
struct BrowseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "browse",
        abstract: "Browse, sample and resume checkpoints in the dashboard, without training.",
        discussion: """
        The Checkpoints pane lists every run and checkpoint under the folder; Enter samples one in the \
        Sampling pane, x marks two to compare side by side, r resumes training from one here, d deletes.
        """
    )

    @Argument(help: "The runs folder (or one run's folder).")
    var runsFolder = "runs"

    @Option(help: "Dashboard theme: dark, light, high-contrast, monochrome, or a file name in a themes folder.")
    var theme: String?

    func run() throws {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            fail("browse needs a terminal; `nanoscope checkpoints \(runsFolder)` lists checkpoints as text")
        }
        let host = TrainingHost(session: nil)
        do {
            var options = DashboardOptions(theme: theme, runsFolder: runsFolder)
            options.shutdownTimeout = .seconds(120)
            try runDashboard(control: host, options: options)
        } catch {
            host.send(.stop)
            while !host.isDone { Thread.sleep(forTimeInterval: 0.05) }
            fail("could not open the dashboard (\(error))")
        }
        let final = host.snapshot()
        if case .failed(let why) = final.state { fail(why) }
        if final.state != .idle {
            printErr("run \(final.runName): stopped at step \(final.step)/\(final.maxSteps)"
                     + (final.lastCheckpoint.map { "; last checkpoint \($0)" } ?? ""))
        }
    }
}
