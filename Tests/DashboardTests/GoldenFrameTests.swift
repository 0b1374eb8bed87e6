import Foundation
import GPT
import Testing
@testable import Dashboard
import Training
import TerminalUI

/// Whole frames at three terminal sizes, compared in full with the files in `Golden/`
/// (re-record: see `GoldenFrame`). The inputs are synthetic and fixed — steps, losses, gradient
/// histograms, attention maps, the console's text, the browser's listing, the clock (elapsed,
/// ETA, the listing's scan time) — so a frame changes only when the drawing does.
@Suite struct GoldenFrameTests {
    static let sizes = [(80, 24), (120, 40), (200, 60)]

    /// The dashboard as a user sees it mid-run, and every pane expanded, and the help over it.
    enum Scene: String, CaseIterable {
        case dashboard, help, browse
        case expandedLoss = "expanded-loss", expandedGradients = "expanded-gradients"
        case expandedAttention = "expanded-attention", expandedSampling = "expanded-sampling"
        case expandedCheckpoints = "expanded-checkpoints"
        /// The Attention pane's logit lens (`v`), the cursor on position 5.
        case logitLens = "logit-lens"
        /// The model card overlay (`i`).
        case modelCard = "model-card"
        /// The Loss pane expanded with two other runs overlaid and the config diff under it.
        case lossOverlay = "loss-overlay"
        /// The Attention pane's tokenizer view with ids (`n` twice), the cursor on query 3.
        case tokens
        /// A float16 run with loss scaling (`float16Snapshot()`): the dashboard, and the
        /// Gradients and Loss panes expanded.
        case float16, float16Gradients = "float16-expanded-gradients", float16Loss = "float16-expanded-loss"
        /// The sampling console comparing the four strategies (`v`), in its place and expanded.
        case strategies, expandedStrategies = "expanded-strategies"
        /// A synthetic task's run: the loss floor and the accuracy chart.
        case task

        var ui: UIState {
            var ui = UIState()
            switch self {
            case .dashboard: break
            case .browse: ui = UIState(focus: .checkpoints); ui.browser.selected = 2
            case .help: ui.showHelp = true
            case .expandedLoss: ui.focus = .loss; ui.expanded = true
            case .expandedGradients: ui.focus = .gradients; ui.expanded = true
            case .expandedAttention: ui.focus = .attention; ui.expanded = true
            case .expandedSampling: ui.focus = .sampling; ui.expanded = true
            case .expandedCheckpoints: ui.focus = .checkpoints; ui.expanded = true
            case .modelCard: ui.showModelCard = true
            case .lossOverlay: ui = overlayUI()
            case .tokens: ui.focus = .attention; ui.expanded = true; ui.attention.tokens = .ids; ui.attention.cursorRow = 3
            case .float16: break
            case .float16Gradients: ui.focus = .gradients; ui.expanded = true
            case .float16Loss: ui.focus = .loss; ui.expanded = true
            case .logitLens: ui.focus = .attention; ui.expanded = true; ui.attention.showLens = true; ui.attention.cursorRow = 5
            case .strategies: ui = UIState(focus: .sampling); ui.sampling.compareStrategies = true
            case .expandedStrategies: ui = UIState(focus: .sampling); ui.sampling.compareStrategies = true; ui.expanded = true
            case .task: break
            }
            return ui
        }
    }

    static func frame(_ scene: Scene, width: Int, height: Int) -> CellBuffer {
        let snapshot = switch scene {
        case .browse: browseSnapshot()
        case .float16, .float16Gradients, .float16Loss: float16Snapshot()
        case .task: taskSnapshot()
        default: goldenSnapshot()
        }
        let console = switch scene {
        case .browse: browseConsole()
        case .lossOverlay: overlayConsole()
        case .strategies, .expandedStrategies: strategyConsole()
        default: goldenConsole()
        }
        return DashboardView.render(snapshot: snapshot, ui: scene.ui, console: console, theme: .builtInDefault,
                                    colorMode: .truecolor, width: width, height: height)
    }

    /// Issue 20's acceptance: no label is cut mid-word. Every text a pane draws goes through
    /// `TextFit`; a write the buffer had to clip is a label that did not, and fails here.
    @Test(arguments: Scene.allCases)
    func noLabelIsCut(scene: Scene) {
        for (width, height) in Self.sizes + [(160, 48), (100, 30)] {
            let frame = Self.frame(scene, width: width, height: height)
            #expect(frame.clippedTexts.isEmpty, "\(scene.rawValue) at \(width)×\(height) cut: \(frame.clippedTexts)")
        }
    }

    @Test func theCutDetectorFailsOnACutLabel() {
        var buffer = CellBuffer(width: 20, height: 1)
        buffer.write("Σ after cut 0.062 (top 10 of 20 kept)", x: 0, y: 0, .plain)
        #expect(!buffer.clippedTexts.isEmpty)
    }

    @Test(arguments: Scene.allCases)
    func wholeFramesMatchTheGoldenFiles(scene: Scene) {
        for (width, height) in Self.sizes {
            GoldenFrame.check(Self.frame(scene, width: width, height: height), "\(scene.rawValue)-\(width)x\(height)")
        }
    }

    @Test func framesAreDeterministic() {
        #expect(Self.frame(.dashboard, width: 120, height: 40) == Self.frame(.dashboard, width: 120, height: 40))
    }

    @Test func aMismatchNamesTheFirstDifferingLineWithBothVersions() {
        #expect(GoldenFrame.difference(actual: "a\nb\n", expected: "a\nb\n") == nil)
        let message = GoldenFrame.difference(actual: "top\nloss 1.52\nend\n", expected: "top\nloss 1.53\nend\n") ?? ""
        #expect(message.contains("line 2, column 9"))
        #expect(message.contains("golden: |loss 1.53|"))
        #expect(message.contains("actual: |loss 1.52|"))
        let shorter = GoldenFrame.difference(actual: "a\n", expected: "a\nb\n") ?? ""
        #expect(shorter.contains("line 2") && shorter.contains("golden: |b|"))
    }
}

/// `insightSnapshot()` (600 of 2000 steps, telemetry, attention) with a checkpoint written.
func goldenSnapshot() -> TrainingSnapshot {
    var s = insightSnapshot()
    var maps = s.attention!
    maps.lens = sampleLens(maps)
    maps.tokenIDs = maps.tokens.indices.map { Int32(40 + 7 * $0) }
    s.attention = maps
    s.modelCard = ModelCardTests.card
    s.lastCheckpoint = "/runs/shakespeare-char/checkpoints/step-000600.safetensors"
    return s
}

/// `goldenSnapshot()` as a float16 run: overflows at steps 120, 121 and 480 halved the scale
/// from 65536 to 8192 (three steps skipped), and the telemetry's fractions are at S = 8192.
func float16Snapshot() -> TrainingSnapshot {
    var s = goldenSnapshot()
    s.dtype = .float16
    s.lossScale = 8192
    s.skippedSteps = 3
    s.scaleChanges = [.init(step: 120, scale: 32768), .init(step: 121, scale: 16384), .init(step: 480, scale: 8192)]
    s.telemetry = sampleTelemetry(step: 600, lossScale: 8192, tiny: true)
    return s
}

/// A console that has sampled a checkpoint and a browser listing two runs, all made up.
func goldenConsole() -> ConsoleData {
    func info(_ run: String, _ step: Int, train: Float, val: Float, minutesAgo: Double) -> CheckpointInfo {
        CheckpointInfo(run: run, path: "/runs/\(run)/checkpoints/step-\(String(format: "%06d", step)).safetensors", step: step,
                       trainLoss: train, valLoss: val, created: Date(timeIntervalSince1970: 100_000 - 60 * minutesAgo),
                       sizeBytes: 3_400_000, hasOptimizerState: true)
    }
    var browser = BrowserData()
    browser.folder = "/runs"
    browser.version = 1
    browser.scannedAt = Date(timeIntervalSince1970: 100_000)
    browser.runs = [
        RunListing(name: "shakespeare-char", path: "/runs/shakespeare-char", checkpoints: [
            info("shakespeare-char", 200, train: 2.31, val: 2.35, minutesAgo: 9),
            info("shakespeare-char", 400, train: 1.92, val: 1.99, minutesAgo: 5),
            info("shakespeare-char", 600, train: 1.66, val: 1.74, minutesAgo: 1),
        ]),
        RunListing(name: "sort-task", path: "/runs/sort-task", checkpoints: [
            info("sort-task", 1000, train: 0.12, val: 0.15, minutesAgo: 180),
        ]),
    ]
    browser.lossRunPath = "/runs/shakespeare-char"
    browser.losses = (1...600).map { ($0, Float(1.5 + 2.7 * exp(-Double($0) / 150))) }

    var column = SampleColumn(title: "shakespeare-char · step 600")
    column.step = 600
    column.vocabSize = 65
    column.prompt = "ROMEO:"
    let text = "\nWhat say you, sir? I will not be so bold\nAs to be gone before the morning come."
    column.pieces = text.map { String($0) }
    column.generated = text
    let logits: [Float] = [3, 2.5, 1, 0.5, 0, -1, -2]
    let distribution = logits.withUnsafeBufferPointer { SamplingSettings(temperature: 0.8, topK: 0).distribution($0, top: 5) }
    column.distributions = Array(repeating: distribution, count: column.pieces.count)
    column.candidateLabels = Array(repeating: ["e", "a", "o", "·", "t"], count: column.pieces.count)
    column.finished = true
    var sampling = SamplingOutput()
    sampling.version = 1
    sampling.columns = [column]

    var console = ConsoleData()
    console.sampling = sampling
    console.browser = browser
    console.rows = BrowserRow.rows(browser.runs, sort: .runThenStep, filter: "")
    return console
}

/// Browse mode: no trainer, the browser's selected run's history (metrics and telemetry) shown.
func browseSnapshot() -> TrainingSnapshot {
    var s = TrainingSnapshot(runName: "no training", maxSteps: 0)
    s.state = .idle
    return s
}

func browseConsole() -> ConsoleData {
    var console = goldenConsole()
    let live = insightSnapshot()
    var history = RunHistory(runPath: "/runs/shakespeare-char", runName: "shakespeare-char")
    history.records = live.steps.map { p in
        MetricsRecord(step: p.step, trainLoss: p.loss, valLoss: live.evals.first { $0.step == p.step }?.valLoss, lr: p.lr,
                      gradNorm: p.gradNorm, tokensPerSecond: nil, time: 0)
    }
    history.telemetry = live.telemetry
    history.attention = live.attention
    history.updateRatios = live.updateRatios
    history.gradClip = 1
    console.browser.history = history
    console.sampling.columns[0].title = "shakespeare-char · step 600"
    return console
}
