import Foundation
import Testing
@testable import Dashboard
import Training
import TerminalUI

private func render(_ width: Int, _ height: Int, _ snapshot: TrainingSnapshot = insightSnapshot(), ui: UIState = UIState(),
                    mode: ColorMode = .truecolor) -> CellBuffer {
    DashboardView.render(snapshot: snapshot, ui: ui, theme: .builtInDefault, colorMode: mode, width: width, height: height)
}

private func text(_ buffer: CellBuffer) -> String { buffer.lines.joined(separator: "\n") }

/// Keys through the reducer with the limits of `snapshot`, as the app loop does.
private func play(_ keys: [Key], from state: UIState, snapshot: TrainingSnapshot = insightSnapshot()) -> (UIState, [Effect]) {
    var s = state
    var all: [Effect] = []
    for key in keys {
        let (next, effects) = reduce(s, key, training: snapshot.state, limits: SelectionLimits(snapshot))
        s = next
        all += effects
    }
    return (s, all)
}

private func focused(_ pane: PaneID, expanded: Bool = false) -> UIState {
    var ui = UIState()
    ui.focus = pane
    ui.expanded = expanded
    return ui
}

@Suite struct GradientsPaneTests {
    @Test func theGridShowsBothInsightPanesWithData() {
        let frame = text(render(120, 40))
        #expect(frame.contains("▶ wte.w"))
        #expect(frame.contains("log|g| · step 600"))
        #expect(frame.contains("layer 1/2 · head 1/4 · step 600"))
        #expect(frame.contains("no runs folder"), "the browser has nothing to list in a bare render")
    }

    @Test func arrowsSelectATensorWithinTheList() {
        let (ui, _) = play([.down, .character("j"), .down], from: focused(.gradients))
        #expect(ui.gradients.selected == 3)
        let frame = text(render(120, 40, ui: ui))
        #expect(frame.contains("▶ 0.attn.c_attn.w"))
        #expect(frame.contains("0.attn.c_attn.w [16×16]"))
        // The selection stops at the last tensor and comes back up from there.
        let (bottom, _) = play(Array(repeating: .down, count: 40), from: focused(.gradients))
        #expect(bottom.gradients.selected == sampleTensorNames.count - 1)
        #expect(play([.up], from: bottom).0.gradients.selected == sampleTensorNames.count - 2)
        #expect(play([.up, .character("k")], from: focused(.gradients)).0.gradients.selected == 0)
        // Arrows do nothing to it while another pane has focus.
        #expect(play([.down], from: focused(.loss)).0.gradients.selected == 0)
    }

    @Test func theSelectedTensorsNumbersAreShown() throws {
        let snapshot = insightSnapshot()
        let stats = try #require(snapshot.telemetry?.tensors[2])
        let (ui, _) = play([.down, .down], from: focused(.gradients, expanded: true))
        let frame = text(render(120, 40, snapshot, ui: ui))
        #expect(frame.contains("0.ln_1.w [16×16]"))
        #expect(frame.contains("std \(GradientsPane.scientific(stats.std))"))
        // 32 of 256 values are exact zeros: 12.5%, also counted outside the bins.
        #expect(frame.contains("zeros 12.5%"))
        #expect(frame.contains("zeros 32"))
        #expect(frame.contains("upd/data 3.0e-03"))
    }

    @Test func vSwitchesTheHistogramToRawValues() throws {
        let snapshot = insightSnapshot()
        let limit = try #require(snapshot.telemetry?.tensors[0].valueHistogram.limit)
        let logFrame = text(render(120, 40, snapshot, ui: focused(.gradients, expanded: true)))
        #expect(logFrame.contains("|g| 1e-10") && logFrame.contains("1e+1"))
        let (ui, _) = play([.character("v")], from: focused(.gradients, expanded: true))
        #expect(ui.gradients.rawValues)
        let raw = render(120, 40, snapshot, ui: ui)
        #expect(text(raw).contains("values · step 600"))
        #expect(text(raw).contains(GradientsPane.scientific(-limit)) && text(raw).contains(GradientsPane.scientific(limit)))
        #expect(!text(raw).contains("|g| 1e-10"))
        #expect(raw != render(120, 40, snapshot, ui: focused(.gradients, expanded: true)))
    }

    @Test func expandedItShowsEveryTensorTheRatiosAndTheClippedNorm() {
        let frame = text(render(120, 40, ui: focused(.gradients, expanded: true)))
        for name in sampleTensorNames { #expect(frame.contains(GradientsPane.shortName(name)), "\(name) missing") }
        #expect(frame.contains("update/data per layer"))
        #expect(frame.contains("━ 1e-3"))
        #expect(frame.contains("━ emb ━ h.0 ━ h.1"))
        // gradNorm 1.6 every 50 steps from step 8: 12 of 600 steps over grad_clip 1.
        #expect(frame.contains("clipped 12/600 (>1)"))
    }

    @Test func withoutTelemetryItSaysSoAndDrawsNothingElse() {
        var snapshot = sampleSnapshot()
        snapshot.telemetry = nil
        snapshot.attention = nil
        let frame = text(render(120, 40, snapshot))
        #expect(frame.contains("waiting for the first gradient statistics…"))
        #expect(frame.contains("waiting for the first attention maps…"))
        #expect(!frame.contains("▶ wte.w"))
    }

    @Test(arguments: [(40, 10), (60, 15), (80, 24), (120, 40), (200, 60)])
    func everySizeAndFocusRenders(width: Int, height: Int) {
        for pane in [PaneID.gradients, .attention] {
            for expanded in [false, true] {
                for mode in [ColorMode.truecolor, .monochrome] {
                    let frame = render(width, height, ui: focused(pane, expanded: expanded), mode: mode)
                    #expect(frame.lines.allSatisfy { $0.unicodeScalars.count == width })
                }
            }
        }
    }
}

@Suite struct AttentionPaneTests {
    @Test func bracketsChooseTheLayerAndBracesTheHead() {
        let (ui, _) = play([.character("]"), .character("}"), .character("}")], from: focused(.attention, expanded: true))
        #expect(ui.attention.layer == 1 && ui.attention.head == 2)
        let frame = render(120, 40, ui: ui)
        #expect(text(frame).contains("layer 2/2 · head 3/4"))
        #expect(frame != render(120, 40, ui: focused(.attention, expanded: true)))
        // Limits come from the maps: two layers, four heads.
        let (far, _) = play(Array(repeating: .character("]"), count: 5) + Array(repeating: .character("}"), count: 9),
                            from: focused(.attention))
        #expect(far.attention.layer == 1 && far.attention.head == 3)
        let (back, _) = play([.character("["), .character("["), .character("{")], from: far)
        #expect(back.attention.layer == 0 && back.attention.head == 2)
    }

    @Test func theChosenMapIsTheChosenLayerAndHead() {
        // Sample head h of layer l looks (l + h) tokens back: row 10 peaks at column 10 − (l + h).
        let maps = sampleAttention()
        for (layer, head) in [(0, 0), (1, 2)] {
            let m = AttentionPane.displayedMatrix(maps, layer: layer, head: head)
            let row = Array(m[(10 * maps.size)..<(11 * maps.size)])
            let peak = row.indices.filter { row[$0].isFinite }.max { row[$0] < row[$1] }!
            #expect(peak == 10 - (layer + head))
        }
    }

    @Test func tokensLabelTheMapWithALegend() {
        let frame = render(120, 40, ui: focused(.attention, expanded: true))
        let lines = frame.lines
        // 33 one-character tokens in 35 rows: a square of two columns by one row per token,
        // labelled on both edges.
        #expect(lines[3].contains("query 'F' @0 → key 'F' @0: 1.0000"), "the cursor's readout")
        #expect(lines[4].contains("F i r s t · C i t i z e n : ⏎ B e f o r e · w e · p r o c e e d"), "column labels")
        #expect(lines[5].hasPrefix("┃F "), "row labels: one query token per row")
        #expect(lines[11].hasPrefix("┃C "))
        #expect(text(frame).contains("P 0 ████████████ 1"))
        // Small multiples of all four heads of the layer, the chosen one marked.
        for h in 1...4 { #expect(lines[3].contains("h\(h)") || text(frame).contains(" h\(h) ")) }
    }

    @Test func aSmallPaneScalesTheMapAndDropsTheLabels() {
        let frame = text(render(120, 40))
        #expect(!frame.contains("First·Citizen"))
        #expect(frame.contains("P 0 ") && frame.contains("▀"))
    }

    @Test func monochromeDrawsShades() {
        let frame = render(120, 40, ui: focused(.attention, expanded: true), mode: .monochrome)
        #expect(text(frame).contains("█") && text(frame).contains("░"))
        #expect(!text(frame).contains("▀"))
    }
}

@Suite struct ProbeInputTests {
    @Test func pOpensAnInputLineThatSendsTheTextOnEnter() {
        let (typing, none) = play([.character("p")], from: focused(.attention))
        #expect(typing.textEntry == TextEntry(.probe) && none.isEmpty)
        // Every printable key is text now, `q` and `?` included; Backspace deletes.
        let (typed, _) = play([.character("T"), .character("o"), .character("q"), .backspace, .character(" "),
                               .character("?"), .character("b")], from: typing)
        #expect(typed.textEntry?.text == "To ?b")
        #expect(!typed.confirmingQuit && !typed.showHelp)
        let frame = text(render(120, 40, ui: typed))
        #expect(frame.contains("probe› To ?b█"))
        #expect(frame.contains("Enter runs · Esc cancels"))
        let (done, effects) = play([.enter], from: typed)
        #expect(effects == [.send(.setProbe("To ?b"))])
        #expect(done.textEntry == nil && done.message != nil)
    }

    @Test func escapeCancelsAndAnEmptyProbeSendsNothing() {
        let (typing, _) = play([.character("p"), .character("x")], from: focused(.attention))
        let (cancelled, effects) = play([.escape], from: typing)
        #expect(cancelled.textEntry == nil && effects.isEmpty && !cancelled.expanded)
        #expect(play([.character("p"), .enter], from: focused(.attention)).1.isEmpty)
        // Once training has ended the trainer cannot recompute maps: no input line.
        var finished = insightSnapshot()
        finished.state = .finished
        #expect(play([.character("p")], from: focused(.attention), snapshot: finished).0.textEntry == nil)
    }

    @Test func ctrlCStillQuitsWhileTyping() {
        let (typing, _) = play([.character("p")], from: focused(.attention))
        let (_, effects) = play([.control("c")], from: typing)
        #expect(effects == [.beginShutdown(stopTrainer: true)])
    }

    @Test func theHelpListsTheNewKeys() {
        let sections = Keymap.helpSections()
        let gradients = sections.first { $0.title == "Gradients pane" }?.lines.map(\.keys) ?? []
        let attention = sections.first { $0.title == "Attention pane" }?.lines.map(\.keys) ?? []
        #expect(gradients == ["↓ j", "↑ k", "v"])
        #expect(attention == ["]", "[", "}", "{", "← h", "→ l", "↑ k", "↓ j", "g", "v", "n", "p"])
        #expect(sections.contains { $0.title.hasPrefix("Typing a probe") })
    }

    @Test func theAppSendsTheProbeToTheTrainer() {
        let control = FakeTrainingControl(insightSnapshot())
        let backend = MemoryBackend(width: 120, height: 40)
        let app = DashboardApp(control: control, backend: backend, themes: ThemeLibrary(themes: [.builtInDefault], warnings: []),
                               options: DashboardOptions())
        for key in [Key.tab, .tab, .character("p"), .character("a"), .character("b"), .enter] { app.handle(key, control.snapshot()) }
        #expect(control.commands == [.setProbe("ab")])
    }
}
