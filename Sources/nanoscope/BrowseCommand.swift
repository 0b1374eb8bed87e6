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
        runDashboardAndReport(host: TrainingHost(session: nil), options: DashboardOptions(theme: theme, runsFolder: runsFolder),
                              hint: "`nanoscope checkpoints \(runsFolder)` lists checkpoints as text")
    }
}
