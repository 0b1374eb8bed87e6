import ArgumentParser
import Foundation
import GPT
import Tokenizers
import Training
import Kernels
import Dashboard

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT on a corpus (dashboard on a terminal, progress bar with --headless).",
        discussion: """
        A run writes runs/<run_name>/: config.toml, metrics.jsonl, and checkpoints/step-NNNNNN.safetensors \
        (+ .optimizer.safetensors) every checkpoint_interval steps, at the end and on Ctrl-C.
        Continue a run exactly with --resume runs/<run_name> (its newest checkpoint) or a checkpoint \
        file; its config.toml is used, and --key=value flags override it (e.g. --max_iters=4000).

        """ + ConfigOptions.keysHelp
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "No dashboard: a progress bar on stderr (also the case when stdout is not a terminal).")
    var headless = false

    @Option(help: "Dashboard theme: dark, light, high-contrast, monochrome, or a file name in a themes folder.")
    var theme: String?

    @Option(help: ArgumentHelp("Continue a run exactly: a run folder (its newest checkpoint) or a checkpoint file.", valueName: "run-or-checkpoint"))
    var resume: String?

    @Flag(help: "Headless: also write gradient statistics and attention maps every telemetry_interval steps to <runs_dir>/<run>/telemetry.jsonl.")
    var telemetry = false

    @Flag(help: "Data-parallel training under mpirun (a build with --traits MPI): mpirun -np N nanoscope train --distributed … (rank 0 shows the run).")
    var distributed = false

    func run() throws {
        if distributed || (Distributed.mpirunSize ?? 1) > 1 { return try runDistributed() }  // DistributedTrain.swift
        let run: TrainingRun
        if let resume {
            if options.config != nil {
                fail("give either a config file or --resume, not both: a resumed run uses its own config.toml (override keys with --key=value)")
            }
            let point: ResumePoint
            do { point = try ResumePoint.locate(resume) } catch { fail(error.description) }
            let (cfg, _) = try resolveOrFail(baseConfig: point.configPath)
            printErr("resuming run \(point.run.name) from step \(point.checkpoint.step) (\(point.checkpoint.path))")
            do { run = try RunSetup.resume(from: point, config: cfg, report: { printErr($0) }) } catch { fail("\(error)") }
        } else {
            let (cfg, _) = try resolveOrFail()
            do { run = try RunSetup.start(cfg, report: { printErr($0) }) } catch { fail("\(error)") }
        }
        if headless || isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0 {
            try runHeadless(run)
        } else {
            runWithDashboard(run)
        }
    }

    /// Trains on a background thread while the dashboard owns the terminal on this one.
    func runWithDashboard(_ run: TrainingRun) {
        // The run is handed to its thread whole; nothing here touches it afterwards.
        nonisolated(unsafe) let handOver = run
        let name = run.name
        let runsFolder = run.trainer.config.runsDir
        let vocab = run.trainer.dataset.tokenizer.vocabSize
        let model = ModelFacts(parameters: run.trainer.model.nonEmbeddingParameterCount,
                               estimatedBytes: MemoryEstimate.of(run.trainer.config, vocabSize: vocab, workers: WorkerPool.shared.workers)?.total)
        // A host, not a bare session: the checkpoint browser's `r` can swap in a resumed run.
        let host = TrainingHost(session: TrainingSession(name: name, maxSteps: run.trainer.config.maxIters) { handOver })
        runDashboardAndReport(host: host, options: DashboardOptions(theme: theme, runsFolder: runsFolder, model: model),
                              hint: "use --headless for a progress bar")
    }

    func resolveOrFail(baseConfig: String? = nil) throws -> (TrainConfig, String) {
        do { return try options.resolve(baseConfig: baseConfig) } catch let e as UserError { fail(e.message) }
    }

    func runHeadless(_ run: TrainingRun) throws {
        let trainer = run.trainer
        let cfg = trainer.config
        Interrupts.shared.install()
        // A stop request also ends a long step between its micro-batches.
        trainer.stopRequested = { Interrupts.shared.count > 0 }
        printErr("run \(run.name): \(String(format: "%.2f", Double(trainer.model.nonEmbeddingParameterCount) / 1e6))M parameters, vocab \(trainer.dataset.tokenizer.vocabSize), \(trainer.dataset.train.count) train / \(trainer.dataset.val.count) val tokens")
        if let estimate = MemoryEstimate.of(cfg, vocabSize: trainer.dataset.tokenizer.vocabSize, workers: WorkerPool.shared.workers) {
            printErr("memory estimate (\(cfg.memoryOptions.summary)): \(estimate.summary)")
        }
        if let task = trainer.dataset.task {
            printErr(String(format: "task %@: %d-character lines, loss floor %.4f (the prompt's random symbols); accuracy on %d held-out problems",
                            task.task.name, task.task.lineLength, task.task.lossFloor, task.heldOut.count))
        }
        var progress = HeadlessProgress(maxSteps: cfg.maxIters, logInterval: cfg.logInterval)
        var lastEval: Trainer.Evaluation?
        var telemetryPath: String?
        if telemetry {
            guard cfg.telemetryInterval > 0 else { fail("--telemetry needs telemetry_interval > 0") }
            trainer.telemetry = TelemetryCollector(trainer: trainer)
            telemetryPath = cfg.runsDir + "/" + run.name + "/" + TelemetryLog.fileName
            printErr("telemetry every \(cfg.telemetryInterval) steps → \(telemetryPath!)")
        }
        do {
            // Ctrl-C becomes `.stop`: the loop finishes the current step and saves a checkpoint.
            try run.run(next: { Interrupts.shared.count > 0 ? .stop : .proceed }) { event in
                switch event {
                case let .step(r, tps):
                    progress.show(r, tokensPerSecond: tps, tokensPerStep: cfg.tokensPerStep)
                    if let t = r.telemetry, let path = telemetryPath {
                        do { try TelemetryLog.append(TelemetryLog.jsonLine(t, gradNorm: r.gradNorm, gradClip: cfg.gradClip), to: path) } catch {
                            progress.note("telemetry not written: \(error)")
                            telemetryPath = nil
                        }
                    }
                case let .evaluation(e):
                    lastEval = e
                    progress.note(String(format: "step %d: train loss %.4f, val loss %.4f", e.step, e.trainLoss, e.valLoss)
                                  + (e.taskAccuracy.map { String(format: ", accuracy %.1f%%", 100 * $0) } ?? ""))
                case let .checkpoint(path): progress.note("checkpoint \(path)")
                case let .message(m): progress.note(m)
                }
            }
        } catch {
            progress.finish()
            fail(error.description)
        }
        progress.finish()
        if trainer.dataset.tokenizer is BPETokenizer, let last = lastEval {
            let perChar = Double(last.valLoss) / trainer.dataset.valCharactersPerToken
            printErr(String(format: "val loss %.4f per token = %.4f per character (%.2f characters per token)",
                            last.valLoss, perChar, trainer.dataset.valCharactersPerToken))
        }
        if Interrupts.shared.count > 0 {
            let where_ = run.recorder.map { "; continue with: nanoscope train --resume \($0.directory.path)" } ?? ""
            printErr("interrupted at step \(trainer.step) (\(Interrupts.name(of: Interrupts.shared.signal)))\(where_)")
            throw ExitCode(Interrupts.shared.exitStatus)
        }
    }
}
