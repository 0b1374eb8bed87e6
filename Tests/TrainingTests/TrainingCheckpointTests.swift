import Foundation
import GPT
import Testing
import Tokenizers
@testable import Training
import SafeTensors
import TestSupport

// Checkpoints as a training run uses them: written by TrainingRun through its RunRecorder, read
// back by RunSetup.resume, listed by CheckpointCatalog, evaluated by CanonicalEval.

/// A few thousand characters of deterministic, learnable text (so losses move) written to `dir`.
func writeSyntheticCorpus(in dir: TemporaryDirectory) throws -> String {
    let words = ["the", "cat", "sat", "on", "a", "mat", "and", "saw", "dog", "run", "far", "away"]
    var rng = RandomNumbers(seed: 99)
    var text = ""
    while text.unicodeScalars.count < 6000 {
        text += (0..<(3 + rng.nextInt(below: 6))).map { _ in words[rng.nextInt(below: words.count)] }.joined(separator: " ")
        text += rng.nextInt(below: 3) == 0 ? ".\n" : ". "
    }
    let path = dir.file("corpus.txt")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A tiny model with every feature that could break an exact resume switched on: dropout,
/// gradient accumulation, warmup and cosine decay, clipping.
func tinyRunConfig(corpus: String, runsDir: String, name: String, maxIters: Int) -> TrainConfig {
    var c = TrainConfig()
    c.data = corpus
    c.nLayer = 2; c.nHead = 2; c.nEmbd = 16; c.blockSize = 8
    c.dropout = 0.1
    c.batchSize = 4; c.gradientAccumulationSteps = 2
    c.maxIters = maxIters; c.learningRate = 1e-2; c.minLR = 1e-3; c.warmupIters = 10; c.lrDecayIters = 200
    c.evalInterval = 50; c.evalIters = 2; c.logInterval = 10
    c.checkpointInterval = 30; c.keepCheckpoints = 3
    c.seed = 4242; c.runsDir = runsDir; c.runName = name
    return c
}

/// Everything a run emitted, in order.
struct Recording {
    var losses: [Int: Float] = [:]
    var evaluations: [Int: Trainer.Evaluation] = [:]
    var checkpoints: [String] = []
    var messages: [String] = []

    /// Of `steps` (each evaluated), the one with the lowest val loss, the later on a tie: the
    /// one retention keeps as the best.
    func bestStep(of steps: [Int]) -> Int {
        steps.min { a, b in
            let (la, lb) = (evaluations[a]!.valLoss, evaluations[b]!.valLoss)
            return la != lb ? la < lb : a > b
        }!
    }

    mutating func take(_ event: TrainingRun.Event) {
        switch event {
        case let .step(r, _): losses[r.step] = r.loss
        case let .evaluation(e): evaluations[e.step] = e
        case let .checkpoint(path): checkpoints.append(path)
        case let .message(m): messages.append(m)
        }
    }
}

/// Runs until `stopAt` steps (or the end), answering `.save` once at each step in `saveAt`.
func train(_ run: TrainingRun, stopAt: Int? = nil, saveAt: Set<Int> = [],
           beforeStep: (Int) -> Void = { _ in }) throws -> Recording {
    var recording = Recording()
    var saved = Set<Int>()
    try run.run(next: {
        let step = run.trainer.step
        if let stopAt, step >= stopAt { return .stop }
        if saveAt.contains(step) && !saved.contains(step) { saved.insert(step); return .save }
        beforeStep(step)
        return .proceed
    }, emit: { recording.take($0) })
    return recording
}

@Suite struct ExactResume {
    @Test func stoppingAndResumingGivesTheSameLossesBitForBit() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        let runs = dir.file("runs")

        let straight = try RunSetup.start(tinyRunConfig(corpus: corpus, runsDir: runs, name: "straight", maxIters: 200))
        let whole = try train(straight)
        #expect(whole.losses.count == 200)

        // 100 steps, stop (which saves step 100), then resume through the files alone: the run's
        // config.toml, the newest checkpoint and its optimizer state.
        let first = try RunSetup.start(tinyRunConfig(corpus: corpus, runsDir: runs, name: "split", maxIters: 200))
        let firstHalf = try train(first, stopAt: 100)
        #expect(firstHalf.checkpoints.last == runs + "/split/checkpoints/step-000100.safetensors")

        let point = try ResumePoint.locate(runs + "/split")
        #expect(point.checkpoint.step == 100)
        let resumed = try RunSetup.resume(from: point, config: try TrainConfig.load(path: point.configPath))
        #expect(resumed.trainer.step == 100)
        let secondHalf = try train(resumed)

        for step in 1...200 {
            let expected = whole.losses[step]?.bitPattern
            let actual = (step <= 100 ? firstHalf.losses[step] : secondHalf.losses[step])?.bitPattern
            #expect(expected != nil && actual == expected, "step \(step): \(whole.losses[step] ?? .nan) vs \(actual.map(Float.init(bitPattern:)) ?? .nan)")
        }
        #expect(straight.trainer.model.params.array == resumed.trainer.model.params.array)
        #expect(straight.trainer.optimizer.m.array == resumed.trainer.optimizer.m.array)
        #expect(whole.evaluations[200] == secondHalf.evaluations[200])

        // The metrics log reads as one run: every step once, in order, and the same lines as the
        // straight run (apart from the clock and throughput).
        let split = try MetricsLog.read(runs + "/split/metrics.jsonl")
        let reference = try MetricsLog.read(runs + "/straight/metrics.jsonl")
        #expect(split.map(\.step) == reference.map(\.step))
        #expect(split.map(\.trainLoss) == reference.map(\.trainLoss) && split.map(\.valLoss) == reference.map(\.valLoss))
        #expect(zip(split, split.dropFirst()).allSatisfy { $0.time <= $1.time })
    }

    @Test func resumingFromAnOlderCheckpointMovesTheLaterBranchAside() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        var config = tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 90)
        config.keepCheckpoints = 10
        let first = try RunSetup.start(config)
        let original = try train(first)
        let run = RunDirectory(dir.file("runs/r"))
        #expect(try run.checkpoints().map(\.step) == [30, 60, 90])

        let point = try ResumePoint.locate(run.weightsPath(step: 30))
        #expect(RunSetup.laterCheckpoints(than: point) == [60, 90])
        var resumedConfig = try TrainConfig.load(path: point.configPath)
        resumedConfig.keepCheckpoints = 1
        resumedConfig.maxIters = 45
        let resumed = try RunSetup.resume(from: point, config: resumedConfig)
        #expect(try MetricsLog.read(run.metricsPath).map(\.step).max() == 30)
        let again = try train(resumed)
        for step in 31...45 { #expect(again.losses[step] == original.losses[step]) }
        // 60 and 90 (the abandoned continuation) were moved aside with their metrics, so no
        // listing calls one of them "best val"; keep_checkpoints = 1 then pruned 30.
        #expect(try run.checkpoints().map(\.step) == [45])
        let aside = RunDirectory(dir.file("runs/r")).checkpointsPath + "/abandoned-from-step-000030"
        #expect(FileManager.default.fileExists(atPath: aside + "/step-000060.safetensors"))
        #expect(FileManager.default.fileExists(atPath: aside + "/step-000090.optimizer.safetensors"))
        #expect(try MetricsLog.read(aside + "/metrics.jsonl").map(\.step).min() ?? 0 > 30)
        // The overrides were stored: resuming again continues with them.
        #expect(try TrainConfig.load(path: run.configPath).maxIters == 45)
    }

    @Test func aCheckpointWithoutOptimizerStateCannotBeResumed() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        let run = try RunSetup.start(tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 30))
        _ = try train(run)
        let folder = RunDirectory(dir.file("runs/r"))
        try FileManager.default.removeItem(atPath: folder.optimizerPath(step: 30))
        let error = expectError(CheckpointError.self) { _ = try ResumePoint.locate(folder.weightsPath(step: 30)) }
        #expect(error?.problem.contains("no optimizer state") == true)
        let fromFolder = expectError(CheckpointError.self) { _ = try ResumePoint.locate(folder.path) }
        #expect(fromFolder?.problem.contains("none of the run's 1 checkpoints can be resumed") == true)
    }
}

@Suite struct CheckpointSchedule {
    @Test func savesOnIntervalOnRequestAndOnStopWithTheContractsMetadata() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        var config = tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 100)
        config.keepCheckpoints = 0  // keep all
        let run = try RunSetup.start(config)
        let recording = try train(run, stopAt: 65, saveAt: [7, 30])
        let folder = RunDirectory(dir.file("runs/r"))
        // 7 on request; 30 and 60 on the interval (the request at 30 finds it saved already); 65 on stop.
        #expect(recording.checkpoints == [7, 30, 60, 65].map { folder.weightsPath(step: $0) })
        #expect(try folder.checkpoints().map(\.step) == [7, 30, 60, 65])

        let header = try SafeTensors.readHeader(folder.weightsPath(step: 60))
        #expect(Set(header.tensors.map(\.name)) == Set(NanoGPTStateDict.expectedShapes(for: run.trainer.model.config).map(\.name)))
        let meta = header.metadata
        #expect(meta["format"] == "nanoscope/1" && meta["step"] == "60")
        #expect(meta["tokenizer"] == run.trainer.dataset.tokenizer.metadataJSON())
        #expect(meta["created"] != nil && meta["config"] == CheckpointMetadata.configJSON(run.trainer.model.config))
        // Scheduled and requested checkpoints are evaluated first, so the browser lists their
        // own losses; the save on stop is not (a stop must be quick) and claims none.
        #expect(meta["val_loss"] == "\(recording.evaluations[60]!.valLoss)")
        #expect(meta["train_loss"] == "\(recording.evaluations[60]!.trainLoss)")
        let requested = try SafeTensors.readHeader(folder.weightsPath(step: 7)).metadata
        #expect(recording.evaluations[7] != nil && requested["val_loss"] == "\(recording.evaluations[7]!.valLoss)")
        #expect(try SafeTensors.readHeader(folder.weightsPath(step: 65)).metadata["val_loss"] == nil)

        // The file holds exactly the model's weights (lm_head = wte), and the optimizer file m and v.
        let loaded = try LoadedCheckpoint.load(folder.weightsPath(step: 65))
        let model = try ModelState.model(from: loaded)
        #expect(model.params.array == run.trainer.model.params.array)
        #expect(loaded.file[NanoGPTStateDict.lmHead]?.values == loaded.file[NanoGPTStateDict.tokenEmbedding]?.values)
        let state = try LoadedOptimizerState.load(folder.optimizerPath(step: 65))
        let wte = run.trainer.model.layout.tensor(named: NanoGPTStateDict.tokenEmbedding)!
        #expect(state.secondMoments[wte.name]?.values == Array(run.trainer.optimizer.v.array[wte.offset..<(wte.offset + wte.count)]))
        #expect(ModelState.decodeRNG(state.metadata.rngState) == run.trainer.batchRNG)
    }

    /// A checkpoint the dashboard has loaded or marked is pinned: retention passes it over.
    @Test func retentionSparesPinnedCheckpoints() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        var config = tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 60)
        config.checkpointInterval = 10
        config.keepCheckpoints = 2
        config.evalInterval = 10
        let run = try RunSetup.start(config)
        let folder = RunDirectory(dir.file("runs/r"))
        run.recorder?.pinned = { [folder.weightsPath(step: 20)] }
        let recording = try train(run)
        let best = recording.bestStep(of: (1...6).map { $0 * 10 })
        #expect(best != 20, "step 20 is the best, so retention would keep it anyway: the test proves nothing")
        #expect(try folder.checkpoints().map(\.step) == Set([20, 50, 60, best]).sorted())
    }

    @Test func retentionDuringARunKeepsTheNewestAndTheBest() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        var config = tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 120)
        config.checkpointInterval = 10
        config.keepCheckpoints = 2
        config.learningRate = 3e-2  // lively enough that the best val loss need not be the last
        let recording = try train(try RunSetup.start(config))
        let saved = (1...12).map { $0 * 10 }
        #expect(recording.checkpoints.count == saved.count)

        // What the policy must have left: the two newest, plus the lowest val loss (later on a tie).
        let best = recording.bestStep(of: saved)
        let expected = Set([110, 120, best]).sorted()
        let folder = RunDirectory(dir.file("runs/r"))
        #expect(try folder.checkpoints().map(\.step) == expected)
        #expect(dir.contents("runs/r/checkpoints").count == 2 * expected.count)  // weights + optimizer, no temporaries

        // The listing shows the same, from headers.
        let runs = try CheckpointCatalog.scan(dir.file("runs"))
        #expect(runs.map(\.name) == ["r"])
        let listed = runs[0].checkpoints
        #expect(listed.map(\.step) == expected)
        #expect(listed.allSatisfy { $0.isLoadable && $0.hasOptimizerState && $0.config == recordingConfig(config) })
        #expect(listed.map(\.valLoss) == expected.map { recording.evaluations[$0]!.valLoss })
        let table = CheckpointCatalog.table(runs, now: Date())
        #expect(table.split(separator: "\n").count == 1 + expected.count)
        if expected.count > 1 { #expect(table.contains("best val")) }
    }

    private func recordingConfig(_ c: TrainConfig) -> GPTConfig {
        // The corpus above uses 17 distinct characters (12 words' letters, space, '.', '\n').
        c.modelConfig(vocabSize: (try? CharTokenizer(corpus: Dataset.readCorpus(path: c.data)).vocabSize) ?? 0)
    }

    @Test func aSaveIntoAnUnwritableFolderIsReportedAndTrainingGoesOn() throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        var config = tinyRunConfig(corpus: corpus, runsDir: dir.file("runs"), name: "r", maxIters: 20)
        config.checkpointInterval = 0
        let run = try RunSetup.start(config)
        let folder = RunDirectory(dir.file("runs/r"))
        let checkpoints = folder.checkpointsPath
        // Root ignores permission bits, so there a file stands where the folder should be: either
        // way nothing can be created in `checkpoints/`.
        let asRoot = geteuid() == 0
        func blockFolder() throws {
            if asRoot {
                try FileManager.default.removeItem(atPath: checkpoints)
                try "not a folder".write(toFile: checkpoints, atomically: false, encoding: .utf8)
            } else {
                #expect(chmod(checkpoints, 0o555) == 0)
            }
        }
        func unblockFolder() throws {
            if asRoot {
                try FileManager.default.removeItem(atPath: checkpoints)
            } else {
                #expect(chmod(checkpoints, 0o755) == 0)
            }
        }
        try blockFolder()
        var unblocked = false
        let recording = try train(run, saveAt: [5]) { step in
            if step == 12 && !unblocked { try? unblockFolder(); unblocked = true }
        }
        // The request at step 5 failed with a clear message (and nothing else did: metrics go to
        // the run folder, which is fine); every step was still taken.
        #expect(recording.messages.count == 1, "\(recording.messages)")
        #expect(recording.messages.first?.contains("checkpoint at step 5 failed") == true)
        #expect(recording.messages.first?.contains(checkpoints) == true)
        #expect(recording.losses.keys.sorted() == Array(1...20))
        #expect(recording.losses.values.allSatisfy { $0.isFinite })
        #expect(try MetricsLog.read(folder.metricsPath).last?.step == 20)
        // Once the folder is writable again, the final save succeeds with the trained weights.
        #expect(recording.checkpoints == [folder.weightsPath(step: 20)])
        let saved = try ModelState.model(from: try LoadedCheckpoint.load(folder.weightsPath(step: 20)))
        #expect(saved.params.array == run.trainer.model.params.array)
    }
}

@Suite struct CanonicalEvaluation {
    /// A model with weights further from initialisation than nanoGPT's 0.02, so the test
    /// distribution is not near uniform.
    func perturbedModel(_ config: GPTConfig) throws -> GPT {
        let model = try GPT(config: config, seed: 5)
        var rng = RandomNumbers(seed: 11)
        for i in 0..<model.params.count { model.params[i] += rng.nextGaussian() * 0.3 }
        model.parameterVersion += 1
        return model
    }

    /// The definition, computed directly: for each window, each position's −log softmax of its
    /// target, from the logits, in Double.
    func directLoss(_ model: GPT, _ val: [Int32], blocks: Int) -> Double {
        let t = model.config.blockSize
        var windowMeans: [Double] = []
        for b in 0..<blocks {
            let x = Array(val[(b * t)..<(b * t + t)])
            model.forward(tokens: x, targets: nil, batch: 1, seqLen: t)
            var sum = 0.0
            for pos in 0..<t {
                let logits = model.logits(row: pos).map(Double.init)
                let m = logits.max()!
                let logSumExp = m + log(logits.reduce(0) { $0 + exp($1 - m) })
                sum += logSumExp - logits[Int(val[b * t + pos + 1])]
            }
            windowMeans.append(sum / Double(t))
        }
        return windowMeans.reduce(0, +) / Double(blocks)
    }

    @Test func matchesTheLossComputedFromTheLogits() throws {
        let config = GPTConfig(vocabSize: 11, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, bias: true)
        let model = try perturbedModel(config)
        var rng = RandomNumbers(seed: 3)
        let ids = (0..<500).map { _ in Int32(rng.nextInt(below: 11)) }
        let val = CanonicalEval.validationSplit(ids)
        #expect(val.startIndex == 450 && val.count == 50)

        // 20 windows: more than one batch of 16 inside CanonicalEval.
        let ids2 = (0..<2000).map { _ in Int32(rng.nextInt(below: 11)) }
        for (tokens, blocks) in [(ids, 5), (ids2, 20)] {
            let split = CanonicalEval.validationSplit(tokens)
            let result = try CanonicalEval.evaluate(model, validation: split, blocks: blocks)
            #expect(result.blocks == blocks)
            let direct = directLoss(model, Array(split), blocks: blocks)
            #expect(abs(result.loss - direct) < 1e-5, "\(result.loss) vs \(direct)")
        }
        // Asking for more windows than the split holds evaluates what is there: 50 tokens hold 8
        // windows of 6 + 1.
        let all = try CanonicalEval.evaluate(model, validation: val, blocks: 100)
        #expect(all.blocks == 8)
        #expect(abs(all.loss - directLoss(model, Array(val), blocks: 8)) < 1e-5)
        #expect(throws: ConfigError.self) { try CanonicalEval.evaluate(model, validation: val.prefix(6), blocks: 1) }
    }

    @Test func aStateDictFromElsewhereLoadsAndEvaluatesTheSame() throws {
        // As Python would write a nanoGPT state dict with safetensors.torch.save_file: config and
        // tokenizer metadata but no format, step or losses; wte and lm_head both present (cloned),
        // or only one of them (save_model drops the tied duplicate).
        let config = GPTConfig(vocabSize: 7, blockSize: 5, nLayer: 1, nHead: 1, nEmbd: 4)
        let model = try perturbedModel(config)
        let tokenizer = try CharTokenizer(vocab: Array("abcdef\n".unicodeScalars))
        let metadata = ["config": CheckpointMetadata.configJSON(config), "tokenizer": tokenizer.metadataJSON()]
        let all = ModelState.weightViews(of: model).map { view in
            NamedTensor(name: view.name, shape: view.shape, values: Array(view.values))
        }
        var rng = RandomNumbers(seed: 8)
        let ids = (0..<400).map { _ in Int32(rng.nextInt(below: 7)) }
        let val = CanonicalEval.validationSplit(ids)
        let expected = try CanonicalEval.evaluate(model, validation: val, blocks: 6)

        let dir = TemporaryDirectory()
        for dropped in [nil, NanoGPTStateDict.tokenEmbedding, NanoGPTStateDict.lmHead] {
            let path = dir.file("nanogpt-\(dropped ?? "both").safetensors")
            try SafeTensors.write(all.filter { $0.name != dropped }, metadata: metadata, to: path)
            let loaded = try LoadedCheckpoint.load(path)
            #expect(loaded.metadata.format == nil && loaded.metadata.step == nil)
            let rebuilt = try ModelState.model(from: loaded)
            #expect(rebuilt.params.array == model.params.array)
            let tokenizerBack = try makeTokenizer(fromMetadataJSON: try #require(loaded.metadata.tokenizerJSON))
            #expect(tokenizerBack.vocabSize == 7 && tokenizerBack.decode([0, 6]) == "a\n")
            #expect(try CanonicalEval.evaluate(rebuilt, validation: val, blocks: 6) == expected)
        }

        // An untied pair cannot be represented by a tied model: refused, not silently half-loaded.
        var untied = all
        let head = untied.firstIndex { $0.name == NanoGPTStateDict.lmHead }!
        untied[head].values[0] += 1
        let path = dir.file("untied.safetensors")
        try SafeTensors.write(untied, metadata: metadata, to: path)
        let error = expectError(CheckpointError.self) { _ = try ModelState.model(from: try LoadedCheckpoint.load(path)) }
        #expect(error?.problem.contains("differ") == true)
    }
}

@Suite struct TokenizerMetadata {
    @Test func characterTokenizersRoundTripThroughTheirMetadata() throws {
        let original = try CharTokenizer(corpus: "Hello, \"world\"!\n\tüñî 😀 \\ /")
        let rebuilt = try makeTokenizer(fromMetadataJSON: original.metadataJSON())
        #expect((rebuilt as? CharTokenizer) == original)
    }

    @Test(arguments: [
        ("[]", "not a JSON object"),
        (#"{"vocab":["a"]}"#, "with a \"type\" field"),
        (#"{"type":"bpe","merges":[]}"#, "'pattern' is missing"),
        (#"{"type":"char"}"#, "'vocab' is missing"),
        (#"{"type":"char","vocab":["ab"]}"#, "is not one Unicode scalar"),
        (#"{"type":"char","vocab":["a","a"]}"#, "appears twice"),
    ])
    func malformedMetadataIsAClearError(json: String, expected: String) {
        do {
            _ = try makeTokenizer(fromMetadataJSON: json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
