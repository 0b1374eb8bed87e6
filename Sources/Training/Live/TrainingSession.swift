import Foundation
import GPT
import Synchronization

/// A training run on its own thread, watched through snapshots and steered with commands —
/// the `TrainingControl` a dashboard holds.
///
/// The trainer thread owns the model and optimiser outright; the only shared state is the
/// latest `TrainingSnapshot` and a queue of commands, each behind a `Mutex`. The trainer reads
/// commands between steps, so pause, save and stop take effect at step boundaries and never
/// tear an update.
public final class TrainingSession: TrainingControl {
    private let published: Mutex<TrainingSnapshot>
    private let commands = Mutex<[TrainerCommand]>([])
    private let done = Atomic<Bool>(false)
    /// Set by `send(.stop)` at once, not when the queue is next read: the trainer polls it
    /// between micro-batches, so a long step (large gradient_accumulation_steps) is abandoned
    /// instead of finished — the headless run's Ctrl-C uses the same `Trainer.stopRequested`.
    private let stopRequested = Atomic<Bool>(false)
    /// `.pinCheckpoints`, read by the recorder's retention on the trainer thread.
    private let pinned = Mutex<Set<String>>([])

    /// Starts `makeRun` on a new thread (building the run there, since a model lives on the
    /// thread that trains it) and trains until the run ends or is stopped.
    public init(name: String, maxSteps: Int, makeRun: @escaping @Sendable () throws -> TrainingRun) {
        published = Mutex(TrainingSnapshot(runName: name, maxSteps: maxSteps))
        let thread = Thread { [self] in self.train(makeRun) }
        thread.name = "nanoscope-trainer"
        thread.stackSize = 8 << 20
        thread.start()
    }

    public func snapshot() -> TrainingSnapshot { published.withLock { $0 } }

    public func send(_ command: TrainerCommand) {
        if command == .stop { stopRequested.store(true, ordering: .releasing) }
        if case .pinCheckpoints(let paths) = command {
            pinned.withLock { $0 = paths }
            return
        }
        commands.withLock { $0.append(command) }
    }

    /// True once the trainer thread has returned (finished, stopped or failed).
    public var isDone: Bool { done.load(ordering: .acquiring) }

    private func update(_ body: (inout TrainingSnapshot) -> Void) { published.withLock { body(&$0) } }

    /// A copy of the weights as they are now (a step boundary), for the sampling console.
    private func publishWeights(of run: TrainingRun) {
        let copy = LiveWeights(step: run.trainer.step, weights: ModelWeights(copying: run.trainer.model),
                               tokenizer: run.trainer.dataset.tokenizer)
        update { $0.liveWeights = copy }
    }

    private func train(_ makeRun: () throws -> TrainingRun) {
        defer { done.store(true, ordering: .releasing) }
        let started = DispatchTime.now().uptimeNanoseconds
        let run: TrainingRun
        do { run = try makeRun() } catch {
            update { $0.state = .failed("\(error)") }
            return
        }
        run.trainer.stopRequested = { self.stopRequested.load(ordering: .acquiring) }
        run.recorder?.pinned = { self.pinned.withLock { $0 } }
        // A watched run measures gradients and attention for the insight panes.
        if run.trainer.telemetry == nil && run.trainer.config.telemetryInterval > 0 {
            run.trainer.telemetry = TelemetryCollector(trainer: run.trainer)
        }
        let initialMaps = run.trainer.telemetry?.attentionMaps(model: run.trainer.model, step: run.trainer.step)
        // A resumed run's curve starts where the run did (the log holds steps up to the checkpoint).
        let history = run.trainer.step > 0 ? run.recorder.flatMap { try? MetricsLog.read($0.directory.metricsPath) } : nil
        update {
            if let history { $0.loadHistory(history.filter { $0.step <= run.trainer.step }) }
            $0.step = run.trainer.step
            $0.maxSteps = run.trainer.config.maxIters
            $0.gradClip = run.trainer.config.gradClip
            $0.attention = initialMaps
            $0.modelCard = ModelCard.of(run.trainer)
            $0.dtype = run.trainer.config.dtype
            // A resumed run's scaler carries on from its checkpoint (the history's last logged S).
            $0.lossScale = run.trainer.lossScaler?.scale
            $0.skippedSteps = run.trainer.lossScaler?.skippedSteps ?? 0
            $0.state = .running
        }
        var paused = false
        var trainingSeconds = 0.0
        let tokensPerStep = run.trainer.config.tokensPerStep
        do {
            try run.run(next: {
                var directive = TrainingRun.Directive.proceed
                for command in commands.withLock({ q in defer { q.removeAll() }; return q }) {
                    switch command {
                    case .pause: paused = true
                    case .resume: paused = false
                    case .saveCheckpoint: if directive == .proceed || directive == .pause { directive = .save }
                    case .stop: directive = .stop
                    case .setProbe(let text): changeProbe(text, run: run)
                    case .snapshotWeights:
                        publishWeights(of: run)
                    case .pinCheckpoints: break  // handled in `send`
                    case .resumeFrom:
                        note("this session cannot switch runs; quit and use `nanoscope train --resume`")
                    }
                }
                if directive == .proceed && paused { directive = .pause }
                let state: TrainingSnapshot.State = directive == .stop ? .finished : paused ? .paused : .running
                update { if $0.state != state && directive != .stop { $0.state = state } }
                return directive
            }, emit: { event in
                switch event {
                case let .step(r, tps):
                    trainingSeconds += r.seconds
                    update {
                        $0.step = r.step
                        $0.steps.append(.init(step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, seconds: r.seconds,
                                               wallTime: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9))
                        if var telemetry = r.telemetry { Self.publish(&telemetry, into: &$0) }
                        $0.tokensPerSecond = tps
                        if let cluster = r.cluster { $0.cluster = cluster }
                        $0.noteLossScale(run.trainer.lossScaler?.scale, skippedSteps: run.trainer.lossScaler?.skippedSteps ?? 0,
                                         afterStep: r.step)
                        $0.elapsed = trainingSeconds
                        $0.eta = tps > 0 ? Double(($0.maxSteps - r.step) * tokensPerStep) / tps : nil
                    }
                case let .evaluation(e):
                    update { $0.evals.append(.init(step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, taskAccuracy: e.taskAccuracy)) }
                    // Once someone samples the live weights, each evaluation refreshes them, so the
                    // console's text improves as the model learns without anyone asking.
                    if published.withLock({ $0.liveWeights != nil }) { publishWeights(of: run) }
                case let .checkpoint(path):
                    update {
                        $0.lastCheckpoint = path
                        $0.messages.append("checkpoint saved: \(path)")
                        if $0.messages.count > 50 { $0.messages.removeFirst($0.messages.count - 50) }
                    }
                case let .message(text):
                    note(text)
                }
            })
            update { $0.state = .finished }
        } catch {
            update { $0.state = .failed(error.description) }
        }
    }

    private func note(_ text: String) {
        update {
            $0.messages.append(text)
            if $0.messages.count > 50 { $0.messages.removeFirst($0.messages.count - 50) }
        }
    }

    /// Longest update/data ratio history kept (older points are dropped in halves).
    static let ratioHistoryLimit = 4096

    /// Moves a step's telemetry into the snapshot: the maps to `attention`, the layer ratios
    /// onto the history.
    static func publish(_ telemetry: inout Telemetry, into snapshot: inout TrainingSnapshot) {
        if let maps = telemetry.attention { snapshot.attention = maps }
        telemetry.attention = nil
        snapshot.updateRatios.append(.init(step: telemetry.step, ratios: telemetry.layers.map { $0.ratio ?? .nan }))
        if snapshot.updateRatios.count > ratioHistoryLimit { snapshot.updateRatios.removeFirst(ratioHistoryLimit / 2) }
        snapshot.telemetry = telemetry
    }

    /// `.setProbe`: encodes the text with the run's tokenizer and recomputes the maps now (on
    /// this, the trainer thread, between steps); text the vocabulary cannot express is refused
    /// with a message and the old probe stays.
    private func changeProbe(_ text: String, run: TrainingRun) {
        let trainer = run.trainer
        guard let collector = trainer.telemetry else {
            note("attention probes are off (telemetry_interval = 0)")
            return
        }
        do {
            let probe = try AttentionProbe(text: text, tokenizer: trainer.dataset.tokenizer, blockSize: trainer.config.blockSize)
            collector.setProbe(probe)
            let maps = collector.attentionMaps(model: trainer.model, step: trainer.step)
            update { $0.attention = maps }
            note("probe set: \(probe.tokens.count) tokens" + (probe.truncated ? " (cut to block_size \(trainer.config.blockSize))" : ""))
        } catch {
            note(error.message)
        }
    }
}
