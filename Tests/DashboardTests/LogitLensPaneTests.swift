import Foundation
import Testing
@testable import Dashboard
import Training
import TerminalUI

/// The logit lens inside the Attention pane: `v` shows it, its grid is layer × position with the
/// top-1 tokens, the target's ranks and the final loss; the cursor row is the position read.
@Suite struct LogitLensPaneTests {
    static func snapshot() -> TrainingSnapshot {
        var s = insightSnapshot()
        var maps = s.attention!
        maps.lens = sampleLens(maps)
        s.attention = maps
        return s
    }

    static func frame(_ ui: UIState, _ snapshot: TrainingSnapshot = snapshot(), width: Int = 120, height: Int = 40) -> [String] {
        DashboardView.render(snapshot: snapshot, ui: ui, theme: .builtInDefault, colorMode: .truecolor, width: width, height: height).lines
    }

    static func lensUI(row: Int = 0) -> UIState {
        var ui = UIState(focus: .attention)
        ui.expanded = true
        ui = reduce(ui, .character("v"), training: .running).0
        for _ in 0..<row { ui = reduce(ui, .character("j"), training: .running, limits: SelectionLimits(snapshot())).0 }
        return ui
    }

    @Test func vShowsTheGridOfLayersByPositions() {
        let ui = Self.lensUI()
        #expect(ui.attention.showLens)
        let lines = Self.frame(ui)
        #expect(lines[2].contains("logit lens · step 600"))
        #expect(lines.contains { $0.hasPrefix("┃input  F   i   r   s   t   ·   C") })
        #expect(lines.contains { $0.hasPrefix("┃target i   r   s   t   ·   C   i") })
        for name in ["emb", "h.0", "h.1"] { #expect(lines.filter { $0.hasPrefix("┃\(name) ") }.count == 2, "top-1 and rank rows of \(name)") }
        #expect(lines.contains { $0.contains("rank of the target per layer") })
        // emb is right from position 1 on, h.1 from position 3 on: their rank rows.
        #expect(lines.last { $0.hasPrefix("┃emb ") }!.hasPrefix("┃emb    9   1   1"))
        #expect(lines.last { $0.hasPrefix("┃h.0 ") }!.hasPrefix("┃h.0    6   6   1   1"))
        // The final layer (h.1) is wrong before position 3 (loss 1.5), right from there (−log 0.9).
        #expect(lines.contains { $0.hasPrefix("┃loss   1.5 1.5 1.5 0.1") }, "the final layer's per-position loss")
        // Back to the maps with v.
        #expect(!reduce(ui, .character("v"), training: .running).0.attention.showLens)
    }

    @Test func theReadoutFollowsTheCursorRowAndTheGridScrolls() {
        let lines = Self.frame(Self.lensUI(row: 30), width: 80, height: 24)
        let readout = lines.first { $0.contains("pos 30") } ?? ""
        #expect(readout.contains("pos 30 'e' → 'd': h.1 top 'd' 0.90 · rank 1 · loss 0.11"), "\(readout)")
        // 33 positions do not fit 80 columns: the window keeps position 30 in view, so the input row ends "e e d".
        #expect(lines.contains { $0.hasPrefix("┃input ") && $0.contains("c   e   e   d") })
        #expect(LogitLensPane.firstShown(position: 30, count: 17, positions: 33) == 16)
        #expect(LogitLensPane.firstShown(position: 2, count: 17, positions: 33) == 0)
    }

    @Test func withoutALensItSaysSo() {
        var s = insightSnapshot()
        var maps = s.attention!
        maps.lens = nil
        s.attention = maps
        #expect(Self.frame(Self.lensUI(), s).contains { $0.contains("no logit lens") })
    }

    @Test func theGridChangesWhenANewerLensArrives() {
        var newer = Self.snapshot()
        var maps = newer.attention!
        var lens = maps.lens!
        lens.topLabel = lens.topLabel.map { _ in "z" }
        maps.lens = lens
        newer.attention = maps
        #expect(Self.frame(Self.lensUI(), newer) != Self.frame(Self.lensUI()))
    }
}
