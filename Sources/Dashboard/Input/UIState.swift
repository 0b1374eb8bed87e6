import Training

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
    public var isAvailable: Bool { self == .loss || self == .gradients || self == .attention }
}

/// View settings of the Gradients pane.
public struct GradientsViewState: Equatable, Sendable {
    /// Index of the selected tensor in the telemetry's tensor list.
    public var selected = 0
    /// Histogram of the raw gradient values instead of log₁₀|g|.
    public var rawValues = false

    public init() {}
}

/// View settings of the Attention pane.
public struct AttentionViewState: Equatable, Sendable {
    public var layer = 0
    public var head = 0

    public init() {}
}

/// How far selections may go, from the snapshot the keys act on (nil: unknown yet, no limit).
public struct SelectionLimits: Equatable, Sendable {
    public var tensors: Int?
    public var layers: Int?
    public var heads: Int?

    public init(tensors: Int? = nil, layers: Int? = nil, heads: Int? = nil) {
        self.tensors = tensors; self.layers = layers; self.heads = heads
    }

    public init(_ snapshot: TrainingSnapshot) {
        self.init(tensors: snapshot.telemetry?.tensors.count, layers: snapshot.attention?.layers,
                  heads: snapshot.attention?.heads)
    }
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
    public var gradients = GradientsViewState()
    public var attention = AttentionViewState()
    /// The probe text being typed after `p` (nil: not typing). While set, keys edit it.
    public var probeInput: String?
    /// A short confirmation of the last command ("checkpoint requested"); the app clears it after a while.
    public var notice: String?

    public init(themeIndex: Int = 0, themeCount: Int = 1) {
        self.themeIndex = themeIndex
        self.themeCount = max(1, themeCount)
    }
}
