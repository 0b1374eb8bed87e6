import Foundation
import GPT
import Testing
@testable import Training
import SafeTensors
import TestSupport

// Issue 14: no non-finite value reaches the weights or a file; one trainer per run folder; run
// names stay inside runs_dir; a failed final save fails the run; optimizer state is validated.

private func allFinite(_ buffer: some Collection<Float>) -> Bool { buffer.allSatisfy(\.isFinite) }

/// Every float tensor of every safetensors file under `folder`, finite.
private func filesAreFinite(_ folder: String) throws -> Bool {
    let names = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
    for name in names where name.hasSuffix(".safetensors") {
        let file = try SafeTensors.read(folder + "/" + name)
        if !file.tensors.allSatisfy({ allFinite($0.values) }) { return false }
    }
    return true
}

@Suite struct DataSafetyTests {
    @Test func anUpdateThatWouldOverflowIsNotApplied() throws {
        let dir = TemporaryDirectory()
        var config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "huge-lr", maxIters: 5)
        config.learningRate = 1e30  // finite, so valid, but the first update overflows
        config.warmupIters = 0; config.decayLR = false; config.maxBadSteps = 3; config.evalInterval = 0; config.checkpointInterval = 1
        let run = try RunSetup.start(config)
        let before = run.trainer.model.params.array
        var recording = Recording()
        #expect(throws: TrainingError.self) { try run.run(next: { .proceed }) { recording.take($0) } }
        #expect(run.trainer.model.params.array == before, "no update was applied")
        #expect(allFinite(run.trainer.optimizer.m.array) && allFinite(run.trainer.optimizer.v.array))
        #expect(recording.messages.contains { $0.contains("would make weights non-finite") }, "\(recording.messages)")
        #expect(try filesAreFinite(dir.file("runs")))
    }

    @Test func nanMomentsNeverReachTheWeights() throws {
        let dir = TemporaryDirectory()
        let config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "nan-m", maxIters: 3)
        let run = try RunSetup.start(config)
        run.trainer.optimizer.m.pointer[7] = .nan
        run.trainer.optimizer.invalidateBounds()
        let before = run.trainer.model.params.array
        let result = try run.trainer.trainStep()
        #expect(result.skipped && result.nonFiniteUpdate)
        #expect(run.trainer.model.params.array == before)
    }

    @Test func aCheckpointIsNeverWrittenWithANonFiniteTensor() throws {
        let dir = TemporaryDirectory()
        let config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "nan-w", maxIters: 3)
        let run = try RunSetup.start(config)
        _ = try run.trainer.trainStep()
        run.trainer.model.params.pointer[3] = .infinity
        let error = expectError(CheckpointError.self) { _ = try run.recorder!.saveCheckpoint(run.trainer, evaluation: nil) }
        #expect(error?.problem.contains("non-finite") == true)
        #expect(try RunDirectory(dir.file("runs/nan-w")).checkpoints().isEmpty)
        #expect(try filesAreFinite(dir.file("runs")))
    }

    @Test func corruptOptimizerStateIsRefusedOnResume() throws {
        let dir = TemporaryDirectory()
        let config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "opt", maxIters: 30)
        _ = try train(try RunSetup.start(config))
        let runPath = dir.file("runs/opt")
        let optimizer = RunDirectory(runPath).optimizerPath(step: 30)
        let original = try SafeTensors.read(optimizer)
        func rewrite(_ change: (inout [NamedTensor], inout [String: String]) -> Void) throws {
            var tensors = original.tensors, metadata = original.metadata
            change(&tensors, &metadata)
            try SafeTensors.write(tensors, metadata: metadata, to: optimizer)
        }
        let cases: [(String, (inout [NamedTensor], inout [String: String]) -> Void, String)] = [
            ("nan m", { t, _ in t[t.firstIndex { $0.name.hasPrefix("m.") }!].values[0] = .nan }, "non-finite"),
            ("negative v", { t, _ in t[t.firstIndex { $0.name.hasPrefix("v.") }!].values[1] = -1 }, "negative"),
            ("other step", { _, m in m["step"] = "5" }, "step 5"),
            ("adamw_step", { _, m in m["adamw_step"] = "-100" }, "adamw_step"),
            ("adamw_step max", { _, m in m["adamw_step"] = "9223372036854775807" }, "adamw_step"),
        ]
        for (label, change, expected) in cases {
            try rewrite(change)
            let point = try ResumePoint.locate(runPath)
            let resumedConfig = try TrainConfig.load(path: point.configPath)
            let error = expectError(CheckpointError.self) { _ = try RunSetup.resume(from: point, config: resumedConfig) }
            #expect(error?.problem.contains(expected) == true, "\(label): \(String(describing: error))")
        }
        #expect(try filesAreFinite(dir.file("runs")))
    }

    @Test func twoTrainersCannotShareARunFolder() throws {
        let dir = TemporaryDirectory()
        let config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "shared", maxIters: 3)
        let first = try RunSetup.start(config)
        let error = expectError(CheckpointError.self) { _ = try RunSetup.start(config) }
        #expect(error?.problem.contains("pid \(getpid())") == true, "\(String(describing: error))")
        _ = try train(first)  // the lock goes with the end of the run
        _ = try RunSetup.resume(from: try ResumePoint.locate(dir.file("runs/shared")), config: config)
    }

    @Test(arguments: ["..", ".", "../../x", "a/b", "/abs", ".hidden", "-x", "a b", String(repeating: "n", count: 101)])
    func runNamesStayInsideRunsDir(name: String) throws {
        var config = TrainConfig()
        config.runName = name
        let error = expectError(ConfigError.self) { try config.validate() }
        #expect(error?.message.contains("run_name") == true)
    }

    @Test func defaultRunNamesNeverCollide() throws {
        let dir = TemporaryDirectory()
        let names = try (0..<3).map { _ in try RunSetup.claimDefaultName("same-second", in: dir.path) }
        #expect(names == ["same-second", "same-second-2", "same-second-3"])
    }

    @Test func staleTemporariesAreRemovedWhenARunResumes() throws {
        let dir = TemporaryDirectory()
        let config = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "tmp", maxIters: 30)
        _ = try train(try RunSetup.start(config))
        // A live pid (the parent of this test process): only the run's lock proves the writer is gone.
        let stale = dir.file("runs/tmp/checkpoints/.step-000030.safetensors.tmp.\(getppid()).beef")
        _ = FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3]))
        _ = try RunSetup.resume(from: try ResumePoint.locate(dir.file("runs/tmp")), config: config)
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    @Test func theMemoryEstimateCountsTheRealLayout() throws {
        for bias in [false, true] {
            for pos in GPTConfig.PositionalEncoding.allCases {
                let config = GPTConfig(vocabSize: 65, blockSize: 32, nLayer: 3, nHead: 2, nEmbd: 24, bias: bias, posEncoding: pos)
                let layout = ParameterLayout(config: config)
                #expect(MemoryBudget.parameterCount(config) == layout.totalCount)
                #expect(MemoryBudget.tensorCount(config) == layout.tensors.count)
            }
        }
        var absurd = TrainConfig()
        absurd.nLayer = 1_000_000
        let error = expectError(ConfigError.self) { try absurd.validate() }
        #expect(error?.message.contains("of memory") == true, "\(String(describing: error))")
    }
}
