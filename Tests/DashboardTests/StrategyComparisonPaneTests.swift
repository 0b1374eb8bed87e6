import Foundation
import GPT
import Testing
import Tokenizers
@testable import Dashboard
import Training
import TerminalUI

/// A console comparing the four strategies on one seed, texts and numbers made up: greedy loops,
/// the others wander more.
func strategyConsole() -> ConsoleData {
    var console = goldenConsole()
    let texts = [
        "\nThe king is the king is the king is the king is the king is the king.",
        "\nThe king hath sent for you, my lord, and bids you come.",
        "\nThe kinsman sworn to Padua; I know not what.",
        "\nThe king doth wake tonight and all his court.",
    ]
    var ui = SamplingViewState()
    ui.topK = 0
    ui.topP = 1
    console.sampling.columns = zip(ui.strategies, texts).map { strategy, text in
        var column = SampleColumn(title: "shakespeare-char · step 600", strategy: strategy)
        column.step = 600
        column.vocabSize = 65
        column.prompt = "ROMEO:"
        column.pieces = text.map { String($0) }
        column.generated = text
        let tokens = text.unicodeScalars.map { Int32($0.value) }
        let logs = tokens.indices.map { -Float($0 % 5) * (strategy.name == "greedy" ? 0.1 : 0.4) }
        column.metrics = StrategyMetrics(tokens: tokens, logProbabilities: logs)
        column.finished = true
        return column
    }
    console.sampling.version = 3
    return console
}

/// A synthetic task run (`task:reverse`, 28 symbols, 18-token lines) 500 steps in: the loss
/// approaches the floor of the random letters and the held-out accuracy climbs to 100%.
func taskSnapshot() -> TrainingSnapshot {
    var s = TrainingSnapshot(runName: "reverse", maxSteps: 500)
    s.state = .running
    let floor = try! SyntheticTask(kind: .reverse).lossFloor
    for i in 1...500 {
        let t = Double(i)
        let loss = Float(floor + 1.85 * exp(-t / 60) + 0.02 * sin(t * 1.3))
        s.steps.append(.init(step: i, loss: loss, lr: 3e-3, gradNorm: 0.5))
        if i % 50 == 0 {
            let accuracy = Float(min(1, max(0, (t - 50) / 200)))
            s.evals.append(.init(step: i, trainLoss: loss, valLoss: loss + 0.01, taskAccuracy: accuracy))
        }
    }
    s.step = 500
    s.tokensPerSecond = 57_000
    s.elapsed = 12
    s.eta = 0
    var card = ModelCardTests.card
    card.corpus = "task:reverse"
    card.vocabSize = 28
    card.blockSize = 18
    card.maxIters = 500
    s.modelCard = card
    return s
}

@Suite struct StrategyComparisonPaneTests {
    static func frame(_ snapshot: TrainingSnapshot = goldenSnapshot(), console: ConsoleData = strategyConsole(),
                      ui: UIState, width: Int, height: Int) -> String {
        DashboardView.render(snapshot: snapshot, ui: ui, console: console, theme: .builtInDefault, colorMode: .truecolor,
                             width: width, height: height).lines.joined(separator: "\n")
    }

    static var comparing: UIState {
        var ui = UIState(focus: .sampling)
        ui.sampling.compareStrategies = true
        return ui
    }

    @Test func vTogglesTheComparisonAndTheRequestCarriesTheSliders() {
        var ui = UIState(focus: .sampling)
        ui.sampling.temperature = 1.2
        ui.sampling.topK = 5
        ui.sampling.topP = 0.75
        let (on, _) = reduce(ui, .character("v"), training: .running)
        #expect(on.sampling.compareStrategies)
        #expect(!reduce(on, .character("v"), training: .running).0.sampling.compareStrategies)
        // v elsewhere is not this key.
        #expect(!reduce(UIState(focus: .loss), .character("v"), training: .running).0.sampling.compareStrategies)

        let snapshot = { () -> TrainingSnapshot in
            var s = sampleSnapshot()
            s.liveWeights = SamplingServiceTests.live
            return s
        }()
        let request = DashboardApp<MemoryBackend>.request(for: on, snapshot: snapshot)
        #expect(request?.strategies.map(\.name) == ["greedy", "temperature 1.2", "top-k 5", "top-p 0.75"])
        #expect(request?.strategies[2].settings == SamplingSettings(temperature: 1, topK: 5))
        #expect(DashboardApp<MemoryBackend>.request(for: ui, snapshot: snapshot)?.strategies == [])
        // Sliders at their "off" end would repeat a column: those take the textbook values.
        #expect(SamplingViewState().strategies.map(\.name) == ["greedy", "temperature 0.8", "top-k 10", "top-p 0.9"])
        var greedy = SamplingViewState()
        greedy.temperature = 0
        #expect(greedy.strategies[1].settings.temperature == 0.8)
    }

    @Test func theHelpNamesTheKey() {
        let lines = Keymap.helpSections().first { $0.title == "Sampling pane" }?.lines ?? []
        #expect(lines.contains { $0.keys == "v" && $0.summary.contains("top-p side by side on one seed") })
    }

    @Test func fourColumnsEachHeadedByItsStrategyAndNumbers() {
        let console = strategyConsole()
        for (width, height, expanded) in [(120, 40, false), (120, 40, true), (80, 24, true), (200, 60, false)] {
            var ui = Self.comparing
            ui.expanded = expanded
            let frame = Self.frame(ui: ui, width: width, height: height)
            for heading in ["greedy", "temperature 0.8", "top-k 10 · T 1", "top-p 0.9 · T 1"] {
                #expect(frame.contains(heading), "\(heading) at \(width)×\(height)")
            }
            for column in console.sampling.columns {
                let m = column.metrics!
                #expect(frame.contains(String(format: "mean log p %.2f", m.meanLogProbability)), "\(width)×\(height)")
                #expect(frame.contains(String(format: "distinct-2 %.2f", m.distinct2)))
                #expect(frame.contains(String(format: "repetition %.2f", m.repetition4)))
            }
            #expect(frame.contains("strategies · seed 1337"))
            // No next-token view: the columns take the body.
            #expect(!frame.contains("next token"))
        }
    }

    @Test func fourAcrossWhenLegibleElseTwoByTwo() {
        let wide = SamplingPane.strategyCells(Rect(x: 0, y: 0, width: 78, height: 15), count: 4)
        #expect(Set(wide.cells.map(\.y)).count == 1 && wide.cells.allSatisfy { $0.width >= SamplingPane.legibleStrategyWidth })
        #expect(wide.heading != nil)
        let narrow = SamplingPane.strategyCells(Rect(x: 0, y: 0, width: 50, height: 15), count: 4)
        #expect(Set(narrow.cells.map(\.y)).count == 2 && Set(narrow.cells.map(\.x)).count == 2)
        #expect(narrow.cells.allSatisfy { $0.width >= SamplingPane.legibleStrategyWidth && $0.height >= 3 })
        // Cells never overlap and leave a gap for the rule between them.
        for (a, b) in zip(narrow.cells, narrow.cells.dropFirst()) where a.y == b.y { #expect(a.maxX < b.x) }
    }

    @Test func aPaneTooSmallForFourTextsShowsTheNumbersAsATable() {
        // 80×24, not expanded: the console is 40 columns wide beside the browser.
        let frame = Self.frame(ui: Self.comparing, width: 80, height: 24)
        #expect(frame.contains("strategy         log p dist-2  rep-4"))
        let greedy = strategyConsole().sampling.columns[0].metrics!
        #expect(frame.contains("greedy           " + String(format: "%5.2f", greedy.meanLogProbability)))
        #expect(frame.contains("top-p 0.9 · T 1  "))
        let rows = SamplingPane.strategyTable(strategyConsole().sampling.columns, width: 60)
        // Wide enough for the full names; the name column is the longest heading's 15.
        #expect(rows[0] == "strategy       " + ["mean log p", "distinct-2", "repetition"].map { " " + $0 }.joined())
    }

    @Test func theNumbersPackIntoTheWidthWithoutCuttingAWord() {
        let parts = SamplingPane.metricTexts(StrategyMetrics(tokens: 10, meanLogProbability: -1.234, distinct2: 0.5, repetition4: 0.25))
        #expect(parts == ["mean log p -1.23", "distinct-2 0.50", "repetition 0.25"])
        #expect(SamplingPane.pack(parts, width: 16) == parts)
        #expect(SamplingPane.pack(parts, width: 40) == ["mean log p -1.23 · distinct-2 0.50", "repetition 0.25"])
        #expect(SamplingPane.pack(parts, width: 60) == [parts.joined(separator: " · ")])
        #expect(SamplingPane.metricTexts(nil) == ["mean log p –", "distinct-2 –", "repetition –"])
    }

    @Test func theScrollKeysReachTheLongestColumn() {
        var ui = Self.comparing
        ui.expanded = true
        let console = strategyConsole()
        let (lines, rows) = SamplingPane.textExtent(ui: ui, snapshot: goldenSnapshot(), console: console, width: 80, height: 24)
        // 80×24 expanded: four 18-wide columns of 13 rows under the heading (24 − status, tabs,
        // hints, borders, four sliders, prompt, heading); each column's name and numbers take 4.
        let longest = console.sampling.columns.map { SamplingPane.StrategyCell(column: $0, width: 18).lines.count }.max()
        #expect(lines == longest && rows == 13 - 4)
        // PgUp scrolls every column back together; the top rows then show each text's start.
        let (up, _) = reduce(ui, .pageUp, training: .running, limits: { var l = SelectionLimits(); l.textLines = 20; l.textRows = 3; return l }())
        #expect(up.sampling.textScroll == 15)
    }

    @Test func theTextWrapsWithinItsColumn() {
        var ui = Self.comparing
        ui.expanded = true
        let lines = Self.frame(ui: ui, width: 80, height: 24).split(separator: "\n").map(String.init)
        // Each column's text stays left of its rule: "│" sits at the same x on every text row.
        let ruled = lines.filter { $0.contains("king") }
        #expect(!ruled.isEmpty)
        let rules = Set(ruled.map { line in line.unicodeScalars.enumerated().filter { $0.element == "│" }.map(\.offset) })
        #expect(rules.count == 1, "\(ruled.joined(separator: "\n"))")
    }
}

@Suite struct StrategyServiceTests {
    @Test func theServiceGivesFourColumnsFromOneSeedAsTheGeneratorDoes() throws {
        let service = SamplingService(debounce: .milliseconds(1))
        defer { service.shutdown() }
        let strategies = DecodingStrategy.standardFour()
        let request = SamplingRequest(sources: [.live(SamplingServiceTests.live)], prompt: "ab", settings: SamplingSettings(),
                                      seed: 11, maxTokens: 30, strategies: strategies)
        service.submit(request)
        let deadline = Date().addingTimeInterval(10)
        var output = service.output()
        while Date() < deadline {
            output = service.output()
            if output.request == request, !output.busy, output.columns.count == 4, output.columns.allSatisfy(\.finished) { break }
            Thread.sleep(forTimeInterval: 0.005)
        }
        try #require(output.columns.count == 4 && output.columns.allSatisfy(\.finished))
        #expect(output.columns.map { $0.strategy?.name } == strategies.map(\.name))
        #expect(output.columns.allSatisfy { $0.distributions.isEmpty && $0.title == "live · step 7" })

        let tokenizer = SamplingServiceTests.tokenizer
        let generator = try Generator(SamplingServiceTests.live.weights)
        let expected = generator.compareStrategies(strategies, prompt: try tokenizer.encode("ab"), maxTokens: 30, seed: 11)
        for (column, want) in zip(output.columns, expected) {
            #expect(column.generated == tokenizer.decode(want.tokens), "\(column.strategy!.name)")
            #expect(column.metrics == want.metrics, "\(column.strategy!.name)")
        }
        // Greedy is the most likely text under the model, by construction.
        let greedy = try #require(output.columns[0].metrics?.meanLogProbability)
        #expect(output.columns.dropFirst().allSatisfy { ($0.metrics?.meanLogProbability ?? 0) <= greedy + 1e-6 })
    }
}

@Suite struct ReferenceLineTests {
    static func loss(_ snapshot: TrainingSnapshot, width: Int = 120, height: Int = 40, expanded: Bool = true) -> String {
        var ui = UIState(focus: .loss)
        ui.expanded = expanded
        return StrategyComparisonPaneTests.frame(snapshot, console: goldenConsole(), ui: ui, width: width, height: height)
    }

    @Test func theUniformGuessIsLnV() {
        #expect(abs(LossPane.uniformGuess(vocabSize: 65) - 4.174387) < 1e-6)
        #expect(LossPane.uniformGuess(vocabSize: 1) == 0)
    }

    @Test func theLossChartNamesTheUniformGuess() {
        // The golden run is well below ln 65 = 4.17 in its last 500 steps: named, marked above.
        #expect(Self.loss(goldenSnapshot()).contains("┄ uniform ln 65 ↑"))
        // From step 1 the chart reaches up to it: drawn, no arrow.
        var ui = UIState(focus: .loss)
        ui.expanded = true
        ui.loss.follow = false
        var early = goldenSnapshot()
        early.steps[0].loss = 4.3
        let frame = StrategyComparisonPaneTests.frame(early, console: goldenConsole(), ui: ui, width: 120, height: 40)
        #expect(frame.contains("┄ uniform ln 65┃") && !frame.contains("uniform ln 65 ↑"))
        // No card (nothing known of the vocabulary yet): no line.
        var bare = goldenSnapshot()
        bare.modelCard = nil
        #expect(!Self.loss(bare).contains("uniform"))
    }

    @Test func aTaskRunShowsItsFloorAndItsAccuracy() {
        let frame = Self.loss(taskSnapshot())
        #expect(frame.contains("┄ floor 1.45"))
        #expect(frame.contains("task accuracy 100.0% (held-out problems, exact match)"))
        #expect(frame.contains("100%┤") && frame.contains("  0%┤"))
        // A text corpus has neither.
        let text = Self.loss(goldenSnapshot())
        #expect(!text.contains("floor") && !text.contains("accuracy"))
        // Too small for the accuracy chart: the newest accuracy beside the lr.
        let small = Self.loss(taskSnapshot(), width: 80, height: 24, expanded: false)
        #expect(small.contains("accuracy 100.0%"))
    }
}

@Suite struct UpdateRatioStripTests {
    static func strip(_ ratios: [Float?], width: Int = 46) -> String {
        let names = ["embedding"] + (0..<max(0, ratios.count - 1)).map { "h.\($0)" }
        var buffer = CellBuffer(width: width, height: 1)
        let layers = zip(names, ratios).map { Telemetry.LayerRatio(name: $0, ratio: $1) }
        UpdateRatioStrip(layers: layers, palette: Palette(theme: .builtInDefault, monochrome: false))
            .render(into: &buffer, area: Rect(width: width, height: 1))
        return buffer.lines[0]
    }

    @Test func eachLayerSitsOnItsSideOfTheReferenceMark() {
        let line = Self.strip([1e-4, 1e-3, 5e-3])
        #expect(line.hasPrefix("upd/data 1e-5 ") && line.contains(" 1e-1") && line.hasSuffix("┃=1e-3"))
        let track = Array(line.unicodeScalars.dropFirst(14).prefix(46 - 14 - 5 - 7))
        let mark = track.firstIndex(of: "┃")!, e = track.firstIndex(of: "e")!, h0 = track.firstIndex(of: "0")!, h1 = track.firstIndex(of: "1")!
        #expect(e < mark && mark < h0 && h0 < h1)
        // The ends clamp, a skipped step (nil) draws nothing, and the mark is never covered.
        let extreme = Array(Self.strip([1e-9, nil, 1]).unicodeScalars.dropFirst(14).prefix(20))
        #expect(extreme.first == "e" && extreme.last == "1" && !extreme.contains("0") && extreme.contains("┃"))
        for r in stride(from: -5.0, through: -1, by: 0.1) {
            #expect(Self.strip([Float(pow(10, r))]).contains("┃"), "ratio 1e\(r)")
        }
    }

    @Test func aNarrowRowDropsTheKeyThenTheStrip() {
        #expect(!Self.strip([1e-3], width: 36).contains("┃=1e-3") && Self.strip([1e-3], width: 36).contains("┃"))
        #expect(Self.strip([1e-3], width: 20).trimmingCharacters(in: .whitespaces).isEmpty)
    }
}
