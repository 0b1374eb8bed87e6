import Foundation
import Testing
@testable import Dashboard
import Training
import TerminalUI

/// Issue 19's "tokens you can read": whole BPE tokens on the axes, a cursor that reads one cell
/// exactly, the scalings, the perceptual ramp and the magnified short probe.
@Suite struct AttentionReadingTests {
    /// "ROMEO: wherefore art thou" as a BPE tokenizer cuts it, with head 0 attending one token back.
    static func bpeMaps() -> AttentionMaps {
        let tokens = ["RO", "MEO", ":", " where", "fore", " art", " thou"]
        let t = tokens.count
        var weights = [Float](repeating: 0, count: t * t)
        for row in 0..<t {
            for column in 0...row { weights[row * t + column] = row == 0 ? 1 : (column == row - 1 ? 0.7 : 0.3 / Float(row)) }
        }
        return AttentionMaps(step: 40, tokens: tokens, layers: 1, heads: 1, weights: weights)
    }

    static func frame(_ maps: AttentionMaps, view: AttentionViewState = AttentionViewState(), width: Int = 120,
                      height: Int = 40, mode: ColorMode = .truecolor) -> CellBuffer {
        var snapshot = insightSnapshot()
        snapshot.attention = maps
        var ui = UIState(focus: .attention)
        ui.expanded = true
        ui.attention = view
        return DashboardView.render(snapshot: snapshot, ui: ui, theme: .builtInDefault, colorMode: mode, width: width, height: height)
    }

    @Test func bpeTokensLabelTheRowsWhole() {
        let lines = Self.frame(Self.bpeMaps()).lines
        let all = lines.joined(separator: "\n")
        // Row labels are the whole tokens, right-aligned in the gutter, blanks shown as `·`.
        for token in ["RO", "MEO", "·where", "fore", "·art", "·thou"] {
            #expect(lines.contains { $0.contains(" \(token) ") || $0.hasPrefix("┃\(token) ") }, "row label \(token)")
        }
        #expect(!all.contains("ROMEO:·rfo·rt·"), "not the first character of each token")
        // The map is magnified: 7 tokens get 3 rows and 6 columns each.
        let g = AttentionPane.geometry(tokens: Self.bpeMaps().tokens, width: 70, height: 33, monochrome: false)
        #expect(g.cellHeight == 3 && g.cellWidth == 6)
    }

    @Test func theCursorReadsTheCellTheModelComputed() {
        let maps = Self.bpeMaps()
        var view = AttentionViewState()
        view.cursorRow = 4; view.cursorColumn = 3
        let expected = String(format: "%.4f", Double(maps.weight(layer: 0, head: 0, row: 4, column: 3)))
        #expect(expected == "0.7000")
        #expect(AttentionPane.readout(maps, layer: 0, head: 0, row: 4, column: 3) == "query 'fore' @4 → key '·where' @3: 0.7000")
        #expect(Self.frame(maps, view: view).lines.contains { $0.contains("query 'fore' @4 → key '·where' @3: 0.7000") })
        // The cursor's row and column labels are drawn selected.
        let frame = Self.frame(maps, view: view)
        let selected = Palette(theme: .builtInDefault, monochrome: false).selected
        let row = frame.lines.firstIndex { $0.contains(" fore ") }!
        let x = Array(frame.lines[row].unicodeScalars).firstIndex(of: "f")!
        #expect(frame[x, row].bg == selected.bg)
    }

    @Test func theCursorMovesOnTheCausalTriangleOnly() {
        let snapshot: TrainingSnapshot = { var s = insightSnapshot(); s.attention = Self.bpeMaps(); return s }()
        var ui = UIState(focus: .attention)
        func press(_ key: Key) { ui = reduce(ui, key, training: snapshot.state, limits: SelectionLimits(snapshot)).0 }
        press(.right)
        #expect(ui.attention.cursorColumn == 0, "the key cannot pass its query")
        for _ in 0..<10 { press(.down) }
        #expect(ui.attention.cursorRow == 6, "stops at the last token")
        for _ in 0..<3 { press(.character("l")) }
        press(.up); press(.up)
        #expect(ui.attention.cursorRow == 4 && ui.attention.cursorColumn == 3)
        for _ in 0..<3 { press(.up) }
        #expect(ui.attention.cursorRow == 1 && ui.attention.cursorColumn == 1, "the key follows its query up")
    }

    @Test func scalingsMakeEachRowOrEachDecadeVisible() {
        let maps = sampleAttention()
        let t = maps.size
        let perRow = AttentionPane.displayedMatrix(maps, layer: 0, head: 1, scaling: .perRow)
        for row in 0..<t { #expect((0...row).map { perRow[row * t + $0] }.max() == 1) }
        let log = AttentionPane.displayedMatrix(maps, layer: 0, head: 1, scaling: .log)
        // Row 10: 0.8 at the peak, 0.02 elsewhere → (log₁₀ p + 3) / 3.
        #expect(abs(log[10 * t + 9] - (Foundation.log10(0.8) + 3) / 3) < 1e-6)
        #expect(abs(log[10 * t + 0] - (Foundation.log10(0.02) + 3) / 3) < 1e-6)
        #expect(log[10 * t + 11].isNaN, "the masked future stays empty")
        var ui = UIState(focus: .attention)
        ui = reduce(ui, .character("g"), training: .running).0
        #expect(ui.attention.scaling == .perRow)
        #expect(Self.frame(maps, view: ui.attention).lines.joined().contains("P/row max 0 "))
        ui = reduce(ui, .character("g"), training: .running).0
        #expect(Self.frame(maps, view: ui.attention).lines.joined().contains("log₁₀ P −3 "))
        #expect(reduce(ui, .character("g"), training: .running).0.attention.scaling == .linear)
    }

    @Test func viridisRisesInLightnessFromVioletToYellow() {
        func luma(_ c: RGB) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }
        let samples = stride(from: 0.0, through: 1.0, by: 0.05).map { ColorScale.viridis.color(at: $0) }
        #expect(samples.first == RGB(0x44, 0x01, 0x54) && samples.last == RGB(0xFD, 0xE7, 0x25))
        for (a, b) in zip(samples, samples.dropFirst()) { #expect(luma(b) > luma(a)) }
    }

    @Test func noLabelIsCutAtAnySize() {
        for (w, h) in [(80, 24), (120, 40), (200, 60), (60, 15)] {
            let frame = Self.frame(Self.bpeMaps(), width: w, height: h)
            #expect(frame.clippedTexts.isEmpty, "\(w)×\(h): \(frame.clippedTexts)")
        }
    }
}
