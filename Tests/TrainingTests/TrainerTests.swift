import Foundation
import Testing
import GPT
import Kernels
import Tokenizers
@testable import Training
import TestSupport

/// A small config over a synthetic corpus: fast enough for unit tests, big enough to learn.
func tinyConfig(_ edit: (inout TrainConfig) -> Void = { _ in }) -> TrainConfig {
    var c = TrainConfig()
    c.nLayer = 2; c.nHead = 2; c.nEmbd = 32; c.blockSize = 16; c.batchSize = 8
    c.maxIters = 60; c.warmupIters = 5; c.lrDecayIters = 60; c.learningRate = 3e-3; c.minLR = 3e-4
    c.evalInterval = 20; c.evalIters = 2
    edit(&c)
    return c
}

/// Text with an obvious pattern ("abcabc…" interleaved with counting words) to learn quickly.
let tinyCorpus = String(repeating: "the cat sat on the mat. the dog sat on the log. ", count: 60)

func tinyTrainer(_ edit: (inout TrainConfig) -> Void = { _ in }) throws -> Trainer {
    let cfg = tinyConfig(edit)
    let tok = try CharTokenizer(corpus: tinyCorpus)
    let data = try Dataset(ids: try tok.encode(tinyCorpus), tokenizer: tok, blockSize: cfg.blockSize)
    return try Trainer(config: cfg, dataset: data)
}

@Suite struct TrainerTests {
    @Test func lossFallsOnALearnablePattern() throws {
        let trainer = try tinyTrainer()
        let before = trainer.evaluate()
        #expect(abs(before.valLoss - logf(Float(trainer.dataset.tokenizer.vocabSize))) < 0.3, "an untrained model is near-uniform")
        while !trainer.isFinished { _ = try trainer.trainStep() }
        let after = trainer.evaluate()
        #expect(after.valLoss < before.valLoss - 1.0, "val loss \(before.valLoss) → \(after.valLoss)")
    }

    @Test func aNonFiniteGradientIsSkippedAndNeverReachesTheWeights() throws {
        let trainer = try tinyTrainer { $0.maxBadSteps = 3 }
        _ = try trainer.trainStep()
        let weightsBefore = trainer.model.params.array
        let momentsBefore = trainer.optimizer.m.array
        trainer.afterBackward = { model in model.grads[17] = .nan }
        let r = try trainer.trainStep()
        #expect(r.skipped)
        #expect(r.gradNorm.isNaN)
        #expect(trainer.model.params.array == weightsBefore)
        #expect(trainer.optimizer.m.array == momentsBefore)
        #expect(trainer.model.params.array.allSatisfy { $0.isFinite })
        _ = try trainer.trainStep()
        // The third bad step in a row stops the run with a message.
        var stopped = false
        do { _ = try trainer.trainStep() } catch { stopped = error.description.contains("3 steps in a row") }
        #expect(stopped)
        // One good step resets the count.
        trainer.afterBackward = nil
        let ok = try trainer.trainStep()
        #expect(!ok.skipped)
        #expect(trainer.model.params.array != weightsBefore)
    }

    @Test func gradientAccumulationEqualsOneBigBatch() throws {
        // Two micro-batches of 4 give the same update as one batch of 8 drawn from the same stream.
        let big = try tinyTrainer { $0.batchSize = 8; $0.gradientAccumulationSteps = 1 }
        let small = try tinyTrainer { $0.batchSize = 4; $0.gradientAccumulationSteps = 2 }
        let a = try big.trainStep(), b = try small.trainStep()
        #expect(abs(a.loss - b.loss) < 1e-5)
        #expect(abs(a.gradNorm - b.gradNorm) / a.gradNorm < 1e-4)
        let pa = big.model.params.array, pb = small.model.params.array
        #expect(zip(pa, pb).map { abs($0 - $1) }.max()! < 1e-5)
    }

    @Test func trainingIsDeterministicForASeed() throws {
        let a = try tinyTrainer { $0.dropout = 0.1 }, b = try tinyTrainer { $0.dropout = 0.1 }
        for _ in 0..<5 {
            let ra = try a.trainStep(), rb = try b.trainStep()
            #expect(ra.loss == rb.loss)
        }
        #expect(a.model.params.array == b.model.params.array)
    }

    @Test func learningRateScheduleIsNanoGPTs() {
        let s = LearningRateSchedule(maxLR: 1e-3, minLR: 1e-4, warmupIters: 100, decayIters: 2000)
        // Values from nanoGPT's get_lr.
        #expect(abs(s.lr(at: 0) - 1e-3 / 101) < 1e-9)
        #expect(abs(s.lr(at: 99) - 1e-3 * 100 / 101) < 1e-9)
        #expect(abs(s.lr(at: 100) - 1e-3) < 1e-9)
        #expect(abs(s.lr(at: 1050) - 5.5e-4) < 1e-8)
        #expect(abs(s.lr(at: 2000) - 1e-4) < 1e-9)
        #expect(s.lr(at: 5000) == 1e-4)
    }

    /// Clearing the gradients inside the update changes nothing else, and each step's gradient is
    /// its own: the second step of a trainer equals a step computed from explicitly zeroed ones.
    @Test func theOptimizerClearsTheGradientsItConsumes() throws {
        let a = try tinyTrainer(), b = try tinyTrainer()
        var rng = RandomNumbers(seed: 3)
        for i in 0..<a.model.grads.count { a.model.grads[i] = rng.nextGaussian(); b.model.grads[i] = a.model.grads[i] }
        a.optimizer.update(params: a.model.params, grads: a.model.grads, lr: 0.01, gradScale: 0.5)
        b.optimizer.update(params: b.model.params, grads: b.model.grads, lr: 0.01, gradScale: 0.5, clearingGradients: true)
        #expect(a.model.params.array == b.model.params.array)
        #expect(a.optimizer.m.array == b.optimizer.m.array && a.optimizer.v.array == b.optimizer.v.array)
        #expect(b.model.grads.array.allSatisfy { $0 == 0 } && a.model.grads.array.contains { $0 != 0 })

        let trainer = try tinyTrainer()
        _ = try trainer.trainStep()
        #expect(trainer.model.grads.array.allSatisfy { $0 == 0 }, "cleared by the update")
        let second = try trainer.trainStep()
        // The same step from scratch: weights and optimizer state copied, gradients zeroed by hand.
        let fresh = try tinyTrainer()
        _ = try fresh.trainStep()
        fresh.model.zeroGradients()
        let again = try fresh.trainStep()
        #expect(second.gradNorm == again.gradNorm && trainer.model.params.array == fresh.model.params.array)
    }

    @Test func adamWDecaysOnlyMatrices() throws {
        let trainer = try tinyTrainer()
        let opt = trainer.optimizer
        let model = trainer.model
        model.zeroGradients()  // zero gradient: only weight decay can move the weights
        let before = model.params.array
        opt.update(params: model.params, grads: model.grads, lr: 0.1)
        for t in model.layout.tensors {
            let i = t.offset
            if t.decays {
                #expect(abs(model.params[i] - before[i] * (1 - 0.1 * 0.1)) < 1e-7, "\(t.name) decays")
            } else {
                #expect(model.params[i] == before[i], "\(t.name) does not decay")
            }
        }
    }
}

@Suite struct BadInputTests {
    func write(_ text: String, _ dir: TemporaryDirectory, _ name: String = "c.toml") -> String {
        let p = dir.file(name)
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    @Test func configProblemsNameTheKeyAndTheFix() {
        let dir = TemporaryDirectory()
        let cases: [(String, String)] = [
            ("n_embd = 130\nn_head = 4", "not divisible by n_head"),
            ("n_layer = 0", "n_layer = 0 must be a positive"),
            ("batch_size = -3", "batch_size = -3 must be a positive"),
            ("learning_rat = 0.1", "unknown config key learning_rat (did you mean learning_rate?)"),
            ("max_iters = \"ten\"", "max_iters must be a whole number"),
            ("dropout = 1.5", "dropout = 1.5 must be in [0, 1)"),
            ("n_layer 4", "c.toml:1: not valid TOML"),
            ("data = [1, 2]", "c.toml:1: data is an array"),
            ("n_layer = 2\nn_layer = 3", "c.toml:2: n_layer is already set on line 1"),
        ]
        for (text, expected) in cases {
            let path = write(text, dir)
            do {
                var cfg = try TrainConfig.load(path: path)
                try cfg.validate()
                cfg.data = ""
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.message.contains(expected), "\(text) → \(error.message)")
            }
        }
        #expect(throws: ConfigError.self) { try TrainConfig.load(path: dir.file("missing.toml")) }
    }

    @Test func configRoundTripsThroughItsTOML() throws {
        let dir = TemporaryDirectory()
        var cfg = tinyConfig { $0.data = "/x/y.txt"; $0.dropout = 0.25; $0.posEncoding = .sinusoidal; $0.runName = "r" }
        cfg.bias = true
        let path = write(cfg.tomlText, dir)
        #expect(try TrainConfig.load(path: path) == cfg)
    }

    @Test func corpusProblemsAreClearErrors() throws {
        let dir = TemporaryDirectory()
        func message(_ path: String) -> String {
            do { _ = try Dataset.load(path: path, tokenizer: nil, blockSize: 64); return "" } catch { return error.message }
        }
        #expect(message(dir.file("nope.txt")).contains("does not exist"))
        #expect(message(dir.path).contains("is a folder"))
        #expect(message(write("", dir, "empty.txt")).contains("is empty"))
        let bad = dir.file("latin1.txt")
        try Data([0x68, 0x69, 0xE9, 0x21]).write(to: URL(fileURLWithPath: bad))
        #expect(message(bad).contains("not UTF-8 text (invalid byte at offset 2)"))
        #expect(message(write(String(repeating: "short text ", count: 20), dir, "short.txt")).contains("needs at least block_size + 2 = 66"))
    }
}
