import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GPT
import Testing
@testable import Training
import SafeTensors
import TestSupport

/// A run folder with a config.toml and a metrics log, as a training run writes them.
private func makeRun(_ dir: TemporaryDirectory, _ name: String, overrides: [String: TOML.Value] = [:],
                     losses: [(step: Int, train: Float, val: Float?)], tokensPerSecond: Double = 1000,
                     checkpointConfig: GPTConfig? = nil) throws -> String {
    var config = TrainConfig()
    config.data = "task:sort"
    config.runName = name
    for (key, value) in overrides { try config.set(key, value) }
    let run = RunDirectory(dir.file("runs/" + name))
    try run.writeConfig(config.tomlText)
    let records = losses.enumerated().map { i, l in
        MetricsRecord(step: l.step, trainLoss: l.train, valLoss: l.val, lr: 1e-3, gradNorm: 0.5,
                      tokensPerSecond: tokensPerSecond + Double(i), time: Double(l.step) / 10)
    }
    try MetricsLog.append(records, to: run.metricsPath)
    if let checkpointConfig {
        try run.writeCheckpoint(weights: modelWeights(checkpointConfig),
                                metadata: metadata(step: losses.last?.step ?? 0, val: losses.last?.val, config: checkpointConfig))
    }
    return run.path
}

@Suite struct RunComparisonTests {
    @Test func summaryReadsCurvesBestAndThroughput() throws {
        let dir = TemporaryDirectory()
        let path = try makeRun(dir, "a", losses: [(10, 3.0, nil), (20, 2.5, 2.6), (30, 2.2, 2.3), (40, 2.0, 2.4)],
                               checkpointConfig: tinyConfig)
        let run = try RunSummary.load(path)
        #expect(run.name == "a")
        #expect(run.steps == 40)
        #expect(run.train.map(\.step) == [10, 20, 30, 40])
        #expect(run.val.map(\.value) == [2.6, 2.3, 2.4])
        #expect(run.bestVal == .init(step: 30, value: 2.3))
        #expect(run.finalVal == .init(step: 40, value: 2.4))
        #expect(run.tokensPerSecond == 1002)  // median of 1000…1003
        #expect(run.wallTime == 4)
        #expect(run.tokensPerStep == 12 * 64)
        #expect(run.tokensSeen == 40 * 12 * 64)
        #expect(run.parameters == tinyConfig.checkedParameterCount)
        #expect(run.vocabularySize == nil || run.vocabularySize == 5)
    }

    @Test func diffListsOnlyTheKeysThatDiffer() throws {
        let dir = TemporaryDirectory()
        let a = try makeRun(dir, "learned", losses: [(10, 3, 2.9)])
        let b = try makeRun(dir, "sinusoidal", overrides: ["pos_encoding": .string("sinusoidal"), "learning_rate": .float(3e-3)],
                            losses: [(10, 3, 2.8)])
        let comparison = try RunComparison.load([a, b])
        let keys = comparison.differingKeys
        #expect(keys.map(\.key) == ["pos_encoding", "learning_rate"])
        #expect(keys[0].values == ["\"learned\"", "\"sinusoidal\""])
        let table = comparison.table
        #expect(table.hasPrefix("RUN"))
        #expect(table.contains("pos_encoding"))
        #expect(!table.contains("run_name"))
        #expect(!table.contains("batch_size"))
    }

    @Test func jsonIsValidAndCarriesTheCurves() throws {
        let dir = TemporaryDirectory()
        let a = try makeRun(dir, "a", losses: [(10, 3, nil), (20, 2, 2.1)])
        let b = try makeRun(dir, "b", overrides: ["n_layer": .integer(2)], losses: [(10, 3.1, 3.0)])
        let text = try RunComparison.load([a, b]).json
        guard case .object(let top) = try StrictJSON.parse(Array(text.utf8)) else { Issue.record("not an object"); return }
        #expect(top.map(\.key) == ["runs", "differing_keys"])
        guard case .array(let runs) = top[0].value, case .object(let first) = runs[0] else { Issue.record("no runs"); return }
        let fields = Dictionary(first.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["best_val_loss"] == .number(Float(2.1)))
        #expect(fields["parameters"] == .null)  // a char run without a checkpoint: vocabulary unknown
        #expect(fields["val"] == .array([.array([.number(20), .number(Float(2.1))])]))
    }

    @Test func csvHasOneRowPerPoint() throws {
        let dir = TemporaryDirectory()
        let a = try makeRun(dir, "a", losses: [(10, 3, nil), (20, 2, 2.1)])
        let lines = try RunComparison.load([a]).csv.split(separator: "\n")
        #expect(lines == ["run,step,tokens,split,loss", "a,10,7680,train,3.0", "a,20,15360,train,2.0", "a,20,15360,val,2.1"])
    }

    @Test func aMissingFolderIsAnError() {
        #expect(throws: CheckpointError.self) { try RunSummary.load("/nonexistent/run") }
    }

    @Test func formatting() {
        #expect(RunComparison.count(812) == "812")
        #expect(RunComparison.count(52_100) == "52.1k")
        #expect(RunComparison.count(3_210_000) == "3.21M")
        #expect(RunComparison.duration(45) == "45s")
        #expect(RunComparison.duration(185) == "3m05s")
        #expect(RunComparison.duration(8040) == "2h14m")
    }
}

@Suite struct SVGPlotTests {
    @Test func ticksAreNiceNumbersCoveringTheRange() {
        #expect(SVGPlot.ticks(0, 2000) == [0, 500, 1000, 1500, 2000])
        #expect(SVGPlot.ticks(1.37, 4.21) == [1.5, 2, 2.5, 3, 3.5, 4])
        #expect(SVGPlot.ticks(0, 1, count: 5) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(SVGPlot.ticks(3, 3).count == 1)
    }

    @Test func tickLabels() {
        #expect(SVGPlot.tickLabel(0) == "0")
        #expect(SVGPlot.tickLabel(0.5) == "0.5")
        #expect(SVGPlot.tickLabel(2.25) == "2.25")
        #expect(SVGPlot.tickLabel(250) == "250")
        #expect(SVGPlot.tickLabel(15000) == "15k")
        #expect(SVGPlot.tickLabel(1_500_000) == "1.5M")
    }

    @Test func plotHasAxesLegendAndOnePolylinePerSeries() {
        var plot = SVGPlot(width: 640, height: 400)
        plot.title = "a <vs> b"
        plot.series = [.init(label: "a train", colour: "#0072B2", points: [(0, 3), (10, 2)], style: .solid),
                       .init(label: "a val", colour: "#0072B2", points: [(10, 2.2)], style: .dashedWithDots),
                       .init(label: "empty", colour: "#D55E00", points: [], style: .solid)]
        plot.references = [.init(label: "ln(5)", y: log(5))]
        let svg = plot.render()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("a &lt;vs&gt; b"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains(">a train</text>") && svg.contains(">a val</text>") && !svg.contains(">empty<"))
        #expect(svg.contains(">ln(5)</text>"))
        // Well-formed XML.
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
    }

    @Test func comparisonPlotsTokensOnX() throws {
        let dir = TemporaryDirectory()
        let a = try makeRun(dir, "a", losses: [(10, 3, nil), (100, 2, 2.1)])
        let svg = try RunComparison.load([a]).svg(x: .tokens)
        #expect(svg.contains(">tokens seen</text>"))
        #expect(svg.contains(">76.8k</text>") || svg.contains(">75k</text>") || svg.contains(">60k</text>"))
    }
}
