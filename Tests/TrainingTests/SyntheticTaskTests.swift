import Foundation
import Testing
import GPT
import Tokenizers
@testable import Training
import TestSupport

@Suite struct SyntheticTaskTests {
    /// Checks a problem against the task's definition, computed independently of the generator.
    func expectValid(_ p: SyntheticTask.Problem, _ task: SyntheticTask, sourceLocation: SourceLocation = #_sourceLocation) {
        let line = p.line
        #expect(line.unicodeScalars.count == task.lineLength, "\(line)", sourceLocation: sourceLocation)
        #expect(line.unicodeScalars.allSatisfy(task.vocabulary.contains), "\(line)", sourceLocation: sourceLocation)
        #expect(line.hasSuffix("\n") && line.dropLast().allSatisfy { $0 != "\n" }, sourceLocation: sourceLocation)
        let n = task.size
        switch task.kind {
        case .sort:
            let digits = Array(p.prompt.dropLast())
            #expect(p.prompt.last == "|" && digits.count == n && digits.allSatisfy(\.isNumber), sourceLocation: sourceLocation)
            let answer = Array(p.answer)
            #expect(answer.count == n, sourceLocation: sourceLocation)
            #expect(zip(answer, answer.dropFirst()).allSatisfy { $0 <= $1 }, "not ascending: \(p.answer)", sourceLocation: sourceLocation)
            #expect(Dictionary(grouping: answer, by: { $0 }).mapValues(\.count) == Dictionary(grouping: digits, by: { $0 }).mapValues(\.count),
                    "not a permutation: \(line)", sourceLocation: sourceLocation)
        case .add:
            let parts = p.prompt.dropLast().split(separator: "+").map(String.init)
            #expect(p.prompt.last == "=" && parts.count == 2 && parts.allSatisfy { $0.count == n }, "\(line)", sourceLocation: sourceLocation)
            let sum = Int(String(p.answer.reversed()))
            #expect(p.answer.count == n + 1 && sum == Int(parts[0])! + Int(parts[1])!, "\(line)", sourceLocation: sourceLocation)
        case .reverse, .copy:
            let text = String(p.prompt.dropLast())
            #expect(p.prompt.last == "|" && text.count == n && text.allSatisfy { $0.isLowercase }, sourceLocation: sourceLocation)
            #expect(p.answer == (task.kind == .copy ? text : String(text.reversed())), "\(line)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["task:sort", "task:sort:3", "task:add", "task:add:1", "task:add:5", "task:reverse", "task:copy:2", "task:copy:12"])
    func generatedProblemsAreValid(name: String) throws {
        let task = try #require(try SyntheticTask.named(name))
        var rng = RandomNumbers(seed: 7)
        for _ in 0..<2000 { expectValid(task.randomProblem(rng: &rng), task) }
        for split in [Dataset.Split.train, .val] {
            for p in task.problems(split, count: 200, rng: &rng) {
                expectValid(p, task)
                #expect(task.isHeldOut(p) == (split == .val))
            }
        }
    }

    @Test func theSmallestTasksStillHoldProblemsOut() throws {
        // Drawing held-out problems is by rejection: it needs some to exist.
        for kind in SyntheticTask.Kind.allCases {
            let task = try SyntheticTask(kind: kind, size: kind.minimumSize)
            var rng = RandomNumbers(seed: 1)
            #expect(task.problems(.val, count: 5, rng: &rng).allSatisfy(task.isHeldOut))
        }
    }

    @Test func examplesFromTheDocumentation() throws {
        let sort = try SyntheticTask(kind: .sort)
        #expect(sort.problem(Array("31415926".unicodeScalars)).line == "31415926|11234569\n")
        let add = try SyntheticTask(kind: .add)
        #expect(add.problem(Array("123456".unicodeScalars)).line == "123+456=9750\n")
        #expect(add.problem(Array("999999".unicodeScalars)).line == "999+999=8991\n")
        #expect(try SyntheticTask(kind: .reverse).problem(Array("nanogpts".unicodeScalars)).line == "nanogpts|stpgonan\n")
        #expect(try SyntheticTask(kind: .copy).problem(Array("nanogpts".unicodeScalars)).line == "nanogpts|nanogpts\n")
    }

    @Test func namesAndTheirMistakes() throws {
        #expect(try SyntheticTask.named("task:sort") == SyntheticTask(kind: .sort, size: 8))
        #expect(try SyntheticTask.named("task:add:2") == SyntheticTask(kind: .add, size: 2))
        #expect(try SyntheticTask.named("recipe:shakespeare") == nil)
        #expect(try SyntheticTask.named("input.txt") == nil)
        func message(_ name: String) -> String {
            do { _ = try SyntheticTask.named(name); return "" } catch { return error.message }
        }
        #expect(message("task:sorting").contains("task:sort, task:add, task:reverse, task:copy"))
        #expect(message("task:sort:x").contains("whole number"))
        #expect(message("task:sort:1").contains("between 2 and 64"))
        #expect(message("task:add:2:3").contains("unknown task"))
    }

    @Test func heldOutProblemsNeverAppearInTraining() throws {
        // 10⁴ problems in all: the 200k training lines cover every training problem many times
        // over, so a leak from the held-out tenth would show.
        let task = try SyntheticTask(kind: .add, size: 2)
        let data = try task.dataset(seed: 3, blockSize: 32, accuracyProblems: 100)
        func lines(_ ids: [Int32]) -> Set<String> {
            Set(data.tokenizer.decode(ids).split(separator: "\n").map(String.init))
        }
        let train = lines(data.train), val = lines(data.val)
        #expect(train.isDisjoint(with: val))
        #expect(train.count > 8_500 && train.count <= 9_500, "the training lines should cover ~90% of the 10⁴ problems, got \(train.count)")
        #expect(val.count > 500 && val.count < 1_500, "the held-out lines should cover ~10%, got \(val.count)")
        #expect(data.task?.heldOut.count == 100)
        #expect(Set(data.task!.heldOut.map { String($0.line.dropLast()) }).isSubset(of: val))
        #expect(Set(data.task!.heldOut).count == 100, "the accuracy problems are distinct")
    }

    @Test func theSplitDoesNotDependOnTheSeed() throws {
        let task = try SyntheticTask(kind: .sort, size: 4)
        let a = try task.dataset(seed: 1, blockSize: 16, accuracyProblems: 50)
        let b = try task.dataset(seed: 2, blockSize: 16, accuracyProblems: 50)
        #expect(a.train != b.train)
        let trainA = Set(a.tokenizer.decode(a.train).split(separator: "\n"))
        let valB = Set(b.tokenizer.decode(b.val).split(separator: "\n"))
        #expect(trainA.isDisjoint(with: valB))
    }

    @Test func exactMatchCountsWholeAnswers() {
        #expect(SyntheticTask.exactMatch(["012", "345", "678", "999"], ["012", "345", "677", "999"]) == 0.75)
        #expect(SyntheticTask.exactMatch(["1"], ["1"]) == 1)
        // A nearly right answer is wrong.
        #expect(SyntheticTask.exactMatch(["1234", "123"], ["1235", "1234"]) == 0)
        #expect(SyntheticTask.exactMatch([], []) == 0)
    }

    func untrainedModel(_ task: SyntheticTask, blockSize: Int = 24) throws -> GPT {
        try GPT(config: GPTConfig(vocabSize: task.vocabulary.count, blockSize: blockSize, nLayer: 2, nHead: 2, nEmbd: 32), seed: 5)
    }

    @Test func batchedDecodingMatchesDecodingOneProblemAtATime() throws {
        let task = try SyntheticTask(kind: .sort, size: 6)
        let model = try untrainedModel(task)
        let tok = try CharTokenizer(vocab: task.vocabulary)
        var rng = RandomNumbers(seed: 11)
        let problems = task.problems(.val, count: 13, rng: &rng)
        // 13 problems 5 at a time: the last chunk is padded.
        let batched = task.greedyAnswers(model: model, tokenizer: tok, problems: problems, rows: 5)
        // The plain way: a growing sequence, one problem, one token at a time.
        let naive = try problems.map { p in
            var ids = try tok.encode(p.prompt)
            for _ in 0..<task.answerLength {
                model.forward(tokens: ids, targets: nil, batch: 1, seqLen: ids.count)
                let logits = Array(model.logits(row: ids.count - 1))
                ids.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
            }
            return tok.decode(Array(ids.suffix(task.answerLength)))
        }
        #expect(batched == naive)
        #expect(batched.allSatisfy { $0.unicodeScalars.count == task.answerLength })
    }

    @Test func aModelThatLearnedNothingScoresAboutZero() throws {
        let task = try SyntheticTask(kind: .sort, size: 6)
        let data = try task.dataset(seed: 1, blockSize: 24, accuracyProblems: 200)
        let accuracy = try #require(SyntheticTask.accuracy(model: try untrainedModel(task), dataset: data, tokensPerForward: 24 * 16))
        #expect(accuracy < 0.02)
    }

    @Test func aTextCorpusHasNoAccuracy() throws {
        let trainer = try tinyTrainer()
        #expect(trainer.evaluate().taskAccuracy == nil)
    }

    @Test func accuracyRisesAsTheModelLearnsToCopy() throws {
        // One 8-character problem per window, as in the sample configs.
        let cfg = tinyConfig {
            $0.data = "task:copy:3"; $0.blockSize = 8; $0.batchSize = 32; $0.maxIters = 300; $0.lrDecayIters = 300
            $0.learningRate = 1e-2; $0.minLR = 1e-3; $0.taskEvalProblems = 200
        }
        let trainer = try Trainer(config: cfg, dataset: try Dataset.prepare(config: cfg))
        let floor = try #require(trainer.dataset.task).task.lossFloor
        let before = try #require(trainer.evaluate().taskAccuracy)
        while !trainer.isFinished { _ = try trainer.trainStep() }
        let after = trainer.evaluate()
        let accuracy = try #require(after.taskAccuracy)
        #expect(before < 0.05)
        #expect(accuracy > 0.9, "accuracy \(accuracy) after \(trainer.step) steps, val loss \(after.valLoss)")
        // Learning the task cannot beat the entropy of the random prompts.
        #expect(Double(after.valLoss) > floor - 0.05)
    }

    @Test func theLossFloorCountsTheRandomSymbolsAmongAWindowsTargets() throws {
        // The sample config's figure: 8 letters of 26 over an 18-token line.
        #expect(abs(try SyntheticTask(kind: .reverse).lossFloor - 1.4480) < 1e-4)
        // sort:3 is "312|123\n": L = 8, random offsets 0, 1, 2.
        let sort = try SyntheticTask(kind: .sort, size: 3)
        #expect(abs(sort.lossFloor(blockSize: 8) - 3 * log(10) / 8) < 1e-12)
        // T = 9: targets 1…9, random at 1, 2, 8 (the next line's first digit) and 9.
        #expect(abs(sort.lossFloor(blockSize: 9) - 4 * log(10) / 9) < 1e-12)
        #expect(abs(sort.lossFloor(blockSize: 16) - 6 * log(10) / 16) < 1e-12)
        // add:2 is "12+34=640\n": L = 10, random offsets 0, 1, 3, 4; T = 12 has 1, 3, 4, 10, 11.
        let add = try SyntheticTask(kind: .add, size: 2)
        #expect(add.lineLength == 10)
        #expect(abs(add.lossFloor(blockSize: 10) - 4 * log(10) / 10) < 1e-12)
        #expect(abs(add.lossFloor(blockSize: 12) - 5 * log(10) / 12) < 1e-12)
        // The offsets called random are all a line needs: the rest is rebuilt from them alone.
        for kind in SyntheticTask.Kind.allCases {
            let task = try SyntheticTask(kind: kind, size: 3)
            var rng = RandomNumbers(seed: 4)
            for _ in 0..<50 {
                let line = Array(task.randomProblem(rng: &rng).line.unicodeScalars)
                #expect(task.problem(task.randomOffsets.map { line[$0] }).line.unicodeScalars.elementsEqual(line), "\(kind)")
            }
        }
    }

    @Test func configMistakesWithTasksAreExplained() {
        func message(_ edit: (inout TrainConfig) -> Void) -> String {
            var cfg = TrainConfig()
            edit(&cfg)
            do { _ = try Dataset.prepare(config: cfg); return "" } catch { return error.message }
        }
        #expect(message { $0.data = "task:sort"; $0.blockSize = 16 }.contains("block_size = 16 must be at least 18"))
        #expect(message { $0.data = "task:add"; $0.tokenizer = "bpe" }.contains("own character vocabulary"))
        #expect(message { $0.data = "task:nope" }.contains("unknown task"))
    }

    @Test func metricsLinesCarryTheAccuracyOnlyWhenThereIsOne() throws {
        let with = MetricsRecord(step: 500, trainLoss: 1.1, valLoss: 1.2, taskAccuracy: 0.975, time: 9)
        #expect(with.jsonLine.contains("\"val_loss\":1.2,\"task_accuracy\":0.975,"))
        #expect(MetricsRecord(jsonLine: with.jsonLine) == with)
        let without = MetricsRecord(step: 500, trainLoss: 1.1, time: 9)
        #expect(!without.jsonLine.contains("task_accuracy"))
        #expect(MetricsRecord(jsonLine: without.jsonLine)?.taskAccuracy == nil)
    }
}

@Suite struct RandomTokenDataTests {
    @Test func randomTokensAreUniformOverTheVocabularyAndSeeded() throws {
        var config = TrainConfig()
        config.data = "random:1000"
        let a = try Dataset.prepare(config: config), b = try Dataset.prepare(config: config)
        #expect(a.train == b.train && a.val == b.val)
        #expect(a.train.count == 1 << 20 && a.val.count == 1 << 18)
        #expect(a.tokenizer.vocabSize == 1000)
        #expect(a.train.allSatisfy { $0 >= 0 && $0 < 1000 })
        #expect(Set(a.train).count == 1000)
        config.seed = 7
        #expect(try Dataset.prepare(config: config).train != a.train)
        for bad in ["random:", "random:0", "random:x", "random:99999999999"] {
            config.data = bad
            #expect(throws: ConfigError.self) { try Dataset.prepare(config: config) }
        }
    }

    /// `Samples/gpt2-small.toml` as written (`data = "random:50304"`) through `train`: the run's
    /// setup once took `random:N` for a file name relative to the working directory.
    @Test func aRunOnRandomTokensStartsFromAnyFolder() throws {
        let dir = TemporaryDirectory()
        var config = tinyRunConfig(corpus: "random:97", runsDir: dir.file("runs"), name: "random", maxIters: 2)
        config.gradientAccumulationSteps = 1
        let run = try RunSetup.start(config)
        #expect(run.trainer.config.data == "random:97")
        #expect(run.trainer.model.config.vocabSize == 97)
        _ = try run.run(next: { .proceed }) { _ in }
        // And it resumes: the tokens are drawn again from the seed, not read from a file.
        let resumed = try RunSetup.resume(from: try ResumePoint.locate(dir.file("runs/random")), config: config)
        #expect(resumed.trainer.step == 2 && resumed.trainer.model.config.vocabSize == 97)
        #expect(!Dataset.namesAFile("random:97") && !Dataset.namesAFile("task:sort") && !Dataset.namesAFile("recipe:shakespeare"))
        #expect(Dataset.namesAFile("corpus.txt"))
    }
}
