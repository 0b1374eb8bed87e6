import Foundation
import TerminalUI

/// How the dashboard should look and behave; every field has a sensible default.
public struct DashboardOptions: Sendable {
    /// Theme to start with, by name (file name without `.theme`); nil or unknown = "dark".
    public var theme: String?
    /// An upper bound on colours (e.g. `.monochrome`); nil uses what the terminal supports.
    public var colorMode: ColorMode?
    /// Frames drawn per second while nothing is pressed.
    public var framesPerSecond: Double
    /// How long quitting waits for the trainer to checkpoint and stop before giving up.
    public var shutdownTimeout: Duration
    /// Folders searched for `*.theme`, lowest priority first; nil = `ThemeLibrary.standardDirectories()`.
    public var themeDirectories: [URL]?
    /// Close by itself when the run ends (benchmarks); otherwise it stays open for a last look.
    public var exitWhenTrainingEnds: Bool
    /// The folder the checkpoint browser lists (nil: no browser, e.g. benchmarks).
    public var runsFolder: String?
    /// The model being trained: its size and memory estimate, shown in the status bar.
    public var model: ModelFacts?

    public init(theme: String? = nil, colorMode: ColorMode? = nil, framesPerSecond: Double = 15,
                shutdownTimeout: Duration = .seconds(120), themeDirectories: [URL]? = nil,
                exitWhenTrainingEnds: Bool = false, runsFolder: String? = nil, model: ModelFacts? = nil) {
        self.model = model
        self.runsFolder = runsFolder
        self.exitWhenTrainingEnds = exitWhenTrainingEnds
        self.theme = theme
        self.colorMode = colorMode
        self.framesPerSecond = framesPerSecond
        self.shutdownTimeout = shutdownTimeout
        self.themeDirectories = themeDirectories
    }
}

/// How the dashboard ended.
public enum DashboardExit: Equatable, Sendable {
    /// The trainer reported finished or failed (or had already) and the user quit.
    case trainerStopped
    /// The trainer did not stop within `shutdownTimeout`.
    case timedOut
    /// The user pressed Ctrl-C (or sent a second signal) while the dashboard waited for the trainer.
    case abandoned
}

/// What the status bar says about the model: parameters, and the memory estimate to set beside
/// the measured RSS.
public struct ModelFacts: Equatable, Sendable {
    public var parameters: Int
    /// `MemoryEstimate.total`, bytes (nil: not estimated).
    public var estimatedBytes: Int?

    public init(parameters: Int, estimatedBytes: Int?) {
        self.parameters = parameters
        self.estimatedBytes = estimatedBytes
    }
}
