import GPT
import Training
import TerminalUI

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

    public var shortTitle: String {
        switch self {
        case .loss: "Loss"
        case .gradients: "Grad"
        case .attention: "Attn"
        case .sampling: "Sample"
        case .checkpoints: "Ckpts"
        }
    }
}

/// View settings of the Gradients pane.
public struct GradientsViewState: Equatable, Sendable {
    /// Index of the selected tensor in the telemetry's tensor list.
    public var selected = 0
    /// Histogram of the raw gradient values instead of log₁₀|g|.
    public var rawValues = false

    public init() {}
}

/// How the attention heatmap maps P to colour. Linear P leaves a long probe's map mostly dark
/// (each row's mass spreads over up to T keys); per row or on a log axis the pattern shows.
public enum AttentionScaling: Int, CaseIterable, Sendable {
    /// P on 0…1.
    case linear
    /// P divided by the largest weight of its query row: every row's strongest key is bright.
    case perRow
    /// log₁₀ P on −3…0: a thousandth of the mass is still visible.
    case log

    public var name: String {
        switch self {
        case .linear: "P"
        case .perRow: "P/row max"
        case .log: "log₁₀ P"
        }
    }
}

/// View settings of the Attention pane.
public struct AttentionViewState: Equatable, Sendable {
    public var layer = 0
    public var head = 0
    /// The cell the cursor reads: query position (row) and key position (column), kept causal
    /// (column ≤ row) by the reducer.
    public var cursorRow = 0
    public var cursorColumn = 0
    public var scaling: AttentionScaling = .linear
    /// The pane shows the logit lens (`v`) instead of the maps; it reads the cursor's query position.
    public var showLens = false
    /// The pane shows how the probe splits into tokens (`n`), then also their ids (`n` again).
    public var tokens: TokensView = .off

    public init() {}
}

/// The tokenizer view's stages, in the order `n` steps through them.
public enum TokensView: Int, CaseIterable, Sendable {
    case off, pieces, ids
}

/// The sampling console's sliders, in the order ↑/↓ move through them.
public enum SamplingSlider: Int, CaseIterable, Sendable {
    case temperature, topP, topK, maxTokens
}

/// What the console samples from.
public enum ConsoleSource: Equatable, Sendable {
    /// The trainer's weights (a copy refreshed with `w`).
    case live
    case checkpoint(String)
    /// Two checkpoints side by side on the same seed (`x` marked them).
    case compare(String, String)

    var paths: [String] {
        switch self {
        case .live: []
        case .checkpoint(let p): [p]
        case .compare(let a, let b): [a, b]
        }
    }
}

/// Settings of the sampling console.
public struct SamplingViewState: Equatable, Sendable {
    public var slider: SamplingSlider = .temperature
    public var temperature: Float = 0.8
    public var topP: Float = 1
    /// 0 = off.
    public var topK = 0
    public var maxTokens = 200
    public var prompt = ""
    public var seed: UInt64 = 1337
    /// Locked: every regeneration uses `seed`, so two settings are compared on the same draws.
    /// Unlocked: each change draws with a new seed.
    public var seedLocked = true
    /// Generated token whose next-token distribution is shown (nil: the newest).
    public var cursor: Int?
    /// First wrapped line of the text shown (nil: follow the end as it streams in).
    public var textScroll: Int?
    public var source: ConsoleSource = .live
    /// Greedy, temperature, top-k and top-p side by side on one prompt and seed (`v`), instead of
    /// one text with the next-token view. The sliders still apply: temperature sets the
    /// temperature column, top-k and top-p their columns (each at temperature 1, so the column
    /// shows the cut alone).
    public var compareStrategies = false

    public static let temperatureRange: ClosedRange<Float> = 0...2
    public static let maxTokensRange = 20...2000
    /// What ←/→ step max tokens through: close together where a person aims.
    public static let maxTokensSteps = [20, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000]

    public init() {}

    public var settings: SamplingSettings { SamplingSettings(temperature: temperature, topK: topK, topP: topP) }

    /// The four columns of the strategy comparison, from the sliders: a slider at its "off" end
    /// (temperature 0, top-k 0, top-p 1) would repeat the greedy or the plain column, so that
    /// column takes the textbook value instead (0.8, 10, 0.9).
    public var strategies: [DecodingStrategy] {
        DecodingStrategy.standardFour(temperature: temperature > 0 ? temperature : 0.8, topK: topK > 0 ? topK : 10,
                                      topP: topP < 1 ? topP : 0.9)
    }
}

/// A question the browser asks before deleting; `onlyCheckpoint` needs a second yes.
public struct DeleteConfirmation: Equatable, Sendable {
    public var path: String
    public var label: String
    public var onlyCheckpoint: Bool
    /// 1 after `d`; 2 after the first yes for a run's only checkpoint.
    public var stage: Int
    /// What else is lost with it ("the run's best val", "loaded in Sampling"), said in the question.
    public var warnings: [String] = []

    public init(path: String, label: String, onlyCheckpoint: Bool, stage: Int, warnings: [String] = []) {
        self.path = path; self.label = label; self.onlyCheckpoint = onlyCheckpoint; self.stage = stage
        self.warnings = warnings
    }
}

/// The question `r` asks before resuming: training goes back to `step`, and the run's later
/// checkpoints (`laterSteps`) become an abandoned branch, moved aside.
public struct ResumeConfirmation: Equatable, Sendable {
    public var path: String
    public var run: String
    public var step: Int
    public var laterSteps: [Int]
    /// A run trains in this process now: it is stopped (with a checkpoint) first.
    public var stopsCurrentRun: Bool

    public init(path: String, run: String, step: Int, laterSteps: [Int], stopsCurrentRun: Bool) {
        self.path = path; self.run = run; self.step = step; self.laterSteps = laterSteps; self.stopsCurrentRun = stopsCurrentRun
    }
}

/// A run drawn on the loss chart beside the training run.
public struct OverlayRun: Equatable, Sendable {
    /// The run folder.
    public var path: String
    /// Index into the overlay colours (`Palette.runColors`), the lowest free one when added.
    public var slot: Int
    public init(path: String, slot: Int) { self.path = path; self.slot = slot }

    /// As many runs as there are distinct colours: more would repeat one and make the legend lie.
    public static let limit = 6
}

/// Settings of the checkpoint browser.
public struct BrowserViewState: Equatable, Sendable {
    public var selected = 0
    public var sort: BrowserSort = .runThenStep
    public var filter = ""
    /// Up to two checkpoints marked with `x` for a side-by-side comparison.
    public var marked: [String] = []
    /// Runs whose curves the loss pane overlays on the training run's (`a` adds or removes the
    /// selected row's run), each with the colour slot it got when added: a run keeps its colour
    /// while others come and go.
    public var overlays: [OverlayRun] = []
    public var confirmingDelete: DeleteConfirmation?
    public var confirmingResume: ResumeConfirmation?

    public init() {}
}

/// How far selections may go, from the snapshot the keys act on (nil: unknown yet, no limit).
public struct SelectionLimits: Equatable, Sendable {
    public var tensors: Int?
    public var layers: Int?
    public var heads: Int?
    /// The browser's rows as shown (sorted, filtered): what its keys act on.
    public var checkpoints: [BrowserRow] = []
    /// Vocabulary of the model being sampled (top-k's upper end).
    public var vocab: Int?
    /// Tokens generated so far in the console (the cursor's range).
    public var generatedTokens = 0
    /// The run's length in steps (0: unknown): the loss pane's zoom stops there.
    public var maxSteps = 0
    /// Tokens of the probe (the attention cursor's range; nil: unknown, no limit).
    public var probeLength: Int?
    /// Wrapped lines of the console's text and how many show (its scroll range).
    public var textLines = 0
    public var textRows = 0
    /// The name of the run training in this process (its own curves are always on the chart).
    public var trainingRun: String?

    public init(tensors: Int? = nil, layers: Int? = nil, heads: Int? = nil) {
        self.tensors = tensors; self.layers = layers; self.heads = heads
    }

    public init(_ snapshot: TrainingSnapshot) {
        self.init(tensors: snapshot.telemetry?.tensors.count, layers: snapshot.attention?.layers,
                  heads: snapshot.attention?.heads)
        maxSteps = max(snapshot.maxSteps, snapshot.steps.last?.step ?? 0)
        probeLength = snapshot.attention?.size
        trainingRun = snapshot.runName
    }
}

/// View settings of the loss pane.
public struct LossViewState: Equatable, Sendable {
    /// Index into `smoothingWeights`: how strongly the train loss is smoothed (EMA), `m` steps it.
    public var smoothingLevel = 4
    public var logScale = false
    /// Show only the newest `windowSteps` steps (true) or the whole run (false).
    public var follow = true
    public var windowSteps = 500
    /// What the x axis counts. Steps compare runs with the same batch; tokens seen compare runs
    /// whose batch or block size differ (`x` toggles).
    public var xAxis: RunComparison.XAxis = .step

    public static let windowRange = 20...1_000_000
    /// The zoom windows ←/→ step through: round numbers.
    public static let windowChoices = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000,
                                       500_000, 1_000_000]
    /// EMA weights `m` cycles through (0 = off). 0.95 averages over about 20 steps.
    public static let smoothingWeights = [0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99]

    public var smoothingWeight: Double {
        Self.smoothingWeights[min(max(0, smoothingLevel), Self.smoothingWeights.count - 1)]
    }
    public var smoothing: Bool { smoothingWeight > 0 }

    public init() {}
}

/// Where quitting has got to. The trainer is asked to stop and checkpoint; the dashboard keeps
/// drawing ("saving…") until it reports finished, so the terminal is only released afterwards.
public enum ShutdownPhase: Equatable, Sendable {
    case none
    case waitingForTrainer
}

/// Everything the dashboard remembers between frames besides the snapshot. Only the reducer
/// changes it — keys arrive as actions, the frame clock and the trainer's messages as events
/// (`Input`) — so every sequence can be replayed in a test.
public struct UIState: Equatable, Sendable {
    public var focus: PaneID = .loss
    /// The pane beside the loss pane when the terminal is too narrow for all of them: the last
    /// focused pane other than Loss.
    public var detailPane: PaneID = .gradients
    /// Checkpoints deleted in this session: a message about one is stale and not shown.
    public var deletedPaths: [String] = []
    /// The slider a mouse button is held on (dragging moves it).
    public var draggingSlider: SamplingSlider?
    /// The focused pane fills the whole body.
    public var expanded = false
    public var showHelp = false
    /// The model card overlay (`i`).
    public var showModelCard = false
    /// First help line shown, for terminals shorter than the help text.
    public var helpScroll = 0
    public var confirmingQuit = false
    public var shutdown: ShutdownPhase = .none
    public var themeIndex = 0
    /// The names of the loaded themes, in `t` order (the reducer names the new one).
    public var themeNames: [String] = ["default"]
    public var themeCount: Int { themeNames.count }
    public var loss = LossViewState()
    public var gradients = GradientsViewState()
    public var attention = AttentionViewState()
    public var sampling = SamplingViewState()
    public var browser = BrowserViewState()
    /// The probe, console prompt or browser filter being typed (nil: not typing). While set, keys edit it.
    public var textEntry: TextEntry?
    /// The newest message for the hint line (nil: none, or it expired).
    public var message: Message?
    /// The trainer's messages already turned into `message`s (the snapshot's list as last seen).
    public var trainerMessagesSeen: [String] = []

    public init(themeIndex: Int = 0, themeNames: [String] = ["default"], focus: PaneID = .loss) {
        self.themeNames = themeNames.isEmpty ? ["default"] : themeNames
        self.themeIndex = min(max(0, themeIndex), self.themeNames.count - 1)
        self.focus = focus
        if focus != .loss { detailPane = focus }
    }
}
