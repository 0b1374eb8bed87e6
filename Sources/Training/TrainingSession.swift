import Foundation
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

    public func send(_ command: TrainerCommand) { commands.withLock { $0.append(command) } }

    /// True once the trainer thread has returned (finished, stopped or failed).
    public var isDone: Bool { done.load(ordering: .acquiring) }

    private func update(_ body: (inout TrainingSnapshot) -> Void) { published.withLock { body(&$0) } }

    private func train(_ makeRun: () throws -> TrainingRun) {
        defer { done.store(true, ordering: .releasing) }
        let run: TrainingRun
        do { run = try makeRun() } catch {
            update { $0.state = .failed("\(error)") }
            return
        }
        update {
            $0.step = run.trainer.step
            $0.maxSteps = run.trainer.config.maxIters
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
                        $0.steps.append(.init(step: r.step, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, seconds: r.seconds))
                        $0.tokensPerSecond = tps
                        $0.elapsed = trainingSeconds
                        $0.eta = tps > 0 ? Double(($0.maxSteps - r.step) * tokensPerStep) / tps : nil
                    }
                case let .evaluation(e):
                    update { $0.evals.append(.init(step: e.step, trainLoss: e.trainLoss, valLoss: e.valLoss, taskAccuracy: e.taskAccuracy)) }
                case let .checkpoint(path):
                    update {
                        $0.lastCheckpoint = path
                        $0.messages.append("checkpoint saved: \(path)")
                        if $0.messages.count > 50 { $0.messages.removeFirst($0.messages.count - 50) }
                    }
                case let .message(text):
                    update {
                        $0.messages.append(text)
                        if $0.messages.count > 50 { $0.messages.removeFirst($0.messages.count - 50) }
                    }
                }
            })
            update { $0.state = .finished }
        } catch {
            update { $0.state = .failed(error.description) }
        }
    }
}
