import Foundation
import GPT
import SafeTensors
@testable import Training
import SafeTensors

/// The model the crash test writes: nanoGPT-shaped (so the checkpoints pass shape validation) and
/// a few megabytes per checkpoint, so a kill at a random moment usually lands mid-write.
let checkpointWriterLoopConfig = GPTConfig(vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 128)

/// Writes checkpoints into `run` forever: step after step, each with optimizer state, pruning to
/// the last two, appending a metrics line, and calling `wrote(step)` once the step's checkpoint is
/// durable. Every value of step s's tensors is `Float(s)`, so a reader can tell a torn or mixed
/// file from a whole one.
///
/// This is the child half of the crash test (kill it with SIGKILL at random moments, then check
/// the newest checkpoint loads and is whole): `CrashSafety` re-runs the test binary as a child
/// that runs only this (see `ChildProcess` in AtomicFileTests.swift). It
/// resumes after the newest checkpoint already in `run`. Returns only if a write fails.
func checkpointWriterLoop(run: RunDirectory, wrote: (Int) -> Void) -> CheckpointError {
    let config = checkpointWriterLoopConfig
    let shapes = NanoGPTStateDict.expectedShapes(for: config).filter { $0.name != NanoGPTStateDict.lmHead }
    var step = ((try? run.latestLoadableCheckpoint())?.map(\.step) ?? 0) + 1
    while true {
        let value = Float(step)
        let weights = shapes.map { NamedTensor(name: $0.name, shape: $0.shape, values: Array(repeating: value, count: $0.shape.reduce(1, *))) }
        let metadata = CheckpointMetadata(step: step, config: config, tokenizerJSON: #"{"type":"char","vocab":[]}"#,
                                          trainLoss: 1 / value, valLoss: 2 / value)
        let optimizer = RunDirectory.OptimizerSnapshot(
            firstMoments: weights, secondMoments: weights,
            metadata: OptimizerStateMetadata(step: step, rngState: "rng-\(step)", dataPosition: "position-\(step)"))
        do {
            try run.writeCheckpoint(weights: weights, metadata: metadata, optimizer: optimizer)
            try run.prune(RetentionPolicy(keepLast: 2, keepBest: false))
            try MetricsLog.append(MetricsRecord(step: step, trainLoss: 1 / value, time: Double(step)), to: run.metricsPath)
        } catch {
            return error
        }
        wrote(step)
        step += 1
    }
}
