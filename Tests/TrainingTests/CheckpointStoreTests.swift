import Foundation
import GPT
import Testing
@testable import Training
import SafeTensors
import TestSupport

let tinyConfig = GPTConfig(vocabSize: 5, blockSize: 4, nLayer: 2, nHead: 2, nEmbd: 4)

/// Weights for `config` with distinct values, lm_head included unless `tied` is false.
func modelWeights(_ config: GPTConfig, includeLMHead: Bool = true, seed: Float = 0) -> [NamedTensor] {
    var next = seed
    return NanoGPTStateDict.expectedShapes(for: config)
        .filter { includeLMHead || $0.name != NanoGPTStateDict.lmHead }
        .map { name, shape in
            NamedTensor(name: name, shape: shape, values: (0..<shape.reduce(1, *)).map { _ in next += 0.125; return next })
        }
}

func metadata(step: Int, val: Float? = nil, config: GPTConfig = tinyConfig) -> CheckpointMetadata {
    CheckpointMetadata(step: step, config: config, tokenizerJSON: #"{"type":"char","vocab":["a","b","c","d","e"]}"#,
                       trainLoss: val.map { $0 - 0.1 }, valLoss: val, created: Date(timeIntervalSince1970: 1_800_000_000))
}

@Suite struct CheckpointFiles {
    @Test func checkpointRoundTripWithOptimizerState() throws {
        let dir = TemporaryDirectory()
        let run = RunDirectory(dir.file("runs/baby"))
        let weights = modelWeights(tinyConfig)
        let m = weights.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values.map { -$0 }) }
        let v = weights.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values.map { $0 * $0 }) }
        let info = try run.writeCheckpoint(
            weights: weights, metadata: metadata(step: 500, val: 2.5),
            optimizer: .init(firstMoments: m, secondMoments: v,
                             metadata: OptimizerStateMetadata(step: 500, rngState: "1337:42", dataPosition: "epoch=0,offset=123")))

        #expect(info.path == dir.file("runs/baby/checkpoints/step-000500.safetensors"))
        #expect(info.isLoadable && info.hasOptimizerState)
        #expect(info.step == 500 && info.valLoss == 2.5 && info.trainLoss == 2.4 && info.config == tinyConfig)
        #expect(dir.contents("runs/baby/checkpoints") == ["step-000500.optimizer.safetensors", "step-000500.safetensors"])

        let loaded = try LoadedCheckpoint.load(info.path)
        #expect(loaded.config == tinyConfig)
        #expect(loaded.metadata == metadata(step: 500, val: 2.5))
        for tensor in weights { #expect(loaded.file[tensor.name] == tensor) }
        #expect(loaded.tokenEmbedding.name == NanoGPTStateDict.tokenEmbedding)

        let state = try LoadedOptimizerState.load(run.optimizerPath(step: 500),
                                                  parameters: Dictionary(uniqueKeysWithValues: weights.map { ($0.name, $0.shape) }))
        #expect(state.metadata == OptimizerStateMetadata(step: 500, rngState: "1337:42", dataPosition: "epoch=0,offset=123"))
        for (mt, vt) in zip(m, v) {
            #expect(state.firstMoments[mt.name]?.values == mt.values)
            #expect(state.secondMoments[vt.name]?.values == vt.values)
        }
    }

    @Test func metadataIsStoredAsDocumented() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("w.safetensors")
        try SafeTensors.write(modelWeights(tinyConfig), metadata: metadata(step: 7, val: 1.5).dictionary, to: path)
        let stored = try SafeTensors.readHeader(path).metadata
        #expect(stored["format"] == "nanoscope/1")
        #expect(stored["step"] == "7")
        #expect(stored["val_loss"] == "1.5")
        #expect(stored["train_loss"] == "1.4")
        #expect(stored["created"] == "2027-01-15T08:00:00Z")
        #expect(stored["config"] == #"{"bias":false,"block_size":4,"dropout":0,"n_embd":4,"n_head":2,"n_layer":2,"pos_encoding":"learned","vocab_size":5}"#)
        #expect(stored["tokenizer"] == #"{"type":"char","vocab":["a","b","c","d","e"]}"#)
    }

    @Test func malformedMetadataIsAClearError() {
        let cases: [([String: String], String)] = [
            (["format": "nanoscope/9"], "format 'nanoscope/9'"),
            (["step": "five"], "metadata 'step' = \"five\" is not a step number"),
            (["val_loss": "low"], "'val_loss' = \"low\" is not a number"),
            (["created": "yesterday"], "not an ISO 8601 time"),
            (["config": #"{"n_layer":2}"#], "is not a model configuration: 'vocab_size' is missing"),
            (["config": "{"], "is not a model configuration"),
        ]
        for (dictionary, expected) in cases {
            let error = expectError(CheckpointError.self) { _ = try CheckpointMetadata(parsing: dictionary, path: "x") }
            #expect(error?.problem.contains(expected) == true, "got \(error?.problem ?? "none")")
        }
        // A file from another tool has no metadata: that is not an error.
        #expect((try? CheckpointMetadata(parsing: [:], path: "x"))?.config == nil)
        #expect((try? CheckpointMetadata(parsing: ["created": "2026-01-02T03:04:05.123456Z"], path: "x"))?.created != nil)
    }

    @Test func loadsAStateDictFromElsewhereGivenItsConfig() throws {
        // Like Python's save_model on a tied nanoGPT: lm_head only, no metadata.
        let dir = TemporaryDirectory()
        let path = dir.file("nanogpt.safetensors")
        let weights = modelWeights(tinyConfig).filter { $0.name != NanoGPTStateDict.tokenEmbedding }
        try SafeTensors.write(weights, to: path)

        let noConfig = expectError(CheckpointError.self) { _ = try LoadedCheckpoint.load(path) }
        #expect(noConfig?.problem.contains("no model configuration") == true)
        let loaded = try LoadedCheckpoint.load(path, config: tinyConfig)
        #expect(loaded.tokenEmbedding.name == NanoGPTStateDict.lmHead)

        var other = tinyConfig
        other.nLayer = 3
        try SafeTensors.write(modelWeights(tinyConfig), metadata: metadata(step: 1).dictionary, to: path)
        let mismatch = expectError(CheckpointError.self) { _ = try LoadedCheckpoint.load(path, config: other) }
        #expect(mismatch?.problem.contains("trained with n_layer=2") == true)
    }
}

@Suite struct ShapeValidation {
    func shapes(_ tensors: [NamedTensor]) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.shape) })
    }

    @Test(arguments: [
        GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128),
        GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 8, bias: true),
        GPTConfig(vocabSize: 10, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, posEncoding: .sinusoidal),
    ])
    func acceptsExactlyNanoGPTsNamesAndShapes(_ config: GPTConfig) throws {
        let expected = NanoGPTStateDict.expectedShapes(for: config)
        let perLayer = 6 + (config.bias ? 6 : 0)
        let globals = (config.posEncoding == .learned ? 2 : 1) + 1 + (config.bias ? 1 : 0) + 1
        #expect(expected.count == config.nLayer * perLayer + globals)
        #expect(expected.contains { $0.name == "transformer.h.0.mlp.c_proj.weight" && $0.shape == [config.nEmbd, 4 * config.nEmbd] })
        #expect(expected.contains { $0.name == "transformer.h.0.attn.c_attn.weight" && $0.shape == [3 * config.nEmbd, config.nEmbd] })
        #expect(!expected.contains { $0.name == "lm_head.bias" })
        try NanoGPTStateDict.validate(Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0.shape) }), against: config, path: "x")
        // Either half of the tied pair may be missing, but not both.
        var withoutHead = Dictionary(uniqueKeysWithValues: expected.map { ($0.name, $0.shape) })
        withoutHead["lm_head.weight"] = nil
        try NanoGPTStateDict.validate(withoutHead, against: config, path: "x")
        withoutHead["transformer.wte.weight"] = nil
        let error = expectError(CheckpointError.self) { try NanoGPTStateDict.validate(withoutHead, against: config, path: "x") }
        #expect(error?.problem.contains("missing transformer.wte.weight, lm_head.weight") == true, "\(error?.problem ?? "")")
    }

    @Test func listsEveryMismatch() {
        var s = shapes(modelWeights(tinyConfig))
        s["transformer.h.1.ln_2.weight"] = nil
        s["transformer.h.0.attn.c_attn.weight"] = [4, 12]
        s["transformer.h.0.attn.bias"] = [1, 1, 4, 4]
        let error = expectError(CheckpointError.self) { try NanoGPTStateDict.validate(s, against: tinyConfig, path: "ckpt") }
        #expect(error?.path == "ckpt")
        #expect(error?.problem == "tensors do not match the model (n_layer=2 n_head=2 n_embd=4 vocab_size=5 block_size=4 bias=false pos=learned): missing transformer.h.1.ln_2.weight; unexpected transformer.h.0.attn.bias; wrong shape: transformer.h.0.attn.c_attn.weight is [4, 12], expected [12, 4]")
    }

    @Test func longListsAreShortened() {
        var config = tinyConfig
        config.nLayer = 5
        let error = expectError(CheckpointError.self) { try NanoGPTStateDict.validate(shapes(modelWeights(tinyConfig)), against: config, path: "x") }
        #expect(error?.problem.contains("and 12 more") == true, "\(error?.problem ?? "")")
    }

    @Test func invalidConfigIsReported() {
        let bad = GPTConfig(vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 3, nEmbd: 4)
        let error = expectError(CheckpointError.self) { try NanoGPTStateDict.validate([:], against: bad, path: "x") }
        #expect(error?.problem.contains("not divisible by n_head") == true)
    }
}

@Suite struct Retention {
    func info(_ step: Int, val: Float? = nil, broken: Bool = false) -> CheckpointInfo {
        CheckpointInfo(run: "r", path: "step-\(step)", step: step, valLoss: val, problem: broken ? "truncated" : nil)
    }

    func deleted(_ policy: RetentionPolicy, _ checkpoints: [CheckpointInfo]) -> [Int] {
        policy.checkpointsToDelete(from: checkpoints).map(\.step)
    }

    @Test func keepsTheLastNAndTheBest() {
        let all = [info(100, val: 3), info(200, val: 1.5), info(300, val: 2), info(400, val: 2.5), info(500, val: 2.2)]
        #expect(deleted(RetentionPolicy(keepLast: 2, keepBest: true), all) == [100, 300])
        #expect(deleted(RetentionPolicy(keepLast: 2, keepBest: false), all) == [100, 200, 300])
        #expect(deleted(RetentionPolicy(keepLast: 10, keepBest: true), all) == [])
        #expect(deleted(RetentionPolicy(keepLast: 1, keepBest: true), all.shuffled()) == [100, 300, 400])
    }

    @Test func neverDeletesTheOnlyGoodCheckpoint() {
        #expect(deleted(RetentionPolicy(keepLast: 0, keepBest: false), [info(100)]) == [])
        #expect(deleted(RetentionPolicy(keepLast: 0, keepBest: false), [info(100), info(200)]) == [100])
        // The newest is broken: the older, loadable one must survive.
        #expect(deleted(RetentionPolicy(keepLast: 1, keepBest: false), [info(100), info(200, broken: true)]) == [])
        #expect(deleted(RetentionPolicy(keepLast: 0, keepBest: true), [info(100, val: 1), info(200)]) == [])
    }

    @Test func brokenCheckpointsAreNeitherDeletedNorCounted() {
        let all = [info(100, val: 1), info(200, broken: true), info(300, val: 3), info(400, broken: true), info(500, val: 2)]
        #expect(deleted(RetentionPolicy(keepLast: 1, keepBest: false), all) == [100, 300])
        #expect(deleted(RetentionPolicy(keepLast: 1, keepBest: true), all) == [300])
    }

    @Test func bestIgnoresMissingAndNonFiniteLossesAndPrefersLaterOnTies() {
        let all = [info(100, val: .nan), info(200, val: 1), info(300), info(400, val: 1), info(500, val: -.infinity)]
        #expect(RetentionPolicy.best(of: all)?.step == 400)
        #expect(RetentionPolicy.best(of: [info(1), info(2, val: .nan)]) == nil)
    }

    @Test func pruneDeletesFilesOrphansAndAbandonedTemporaries() throws {
        let dir = TemporaryDirectory()
        let run = RunDirectory(dir.file("run"))
        for (step, val) in [(100, Float(3)), (200, 1), (300, 2), (400, 2.5)] {
            try run.writeCheckpoint(weights: modelWeights(tinyConfig), metadata: metadata(step: step, val: val),
                                    optimizer: .init(firstMoments: [], secondMoments: [],
                                                     metadata: .init(step: step, rngState: "", dataPosition: "")))
        }
        // A crash between optimizer and weights files, and a temporary from a dead process.
        try SafeTensors.write([], metadata: ["x": "y"], to: run.optimizerPath(step: 250))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: run.checkpointsPath + "/.step-000500.safetensors.tmp.999999999.ab12"))
        // A broken weights file stays.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: run.weightsPath(step: 50)))

        let removed = try run.prune(RetentionPolicy(keepLast: 1, keepBest: true))
        #expect(Set(removed.map { AtomicFile.splitPath($0).name }) == [
            ".step-000500.safetensors.tmp.999999999.ab12", "step-000100.safetensors", "step-000100.optimizer.safetensors",
            "step-000300.safetensors", "step-000300.optimizer.safetensors", "step-000250.optimizer.safetensors",
        ])
        #expect(dir.contents("run/checkpoints") == [
            "step-000050.safetensors", "step-000200.optimizer.safetensors", "step-000200.safetensors",
            "step-000400.optimizer.safetensors", "step-000400.safetensors",
        ])
    }
}

@Suite struct Catalog {
    @Test func listsRunsFromHeadersAsATableAndJSON() throws {
        let dir = TemporaryDirectory()
        let runs = dir.file("runs")
        let baby = RunDirectory(runs + "/baby")
        try baby.writeConfig("n_layer = 2\n")
        try baby.writeCheckpoint(weights: modelWeights(tinyConfig), metadata: metadata(step: 500, val: 2.0125),
                                 optimizer: .init(firstMoments: [], secondMoments: [], metadata: .init(step: 500, rngState: "", dataPosition: "")))
        try baby.writeCheckpoint(weights: modelWeights(tinyConfig), metadata: metadata(step: 1000, val: 2.5))
        let wide = RunDirectory(runs + "/wide")
        try wide.create()
        try Data(repeating: 7, count: 20).write(to: URL(fileURLWithPath: wide.weightsPath(step: 1234567)))
        try FileManager.default.createDirectory(atPath: runs + "/not-a-run", withIntermediateDirectories: true)

        let listing = try CheckpointCatalog.scan(runs)
        #expect(listing.map(\.name) == ["baby", "wide"])
        #expect(listing[0].checkpoints.map(\.step) == [500, 1000])
        #expect(try CheckpointCatalog.scan(baby.path) == [listing[0]], "a run folder lists itself")

        let size500 = listing[0].checkpoints[0].sizeBytes
        let now = Date(timeIntervalSince1970: 1_800_000_000 + 190)
        let table = CheckpointCatalog.table(listing, now: now)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("RUN   "))
        #expect(lines[1].hasPrefix("baby      500  1.9125  2.0125   3m"))
        #expect(lines[1].contains(CheckpointCatalog.size(size500) + "  best val"))
        #expect(lines[2].contains("2.5000   3m") && lines[2].hasSuffix("no optimizer state"))
        #expect(lines[3].hasPrefix("wide  1234567       —       —"))
        #expect(lines[3].contains("20 B  unreadable: not a safetensors file: header length"))
        // Columns line up: every row has STEP ending at the same place.
        let stepEnd = lines[0].range(of: "STEP")!.upperBound.utf16Offset(in: lines[0])
        #expect(lines.dropFirst().allSatisfy { Array($0)[stepEnd - 1].isNumber })

        let json = CheckpointCatalog.json(listing, now: now)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let first = try #require(((decoded["runs"] as? [[String: Any]])?.first?["checkpoints"] as? [[String: Any]])?.first)
        #expect(first["step"] as? Int == 500)
        #expect(first["val_loss"] as? Double == 2.0125)
        #expect(first["age_s"] as? Int == 190)
        #expect(first["best"] as? Bool == true)
        #expect((first["config"] as? [String: Any])?["n_layer"] as? Int == 2)
        #expect(first["error"] is NSNull)
        #expect(json.contains(#""error":"not a safetensors file: header length"#))
    }

    @Test func emptyAndMissingFolders() throws {
        let dir = TemporaryDirectory()
        #expect(CheckpointCatalog.table(try CheckpointCatalog.scan(dir.path), now: Date()) == "no runs found\n")
        let error = expectError(CheckpointError.self) { _ = try CheckpointCatalog.scan(dir.file("missing")) }
        #expect(error?.problem == "no such folder")
    }

    @Test func humanUnits() {
        #expect(CheckpointCatalog.size(812) == "812 B")
        #expect(CheckpointCatalog.size(3_280_000) == "3.3 MB")
        #expect(CheckpointCatalog.size(42_600_000) == "43 MB")
        #expect(CheckpointCatalog.age(-5) == "0s")
        #expect(CheckpointCatalog.age(59) == "59s")
        #expect(CheckpointCatalog.age(7200) == "2h")
        #expect(CheckpointCatalog.age(3 * 86400 + 5) == "3d")
    }
}

@Suite struct Metrics {
    @Test func appendsOneObjectPerLineAndReadsThemBack() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("metrics.jsonl")
        let records = [
            MetricsRecord(step: 1, trainLoss: 4.17, lr: 1e-5, gradNorm: 2.5, tokensPerSecond: 24100.5, time: 0.03),
            MetricsRecord(step: 250, trainLoss: 2.1, valLoss: 2.2, lr: 0.001, gradNorm: .nan, tokensPerSecond: 24000, time: 7.5),
        ]
        for record in records { try MetricsLog.append(record, to: path) }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == """
            {"step":1,"train_loss":4.17,"val_loss":null,"lr":1e-05,"grad_norm":2.5,"tokens_per_s":24100.5,"time":0.03}
            {"step":250,"train_loss":2.1,"val_loss":2.2,"lr":0.001,"grad_norm":null,"tokens_per_s":24000,"time":7.5}

            """)
        var expected = records
        expected[1].gradNorm = nil
        #expect(try MetricsLog.read(path) == expected)
        // Python reads it too.
        for line in text.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
        }
    }

    @Test func aTornLastLineDoesNotSpoilTheNext() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("metrics.jsonl")
        try MetricsLog.append(MetricsRecord(step: 1, time: 1), to: path)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"step":2,"tra"#.utf8))
        handle.closeFile()
        try MetricsLog.append(MetricsRecord(step: 3, time: 3), to: path)
        #expect(try MetricsLog.read(path).map(\.step) == [1, 3])

        try MetricsLog.append([4, 5, 6].map { MetricsRecord(step: $0, time: Double($0)) }, to: path)
        try MetricsLog.truncate(path, after: 4)
        #expect(try MetricsLog.read(path).map(\.step) == [1, 3, 4])
        #expect(try MetricsLog.read(dir.file("none.jsonl")).isEmpty)
    }
}
