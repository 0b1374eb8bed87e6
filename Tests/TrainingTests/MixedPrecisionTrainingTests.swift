import Foundation
import GPT
import Kernels
import Testing
@testable import Training
import SafeTensors
import TestSupport

/// `dtype` in the training loop: float16's loss scaler (scaled backward, unscale, skip on
/// overflow without stopping the run), its state in the optimizer checkpoint, exact resume in
/// every dtype, and the metrics fields.
@Suite struct MixedPrecisionTrainingTests {
    /// Puts an ∞ into one gradient after the backward pass of the given steps (0-based).
    static func overflow(at steps: Set<Int>, _ trainer: Trainer) {
        trainer.afterBackward = { [unowned trainer] model in
            if steps.contains(trainer.step) { model.grads[3] = .infinity }
        }
    }

    @Test(arguments: DType.allCases)
    func stoppingAndResumingIsBitExact(dtype: DType) throws {
        let dir = TemporaryDirectory()
        let corpus = try writeSyntheticCorpus(in: dir)
        let runs = dir.file("runs")
        func config(_ name: String) -> TrainConfig {
            var c = tinyRunConfig(corpus: corpus, runsDir: runs, name: name, maxIters: 60)
            c.dtype = dtype
            return c
        }
        let straight = try RunSetup.start(config("straight"))
        Self.overflow(at: [4, 7], straight.trainer)
        let whole = try train(straight)
        #expect(whole.losses.count == 60)

        let first = try RunSetup.start(config("split"))
        Self.overflow(at: [4, 7], first.trainer)
        let firstHalf = try train(first, stopAt: 30)
        let point = try ResumePoint.locate(runs + "/split")
        #expect(point.checkpoint.step == 30)
        let loadedConfig = try TrainConfig.load(path: point.configPath)
        #expect(loadedConfig.dtype == dtype)
        let resumed = try RunSetup.resume(from: point, config: loadedConfig)
        #expect(resumed.trainer.model.dtype == dtype)
        if dtype == .float16 {
            // Two forced overflows before step 30: the scale was halved twice and is restored so.
            #expect(resumed.trainer.lossScaler == LossScaler(scale: 16384, finiteStreak: 30 - 8, skippedSteps: 2))
        }
        let secondHalf = try train(resumed)
        for step in 1...60 {
            let expected = whole.losses[step]?.bitPattern
            let actual = (step <= 30 ? firstHalf.losses[step] : secondHalf.losses[step])?.bitPattern
            #expect(expected != nil && actual == expected, "\(dtype) step \(step)")
        }
        #expect(straight.trainer.model.params.array == resumed.trainer.model.params.array)
        #expect(straight.trainer.optimizer.v.array == resumed.trainer.optimizer.v.array)
        #expect(straight.trainer.lossScaler == resumed.trainer.lossScaler)

        let metrics = try MetricsLog.read(runs + "/split/metrics.jsonl").filter { $0.trainLoss != nil }
        #expect(!metrics.isEmpty && metrics.allSatisfy { $0.dtype == dtype.rawValue })
        if dtype == .float16 {
            #expect(metrics.last?.lossScale == 16384 && metrics.last?.skippedSteps == 2)
            // A float32 or bfloat16 run has no scaler, and forced infinities are ordinary bad steps.
        } else {
            #expect(metrics.allSatisfy { $0.lossScale == nil && $0.skippedSteps == nil })
        }
    }

    /// Overflow skips leave weights and moments untouched, halve the scale, and never stop the
    /// run, even with max_bad_steps = 1; a run of finite steps grows the scale.
    @Test func float16OverflowsAreSkippedNotFatal() throws {
        let dir = TemporaryDirectory()
        var c = tinyRunConfig(corpus: try writeSyntheticCorpus(in: dir), runsDir: dir.file("runs"), name: "o", maxIters: 10)
        c.dtype = .float16
        c.maxBadSteps = 1
        let trainer = try Trainer(config: c, dataset: try Dataset.prepare(config: c))
        #expect(trainer.model.dtype == .float16 && trainer.lossScaler?.scale == 65536)
        Self.overflow(at: [2, 3, 4], trainer)
        var before: [Float] = []
        for i in 0..<8 {
            if i == 2 { before = trainer.model.params.array }
            let r = try trainer.trainStep()
            #expect(r.overflowed == (2...4).contains(i) && r.skipped == r.overflowed)
            #expect(r.lossScale == (i < 2 ? 65536 : i == 2 ? 65536 : i == 3 ? 32768 : i == 4 ? 16384 : 8192))
            if i == 4 { #expect(trainer.model.params.array == before, "skipped steps changed the weights") }
        }
        #expect(trainer.lossScaler == LossScaler(scale: 8192, finiteStreak: 3, skippedSteps: 3))
        #expect(trainer.consecutiveBadSteps == 0)

        var off = c
        off.lossScaling = false
        let plain = try Trainer(config: off, dataset: try Dataset.prepare(config: off))
        let plainStep = try plain.trainStep()
        #expect(plain.lossScaler == nil && plainStep.lossScale == nil)
    }

    @Test func dtypeAndLossScalingAreConfigKeys() throws {
        var c = TrainConfig()
        try c.set("dtype", .string("bfloat16"))
        try c.set("loss_scaling", .bool(false))
        #expect(c.dtype == .bfloat16 && !c.lossScaling)
        #expect(c.tomlText.contains("dtype = \"bfloat16\"") && c.tomlText.contains("loss_scaling = false"))
        #expect(throws: ConfigError.self) { try c.set("dtype", .string("float8")) }
    }
}
