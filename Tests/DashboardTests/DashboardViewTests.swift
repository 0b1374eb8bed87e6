import Testing
@testable import Dashboard
import Training
import TerminalUI

private func render(_ width: Int, _ height: Int, _ snapshot: TrainingSnapshot = sampleSnapshot(), ui: UIState = UIState(),
                    theme: Theme = .builtInDefault, mode: ColorMode = .truecolor) -> CellBuffer {
    DashboardView.render(snapshot: snapshot, ui: ui, theme: theme, colorMode: mode, width: width, height: height)
}

private func count(_ needle: String, in buffer: CellBuffer) -> Int {
    buffer.lines.reduce(0) { $0 + $1.components(separatedBy: needle).count - 1 }
}

@Suite struct DashboardViewTests {
    @Test(arguments: [(1, 1), (10, 3), (39, 9), (40, 10), (60, 15), (80, 24), (120, 40), (200, 60), (300, 10), (40, 100)])
    func everySizeRendersToExactlyThatSize(width: Int, height: Int) {
        let frame = render(width, height)
        #expect(frame.width == width && frame.height == height)
        #expect(frame.lines.allSatisfy { $0.unicodeScalars.count == width })
    }

    @Test func belowTheMinimumSizeTheNeededSizeIsShown() {
        let frame = render(39, 9)
        let text = frame.lines.joined(separator: "\n")
        #expect(text.contains("Terminal too small"))
        #expect(text.contains("need 40×10") && text.contains("have 39×9"))
        #expect(text.contains("q quits"))
        #expect(render(1, 1).lines.count == 1)
        #expect(render(10, 3).lines[1] == "need 40×10")
        #expect(render(10, 3).clippedTexts.isEmpty)
    }

    @Test func theQuitPromptShowsEvenWhenTooSmall() {
        var ui = UIState()
        ui.confirmingQuit = true
        #expect(render(20, 5, ui: ui).lines.joined().contains("and quit? y/n"))
    }

    @Test func aLargeTerminalShowsEveryPane() {
        let frame = render(120, 40)
        for pane in PaneID.allCases {
            #expect(count(" \(pane.title) ", in: frame) >= 1, "\(pane.title) missing")
        }
        // Without a runs folder or weights the console and browser say so, and draw nothing invented.
        #expect(count("copying the trainer's weights", in: frame) == 1)
        #expect(count("no runs folder", in: frame) == 1)
        #expect(DashboardLayout(width: 120, height: 40, ui: UIState()).mode == .grid)
    }

    @Test func mediumTerminalsStackThePanes() {
        let wide = DashboardLayout(width: 160, height: 20, ui: UIState())
        #expect(wide.mode == .stacked && wide.panes.count == 5 && wide.tabs == nil)
        // 80 columns: two panes under the loss pane, legible, and a tab row naming the rest.
        let layout = DashboardLayout(width: 80, height: 24, ui: UIState())
        #expect(layout.mode == .stacked)
        #expect(Set(layout.panes.keys) == [.loss, .gradients, .attention] && layout.tabs != nil)
        #expect(layout.panes.values.allSatisfy { $0.width >= DashboardLayout.legiblePaneWidth })
        let loss = layout.panes[.loss]!
        #expect(loss.width == 80 && loss.y == 1)
        var ui = UIState()
        ui.focus = .checkpoints
        ui.detailPane = .checkpoints
        #expect(Set(DashboardLayout(width: 80, height: 24, ui: ui).panes.keys) == [.loss, .sampling, .checkpoints])
    }

    @Test func aSmallTerminalShowsOnePaneAndTabs() {
        let frame = render(60, 15)
        #expect(DashboardLayout(width: 60, height: 15, ui: UIState()).mode == .single)
        #expect(frame.lines[1].hasPrefix(" Loss   Grad   Attn   Sample   Ckpts "))
        #expect(frame.lines[2].hasPrefix("┏ Loss "))
        var ui = UIState()
        ui.focus = .sampling
        let other = render(60, 15, ui: ui)
        #expect(other.lines[2].hasPrefix("┏ Sampling "))
        #expect(count("copying the trainer's weights", in: other) == 1)
    }

    @Test func expandingGivesTheFocusedPaneTheBody() {
        var ui = UIState()
        ui.expanded = true
        let layout = DashboardLayout(width: 120, height: 40, ui: ui)
        #expect(layout.panes.keys.sorted { $0.rawValue < $1.rawValue } == [.loss])
        #expect(layout.panes[.loss]!.height == 40 - 3)
        #expect(render(120, 40, ui: ui).lines[1].hasSuffix("e restores"))
    }

    @Test func theStatusBarShowsProgressAndNumbers() {
        let status = render(200, 60).lines[0]
        for part in ["▶ running", "shakespeare-char", "step 600/2000 30%", "loss 1.", "val 1.", "23.9k tok/s", "lr ", "1:23 · ETA 4:56"] {
            #expect(status.contains(part), "status bar lacks \(part)")
        }
    }

    @Test func theStatusBarShowsTheTaskAccuracyOnlyForTasks() {
        #expect(!render(200, 60).lines[0].contains("acc "))
        var s = sampleSnapshot()
        s.evals[s.evals.count - 1].taskAccuracy = 0.975
        #expect(render(200, 60, s).lines[0].contains("acc 97.5%"))
    }

    @Test func theStatusBarDropsLeastImportantFieldsFirst() {
        let narrow = render(40, 10).lines[0]
        #expect(narrow.contains("▶ running"))
        #expect(narrow.contains("step 600/2000"))
        #expect(!narrow.contains("ETA"))
        #expect(!narrow.contains("shakespeare-char"))
    }

    @Test func pausedAndFailedRunsSaySo() {
        #expect(render(120, 40, sampleSnapshot(state: .paused)).lines[0].contains("‖ paused"))
        let failed = render(120, 40, sampleSnapshot(state: .failed("loss is NaN at step 412")))
        #expect(failed.lines[0].contains("✗ failed"))
        #expect(failed.lines[39].contains("training failed: loss is NaN at step 412"))
    }

    @Test func theLatestTrainerMessageIsOnTheHintLine() {
        var s = sampleSnapshot()
        s.messages = ["old", "checkpoint written: runs/x/step-000600"]
        var ui = reduce(UIState(), .event(.trainerMessages(s.messages)), training: .running).0
        #expect(render(120, 40, s, ui: ui).lines[39].hasPrefix(" checkpoint written: runs/x/step-000600"))
        ui = reduce(ui, .character("s"), training: .running).0
        #expect(render(120, 40, s, ui: ui).lines[39].hasPrefix(" checkpoint requested"))
        // The snapshot alone draws nothing: messages reach the hint line only through the reducer.
        #expect(render(120, 40, s).lines[39].hasPrefix(" theme \(Theme.builtInDefault.name)"))
    }

    @Test func longMessagesPushOutTheLeastEssentialHints() {
        var s = sampleSnapshot()
        s.messages = ["checkpoint written: runs/demo/checkpoints/step-000123.safetensors"]
        let ui = reduce(UIState(), .event(.trainerMessages(s.messages)), training: .running).0
        let line = render(120, 40, s, ui: ui).lines[39]
        #expect(line.contains("checkpoint written: runs/demo/checkpoints/step-000123.safetensors"))
        #expect(line.contains("? help"))
        #expect(line.contains("q quit"))
        #expect(!line.contains("Tab focus"))
        let narrow = render(40, 10, s, ui: ui).lines[9]
        #expect(narrow.hasSuffix(" ? help  q quit  "))
        #expect(narrow.hasPrefix(" checkpoint"))
        // Wider, the path keeps its file name: the part that says which checkpoint.
        #expect(HintLine.fit("checkpoint saved: runs/shakespeare-char/checkpoints/step-001410.safetensors", width: 50)
                == "checkpoint saved: …/step-001410.safetensors")
        let idle = render(120, 40).lines[39]
        #expect(idle.contains("m EMA  g log  a all  ←→ zoom  │ Space pause  s save  Tab focus  e expand  t theme  ? help  q quit"))
        #expect(render(200, 40).lines[39].contains("c checkpoints  t theme  ? help  q quit"))
    }

    @Test func beforeTheFirstStepTheLossPaneWaits() {
        var s = TrainingSnapshot(runName: "r", maxSteps: 10)
        s.state = .starting
        #expect(render(120, 40, s).lines.contains { $0.contains("waiting for the first step…") })
    }

    @Test func theLossAxisFollowsTheNewestSteps() {
        let early = render(120, 40, sampleSnapshot(steps: 300))
        let late = render(120, 40, sampleSnapshot(steps: 2000))
        let earlyAxis = early.lines.first { $0.contains(" 100 ") && !$0.contains("step") } ?? ""
        let lateAxis = late.lines.first { $0.contains(" 2000") && !$0.contains("step") } ?? ""
        #expect(earlyAxis.hasPrefix("┃    0 "))
        #expect(earlyAxis.contains(" 500"))
        #expect(lateAxis.hasPrefix("┃    1500 "))
        #expect(!lateAxis.contains(" 500 "))
        var all = UIState()
        all.loss.follow = false
        let whole = render(120, 40, sampleSnapshot(steps: 2000), ui: all)
        #expect(whole.lines.contains { $0.contains(" 500 ") && $0.contains("2000") })
        #expect(whole.lines[1].contains(" all "))
    }

    @Test func theLossCurveGrowsWithTraining() {
        func brailleCells(_ b: CellBuffer) -> Int {
            b.cells.filter { $0.scalar.value > 0x2800 && $0.scalar.value <= 0x28FF }.count
        }
        let few = brailleCells(render(120, 40, sampleSnapshot(steps: 50)))
        let more = brailleCells(render(120, 40, sampleSnapshot(steps: 200)))
        let many = brailleCells(render(120, 40, sampleSnapshot(steps: 450)))
        #expect(few > 0 && more > few && many > more)
        // The step axis already spans the window: its last label is 500, not the newest step.
        #expect(render(120, 40, sampleSnapshot(steps: 50)).lines.contains { $0.contains(" 500┃") || $0.contains(" 500 ") })
    }

    @Test func paneTitleShowsTheViewSettings() {
        var ui = UIState()
        #expect(render(120, 40, ui: ui).lines[1].contains(" EMA 0.95 · last 500 steps "))
        ui.loss.smoothingLevel = 0
        ui.loss.logScale = true
        #expect(render(120, 40, ui: ui).lines[1].contains(" raw · log · last 500 steps "))
    }

    @Test func helpIsDrawnFromTheKeymap() {
        var ui = UIState()
        ui.showHelp = true
        // Tall enough for the whole help, which now includes the console's and browser's keys.
        let text = render(120, 120, ui: ui).lines.joined(separator: "\n")
        for binding in Keymap.bindings where binding.scope == .global || binding.scope == .lossPane {
            #expect(text.contains(binding.summary), "help lacks \(binding.summary)")
        }
    }

    @Test func helpTallerThanTheScreenScrolls() {
        var ui = UIState()
        ui.showHelp = true
        let top = render(80, 24, ui: ui)
        #expect(top.lines.contains { $0.contains("↓ more · ? closes") })
        #expect(!top.lines.contains { $0.contains("Quit prompt") })
        for _ in 0..<120 { ui = reduce(ui, .down, training: .running).0 }
        let bottom = render(80, 24, ui: ui)
        #expect(bottom.lines.contains { $0.contains("Quit prompt") })
        #expect(bottom.lines.contains { $0.contains("━ ? closes ┓") })
        #expect(!bottom.lines.contains { $0.contains("↓ more") })
    }

    @Test func quittingShowsPromptThenSaving() {
        var ui = UIState()
        ui.confirmingQuit = true
        #expect(render(80, 24, ui: ui).lines.contains { $0.contains("Stop it, save a checkpoint and quit?") })
        ui.confirmingQuit = false
        ui.shutdown = .waitingForTrainer
        let saving = render(80, 24, ui: ui)
        #expect(saving.lines[0].contains("saving…"))
        #expect(saving.lines.contains { $0.contains("waiting for the trainer to checkpoint and stop") })
    }

    @Test func themesChangeTheColours() {
        let library = ThemeLibrary.load(from: [])
        var light = Theme.builtInDefault
        light.name = "light"
        light[.mainBackground] = .hex(0xFAFAF7)
        #expect(library.themes.count == 4)
        let a = render(80, 24, theme: .builtInDefault), b = render(80, 24, theme: light)
        #expect(a[40, 12].bg != b[40, 12].bg)
        #expect(a.lines != b.lines || a != b)
    }

    @Test func monochromeMarksSelectionWithAttributes() {
        let frame = render(60, 15, mode: .monochrome)
        // The focused tab ("Loss") is reverse video, the others are not.
        #expect(frame[2, 1].attributes.contains(.reverse))
        #expect(!frame[10, 1].attributes.contains(.reverse))
        #expect(frame[0, 0].attributes.contains(.reverse))
    }
}
