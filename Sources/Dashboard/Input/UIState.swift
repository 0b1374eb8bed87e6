/// The panes of the dashboard, in focus order.
public enum PaneID: Int, CaseIterable, Sendable {
    case loss, gradients, attention, sampling, checkpoints

    public var title: String {
        switch self {
        case .loss: "Loss"
        case .gradients: "Gradients"
        case .attention: "Attention"
        case .sampling: "Sampling"
        case .checkpoints: "Checkpoints"
        }
    }

    /// Whether the pane has its data yet; the others show a placeholder, never invented data.
    public var isAvailable: Bool { self == .loss }
}

/// View settings of the loss pane.
public struct LossViewState: Equatable, Sendable {
    /// Draw the train loss through an exponential moving average.
    public var smoothing = true
    public var logScale = false
    /// Show only the newest `windowSteps` steps (true) or the whole run (false).
    public var follow = true
    public var windowSteps = 500

    public static let windowRange = 20...1_000_000

    public init() {}
}

/// Where quitting has got to. The trainer is asked to stop and checkpoint; the dashboard keeps
/// drawing ("saving…") until it reports finished, so the terminal is only released afterwards.
public enum ShutdownPhase: Equatable, Sendable {
    case none
    case waitingForTrainer
}

/// Everything the dashboard remembers between frames besides the snapshot. Only the reducer
/// changes it, so every key sequence can be replayed in a test.
public struct UIState: Equatable, Sendable {
    public var focus: PaneID = .loss
    /// The focused pane fills the whole body.
    public var expanded = false
    public var showHelp = false
    /// First help line shown, for terminals shorter than the help text.
    public var helpScroll = 0
    public var confirmingQuit = false
    public var shutdown: ShutdownPhase = .none
    public var themeIndex = 0
    public var themeCount = 1
    public var loss = LossViewState()
    /// A short confirmation of the last command ("checkpoint requested"); the app clears it after a while.
    public var notice: String?

    public init(themeIndex: Int = 0, themeCount: Int = 1) {
        self.themeIndex = themeIndex
        self.themeCount = max(1, themeCount)
    }
}
