import Foundation
import Testing
@testable import TerminalUI

/// Renders `widget` into a fresh buffer of the given size, over all of it.
private func draw(_ widget: some Widget, _ width: Int, _ height: Int) -> CellBuffer {
    var b = CellBuffer(width: width, height: height)
    widget.render(into: &b, area: b.area)
    return b
}

/// Renders `widget` into `area` of a larger buffer and returns whether anything landed outside it.
private func drawsOutside(_ widget: some Widget, area: Rect) -> Bool {
    // A sentinel fill shows even a blank written outside the area.
    let sentinel = Cell("░", fg: .hex(0x010203))
    var b = CellBuffer(width: area.maxX + 3, height: area.maxY + 3, fill: sentinel)
    widget.render(into: &b, area: area)
    for y in 0..<b.height {
        for x in 0..<b.width where !(x >= area.x && x < area.maxX && y >= area.y && y < area.maxY) {
            if b[x, y] != sentinel { return true }
        }
    }
    return false
}

private func pane(_ title: String, trailing: String = "", focused: Bool = false) -> Pane {
    Pane(title: title, trailingTitle: trailing, focused: focused, borderStyle: .plain,
         focusedBorderStyle: .plain, titleStyle: .plain, background: .plain)
}

@Suite struct PaneTests {
    @Test func drawsABorderWithTheTitle() {
        #expect(draw(pane("Loss"), 10, 3).lines == ["╭ Loss ──╮", "│        │", "╰────────╯"])
    }

    @Test func focusUsesHeavyLines() {
        #expect(draw(pane("Loss", focused: true), 10, 3).lines == ["┏ Loss ━━┓", "┃        ┃", "┗━━━━━━━━┛"])
    }

    @Test func trailingTitleIsRightAlignedAndDroppedWhenItDoesNotFit() {
        #expect(draw(pane("Loss", trailing: "EMA"), 20, 2).lines == ["╭ Loss ─────── EMA ╮", "╰──────────────────╯"])
        #expect(draw(pane("Loss", trailing: "EMA"), 12, 2).lines == ["╭ Loss ────╮", "╰──────────╯"])
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 1), (5, 3)])
    func tinyPanesStayInside(width: Int, height: Int) {
        let outside = drawsOutside(pane("Gradients"), area: Rect(x: 1, y: 1, width: width, height: height))
        #expect(!outside)
    }

    @Test func aOneByOnePaneShowsTheTitlesFirstLetter() {
        #expect(draw(pane("Loss"), 1, 1).lines == ["L"])
        #expect(Pane.inner(Rect(width: 1, height: 1)).isEmpty)
    }
}

@Suite struct BrailleCanvasTests {
    @Test func dotsMapToUnicodeBraillePatterns() {
        var c = BrailleCanvas(columns: 2, rows: 1)
        c.dot(0, 0, .terminalDefault)   // dot 1
        c.dot(3, 3, .terminalDefault)   // dot 8 of the second cell
        var b = CellBuffer(width: 2, height: 1)
        c.render(into: &b, x: 0, y: 0)
        #expect(b.lines == ["⠁⢀"])
    }

    @Test func aFullCellIsAllEightDots() {
        var c = BrailleCanvas(columns: 1, rows: 1)
        for x in 0..<2 { for y in 0..<4 { c.dot(x, y, .terminalDefault) } }
        var b = CellBuffer(width: 1, height: 1)
        c.render(into: &b, x: 0, y: 0)
        #expect(b.lines == ["⣿"])
    }

    @Test func linesAreContinuousAndDotsOffTheCanvasAreIgnored() {
        var c = BrailleCanvas(columns: 2, rows: 2)
        c.line(0, 7, 3, 0, .terminalDefault)
        c.dot(-1, 0, .terminalDefault)
        c.dot(4, 0, .terminalDefault)
        var b = CellBuffer(width: 2, height: 2)
        c.render(into: &b, x: 0, y: 0)
        #expect(b.lines == [" ⡜", "⡜ "])
    }
}

@Suite struct LineChartTests {
    @Test func aRisingLineIsADiagonal() {
        let xs = (0..<8).map(Double.init)
        let chart = LineChart(series: [.init(name: "", xs: xs, ys: xs, color: .terminalDefault)], yRange: 0...7)
        #expect(draw(chart, 4, 2).lines == ["  ⡠⠊", "⡠⠊  "])
    }

    @Test func emptySeriesSaysSo() {
        let chart = LineChart(series: [.init(name: "train", xs: [], ys: [], color: .terminalDefault)])
        #expect(draw(chart, 15, 3).lines[1] == "  no data yet  ")
    }

    @Test func axesCarryTickLabels() {
        let xs = (0...100).map(Double.init)
        let ys = xs.map { 1 + 2 * $0 / 100 }
        let b = draw(LineChart(series: [.init(name: "train", xs: xs, ys: ys, color: .terminalDefault)], yRange: 1...3), 30, 10)
        #expect(b.lines[0].hasPrefix("3┤"))
        #expect(b.lines[3].hasPrefix("2┤"))
        #expect(b.lines[7].hasPrefix("1┤"))
        #expect(b.lines[8].hasPrefix(" └┬───"))
        #expect(b.lines[9] == "  0            50          100")
        #expect(b.lines[0].hasSuffix("━ train"))
    }

    @Test func aReferenceIsADottedRowThatDoesNotStretchTheAxis() {
        let xs = (0...100).map(Double.init)
        let flat = LineChart.Series(name: "", xs: xs, ys: xs.map { _ in 1 }, color: .terminalDefault)
        // y 0…4 on 4 rows: the reference at 2 falls on dot row 7 of 16, the second row's last;
        // every other dot column is set, one dot a cell (the series at 1 lies further down).
        let inside = draw(LineChart(series: [flat], yRange: 0...4, references: [.init(name: "half", y: 2, color: .terminalDefault)]), 6, 4)
        #expect(inside.lines[1] == "⡀⡀⡀⡀⡀⡀")
        #expect(!inside.lines.joined().contains("↑"))
        // Fitted to the data (1…3), a reference at 10 leaves the labels alone and says it is above.
        let rising = LineChart.Series(name: "loss", xs: xs, ys: xs.map { 1 + 2 * $0 / 100 }, color: .terminalDefault)
        let above = draw(LineChart(series: [rising], references: [.init(name: "ln V", y: 10, color: .terminalDefault)]), 40, 10)
        let plain = draw(LineChart(series: [rising]), 40, 10)
        #expect(above.lines.dropFirst() == plain.lines.dropFirst())
        #expect(above.lines[0].hasSuffix("━ loss ┄ ln V ↑"))
        let below = draw(LineChart(series: [rising], references: [.init(name: "floor", y: 0.5, color: .terminalDefault)]), 40, 10)
        #expect(below.lines[0].hasSuffix("┄ floor ↓"))
        // Too narrow for every name: the series keep theirs, the references go.
        let narrow = draw(LineChart(series: [rising], references: [.init(name: "a long reference", y: 2, color: .terminalDefault)]), 20, 10)
        #expect(narrow.lines[0].hasSuffix("━ loss") && !narrow.lines[0].contains("reference"))
    }

    @Test func labelsTakeTheirMinimumWidthAndSuffix() {
        let xs = (0...100).map(Double.init)
        let b = draw(LineChart(series: [.init(name: "", xs: xs, ys: xs, color: .terminalDefault)], yRange: 0...100,
                               minimumLabelWidth: 5, yLabelSuffix: "%"), 30, 10)
        #expect(b.lines[0].hasPrefix(" 100%┤"))
        #expect(b.lines[7].hasPrefix("   0%┤"))
    }

    @Test func logScaleTicksArePowersOfTen() {
        let ys = [0.1, 1, 10, 100.0]
        let b = draw(LineChart(series: [.init(name: "", xs: [0, 1, 2, 3], ys: ys, color: .terminalDefault)], logY: true), 30, 14)
        let labels = b.lines.compactMap { line -> String? in
            guard let bar = line.firstIndex(of: "┤") else { return nil }
            return line[..<bar].trimmingCharacters(in: .whitespaces)
        }
        #expect(labels == ["100", "10", "1", "0.1"])
    }

    @Test func logScaleSkipsNonPositiveValues() {
        let chart = LineChart(series: [.init(name: "", xs: [0, 1], ys: [0, -1], color: .terminalDefault)], logY: true)
        #expect(draw(chart, 15, 3).lines[1] == "  no data yet  ")
    }

    @Test func pointsOutsideTheXRangeAreNotDrawn() {
        let chart = LineChart(series: [.init(name: "", xs: [0, 1, 50, 51], ys: [1, 1, 1, 1], color: .terminalDefault)],
                              xRange: 40...60)
        let b = draw(chart, 4, 1)
        // Only x = 50 and 51 fall in range: the left half of the window stays empty.
        #expect(b.lines[0].hasPrefix("  "))
        #expect(b.lines[0] != "    ")
    }

    @Test(arguments: [(1, 1), (10, 3), (12, 5), (40, 12)])
    func denseDataStaysInsideAnyArea(width: Int, height: Int) {
        let xs = (0..<10_000).map(Double.init)
        let ys = xs.map { 3 + sin($0 / 50) }
        let chart = LineChart(series: [.init(name: "train", xs: xs, ys: ys, color: .terminalDefault)])
        let outside = drawsOutside(chart, area: Rect(x: 2, y: 1, width: width, height: height))
        #expect(!outside)
    }

    @Test func movingAverageIsBiasCorrectedAndSkipsNonFinite() {
        // Without bias correction the first value would be 0.1, not 1.
        #expect(LineChart.exponentialMovingAverage([1, 1, 1], weight: 0.9).allSatisfy { abs($0 - 1) < 1e-12 })
        let smoothed = LineChart.exponentialMovingAverage([0, .nan, 10], weight: 0.5)
        #expect(smoothed[0] == 0)
        #expect(smoothed[1].isNaN)
        #expect(abs(smoothed[2] - 10 / 1.5) < 1e-12)
        #expect(LineChart.exponentialMovingAverage([3, 4], weight: 0) == [3, 4])
    }
}

@Suite struct AxisScaleTests {
    @Test func linearTicksUseRoundSteps() {
        #expect(AxisScale(lower: 0, upper: 10).ticks(maxCount: 6) == [0, 2, 4, 6, 8, 10])
        #expect(AxisScale(lower: 0, upper: 10).ticks(maxCount: 5) == [0, 5, 10])
        #expect(AxisScale(lower: 1.53, upper: 3.1).ticks(maxCount: 3) == [2, 3])
        #expect(AxisScale(lower: 1.53, upper: 3.1).ticks(maxCount: 4) == [2, 2.5, 3])
    }

    /// Issue 20's axes: the log loss axis read "4, 4, 3, 2" and the ‖g‖ axis "4,3,2,2,2,1".
    @Test func ticksAreDistinctRoundAndLabelledWithTheDigitsTheRangeNeeds() {
        var ranges: [(Double, Double, Bool)] = [(1.6, 4.3, true), (0.15, 1.7, true), (0.2, 4.4, true), (1.7, 2.1, false),
                                                 (1.7, 2.1, true), (1e-4, 3e-3, true), (1e-10, 10, true), (0, 2000, false),
                                                 (1200, 1700, false), (1.52, 1.53, false), (0.0008, 0.0021, true), (3, 3, true)]
        for i in 0..<40 { ranges.append((Double(i) * 0.37 + 0.01, Double(i) * 0.37 + 0.01 + pow(1.6, Double(i % 20) - 6), i % 2 == 0)) }
        for (lo, hi, log) in ranges {
            let scale = AxisScale(lower: lo, upper: hi, logarithmic: log)
            for count in [2, 3, 4, 6, 10] {
                let ticks = scale.ticks(maxCount: count)
                let labels = AxisScale.labels(ticks, logarithmic: log)
                #expect(ticks.count <= count, "\(lo)…\(hi) log \(log): \(ticks)")
                #expect(Set(labels).count == labels.count, "\(lo)…\(hi) log \(log) count \(count): \(labels)")
                #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0 < $1 })
                for t in ticks { #expect(t >= scale.lower * (1 - 1e-6) - 1e-12 && t <= scale.upper * (1 + 1e-6) + 1e-12) }
                // Every label is the tick's value read back (no digit lost to rounding).
                for (t, l) in zip(ticks, labels) {
                    var text = l, factor = 1.0
                    if text.hasSuffix("k") { text.removeLast(); factor = 1e3 }
                    if text.hasSuffix("M") { text.removeLast(); factor = 1e6 }
                    let read = (Double(text) ?? .nan) * factor
                    #expect(abs(read - t) <= abs(t) * 1e-6 + 1e-12, "\(t) labelled \(l)")
                }
            }
        }
        let lossLog = AxisScale(lower: 1.6, upper: 4.3, logarithmic: true)
        #expect(AxisScale.labels(lossLog.ticks(maxCount: 4), logarithmic: true) == ["2", "3", "4"])
        let norm = AxisScale(lower: 0.15, upper: 1.7, logarithmic: true)
        #expect(AxisScale.labels(norm.ticks(maxCount: 6), logarithmic: true) == ["0.2", "0.5", "1"])
        #expect(AxisScale.labels([1.5, 2, 2.5]) == ["1.5", "2.0", "2.5"])
        #expect(AxisScale.labels([1e-4, 1e-3, 1e-2], logarithmic: true) == ["1e-4", "1e-3", "0.01"])
    }

    @Test func aFlatRangeIsWidened() {
        let s = AxisScale(lower: 2, upper: 2)
        #expect(s.lower < 2 && s.upper > 2)
        #expect(abs(s.fraction(2) - 0.5) < 1e-9)
    }

    @Test func labelsAreShort() {
        #expect(AxisScale.label(25_000, step: 5_000) == "25k")
        #expect(AxisScale.label(0.0006, step: 0.0001) == "6e-4")
        #expect(AxisScale.label(0.0025, step: 0.0005) == "2.5e-3")
        #expect(AxisScale.label(2.5, step: 0.5) == "2.5")
        #expect(AxisScale.label(300, step: 100) == "300")
    }
}

@Suite struct SparklineTests {
    @Test func eightLevelsPerRow() {
        let s = Sparkline(values: (0...8).map(Double.init), range: 0...8)
        #expect(draw(s, 9, 1).lines == ["▁▁▂▃▄▅▆▇█"])
    }

    @Test func showsTheNewestValuesScaledToThem() {
        #expect(draw(Sparkline(values: (0...8).map(Double.init)), 4, 1).lines == ["▁▃▅█"])
    }

    @Test func tallerAreasStackBlocks() {
        #expect(draw(Sparkline(values: [8, 4], range: 0...8), 2, 2).lines == ["█ ", "██"])
    }

    @Test func fewValuesAreRightAligned() {
        #expect(draw(Sparkline(values: [1, 2], range: 0...2), 4, 1).lines == ["  ▄█"])
    }
}

@Suite struct HistogramTests {
    @Test func barsAreProportionalToCounts() {
        #expect(draw(Histogram(counts: [1, 2, 4, 8]), 4, 1).lines == ["▁▂▄█"])
    }

    @Test func binsSpreadOverWiderAreas() {
        #expect(draw(Histogram(counts: [1, 2, 4, 8]), 8, 1).lines == ["▁▁▂▂▄▄██"])
    }

    @Test func binsAreSummedInNarrowAreas() {
        #expect(draw(Histogram(counts: [1, 2, 4, 8]), 2, 1).lines == ["▂█"])
    }

    @Test func edgeLabelsSitOnTheLastRow() {
        let h = Histogram(counts: [8, 8], lowerLabel: "-1", upperLabel: "1")
        #expect(draw(h, 10, 2).lines == ["██████████", "-1       1"])
    }

    @Test func barsTakeTheirColourFromTheScale() {
        let scale = ColorScale(start: RGB(0, 0, 0), mid: RGB(128, 128, 128), end: RGB(255, 255, 255))
        let b = draw(Histogram(counts: [1, 1], scale: scale), 2, 1)
        #expect(b[0, 0].fg == .rgb(RGB(0, 0, 0)))
        #expect(b[1, 0].fg == .rgb(RGB(255, 255, 255)))
    }
}

@Suite struct HeatmapTests {
    let scale = ColorScale(start: RGB(0, 0, 0), mid: RGB(128, 128, 128), end: RGB(255, 255, 255))

    @Test func upperHalfIsForegroundAndLowerHalfBackground() {
        let h = Heatmap(rows: 2, columns: 2, values: [0, 1, 1, 0], range: 0...1, scale: scale)
        let b = draw(h, 2, 1)
        #expect(b.lines == ["▀▀"])
        #expect(b[0, 0].fg == .rgb(RGB(0, 0, 0)) && b[0, 0].bg == .rgb(RGB(255, 255, 255)))
        #expect(b[1, 0].fg == .rgb(RGB(255, 255, 255)) && b[1, 0].bg == .rgb(RGB(0, 0, 0)))
    }

    @Test func largeMatricesAreAveragedDown() {
        // 4×4 with the left half 0 and the right half 1, shown in 2 columns × 2 half-rows.
        let values = (0..<16).map { Double(($0 % 4) / 2) }
        let b = draw(Heatmap(rows: 4, columns: 4, values: values, range: 0...1, scale: scale), 2, 1)
        #expect(b.lines == ["▀▀"])
        #expect(b[0, 0].fg == .rgb(RGB(0, 0, 0)))
        #expect(b[1, 0].bg == .rgb(RGB(255, 255, 255)))
    }

    @Test func anOddRowCountLeavesTheLastLowerHalfAlone() {
        var b = CellBuffer(width: 1, height: 1, fill: Cell(" ", bg: .hex(0x123456)))
        Heatmap(rows: 1, columns: 1, values: [1], range: 0...1, scale: scale).render(into: &b, area: b.area)
        #expect(b[0, 0].scalar == "▀")
        #expect(b[0, 0].bg == .hex(0x123456))
    }

    @Test func monochromeUsesShades() {
        let h = Heatmap(rows: 2, columns: 2, values: [0, 1, 1, 0.5], range: 0...1, scale: scale, monochrome: true)
        #expect(draw(h, 2, 2).lines == [" █", "█▒"])
    }

    @Test(arguments: [(1, 1), (10, 3)])
    func staysInsideTinyAreas(width: Int, height: Int) {
        let h = Heatmap(rows: 64, columns: 64, values: (0..<4096).map(Double.init), scale: scale)
        let outside = drawsOutside(h, area: Rect(x: 1, y: 1, width: width, height: height))
        #expect(!outside)
    }
}

@Suite struct SliderTests {
    @Test func knobSitsAtTheValue() {
        let s = Slider(label: "temp", value: 0.5, range: 0...1)
        #expect(draw(s, 20, 1).lines == ["temp ━━━━━●──── 0.50"])
    }

    @Test func valuesOutsideTheRangePinTheKnob() {
        #expect(draw(Slider(label: "p", value: 7, range: 0...1), 12, 1).lines == ["p ━━━━● 7.00"])
        #expect(draw(Slider(label: "p", value: -7, range: 0...1), 13, 1).lines == ["p ●──── -7.00"])
    }

    @Test func withoutRoomForATrackTheNumberRemains() {
        #expect(draw(Slider(label: "temp", value: 0.5, range: 0...1), 8, 1).lines == ["0.50    "])
    }

    @Test func focusRestylesTheLabel() {
        let b = draw(Slider(label: "temp", value: 0.5, range: 0...1, focused: true), 20, 1)
        #expect(b[0, 0].attributes.contains(.reverse))
        #expect(!b[6, 0].attributes.contains(.reverse))
    }
}

@Suite struct SelectableListTests {
    let items = ["a", "b", "c", "d", "e"]

    @Test func selectionIsMarkedAndKeptInView() {
        let list = SelectableList(items: items, selected: 3)
        let b = draw(list, 3, 3)
        #expect(b.lines == ["  b", "  c", "▶ d"])
        #expect(b[2, 2].attributes.contains(.reverse))
        #expect(!b[2, 1].attributes.contains(.reverse))
    }

    @Test func withoutSelectionTheTopIsShown() {
        #expect(draw(SelectableList(items: items, selected: nil), 3, 2).lines == ["  a", "  b"])
    }

    @Test func firstVisibleRowScrollsOnlyAsNeeded() {
        #expect(SelectableList.firstVisible(selected: 1, count: 5, visibleRows: 3) == 0)
        #expect(SelectableList.firstVisible(selected: 4, count: 5, visibleRows: 3) == 2)
        #expect(SelectableList.firstVisible(selected: 99, count: 5, visibleRows: 3) == 2)
        #expect(SelectableList.firstVisible(selected: 4, count: 5, visibleRows: 0) == 0)
    }
}

@Suite struct ScrollingTextTests {
    @Test func wrapsAtSpaces() {
        #expect(ScrollingText.wrap("hello world foo", width: 5) == ["hello", "world", "foo"])
        #expect(ScrollingText.wrap("ab cd", width: 4) == ["ab ", "cd"])
    }

    @Test func breaksWordsLongerThanALine() {
        #expect(ScrollingText.wrap("abcdefgh", width: 3) == ["abc", "def", "gh"])
    }

    @Test func newlinesAlwaysBreak() {
        #expect(ScrollingText.wrap("a\n\nb", width: 10) == ["a", "", "b"])
    }

    @Test func followingShowsTheEnd() {
        let t = ScrollingText(text: "1\n2\n3\n4\n5")
        #expect(draw(t, 2, 2).lines == ["4 ", "5 "])
    }

    @Test func scrolledShowsFromTheLine() {
        let t = ScrollingText(text: "1\n2\n3\n4\n5", position: .line(1))
        #expect(draw(t, 2, 2).lines == ["2 ", "3 "])
    }
}

@Suite struct TextFitTests {
    @Test func shortensOnAWordBoundaryWithAnEllipsis() {
        #expect(TextFit.words("next token 200/200 'ay' · kept 3", width: 40) == "next token 200/200 'ay' · kept 3")
        #expect(TextFit.words("next token 200/200 'ay' · kept 3", width: 28) == "next token 200/200 'ay'…")
        #expect(TextFit.words("std 6.9e-04  mean 1.0e-05", width: 16) == "std 6.9e-04…")
        #expect(TextFit.words("checkpoints", width: 6) == "check…")
        // A number is never cut: nothing rather than a wrong number.
        #expect(TextFit.words("0.0625", width: 4) == "")
        for width in 0..<30 {
            let fitted = TextFit.words("Σ after cut 0.062 (top 10 of 20 kept)", width: width)
            #expect(TextFit.width(fitted) <= width)
            #expect(fitted.isEmpty || fitted.hasSuffix("…") || fitted.hasSuffix("kept)"))
        }
    }

    @Test func namesKeepTheirDistinguishingTail() {
        let name = "shakespeare-char-20261201-194418"
        #expect(TextFit.middle(name, width: 40) == name)
        let short = TextFit.middle(name, width: 20)
        #expect(TextFit.width(short) == 20 && short.hasSuffix("1201-194418") && short.hasPrefix("shakes"))
        #expect(TextFit.path("runs/shakespeare-char/checkpoints/step-001410.safetensors", width: 30)
                == "…/step-001410.safetensors")
    }

    @Test func partsDropTheLeastImportantWhole() {
        let parts = [("a-long-part", 2), ("b", 0), ("c-part", 1)]
        #expect(TextFit.parts(parts.map { ($0.0, $0.1) }, separator: " │ ", width: 100) == [0, 1, 2])
        #expect(TextFit.parts(parts.map { ($0.0, $0.1) }, separator: " │ ", width: 10) == [1, 2])
    }

    @Test func theBufferRecordsTextItHadToCut() {
        var buffer = CellBuffer(width: 10, height: 1)
        buffer.write("fits", x: 0, y: 0, .plain)
        #expect(buffer.clippedTexts.isEmpty)
        buffer.write("does not fit here", x: 0, y: 0, .plain)
        #expect(buffer.clippedTexts == ["does not fit here"])
        #expect(buffer == CellBuffer(width: 10, height: 1) || true)
    }
}

@Suite struct TokenStripTests {
    @Test func piecesWrapWholeAtTheEdgeAndAlternateTheirBackground() {
        #expect(TokenStrip.layout(widths: [3, 4, 2, 5], width: 8).map { [$0.line, $0.x, $0.width] }
                == [[0, 0, 3], [0, 3, 4], [1, 0, 2], [1, 2, 5]])
        // A piece wider than the area gets the whole line, cut to it.
        #expect(TokenStrip.layout(widths: [12], width: 8).map(\.width) == [8])
        let even = Style(fg: .rgb(RGB(255, 255, 255)), bg: .rgb(RGB(0, 0, 0)))
        let odd = Style(fg: .rgb(RGB(255, 255, 255)), bg: .rgb(RGB(60, 60, 60)))
        var buffer = CellBuffer(width: 9, height: 4)
        TokenStrip(pieces: ["the", "·king", "·a"], ids: [299, 294, 260], styles: (even, odd), idStyle: .plain,
                   highlightStyle: .plain).render(into: &buffer, area: buffer.area)
        #expect(buffer.line(0) == "the ·king")
        #expect(buffer.line(1) == "299 294  ")
        #expect(buffer.line(2) == "·a       ")
        #expect(buffer.line(3) == "260      ")
        #expect(buffer[0, 0].bg == even.bg && buffer[3, 0].bg == even.bg && buffer[4, 0].bg == odd.bg && buffer[0, 2].bg == even.bg)
    }
}
