import Foundation
import Testing
@testable import Dashboard
import Training
import TerminalUI

/// A made-up run folder's summary: `steps` steps of a decaying loss that settles at `floor`.
func overlayRun(_ name: String, floor: Double, tokensPerStep: Int = 768, steps: Int = 800,
                config: [(String, String)] = []) -> RunSummary {
    let base: [(key: String, value: String)] = [("n_layer", "4"), ("n_embd", "128"), ("batch_size", "12"),
                                               ("pos_encoding", "\"learned\""), ("run_name", "\"\(name)\"")]
    var merged = base
    for (k, v) in config { if let i = merged.firstIndex(where: { $0.key == k }) { merged[i].value = v } else { merged.append((k, v)) } }
    let train = (1...steps).map { RunSummary.Point(step: $0, value: Float(floor + 2.7 * exp(-Double($0) / 120))) }
    let val = stride(from: 100, through: steps, by: 100).map { RunSummary.Point(step: $0, value: Float(floor + 0.1 + 2.7 * exp(-Double($0) / 120))) }
    return RunSummary(name: name, path: "/runs/\(name)", config: merged, parameters: 801_536, nonEmbeddingParameters: 784_128,
                      steps: steps, tokensPerStep: tokensPerStep, train: train, val: val, tokensPerSecond: 24_100, wallTime: 81)
}

/// The golden console with two runs overlaid and the training run's own summary read from disk.
func overlayConsole() -> ConsoleData {
    var console = goldenConsole()
    console.browser.overlays = [
        "/runs/rotary": overlayRun("rotary", floor: 1.40, config: [("pos_encoding", "\"rotary\"")]),
        "/runs/wide-batch": overlayRun("wide-batch", floor: 1.45, tokensPerStep: 1536, steps: 400, config: [("batch_size", "24")]),
        "/runs/shakespeare-char": overlayRun("shakespeare-char", floor: 1.50, steps: 600),
    ]
    return console
}

func overlayUI() -> UIState {
    var ui = UIState(focus: .loss)
    ui.expanded = true
    ui.loss.follow = false
    ui.browser.overlays = [OverlayRun(path: "/runs/rotary", slot: 0), OverlayRun(path: "/runs/wide-batch", slot: 1)]
    return ui
}

@Suite struct LossOverlayTests {
    static func text(_ ui: UIState, width: Int = 120, height: Int = 40) -> String {
        DashboardView.render(snapshot: goldenSnapshot(), ui: ui, console: overlayConsole(), theme: .builtInDefault,
                             colorMode: .truecolor, width: width, height: height).lines.joined(separator: "\n")
    }

    @Test func theLegendNamesEveryRunAndTheDiffOnlyTheKeysThatDiffer() {
        let frame = Self.text(overlayUI())
        #expect(frame.contains("shakespeare-char (training)"))
        #expect(frame.contains("━ rotary"))
        #expect(frame.contains("━ wide-batch"))
        #expect(frame.contains("config diff"))
        let diffLines = frame.split(separator: "\n").filter { $0.contains("pos_encoding") || $0.contains("batch_size") }
        #expect(diffLines.count == 2, "\(diffLines)")
        #expect(diffLines.first { $0.contains("pos_encoding") }?.contains("\"rotary\"") == true)
        // Keys that are the same in all three runs, and the run name, are not listed.
        #expect(!frame.contains("n_layer"))
        #expect(!frame.contains("run_name"))
        #expect(frame.contains("+2 runs"))
    }

    @Test func withoutOverlaysTheChartHasNoLegendOfRuns() {
        var ui = overlayUI()
        ui.browser.overlays = []
        let frame = Self.text(ui)
        #expect(!frame.contains("(training)"))
        #expect(!frame.contains("config diff"))
    }

    /// The overlay colours are drawn: some cell of the chart carries each run's colour.
    @Test func eachRunIsDrawnInItsSlotColour() {
        let buffer = DashboardView.render(snapshot: goldenSnapshot(), ui: overlayUI(), console: overlayConsole(),
                                          theme: .builtInDefault, colorMode: .truecolor, width: 120, height: 40)
        let palette = Palette(theme: .builtInDefault, monochrome: false)
        for slot in 0..<2 {
            let colour = palette.runColor(slot)
            var braille = 0
            for y in 0..<buffer.height {
                for x in 0..<buffer.width {
                    let cell = buffer[x, y]
                    if cell.fg == colour, (0x2801...0x28FF).contains(cell.scalar.value) { braille += 1 }
                }
            }
            #expect(braille > 20, "slot \(slot): \(braille) curve cells")
        }
    }

    /// By tokens the wide-batch run (twice the tokens a step) ends at 400 · 1536 = 614k, past the
    /// training run's 600 · 768: the axis reaches further than by steps.
    @Test func theTokensAxisPlacesRunsByDataSeen() {
        var ui = overlayUI()
        ui.loss.xAxis = .tokens
        let frame = Self.text(ui, width: 200, height: 60)
        #expect(frame.contains("x: tokens"))
        #expect(frame.contains("600k") || frame.contains("500k") || frame.contains("400k"), "tick labels in tokens")
        #expect(!Self.text(overlayUI(), width: 200, height: 60).contains("400k"))
    }

    @Test func addingKeepsColoursAndRefusesTheTrainingRunAndTooMany() {
        var limits = SelectionLimits(goldenSnapshot())
        limits.checkpoints = BrowserRow.rows(goldenConsole().browser.runs, sort: .runThenStep, filter: "")
        var ui = UIState(focus: .checkpoints)
        // Row 3 is sort-task's checkpoint; rows 0–2 are the training run's.
        ui.browser.selected = 3
        ui = reduce(ui, .toggleOverlay, training: .running, limits: limits).0
        #expect(ui.browser.overlays == [OverlayRun(path: "/runs/sort-task", slot: 0)])
        ui.browser.selected = 0
        let refused = reduce(ui, .toggleOverlay, training: .running, limits: limits).0
        #expect(refused.browser.overlays.count == 1)
        #expect(refused.message?.text.contains("always shows it") == true)
        // A free slot is reused; existing runs keep theirs.
        ui.browser.overlays = [OverlayRun(path: "/runs/a", slot: 0), OverlayRun(path: "/runs/c", slot: 2)]
        ui.browser.selected = 3
        ui = reduce(ui, .toggleOverlay, training: .running, limits: limits).0
        #expect(ui.browser.overlays.last == OverlayRun(path: "/runs/sort-task", slot: 1))
        ui = reduce(ui, .toggleOverlay, training: .running, limits: limits).0
        #expect(ui.browser.overlays == [OverlayRun(path: "/runs/a", slot: 0), OverlayRun(path: "/runs/c", slot: 2)])
        ui.browser.overlays = (0..<OverlayRun.limit).map { OverlayRun(path: "/runs/r\($0)", slot: $0) }
        let full = reduce(ui, .toggleOverlay, training: .running, limits: limits).0
        #expect(full.browser.overlays.count == OverlayRun.limit)
        #expect(full.message?.text.contains("at most") == true)
    }

    @Test func xTogglesTheLossAxis() {
        let ui = reduce(UIState(focus: .loss), .toggleLossAxis, training: .running, limits: SelectionLimits()).0
        #expect(ui.loss.xAxis == .tokens)
        #expect(reduce(ui, .toggleLossAxis, training: .running, limits: SelectionLimits()).0.loss.xAxis == .step)
    }
}

@Suite struct TokensViewTests {
    /// `n` steps off → pieces → ids → off, and the tokens view and the logit lens replace each other.
    @Test func nCyclesTheTokensViewAndTheLensTakesTurns() {
        var ui = UIState(focus: .attention)
        var seen: [TokensView] = []
        for _ in 0..<3 {
            ui = reduce(ui, .cycleTokensView, training: .running).0
            seen.append(ui.attention.tokens)
        }
        #expect(seen == [.pieces, .ids, .off])
        ui = reduce(ui, .toggleLens, training: .running).0
        ui = reduce(ui, .cycleTokensView, training: .running).0
        #expect(ui.attention.tokens == .pieces && !ui.attention.showLens)
        ui = reduce(ui, .toggleLens, training: .running).0
        #expect(ui.attention.tokens == .off && ui.attention.showLens)
    }
}
