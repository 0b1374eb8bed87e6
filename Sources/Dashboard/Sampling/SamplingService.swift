import Foundation
import GPT
import Synchronization
import Tokenizers
import Training
import SafeTensors
import TerminalUI

/// Where the sampling console's weights come from.
public enum SamplingSource: Equatable, Sendable {
    /// A copy the trainer published (`TrainingSnapshot.liveWeights`).
    case live(LiveWeights)
    /// A checkpoint file, loaded on the sampler thread.
    case checkpoint(String)
}

/// One generation the console wants: every source (one, or two side by side) continues the same
/// prompt with the same settings and the same seed, so their texts differ only by the weights.
///
/// With `strategies`, the first source instead continues the prompt once per strategy, each from
/// a fresh sampler on the same seed, so the columns differ only by the decoding rule.
public struct SamplingRequest: Equatable, Sendable {
    public var sources: [SamplingSource]
    public var prompt: String
    public var settings: SamplingSettings
    public var seed: UInt64
    public var maxTokens: Int
    /// Candidates kept per position for the next-token view.
    public var inspectTop: Int
    /// Empty: one column per source with `settings`. Otherwise one column per strategy.
    public var strategies: [DecodingStrategy]

    public init(sources: [SamplingSource], prompt: String, settings: SamplingSettings, seed: UInt64, maxTokens: Int,
                inspectTop: Int = 10, strategies: [DecodingStrategy] = []) {
        self.sources = sources; self.prompt = prompt; self.settings = settings; self.seed = seed
        self.maxTokens = maxTokens; self.inspectTop = inspectTop; self.strategies = strategies
    }

    /// What each column generates: a source and the settings it samples with.
    var jobs: [(source: SamplingSource, strategy: DecodingStrategy?)] {
        guard let first = sources.first, !strategies.isEmpty else { return sources.map { ($0, nil) } }
        return strategies.map { (first, $0) }
    }
}

/// The text one source has produced so far.
public struct SampleColumn: Equatable, Sendable {
    /// "live · step 300" or "<run> · step 500".
    public var title: String
    public var step: Int?
    public var vocabSize: Int?
    /// The prompt as given, then the generated text.
    public var prompt: String
    /// The decoded text of each generated token (empty while a multi-byte character is incomplete).
    public var pieces: [String]
    public var generated: String
    /// The distribution each token was drawn from, same indices as `pieces`.
    public var distributions: [NextTokenDistribution]
    /// The text of each candidate in `distributions` (decoded here, where the tokenizer is).
    public var candidateLabels: [[String]]
    /// Why this source produced nothing (a checkpoint that does not load, a prompt it cannot encode).
    public var error: String?
    public var finished: Bool
    /// The decoding strategy of this column when strategies are compared (nil otherwise).
    public var strategy: DecodingStrategy?
    /// Mean log p, distinct-2 and repetition of the tokens generated so far (strategy columns only).
    public var metrics: StrategyMetrics?

    public init(title: String, strategy: DecodingStrategy? = nil) {
        self.title = title; step = nil; vocabSize = nil; prompt = ""; pieces = []; generated = ""
        distributions = []; candidateLabels = []; error = nil; finished = false
        self.strategy = strategy; metrics = nil
    }

    public var text: String { prompt + generated }
}

/// What the UI reads each frame. `version` changes whenever anything else does, so the frame
/// loop (and `==`) can tell "nothing new" with one comparison.
public struct SamplingOutput: Equatable, Sendable {
    public static func == (a: SamplingOutput, b: SamplingOutput) -> Bool { a.version == b.version }

    public var version = 0
    /// The request these columns answer (nil before the first).
    public var request: SamplingRequest?
    public var columns: [SampleColumn] = []
    /// A request is waiting (debounce) or generating.
    public var busy = false

    public init() {}
}

/// Generates text on its own thread (not the UI's, not the trainer's) and streams it into a
/// `Mutex`-protected `SamplingOutput` that the UI polls each frame.
///
/// `submit` cancels the generation in progress at once (through `GenerationCancellation`, which
/// the generator checks before every token) and starts the new request after a short debounce,
/// so holding a slider key does not start a generation per repeat. Generators are cached per
/// source (a checkpoint is read from disk once), so a slider move costs only a prefill.
public final class SamplingService: Sendable {
    private struct Shared {
        var pending: (request: SamplingRequest, notBefore: ContinuousClock.Instant)?
        var running: GenerationCancellation?
        var output = SamplingOutput()
        var shutdown = false
    }

    private let shared = Mutex(Shared())
    private let wake = DispatchSemaphore(value: 0)
    private let debounce: Duration
    /// How often streamed tokens are published (the UI draws at ~15 fps; every token would only
    /// copy arrays for frames nobody sees).
    private let publishInterval: Duration

    public init(debounce: Duration = .milliseconds(120), publishInterval: Duration = .milliseconds(15)) {
        self.debounce = debounce
        self.publishInterval = publishInterval
        let thread = Thread { [self] in self.loop() }
        thread.name = "nanoscope-sampler"
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Cancels what is running now and generates `request` after the debounce.
    public func submit(_ request: SamplingRequest) {
        shared.withLock { s in
            s.running?.cancel()
            s.pending = (request, ContinuousClock.now + debounce)
            s.output.busy = true
            s.output.version += 1
        }
        wake.signal()
    }

    /// Stops generating; the thread ends.
    public func shutdown() {
        shared.withLock { s in
            s.shutdown = true
            s.running?.cancel()
        }
        wake.signal()
    }

    public func output() -> SamplingOutput { shared.withLock { $0.output } }

    // MARK: The sampler thread

    /// A loaded source: the generator is reused across requests.
    private final class Loaded {
        let generator: Generator
        let tokenizer: any Tokenizer
        let title: String
        let step: Int?
        init(generator: Generator, tokenizer: any Tokenizer, title: String, step: Int?) {
            self.generator = generator; self.tokenizer = tokenizer; self.title = title; self.step = step
        }
    }

    private func loop() {
        // Only this thread touches the cache, so it needs no lock.
        var cache: [(source: SamplingSource, loaded: Result<Loaded, SamplingFailure>)] = []
        while true {
            let next = shared.withLock { s -> (SamplingRequest, GenerationCancellation)?? in
                if s.shutdown { return .some(nil) }
                guard let pending = s.pending, ContinuousClock.now >= pending.notBefore else { return nil }
                s.pending = nil
                let cancellation = GenerationCancellation()
                s.running = cancellation
                let version = s.output.version + 1
                s.output = SamplingOutput()
                s.output.version = version
                s.output.request = pending.request
                s.output.busy = true
                s.output.columns = pending.request.jobs.map { SampleColumn(title: Self.title(of: $0.source), strategy: $0.strategy) }
                return .some((pending.request, cancellation))
            }
            guard let job = next else {
                _ = wake.wait(timeout: .now() + .milliseconds(20))
                continue
            }
            guard let (request, cancellation) = job else { return }
            for (column, (source, strategy)) in request.jobs.enumerated() {
                if cancellation.isCancelled { break }
                let loaded: Result<Loaded, SamplingFailure>
                if let hit = cache.first(where: { $0.source == source }) {
                    loaded = hit.loaded
                } else {
                    loaded = Self.load(source)
                    cache.append((source, loaded))
                    if cache.count > 4 { cache.removeFirst() }
                }
                switch loaded {
                case .failure(let failure):
                    publish(column, cancellation) { $0.error = failure.message; $0.finished = true }
                case .success(let model):
                    generate(request, strategy: strategy, with: model, column: column, cancellation: cancellation)
                }
            }
            shared.withLock { s in
                if s.running === cancellation, s.pending == nil { s.output.busy = false; s.output.version += 1 }
            }
        }
    }

    private struct SamplingFailure: Error { let message: String }

    static func title(of source: SamplingSource) -> String {
        switch source {
        case .live(let w): return "live · step \(w.step)"
        case .checkpoint(let path):
            let parts = path.split(separator: "/")
            let run = parts.count >= 3 ? String(parts[parts.count - 3]) : ""
            let step = RunDirectory.step(fromWeightsFileName: String(parts.last ?? "")).map { " · step \($0)" } ?? ""
            return run + step
        }
    }

    private static func load(_ source: SamplingSource) -> Result<Loaded, SamplingFailure> {
        do {
            switch source {
            case .live(let live):
                let generator = try Generator(live.weights)
                return .success(Loaded(generator: generator, tokenizer: live.tokenizer, title: title(of: source), step: live.step))
            case .checkpoint(let path):
                let checkpoint = try LoadedCheckpoint.load(path)
                let tokenizer = try checkpoint.tokenizer()
                let generator = try Generator(checkpoint.modelWeights())
                return .success(Loaded(generator: generator, tokenizer: tokenizer, title: title(of: source),
                                       step: checkpoint.metadata.step))
            }
        } catch let error as CheckpointError {
            return .failure(SamplingFailure(message: error.description))
        } catch {
            return .failure(SamplingFailure(message: "\(error)"))
        }
    }

    /// Streams one source's tokens into column `column`, publishing at most every `publishInterval`;
    /// with a `strategy`, sampled with its settings and scored (`StrategyMetrics`) as it goes.
    private func generate(_ request: SamplingRequest, strategy: DecodingStrategy?, with model: Loaded, column: Int,
                          cancellation: GenerationCancellation) {
        let promptTokens: [Int32]
        do {
            promptTokens = try GenerationPrompt.tokens(for: request.prompt, tokenizer: model.tokenizer)
        } catch {
            publish(column, cancellation) { $0.error = "the prompt: \(error.message)"; $0.finished = true }
            return
        }
        let vocab = model.generator.config.vocabSize
        publish(column, cancellation) { c in
            c.title = model.title; c.step = model.step; c.vocabSize = vocab; c.prompt = request.prompt
        }
        var settings = strategy?.settings ?? request.settings
        settings.topK = min(settings.topK, vocab)
        var sampler = Sampler(settings: settings, seed: request.seed)
        var decoder = StreamingTextDecoder(tokenizer: model.tokenizer)
        var pieces: [String] = [], distributions: [NextTokenDistribution] = [], labels: [[String]] = []
        var tokens: [Int32] = [], logProbabilities: [Float] = []
        var generated = ""
        var lastPublish = ContinuousClock.now
        var published = 0
        func flush(finished: Bool) {
            let newPieces = pieces[published...], newDistributions = distributions[min(published, distributions.count)...],
                newLabels = labels[min(published, labels.count)...]
            let text = generated
            let metrics = strategy.map { _ in StrategyMetrics(tokens: tokens, logProbabilities: logProbabilities) }
            published = pieces.count
            publish(column, cancellation) { c in
                c.pieces += newPieces; c.distributions += newDistributions; c.candidateLabels += newLabels; c.generated = text; c.finished = finished
                c.metrics = metrics
            }
            lastPublish = ContinuousClock.now
        }
        // A strategy column shows no next-token view: no candidates to collect.
        model.generator.generate(prompt: promptTokens, maxTokens: request.maxTokens, sampler: &sampler,
                                 cancellation: cancellation, inspectTop: strategy == nil ? request.inspectTop : 0) { token in
            let piece = decoder.push(token.token)
            pieces.append(piece)
            generated += piece
            if strategy != nil {
                tokens.append(token.token)
                logProbabilities.append(token.modelLogProbability)
            }
            if let d = token.distribution {
                distributions.append(d)
                labels.append(d.entries.map { model.tokenizer.decode([$0.token]) })
            }
            if ContinuousClock.now - lastPublish >= publishInterval { flush(finished: false) }
            return .proceed
        }
        guard !cancellation.isCancelled else { return }
        generated += decoder.flush()
        flush(finished: true)
    }

    /// Changes a column of the output, unless a newer request has replaced this one.
    private func publish(_ column: Int, _ cancellation: GenerationCancellation, _ change: (inout SampleColumn) -> Void) {
        shared.withLock { s in
            guard s.running === cancellation, column < s.output.columns.count else { return }
            change(&s.output.columns[column])
            s.output.version += 1
        }
    }
}
