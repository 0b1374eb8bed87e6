import Foundation
import Testing
@testable import Training
import TestSupport

/// Every config in Samples/ must load and train, along the path `nanoscope train` takes:
/// config file → `--set` overrides → `Dataset.prepare` → `Trainer` → `TrainingRun`.
@Suite struct SampleConfigTests {
    static let samplesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Samples").path

    static var sampleConfigs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: samplesFolder)) ?? []).filter { $0.hasSuffix(".toml") }.sorted()
    }

    @Test func theSamplesFolderHasTheDocumentedConfigs() {
        for name in ["shakespeare-char.toml", "shakespeare-char-large.toml", "sort.toml", "add.toml"] {
            #expect(Self.sampleConfigs.contains(name), "Samples/\(name) is missing")
        }
    }

    @Test(arguments: sampleConfigs)
    func sampleConfigRunsAFewSteps(name: String) throws {
        var cfg = try TrainConfig.load(path: Self.samplesFolder + "/" + name)
        // Two steps and one evaluation of the config's own model; two sequences per batch keep
        // the large config affordable.
        for (key, value) in [("max_iters", 2), ("eval_interval", 2), ("eval_iters", 1), ("batch_size", 2),
                             ("task_eval_problems", 8), ("checkpoint_interval", 0)] {
            try cfg.set(key, .integer(value))
        }
        // GPT-2 small's 124M parameters would take most of the suite's time: its first two
        // blocks at a shorter context still run every part of the config (vocabulary, width,
        // heads, fused attention) through the same path.
        if cfg.nEmbd >= 768 {
            try cfg.set("n_layer", .integer(2))
            try cfg.set("block_size", .integer(128))
        }
        // Recipes download, and CI may be offline: a small text stands in, as --data would.
        let dir = TemporaryDirectory()
        if cfg.data.hasPrefix(CorpusRecipe.prefix) {
            // Random words: varied enough for a 512-token BPE to find its merges.
            var rng = SplitMix64(seed: 42)
            let words = (0..<6000).map { i in
                String((0..<Int.random(in: 2...7, using: &rng)).map { _ in "etaoinshrdlucmfw".randomElement(using: &rng)! })
                    + (i % 12 == 11 ? ".\n" : " ")
            }
            let text = words.joined()
            try text.write(toFile: dir.file("corpus.txt"), atomically: true, encoding: .utf8)
            cfg.data = dir.file("corpus.txt")
        }
        let dataset = try Dataset.prepare(config: cfg)
        let run = TrainingRun(trainer: try Trainer(config: cfg, dataset: dataset), name: name)
        var steps: [Trainer.StepResult] = []
        var evals: [Trainer.Evaluation] = []
        try run.run(next: { .proceed }) { event in
            switch event {
            case let .step(r, _): steps.append(r)
            case let .evaluation(e): evals.append(e)
            default: break
            }
        }
        #expect(steps.map(\.step) == [1, 2])
        #expect(steps.allSatisfy { $0.loss.isFinite && !$0.skipped })
        #expect(evals.map(\.step) == [0, 2])
        #expect(evals.allSatisfy { $0.valLoss.isFinite })
        let isTask = cfg.data.hasPrefix(SyntheticTask.prefix)
        #expect(evals.allSatisfy { ($0.taskAccuracy != nil) == isTask })
    }
}
