import Foundation
import GPT
import Testing
@testable import Dashboard
import Training
import TerminalUI

private func render(_ width: Int, _ height: Int, _ snapshot: TrainingSnapshot, ui: UIState = UIState()) -> CellBuffer {
    DashboardView.render(snapshot: snapshot, ui: ui, theme: .builtInDefault, colorMode: .truecolor, width: width, height: height)
}

private func expanded(_ pane: PaneID) -> UIState {
    var ui = UIState()
    ui.focus = pane
    ui.expanded = true
    return ui
}

/// Mixed precision on screen: the dtype and float16's scaler in the status bar, the 16-bit range
/// fractions in the Gradients pane, the scale changes on the loss chart.
@Suite struct PrecisionViewTests {
    @Test func theStatusBarShowsTheDtypeAndFloat16sScaler() {
        let status = render(200, 60, float16Snapshot()).lines[0]
        #expect(status.contains("│ float16 │ scale 8192 │ skipped 3"), "\(status)")

        var bf16 = goldenSnapshot()
        bf16.dtype = .bfloat16
        let bf16Status = render(200, 60, bf16).lines[0]
        #expect(bf16Status.contains("bfloat16") && !bf16Status.contains("scale"))

        var unscaled = goldenSnapshot()
        unscaled.dtype = .float16
        let unscaledStatus = render(200, 60, unscaled).lines[0]
        #expect(unscaledStatus.contains("float16 │ no loss scaling") && !unscaledStatus.contains("skipped"))

        #expect(render(200, 60, goldenSnapshot()).lines[0].contains("float32"))
    }

    @Test func onANarrowTerminalFloat32GoesBeforeTheScale() {
        // At 120 columns not everything fits: a float32 run drops its dtype among the first,
        // a float16 run keeps dtype and scale longer than the learning rate.
        let fp32 = render(120, 40, goldenSnapshot()).lines[0]
        #expect(!fp32.contains("float32"))
        let fp16 = render(120, 40, float16Snapshot()).lines[0]
        #expect(fp16.contains("float16") && fp16.contains("scale 8192") && !fp16.contains("lr "), "\(fp16)")
    }

    @Test func theGradientsPaneTitleNamesTheScale() {
        let frame = render(120, 40, float16Snapshot(), ui: expanded(.gradients)).lines.joined(separator: "\n")
        #expect(frame.contains("16-bit at S=8192"))
        #expect(render(120, 40, goldenSnapshot(), ui: expanded(.gradients)).lines.joined(separator: "\n").contains("16-bit at S=1"))
    }

    /// Every tensor's float16 flush fraction, as the telemetry measured it, at 80 and 120 columns;
    /// all four fractions at 200.
    @Test(arguments: [(80, 24), (120, 40), (200, 60)])
    func everyTensorsFloat16FlushIsListed(width: Int, height: Int) throws {
        let snapshot = float16Snapshot()
        let telemetry = try #require(snapshot.telemetry)
        let lines = render(width, height, snapshot, ui: expanded(.gradients)).lines
        #expect(lines.contains { $0.contains("fp16→0") })
        if width >= 200 { #expect(lines.contains { $0.contains("fp16→∞") && $0.contains("bf16→0") && $0.contains("bf16→∞") }) }
        // The column's cells end where its header does.
        let headerLine = try #require(lines.first { $0.contains("fp16→0") })
        let headerScalars = Array(headerLine.unicodeScalars)
        let start = try #require((0..<headerScalars.count).first { String(String.UnicodeScalarView(headerScalars[$0...])).hasPrefix("fp16→0") })
        let end = start + "fp16→0".unicodeScalars.count
        var shown = 0
        for stats in telemetry.tensors {
            let name = GradientsPane.shortName(stats.name)
            // The tensor's row in the list: its name right after the border and the selection marker.
            guard let line = lines.first(where: { l in ["▶ ", "  "].contains { l.dropFirst().hasPrefix($0 + name + " ") } }) else { continue }
            shown += 1
            let scalars = Array(line.unicodeScalars)
            let cell = String(String.UnicodeScalarView(scalars[(end - GradientsPane.halfColumnWidth)..<end])).trimmingCharacters(in: .whitespaces)
            #expect(cell == Format.percent(try #require(stats.halfRange).float16.underflow), "\(name): \(line)")
        }
        #expect(shown >= min(telemetry.tensors.count, height / 3), "only \(shown) tensors listed")
        // The fixture flushes a quarter of the later tensors in float16 and none in bfloat16.
        #expect(telemetry.tensors[3].halfRange!.float16.underflow >= 0.2 && telemetry.tensors[0].halfRange!.float16.underflow == 0)
    }

    /// A click lands on the tensor drawn there, with the list's new header row above the names.
    @Test(arguments: [(80, 24), (120, 40), (200, 60)])
    func theListsClickRowsAreItsDrawnRows(width: Int, height: Int) throws {
        let snapshot = float16Snapshot()
        let ui = expanded(.gradients)
        let lines = render(width, height, snapshot, ui: ui).lines.map { Array($0.unicodeScalars) }
        let area = try #require(DashboardLayout(width: width, height: height, ui: ui).panes[.gradients])
        let rows = try #require(GradientsPane.listRows(area))
        for r in 0..<min(rows.height, 4) {
            let drawn = String(String.UnicodeScalarView(lines[rows.y + r][rows.x..<rows.maxX]))
            let name = GradientsPane.shortName(snapshot.telemetry!.tensors[r].name)
            #expect(drawn.dropFirst(2).hasPrefix(name + " "), "row \(r) at \(width)×\(height): |\(drawn)|")
        }
    }

    @Test func theSelectedTensorsDetailHasAllFourFractions() throws {
        let snapshot = float16Snapshot()
        var ui = expanded(.gradients)
        ui.gradients.selected = 3
        let frame = render(120, 40, snapshot, ui: ui).lines.joined(separator: "\n")
        let h = try #require(snapshot.telemetry?.tensors[3].halfRange)
        #expect(frame.contains("fp16→0 \(Format.percent(h.float16.underflow)) →∞ \(Format.percent(h.float16.overflow))"))
        #expect(frame.contains("bf16→0 \(Format.percent(h.bfloat16.underflow)) →∞ \(Format.percent(h.bfloat16.overflow))"))
    }

    @Test func percentagesNeverRoundALossToNothing() {
        #expect(Format.percent(0) == "0%")
        #expect(Format.percent(0.0001) == "<0.1%")
        #expect(Format.percent(0.0312) == "3.1%")
        #expect(Format.percent(1) == "100.0%")
        #expect(Format.lossScale(65536) == "65536" && Format.lossScale(0.5) == "0.5")
    }

    /// The loss chart marks each scale change with `┊` in its own column, and names it.
    @Test func scaleChangesAreMarkedOnTheLossChart() {
        var snapshot = float16Snapshot()
        let ui = expanded(.loss)
        var lossUI = ui
        lossUI.loss.follow = false  // the whole run on the axis, so every change is in view
        let frame = render(120, 40, snapshot, ui: lossUI)
        // Columns holding a mark on the plot's rows (the legend's glyph is on a row of its own text).
        let marked = Set(frame.lines.filter { !$0.contains("┊ scale") }.flatMap { line in
            line.unicodeScalars.enumerated().filter { $0.element == "┊" }.map(\.offset)
        }).sorted()
        // Steps 120 and 121 of 600 share a column or sit side by side; 480 is four fifths along.
        #expect(marked.count == 2 || marked.count == 3, "columns with ┊: \(marked)")
        if let first = marked.first, let last = marked.last {
            #expect(first < 40 && last > 80, "columns with ┊: \(marked)")
        }
        #expect(frame.lines.contains { $0.contains("┊ scale") })
        snapshot.scaleChanges = []
        let plain = render(120, 40, snapshot, ui: lossUI)
        #expect(!plain.lines.contains { $0.contains("┊") })
    }

    @Test func aMarkIsDrawnWhereNoSeriesIsAndInItsColour() throws {
        let red = Color.rgb(RGB(255, 0, 0)), green = Color.rgb(RGB(0, 255, 0))
        var chart = LineChart(series: [.init(name: "y", xs: [0, 10], ys: [0, 1], color: red)], showLegend: false)
        chart.marks = [.init(x: 5, color: green)]
        var buffer = CellBuffer(width: 30, height: 10)
        chart.render(into: &buffer, area: Rect(x: 0, y: 0, width: 30, height: 10))
        var marks: [(x: Int, y: Int)] = []
        for y in 0..<10 { for x in 0..<30 where buffer[x, y].scalar == "┊" { marks.append((x, y)) } }
        // One column, the plot's rows but the one the diagonal crosses there, all green.
        #expect(Set(marks.map(\.x)).count == 1)
        #expect(marks.count >= 6 && marks.count <= 8, "\(buffer.lines.joined(separator: "\n"))")
        #expect(marks.allSatisfy { buffer[$0.x, $0.y].fg == green })
        let x = try #require(marks.first?.x)
        #expect((0..<8).contains { buffer[x, $0].scalar != "┊" && buffer[x, $0].fg == red })
    }
}
