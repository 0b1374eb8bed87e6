import ArgumentParser
import Foundation
import GPT
import Kernels
import Tokenizers
import Training
import SafeTensors

/// Text from a trained model, streamed to stdout as it is generated (nanoGPT's sample.py), and a
/// benchmark of the generator (`--bench`).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate text from a checkpoint, streaming it to stdout.",
        discussion: """
        Sampling applies temperature, then top-k, then top-p (as nanoGPT and Hugging Face do); \
        --temperature 0 is greedy. An empty prompt starts from a newline when the vocabulary has \
        one (as sample.py does), else from token 0.

        Examples:
          nanoscope sample runs/shakespeare/step-005000.safetensors --prompt "ROMEO:" --max-tokens 300
          nanoscope sample ckpt.safetensors --temperature 0.9 --top-p 0.95 --seed 7
          nanoscope sample --bench                       # a random baby Shakespeare-shaped model
          nanoscope sample ckpt.safetensors --bench      # the checkpoint's model
          nanoscope sample --bench --reference ../shared/reference/torch_gpt.py
        """
    )

    @Argument(help: "A Nanoscope checkpoint (.safetensors), or a run folder (its newest checkpoint; --best: lowest val loss). Optional with --bench.")
    var checkpoint: String?

    @Option(help: "Text to continue.")
    var prompt = ""

    @Option(help: "Softmax temperature; 0 = greedy.")
    var temperature: Float = 0.8

    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens; 0 = off.")
    var topK = 200

    @Option(name: .customLong("top-p"), help: "Keep the smallest set of tokens whose probability reaches p; 1 = off.")
    var topP: Float = 1

    @Option(name: .customLong("max-tokens"), help: "Tokens to generate.")
    var maxTokens = 500

    @Option(name: .customLong("seed"), help: "Random seed, ≥ 0 (the same seed and settings give the same text).")
    var seedOption: Int = 1337
    var seed: UInt64 { UInt64(max(0, seedOption)) }

    @Option(name: .customLong("slide-keep"), help: "Tokens kept when the context window is full and slides (default: half of block_size; block_size = nanoGPT's exact crop, slower).")
    var slideKeep: Int?

    @Option(help: "Threads: 1, or more to share each product over the worker pool (default: all cores). --bench measures 1 and all unless given.")
    var threads: Int?

    @Flag(help: "With a run folder: its checkpoint with the lowest val loss instead of the newest.")
    var best = false

    @Flag(help: "Measure generation speed instead of printing text.")
    var bench = false

    @Option(name: .customLong("bench-tokens"), help: "Tokens per stream in --bench.")
    var benchTokens = 20_000

    @Option(help: "Repeats in --bench (medians are reported).")
    var repeats = 5

    @Option(help: "Path of torch_gpt.py: with --bench, also time nanoGPT's generate (PyTorch, no cache) on the same model shape, in the same run.")
    var reference: String?

    func run() throws {
        for (name, value, least) in [("--max-tokens", maxTokens, 0), ("--seed", seedOption, 0), ("--top-k", topK, 0),
                                     ("--bench-tokens", benchTokens, 1), ("--repeats", repeats, 1)] where value < least {
            fail("\(name) = \(value) must be ≥ \(least)")
        }
        if let threads, !(1...1024).contains(threads) { fail("--threads = \(threads) must be from 1 to 1024 (1 = one thread)") }
        if let slideKeep, slideKeep < 1 { fail("--slide-keep = \(slideKeep) must be ≥ 1 (and at most the model's block_size)") }
        for (name, value) in [("--temperature", temperature), ("--top-p", topP)] where !value.isFinite {
            fail("\(name) = \(value) must be a finite number")
        }
        let settings = SamplingSettings(temperature: temperature, topK: topK, topP: topP)
        do { try settings.validate() } catch { fail(error.message) }
        if bench { return runBench(settings) }
        if reference != nil { fail("--reference times PyTorch's generate next to ours: use it with --bench") }
        guard let named = checkpoint else { fail("give a checkpoint to sample from (or --bench to measure speed)") }
        let checkpoint = Self.weightsFile(named, best: best)
        let loaded: LoadedCheckpoint
        let tokenizer: any Tokenizer
        let promptTokens: [Int32]
        do {
            loaded = try LoadedCheckpoint.load(checkpoint)
            tokenizer = try loaded.tokenizer()
            promptTokens = try GenerationPrompt.tokens(for: prompt, tokenizer: tokenizer)
        } catch let e as CheckpointError { fail(e.description) } catch let e as GenerationError { fail(e.message) }
        let generator = makeGenerator(loaded.modelWeights(), pool: (threads ?? WorkerPool.shared.workers) > 1 ? .shared : .serialPool)
        if promptTokens.count > loaded.config.blockSize {
            printErr("note: the prompt has \(promptTokens.count) tokens; the model sees only its last \(loaded.config.blockSize) (block_size)")
        }

        writeStandardOutput(prompt)
        var decoder = StreamingTextDecoder(tokenizer: tokenizer)
        var sampler = Sampler(settings: settings, seed: seed)
        generator.generate(prompt: promptTokens, maxTokens: maxTokens, sampler: &sampler) { t in
            let piece = decoder.push(t.token)
            if !piece.isEmpty { writeStandardOutput(piece) }
            return .proceed
        }
        writeStandardOutput(decoder.flush() + "\n")
    }

    /// A run folder stands for its newest loadable checkpoint, or with `best` for the one with
    /// the lowest val loss.
    static func weightsFile(_ path: String, best: Bool = false) -> String {
        guard FileSystem.isDirectory(path) else {
            if best { fail("--best picks among a run folder's checkpoints: give runs/NAME instead of the file \(path)") }
            return path
        }
        let run = RunDirectory(path)
        guard run.exists else { fail("\(path) is a folder but not a run folder — give a checkpoint file or runs/NAME") }
        let all: [CheckpointInfo]
        do { all = try run.checkpoints().filter(\.isLoadable) } catch { fail(error.description) }
        guard let latest = all.last else { fail("\(path): the run has no loadable checkpoint yet (see `nanoscope checkpoints \(path)`)") }
        guard best else { return latest.path }
        // The checkpoint retention keeps as the best and `nanoscope checkpoints` marks "best val".
        guard let lowest = RetentionPolicy.best(of: all) else {
            fail("\(path): none of its checkpoints records a val loss (saved between evaluations) — drop --best to take the newest")
        }
        return lowest.path
    }

    func makeGenerator(_ weights: ModelWeights, pool: WorkerPool) -> Generator {
        if let slideKeep, slideKeep > weights.config.blockSize {
            fail("--slide-keep = \(slideKeep) must be at most the model's block_size, \(weights.config.blockSize)")
        }
        do { return try Generator(weights, slideKeep: slideKeep, pool: pool) } catch { fail(error.message) }
    }

    // MARK: - Benchmark

    /// Tokens/s of one long stream, and the latency of the first token after a settings change
    /// (cancel, re-prefill the prompt, sample) — medians over `repeats`, on one thread and on all.
    func runBench(_ settings: SamplingSettings) {
        if let reference, !FileManager.default.fileExists(atPath: reference) { fail("reference script \(reference) not found") }
        let weights: ModelWeights
        if let checkpoint {
            do { weights = try LoadedCheckpoint.load(Self.weightsFile(checkpoint, best: best)).modelWeights() } catch { fail(error.description) }
        } else {
            // The baby Shakespeare shape with random weights: speed does not depend on the values.
            let config = GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128)
            do { weights = ModelWeights(copying: try GPT(config: config, seed: 1)) } catch { fail(error.message) }
        }
        let c = weights.config
        print(KernelReport.isaLine)
        print("model: n_layer \(c.nLayer), n_head \(c.nHead), n_embd \(c.nEmbd), block \(c.blockSize), vocab \(c.vocabSize)")
        print("sampling: temperature \(settings.temperature), top-k \(settings.topK), top-p \(settings.topP)")
        let pools: [WorkerPool] = threads.map { $0 <= 1 ? [.serialPool] : [WorkerPool.shared] }
            ?? (WorkerPool.shared.workers > 1 ? [.serialPool, .shared] : [.serialPool])
        var best = 0.0, fastest: Generator?
        for pool in pools {
            let generator = makeGenerator(weights, pool: pool)
            print("\(pool.workers) thread\(pool.workers == 1 ? "" : "s"), window slides keep \(generator.slideKeep) tokens:")
            let rate = benchOne(generator, settings)
            if rate > best { best = rate; fastest = generator }
        }
        guard let reference, let fastest else {
            print("nanoGPT's generate (no cache): ≈ 740 tokens/s on this machine's anchor; measure it here with --reference")
            return
        }
        // Each reference run is paired with one more stream of the fastest generator just before
        // it, so that a ratio compares the two sides under the same load on a shared host. The
        // reference's rate does not depend on the stream's length past the first window, so a few
        // hundred tokens per repeat are enough.
        var rates: [Double] = [], pairs: [Double] = []
        for r in 0..<repeats {
            let ours = streamRate(fastest, settings, seed: seed &+ UInt64(100 + r)).tokensPerSecond
            let theirs = ReferenceGeneration.tokensPerSecond(torchGPT: reference, config: c, tokens: 4 * c.blockSize,
                                                             temperature: settings.temperature, topK: settings.topK)
            rates.append(theirs)
            pairs.append(ours / theirs)
        }
        print(String(format: "nanoGPT's generate (PyTorch, no cache, %d threads): median %.0f tokens/s (%@)",
                     WorkerPool.shared.workers, median(rates), rates.map { String(format: "%.0f", $0) }.joined(separator: " ")))
        print(String(format: "speed-up: %.1f× (Nanoscope's best stream / nanoGPT's generate); paired, each reference run beside a stream just before it: median %.1f× (%@)",
                     best / median(rates), median(pairs), pairs.map { String(format: "%.1f", $0) }.joined(separator: " ")))
    }

    /// One stream of `benchTokens` from a one-token prompt: its tokens/s, and the window slides
    /// it made.
    func streamRate(_ generator: Generator, _ settings: SamplingSettings, seed: UInt64) -> (tokensPerSecond: Double, slides: Int) {
        var sampler = Sampler(settings: settings, seed: seed)
        var count = 0
        let prefillsBefore = generator.prefillCount
        let elapsed = Stopwatch.seconds {
            generator.generate(prompt: [0], maxTokens: benchTokens, sampler: &sampler) { _ in count += 1; return .proceed }
        }
        return (Double(count) / elapsed, generator.prefillCount - prefillsBefore - 1)
    }


    /// Prints the measurements and returns the stream's median tokens/s.
    @discardableResult
    func benchOne(_ generator: Generator, _ settings: SamplingSettings) -> Double {
        let c = generator.config
        let seconds = Stopwatch.seconds

        // 1. One long stream.
        var rates: [Double] = []
        var slides = 0
        for r in 0..<max(1, repeats) {
            let stream = streamRate(generator, settings, seed: seed &+ UInt64(r))
            rates.append(stream.tokensPerSecond)
            slides = stream.slides
        }

        // 2. A settings change mid-stream: cancel, then the first token of the new stream — a
        //    prefill of a full-window prompt plus one sample.
        var rng = RandomNumbers(seed: seed)
        let prompt = (0..<c.blockSize).map { _ in Int32(rng.nextInt(below: c.vocabSize)) }
        var latencies: [Double] = []
        for r in 0..<max(1, repeats) * 10 {
            let running = GenerationCancellation()
            var sampler = Sampler(settings: settings, seed: UInt64(r))
            generator.generate(prompt: [1], maxTokens: 50, sampler: &sampler, cancellation: running) { t in
                if t.index == 40 { running.cancel() }  // "the slider moved"
                return .proceed
            }
            var changed = sampler
            changed.settings.temperature *= 1.1
            latencies.append(seconds {
                generator.generate(prompt: prompt, maxTokens: 1, sampler: &changed) { _ in .stop }
            })
        }

        // 3. Where the time goes.
        var stepTimes: [Double] = [], prefillTimes: [Double] = []
        for _ in 0..<max(1, repeats) * 10 {
            prefillTimes.append(seconds { generator.start(prompt: prompt) })
            generator.start(prompt: [2])
            stepTimes.append(seconds { for i in 0..<(c.blockSize - 1) { generator.append(Int32(i % c.vocabSize)) } } / Double(c.blockSize - 1))
        }
        print(String(format: "  stream:      median %.0f tokens/s (%@), %d tokens with %d window slides",
                     median(rates), rates.map { String(format: "%.0f", $0) }.joined(separator: " "), benchTokens, slides))
        print(String(format: "  first token after a settings change: median %.3f ms (prefill of %d tokens + 1 sample)", median(latencies) * 1000, c.blockSize))
        // A step uses each weight for one multiply-add, so its bound is the rate the weights
        // stream from cache, not the FMA peak: say that rate.
        print(String(format: "  one cached step: median %.1f µs (positions 1…%d): its %.1f MB of weights at %.0f GB/s",
                     median(stepTimes) * 1e6, c.blockSize - 1, Double(generator.weightBytes) / 1e6,
                     Double(generator.weightBytes) / median(stepTimes) / 1e9))
        // The roofline: how fast these threads read a working set the weights' size, measured now.
        let read = ReadBandwidth.measure(bytes: generator.weightBytes, pool: generator.pool)
        let threads = generator.pool.workers, bandwidth = threads == 1 ? read.oneThread : read.allThreads
        let bound = Double(generator.weightBytes) / (bandwidth * 1e9)
        print(String(format: "  its bound: %d thread%@ read a %.1f MB working set at %.0f GB/s (measured now) → ≥ %.1f µs a step, ≤ %.0f tokens/s; the step ran at %.0f%% of it",
                     threads, threads == 1 ? "" : "s", Double(read.bytes) / 1e6, bandwidth, bound * 1e6, 1 / bound,
                     100 * bound / median(stepTimes)))
        if threads > 1 {
            // What meeting costs a shared step: the threads wait for each other five times a layer.
            let barrier = TeamMember.barrierSeconds(pool: generator.pool), barriers = generator.barriersPerStep
            print(String(format: "  and its waits: a barrier between the %d threads takes %.2f µs (measured now), %d of them a step = %.1f µs",
                         threads, barrier * 1e6, barriers, Double(barriers) * barrier * 1e6))
        }
        print(String(format: "  prefill of %d tokens: median %.3f ms", c.blockSize, median(prefillTimes) * 1000))
        return median(rates)
    }
}
