import Foundation
import Synchronization
import Testing
import Kernels
@testable import GPT

/// A small model with every parameter random (biases and LayerNorm gains too, so that a bias
/// that is read from the wrong place cannot hide behind an initial zero or one).
func randomModel(_ config: GPTConfig, seed: UInt64 = 7) throws -> GPT {
    let model = try GPT(config: config, seed: seed)
    var rng = RandomNumbers(seed: seed &+ 1)
    for t in model.layout.tensors where t.shape.count == 1 {
        let p = try #require(model.parameter(t.name))
        for i in 0..<t.count { p[i] = (t.name.hasSuffix(".weight") ? 1 : 0) + 0.3 * rng.nextGaussian() }
    }
    // Larger weights than the 0.02 init, so the logits are far from uniform.
    for t in model.layout.tensors where t.shape.count == 2 {
        let p = try #require(model.parameter(t.name))
        for i in 0..<t.count { p[i] *= 8 }
    }
    model.parameterVersion += 1
    return model
}

/// The logits of the last position of a full forward pass over `context`.
func referenceLogits(_ model: GPT, _ context: [Int32]) -> [Float] {
    model.forward(tokens: context, targets: nil, batch: 1, seqLen: context.count)
    return Array(model.logits(row: context.count - 1))
}

func maxAbsDifference(_ a: UnsafeBufferPointer<Float>, _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite struct GenerationTests {
    static let shapes: [(GPTConfig.PositionalEncoding, Bool)] = [(.learned, false), (.learned, true), (.sinusoidal, false), (.sinusoidal, true)]

    static func config(_ pos: GPTConfig.PositionalEncoding, bias: Bool) -> GPTConfig {
        // hs = 12 and a block of 20 exercise the kernels' ragged (non-multiple-of-16) paths.
        GPTConfig(vocabSize: 37, blockSize: 20, nLayer: 2, nHead: 3, nEmbd: 36, bias: bias, posEncoding: pos)
    }

    @Test(arguments: shapes, [1, 7, 20])
    func cachedLogitsEqualFullForwardAtEveryPosition(shape: (GPTConfig.PositionalEncoding, Bool), slideKeep: Int) throws {
        let config = Self.config(shape.0, bias: shape.1)
        let model = try randomModel(config)
        let generator = try Generator(ModelWeights(copying: model), slideKeep: slideKeep)
        var rng = RandomNumbers(seed: 99)
        let stream = (0..<70).map { _ in Int32(rng.nextInt(below: config.vocabSize)) }

        generator.start(prompt: Array(stream.prefix(3)))
        var worst: Float = 0
        var expectedContext = Array(stream.prefix(3))
        for token in stream.dropFirst(3) {
            #expect(generator.context == expectedContext)
            let diff = maxAbsDifference(generator.nextTokenLogits, referenceLogits(model, generator.context))
            worst = max(worst, diff)
            #expect(diff <= 1e-5, "context length \(generator.context.count)")
            generator.append(token)
            // nanoGPT's crop, down to slideKeep tokens once the window is full.
            expectedContext.append(token)
            if expectedContext.count > config.blockSize { expectedContext = Array(expectedContext.suffix(slideKeep)) }
        }
        // The stream is long enough to slide several times.
        #expect(generator.prefillCount >= 1 + (70 - 3 - config.blockSize) / max(1, config.blockSize - slideKeep + 1))
        #expect(generator.prefillCount > 2)
        #expect(worst <= 1e-5)
    }

    @Test func threadsGiveTheSameLogitsAsOneThread() throws {
        let config = Self.config(.learned, bias: true)
        let weights = ModelWeights(copying: try randomModel(config))
        let serial = try Generator(weights, slideKeep: 5)
        let parallel = try Generator(weights, slideKeep: 5, pool: WorkerPool(workers: 2))
        serial.start(prompt: [1, 2, 3, 4])
        parallel.start(prompt: [1, 2, 3, 4])
        for i in 0..<40 {
            #expect(Array(serial.nextTokenLogits) == Array(parallel.nextTokenLogits))
            serial.append(Int32(i % 37))
            parallel.append(Int32(i % 37))
        }
    }

    /// The baby model's widths (C = 128, 4 heads of 32: two 64-column panels per q, k and v) on
    /// one, two and three threads — two split heads and panels evenly, three unevenly (heads
    /// 1/1/2) — give the same logits bit for bit through steps and slides, and the full forward's.
    @Test func oneTwoAndThreeThreadsAgreeAtTheBabyWidths() throws {
        let config = GPTConfig(vocabSize: 37, blockSize: 20, nLayer: 2, nHead: 4, nEmbd: 128, bias: true, posEncoding: .learned)
        let model = try randomModel(config)
        let weights = ModelWeights(copying: model)
        let generators = try [1, 2, 3].map { try Generator(weights, slideKeep: 5, pool: WorkerPool(workers: $0)) }
        for g in generators { g.start(prompt: [1, 2, 3, 4]) }
        for i in 0..<45 {
            let logits = generators.map { Array($0.nextTokenLogits) }
            #expect(logits[1] == logits[0] && logits[2] == logits[0], "token \(i)")
            #expect(maxAbsDifference(generators[1].nextTokenLogits, referenceLogits(model, generators[1].context)) <= 1e-5)
            for g in generators { g.append(Int32(i % 37)) }
        }
        #expect(generators[1].prefillCount > 2)
    }

    /// Each team member's panels, of every matrix in the order a token uses them, are one
    /// contiguous run, member after member (the layout the L2 needs: see `Generator`'s "Speed").
    @Test(arguments: [1, 2, 3])
    func eachMembersPanelsAreOneContiguousRun(workers: Int) throws {
        let config = GPTConfig(vocabSize: 37, blockSize: 20, nLayer: 2, nHead: 4, nEmbd: 128, bias: true, posEncoding: .learned)
        let generator = try Generator(ModelWeights(copying: try randomModel(config)), pool: WorkerPool(workers: workers))
        let c = config.nEmbd
        typealias Matrix = (first: Int, n: Int, k: Int)
        let matrices: [Matrix] = generator.packedBlocks.flatMap { b -> [Matrix] in
            [(b.attn, 3 * c, c), (b.attnProj, c, c), (b.fc, 4 * c, c), (b.fcProj, c, 4 * c)]
        } + [(generator.packedHead, config.vocabSize, c)]
        var expected = 0
        for member in 0..<workers {
            for matrix in matrices {
                let count = MatVec.panelCount(outFeatures: matrix.n)
                for p in TeamMember.share(of: count, member: member, teamSize: workers) {
                    #expect(generator.panelOffsets[matrix.first + p] == expected, "member \(member), panel \(p)")
                    expected += matrix.k * MatVec.panelWidth
                }
            }
        }
        #expect(expected * MemoryLayout<Float>.stride == generator.weightBytes)
    }

    @Test func longPromptKeepsItsLastBlockAndShortPromptsPrefillExactly() throws {
        let config = Self.config(.learned, bias: true)
        let model = try randomModel(config)
        let generator = try Generator(ModelWeights(copying: model))
        let prompt = (0..<45).map { Int32($0 % 37) }
        generator.start(prompt: prompt)
        #expect(generator.context == Array(prompt.suffix(20)))
        #expect(maxAbsDifference(generator.nextTokenLogits, referenceLogits(model, generator.context)) <= 1e-5)
        generator.start(prompt: [5])
        #expect(generator.context == [5])
        #expect(maxAbsDifference(generator.nextTokenLogits, referenceLogits(model, [5])) <= 1e-5)
    }

    @Test func generatorKeepsItsOwnCopyOfTheWeights() throws {
        let model = try randomModel(Self.config(.learned, bias: false))
        let generator = try Generator(ModelWeights(copying: model))
        generator.start(prompt: [1, 2, 3])
        let before = Array(generator.nextTokenLogits)
        model.params.zero()  // the training model moves on
        model.parameterVersion += 1
        generator.start(prompt: [1, 2, 3])
        #expect(Array(generator.nextTokenLogits) == before)
        // Loading new weights changes the output and empties the cache.
        generator.load(ModelWeights(copying: model))
        #expect(generator.context.isEmpty)
        generator.start(prompt: [1, 2, 3])
        #expect(Array(generator.nextTokenLogits) != before)
    }

    @Test func rejectsWeightsOfTheWrongSizeAndBadWindows() throws {
        let config = Self.config(.learned, bias: false)
        #expect(throws: ConfigError.self) { try Generator(ModelWeights(config: config, parameters: [1, 2, 3])) }
        let model = try randomModel(config)
        #expect(throws: ConfigError.self) { try Generator(ModelWeights(copying: model), slideKeep: 0) }
        #expect(throws: ConfigError.self) { try Generator(ModelWeights(copying: model), slideKeep: 21) }
    }

    @Test func sameSeedSameTokensAndCallbackCanStop() throws {
        let model = try randomModel(Self.config(.sinusoidal, bias: true))
        let generator = try Generator(ModelWeights(copying: model))
        func run(seed: UInt64, max: Int = 60) -> ([Int32], GenerationEnd) {
            var sampler = Sampler(settings: SamplingSettings(temperature: 1.2, topK: 20, topP: 0.95), seed: seed)
            var out: [Int32] = []
            let end = generator.generate(prompt: [3, 4], maxTokens: max, sampler: &sampler) { t in
                #expect(t.index == out.count)
                out.append(t.token)
                return .proceed
            }
            return (out, end)
        }
        let (a, endA) = run(seed: 5), (b, _) = run(seed: 5), (c, _) = run(seed: 6)
        #expect(endA == .finished && a.count == 60)
        #expect(a == b)
        #expect(a != c)

        var sampler = Sampler(settings: .greedy, seed: 1)
        var seen = 0
        let end = generator.generate(prompt: [1], maxTokens: 100, sampler: &sampler) { _ in
            seen += 1
            return seen == 4 ? .stop : .proceed
        }
        #expect(end == .stopped && seen == 4)
    }

    @Test func greedyGenerationMatchesArgmaxOfFullForward() throws {
        let config = Self.config(.learned, bias: false)
        let model = try randomModel(config)
        let generator = try Generator(ModelWeights(copying: model), slideKeep: config.blockSize)
        var sampler = Sampler(settings: .greedy, seed: 0)
        var tokens: [Int32] = []
        generator.generate(prompt: [0], maxTokens: 30, sampler: &sampler) { tokens.append($0.token); return .proceed }
        // nanoGPT's loop: crop to block_size, full forward, argmax of the last row.
        var idx: [Int32] = [0]
        for expected in tokens {
            let logits = referenceLogits(model, Array(idx.suffix(config.blockSize)))
            let argmax = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            #expect(Int32(argmax) == expected)
            idx.append(expected)
        }
    }

    @Test func cancellationStopsBeforeTheNextTokenEvenFromAnotherThread() async throws {
        let weights = ModelWeights(copying: try randomModel(Self.config(.learned, bias: false)))
        // Set before starting: nothing is generated.
        let early = GenerationCancellation()
        early.cancel()
        let generator = try Generator(weights)
        var sampler = Sampler(settings: SamplingSettings(), seed: 1)
        var count = 0
        #expect(generator.generate(prompt: [1], maxTokens: 10, sampler: &sampler, cancellation: early) { _ in count += 1; return .proceed } == .cancelled)
        #expect(count == 0)

        // Set from the callback: no further token.
        let mid = GenerationCancellation()
        #expect(generator.generate(prompt: [1], maxTokens: 10, sampler: &sampler, cancellation: mid) { t in
            count += 1
            if t.index == 2 { mid.cancel() }
            return .proceed
        } == .cancelled)
        #expect(count == 3)

        // Set from another thread while a long stream runs on a background thread: at most the
        // token already in flight is delivered after the flag is set. (Counted, not timed: a
        // time limit would fail on a loaded machine; a generator that ignored the flag would run
        // all 2M tokens and fail both expectations.)
        let flag = GenerationCancellation()
        let started = GenerationCancellation()  // used as a "first token seen" signal
        let afterCancel = TokenCounter()
        let task = Task.detached { () -> GenerationEnd in
            let g = try! Generator(weights)
            var s = Sampler(settings: SamplingSettings(), seed: 2)
            return g.generate(prompt: [1], maxTokens: 2_000_000, sampler: &s, cancellation: flag) { _ in
                started.cancel()
                if flag.isCancelled { afterCancel.add() }
                return .proceed
            }
        }
        while !started.isCancelled { try await Task.sleep(nanoseconds: 1_000_000) }
        flag.cancel()
        let end = await task.value
        #expect(end == .cancelled)
        #expect(afterCancel.count <= 1, "\(afterCancel.count) tokens after the cancel")
    }

    @Test func inspectedDistributionIsTheOneSampledFrom() throws {
        let model = try randomModel(Self.config(.learned, bias: true))
        let generator = try Generator(ModelWeights(copying: model))
        var sampler = Sampler(settings: SamplingSettings(temperature: 0.9, topK: 5), seed: 3)
        var checked = 0
        generator.generate(prompt: [2, 3], maxTokens: 10, sampler: &sampler, inspectTop: 8) { t in
            let d = t.distribution!
            #expect(d.entries.count == 8)
            #expect(d.cut.kept == 5 && d.cut.keptByTopK == 5)
            // The sampled token is among the kept ones, with positive probability.
            #expect(d.entries.first { $0.token == t.token }.map { $0.probability > 0 } == true)
            checked += 1
            return .proceed
        }
        #expect(checked == 10)
    }
}

/// Counts from one thread, read from another.
final class TokenCounter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.wrappingAdd(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
