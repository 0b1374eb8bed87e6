import Foundation
import Synchronization
import Training
import TerminalUI

/// A stand-in for the trainer, for tests only: it records commands and answers them the way the
/// contract says the real trainer does (pause → paused, stop → finished), at once.
final class FakeTrainingControl: TrainingControl {
    private let state: Mutex<(snapshot: TrainingSnapshot, commands: [TrainerCommand])>
    /// When false, `.stop` is recorded but the run never finishes (to test the shutdown timeout).
    let obeysStop: Bool

    init(_ snapshot: TrainingSnapshot, obeysStop: Bool = true) {
        state = Mutex((snapshot, []))
        self.obeysStop = obeysStop
    }

    func snapshot() -> TrainingSnapshot { state.withLock { $0.snapshot } }

    func send(_ command: TrainerCommand) {
        state.withLock { s in
            s.commands.append(command)
            switch command {
            case .pause: s.snapshot.state = .paused
            case .resume: s.snapshot.state = .running
            case .saveCheckpoint: s.snapshot.messages.append("checkpoint written: step-\(s.snapshot.step)")
            case .stop: if obeysStop { s.snapshot.state = .finished }
            case .setProbe(let text): s.snapshot.messages.append("probe set: \(text.unicodeScalars.count) tokens")
            case .snapshotWeights, .resumeFrom, .pinCheckpoints: break
            }
        }
    }

    var commands: [TrainerCommand] { state.withLock { $0.commands } }

    func update(_ body: (inout TrainingSnapshot) -> Void) { state.withLock { body(&$0.snapshot) } }
}

/// A run part-way through: `count` steps of a decaying loss with warmup + cosine lr, an eval
/// every 100 steps. Deterministic, so rendered text can be compared.
func sampleSnapshot(steps count: Int = 600, maxSteps: Int = 2000, state: TrainingSnapshot.State = .running) -> TrainingSnapshot {
    var s = TrainingSnapshot(runName: "shakespeare-char", maxSteps: maxSteps)
    s.state = state
    for i in 1...max(1, count) where count > 0 {
        let t = Double(i)
        let decay: Double = 2.7 * exp(-t / 150)
        let noise: Double = 0.05 * sin(t * 1.7)
        let loss = Float(1.5 + decay + noise)
        let cosine: Double = 0.55 + 0.45 * cos(Double.pi * t / Double(maxSteps))
        let lr = Float(i < 100 ? 1e-3 * t / 100 : 1e-3 * cosine)
        s.steps.append(.init(step: i, loss: loss, lr: lr, gradNorm: 1))
        if i % 100 == 0 { s.evals.append(.init(step: i, trainLoss: loss, valLoss: loss + 0.1)) }
    }
    s.step = count
    s.tokensPerSecond = 23_900
    s.elapsed = 83
    s.eta = 296
    return s
}
