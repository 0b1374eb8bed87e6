import Foundation
import GPT
import Testing
import Tokenizers
@testable import Dashboard
import Training
import TerminalUI
import TestSupport

private func play(_ keys: [Key], from state: UIState, training: TrainingSnapshot.State = .running,
                  limits: SelectionLimits = SelectionLimits()) -> (UIState, [Effect]) {
    var s = state
    var all: [Effect] = []
    for key in keys {
        let (next, effects) = reduce(s, key, training: training, limits: limits)
        s = next
        all += effects
    }
    return (s, all)
}

private func focused(_ pane: PaneID) -> UIState {
    var ui = UIState()
    ui.focus = pane
    return ui
}

private func info(_ run: String, _ step: Int, valLoss: Float? = nil, created: Date? = nil) -> CheckpointInfo {
    CheckpointInfo(run: run, path: "/runs/\(run)/checkpoints/step-\(String(format: "%06d", step)).safetensors", step: step,
                   trainLoss: 2, valLoss: valLoss, created: created, sizeBytes: 1_300_000, hasOptimizerState: true)
}

/// Two runs: "alpha" with checkpoints at 100 and 200, "beta" with one at 50.
private func browserFixture() -> (BrowserData, [BrowserRow]) {
    var data = BrowserData()
    data.folder = "/runs"
    data.version = 1
    data.scannedAt = Date(timeIntervalSince1970: 10_000)
    data.runs = [
        RunListing(name: "alpha", path: "/runs/alpha", checkpoints: [
            info("alpha", 100, valLoss: 2.5, created: Date(timeIntervalSince1970: 9_000)),
            info("alpha", 200, valLoss: 2.1, created: Date(timeIntervalSince1970: 9_900)),
        ]),
        RunListing(name: "beta", path: "/runs/beta", checkpoints: [info("beta", 50, valLoss: 2.3, created: Date(timeIntervalSince1970: 9_950))]),
    ]
    data.lossRunPath = "/runs/alpha"
    data.losses = (1...200).map { ($0, Float(3 - Double($0) / 200)) }
    return (data, BrowserRow.rows(data.runs, sort: .runThenStep, filter: ""))
}

/// A streamed column with a next-token distribution whose top-2 survive the cut.
private func samplingFixture() -> SamplingOutput {
    var column = SampleColumn(title: "alpha · step 200")
    column.step = 200
    column.vocabSize = 65
    column.prompt = "ROMEO:"
    column.pieces = [" ", "t", "h", "e"]
    column.generated = " the"
    // A real distribution: top-k 2 keeps the two best of five logits.
    let logits: [Float] = [3, 2.5, 1, 0, -1]
    let d = logits.withUnsafeBufferPointer { SamplingSettings(temperature: 1, topK: 2).distribution($0, top: 3) }
    column.distributions = Array(repeating: d, count: 4)
    column.candidateLabels = Array(repeating: ["a", "b", "c"], count: 4)
    column.finished = true
    var output = SamplingOutput()
    output.version = 1
    output.columns = [column]
    return output
}

@Suite struct ConsoleReducerTests {
    @Test func slidersMoveWithinTheirRangesAndSelectWithArrows() {
        let (hot, _) = play(Array(repeating: .right, count: 50), from: focused(.sampling))
        #expect(hot.sampling.temperature == 2, "temperature stops at 2")
        let (cold, _) = play(Array(repeating: .left, count: 50), from: focused(.sampling))
        #expect(cold.sampling.temperature == 0)
        let (p, _) = play([.down, .left, .left], from: focused(.sampling))
        #expect(p.sampling.slider == .topP && abs(p.sampling.topP - 0.9) < 1e-6)
        // top-k climbs through useful values and stops at the vocabulary.
        let limits = SelectionLimits(tensors: nil, layers: nil, heads: nil)
        var withVocab = limits
        withVocab.vocab = 65
        let (k, _) = play([.down, .down] + Array(repeating: .right, count: 30), from: focused(.sampling), limits: withVocab)
        #expect(k.sampling.topK == 65)
        let (k1, _) = play([.down, .down, .right], from: focused(.sampling), limits: withVocab)
        #expect(k1.sampling.topK == 1)
        let (m, _) = play([.up, .right], from: focused(.sampling))
        #expect(m.sampling.slider == .maxTokens && m.sampling.maxTokens == 300)
        // The same keys do nothing to the sliders while another pane has focus.
        #expect(play([.right], from: focused(.loss)).0.sampling == SamplingViewState())
    }

    @Test func theSeedStaysWhenLockedAndMovesWhenNot() {
        let (locked, _) = play([.right, .right], from: focused(.sampling))
        #expect(locked.sampling.seed == 1337)
        let (unlocked, _) = play([.character("f"), .right, .right], from: focused(.sampling))
        #expect(!unlocked.sampling.seedLocked && unlocked.sampling.seed == 1339)
        #expect(play([.character("n")], from: focused(.sampling)).0.sampling.seed == 1338)
    }

    @Test func thePromptIsTypedAndOnlyEnterUsesIt() {
        let (typing, _) = play([.character("p"), .character("H"), .character("q"), .backspace, .character("i")], from: focused(.sampling))
        #expect(typing.textEntry?.text == "Hi" && typing.sampling.prompt == "")
        #expect(play([.enter], from: typing).0.sampling.prompt == "Hi")
        #expect(play([.escape], from: typing).0.sampling.prompt == "")
    }

    @Test func wAsksTheTrainerForItsWeights() {
        let (ui, effects) = play([.character("w")], from: focused(.sampling))
        #expect(effects == [.send(.snapshotWeights)])
        #expect(ui.sampling.source == .live)
        #expect(play([.character("w")], from: focused(.sampling), training: .idle).1.isEmpty)
    }

    @Test func browserKeysLoadResumeMarkAndDelete() {
        let (_, rows) = browserFixture()
        var limits = SelectionLimits()
        limits.checkpoints = rows
        let (focusedBrowser, _) = play([.character("c")], from: UIState(), limits: limits)
        #expect(focusedBrowser.focus == .checkpoints)
        let (loaded, _) = play([.down, .enter], from: focusedBrowser, limits: limits)
        #expect(loaded.sampling.source == .checkpoint(rows[1].info.path))
        // r asks first, naming the step; only y resumes.
        let (asking, none0) = play([.down, .down, .down, .character("r")], from: focusedBrowser, limits: limits)
        #expect(none0.isEmpty && asking.browser.confirmingResume?.step == rows[2].info.step)
        #expect(play([.character("n")], from: asking, limits: limits).0.browser.confirmingResume == nil)
        let (_, resume) = play([.character("y")], from: asking, limits: limits)
        #expect(resume == [.send(.resumeFrom(rows[2].info.path))])
        // A deleted checkpoint is let go of by the console and the marks.
        let (gone, _) = play([.character("x"), .down, .character("x")], from: focusedBrowser, limits: limits)
        let after = reduce(gone, .event(.checkpointsOnDisk([rows[1].info.path])), training: .running).0
        #expect(after.sampling.source == .live && after.browser.marked == [rows[1].info.path])
        let (compare, _) = play([.character("x"), .down, .character("x")], from: focusedBrowser, limits: limits)
        #expect(compare.sampling.source == .compare(rows[0].info.path, rows[1].info.path))

        // Deleting one of several checkpoints: one yes. n keeps it.
        let (asked, none) = play([.character("d")], from: focusedBrowser, limits: limits)
        #expect(asked.browser.confirmingDelete?.stage == 1 && none.isEmpty)
        #expect(play([.character("n")], from: asked, limits: limits).0.browser.confirmingDelete == nil)
        #expect(play([.character("y")], from: asked, limits: limits).1 == [.deleteCheckpoint(rows[0].info.path)])
        // The run's only checkpoint needs a second yes.
        let (onlyAsked, _) = play([.down, .down, .character("d"), .character("y")], from: focusedBrowser, limits: limits)
        #expect(onlyAsked.browser.confirmingDelete?.stage == 2)
        #expect(play([.character("y")], from: onlyAsked, limits: limits).1 == [.deleteCheckpoint(rows[2].info.path)])
    }

    @Test func sortAndFilterChooseTheRows() {
        let (data, _) = browserFixture()
        #expect(BrowserRow.rows(data.runs, sort: .bestVal, filter: "").map(\.info.step) == [200, 50, 100])
        #expect(BrowserRow.rows(data.runs, sort: .newest, filter: "").map(\.info.step) == [50, 200, 100])
        #expect(BrowserRow.rows(data.runs, sort: .runThenStep, filter: "bet").map(\.info.run) == ["beta"])
        let (filtering, _) = play([.character("c"), .character("/"), .character("b"), .enter], from: UIState())
        #expect(filtering.browser.filter == "b")
        #expect(play([.character("o")], from: focused(.checkpoints)).0.browser.sort == .newest)
    }

    @Test func helpListsTheNewKeys() {
        let help = Keymap.helpSections().flatMap { $0.lines.map(\.summary) }.joined(separator: "\n")
        for phrase in ["lock / unlock the seed", "resume training from it", "delete it", "focus the checkpoint browser"] {
            #expect(help.contains(phrase))
        }
    }
}

@Suite struct ConsolePaneTests {
    private func render(_ width: Int, _ height: Int, ui: UIState) -> String {
        let (data, rows) = browserFixture()
        var console = ConsoleData()
        console.sampling = samplingFixture()
        console.browser = data
        console.rows = rows
        return DashboardView.render(snapshot: sampleSnapshot(), ui: ui, console: console, theme: .builtInDefault,
                                    colorMode: .truecolor, width: width, height: height).lines.joined(separator: "\n")
    }

    @Test func theConsoleShowsSlidersTextAndTheCut() {
        var ui = focused(.sampling)
        ui.expanded = true
        let frame = render(120, 40, ui: ui)
        #expect(frame.contains("▶ temperature") && frame.contains("0.80") && frame.contains("max tokens"))
        #expect(frame.contains("ROMEO: the"))
        #expect(frame.contains("next token 4/4 'e'"))
        let d = samplingFixture().columns[0].distributions[0]
        #expect(frame.contains(String(format: "%5.1f%%", 100 * d.entries[0].probability)) && frame.contains("✂ cut"))
        #expect(frame.contains("┄┄ cut ┄┄"))
        #expect(frame.contains("Σ after cut 1.000"))
    }

    @Test func theBrowserListsRunsWithTheirNumbers() {
        var ui = focused(.checkpoints)
        ui.expanded = true
        let frame = render(120, 40, ui: ui)
        #expect(frame.contains("alpha") && frame.contains("beta"))
        #expect(frame.contains("2.100") && frame.contains("1.3MB") && frame.contains("1m"))
        #expect(frame.contains("train loss · alpha"))
        ui.browser.confirmingDelete = DeleteConfirmation(path: "p", label: "beta step 50", onlyCheckpoint: true, stage: 2)
        #expect(render(120, 40, ui: ui).contains("beta step 50 is the run's ONLY checkpoint. Really delete it? y/n"))
    }

    @Test func everySizeDrawsWithoutOverflow() {
        for (w, h) in [(120, 40), (80, 24), (60, 15), (40, 10)] {
            for pane in [PaneID.sampling, .checkpoints] {
                let frame = render(w, h, ui: focused(pane))
                let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.count == h && lines.allSatisfy { $0.unicodeScalars.count == w })
                #expect(frame.contains(pane.title))
            }
        }
        // Small terminals still show the slider values in one line.
        #expect(render(60, 12, ui: focused(.sampling)).contains("temperature 0.80"))
    }

    @Test func aCheckpointThatFailsShowsItsError() {
        var ui = focused(.sampling)
        ui.expanded = true
        let (data, rows) = browserFixture()
        var console = ConsoleData()
        console.browser = data
        console.rows = rows
        var column = SampleColumn(title: "broken")
        column.error = "/x.safetensors: truncated header"
        console.sampling.columns = [column]
        console.sampling.version = 2
        let frame = DashboardView.render(snapshot: sampleSnapshot(), ui: ui, console: console, theme: .builtInDefault,
                                         colorMode: .truecolor, width: 100, height: 30).lines.joined(separator: "\n")
        #expect(frame.contains("cannot sample: /x.safetensors: truncated header"))
    }
}

@Suite struct SamplingServiceTests {
    static let tokenizer = try! CharTokenizer(corpus: "abcdefgh \n")
    static let live: LiveWeights = {
        let model = try! GPT(config: GPTConfig(vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16), seed: 3)
        return LiveWeights(step: 7, weights: ModelWeights(copying: model), tokenizer: tokenizer)
    }()

    static func request(temperature: Float = 1, seed: UInt64 = 5, maxTokens: Int = 40) -> SamplingRequest {
        SamplingRequest(sources: [.live(live)], prompt: "ab", settings: SamplingSettings(temperature: temperature), seed: seed,
                        maxTokens: maxTokens)
    }

    /// Waits until the output answers `request` completely.
    static func finished(_ service: SamplingService, _ request: SamplingRequest) throws -> SampleColumn {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let out = service.output()
            if out.request == request, !out.busy, let column = out.columns.first, column.finished { return column }
            Thread.sleep(forTimeInterval: 0.005)
        }
        Issue.record("the sampler did not finish")
        throw CancellationError()
    }

    @Test func theSameSeedGivesTheSameTextAndAnotherSeedAnother() throws {
        let service = SamplingService(debounce: .milliseconds(1))
        defer { service.shutdown() }
        let first = try Self.finished(service, { let r = Self.request(); service.submit(r); return r }())
        #expect(first.pieces.count == 40 && first.distributions.count == 40 && first.title == "live · step 7")
        service.submit(Self.request(seed: 6))
        let other = try Self.finished(service, Self.request(seed: 6))
        var again = Self.request()
        again.maxTokens = 40
        service.submit(again)
        let repeated = try Self.finished(service, again)
        #expect(repeated.generated == first.generated)
        #expect(other.generated != first.generated)
        // Every kept distribution sums to 1 after the cut.
        let sum = first.distributions[0].entries.reduce(Float(0)) { $0 + $1.probability }
        #expect(abs(sum - 1) < 1e-4 || first.distributions[0].cut.kept > first.distributions[0].entries.count)
    }

    @Test func aNewRequestCancelsTheRunningOneAtOnce() throws {
        let service = SamplingService(debounce: .milliseconds(1), publishInterval: .milliseconds(0))
        defer { service.shutdown() }
        let long = Self.request(maxTokens: 2000)
        service.submit(long)
        // Wait until it is generating, then change a setting.
        let deadline = Date().addingTimeInterval(10)
        while service.output().columns.first?.pieces.isEmpty ?? true, Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        let greedy = Self.request(temperature: 0, maxTokens: 30)
        service.submit(greedy)
        let column = try Self.finished(service, greedy)
        #expect(column.pieces.count == 30, "the new request's text, not the old one's")
        #expect(service.output().request == greedy)
        // Greedy is the argmax at every position: the distribution's top entry.
        #expect(column.distributions.allSatisfy { $0.cut.kept == 1 && $0.entries[0].probability == 1 })
    }

    @Test func aCheckpointThatDoesNotLoadIsAnErrorNotACrash() throws {
        let path = NSTemporaryDirectory() + "nanoscope-broken-\(UUID().uuidString).safetensors"
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let service = SamplingService(debounce: .milliseconds(1))
        defer { service.shutdown() }
        let request = SamplingRequest(sources: [.checkpoint(path)], prompt: "", settings: SamplingSettings(), seed: 1, maxTokens: 10)
        service.submit(request)
        let column = try Self.finished(service, request)
        #expect(column.error?.contains(path) == true)
    }
}
