import ArgumentParser
import Foundation
import GPT
import Tokenizers
import Training
import Dashboard

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT on a corpus (dashboard on a terminal, progress bar with --headless).",
        discussion: ConfigOptions.keysHelp
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "No dashboard: a progress bar on stderr (also the case when stdout is not a terminal).")
    var headless = false

    @Option(help: "Dashboard theme: dark, light, high-contrast, monochrome, or a file name in a themes folder.")
    var theme: String?

    func run() throws {
        let (cfg, _) = try resolveOrFail()
        let dataset: Dataset
        do {
            dataset = try Dataset.prepare(config: cfg, report: { printErr($0) })
        } catch { fail(error.message) }
        let trainer: Trainer
        do { trainer = try Trainer(config: cfg, dataset: dataset) } catch { fail(error.message) }
        if headless || isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0 {
            try runHeadless(trainer: trainer, name: cfg.runName)
        } else {
            try runWithDashboard(trainer: trainer, name: cfg.runName)
        }
    }

    /// Trains on a background thread while the dashboard owns the terminal on this one.
    func runWithDashboard(trainer: Trainer, name: String) throws {
        // The trainer is handed to its thread whole; nothing here touches it afterwards.
        nonisolated(unsafe) let handOver = trainer
        let session = TrainingSession(name: name, maxSteps: trainer.config.maxIters) {
            TrainingRun(trainer: handOver, name: name)
        }
        do {
            try runDashboard(control: session, options: DashboardOptions(theme: theme))
        } catch {
            session.send(.stop)
            while !session.isDone { Thread.sleep(forTimeInterval: 0.05) }
            fail("could not open the dashboard (\(error)); use --headless for a progress bar")
        }
        let final = session.snapshot()
        if case .failed(let why) = final.state { fail(why) }
        printErr("run \(name): stopped at step \(final.step)/\(final.maxSteps)" + (final.latestValLoss.map { String(format: ", val loss %.4f", $0) } ?? ""))
    }

    func resolveOrFail() throws -> (TrainConfig, String) {
        do { return try options.resolve() } catch let e as UserError { fail(e.message) }
    }

    func runHeadless(trainer: Trainer, name: String) throws {
        let cfg = trainer.config
        Interrupts.shared.install()
        printErr("run \(name): \(String(format: "%.2f", Double(trainer.model.nonEmbeddingParameterCount) / 1e6))M parameters, vocab \(trainer.dataset.tokenizer.vocabSize), \(trainer.dataset.train.count) train / \(trainer.dataset.val.count) val tokens")
        if let task = trainer.dataset.task {
            printErr(String(format: "task %@: %d-character lines, loss floor %.4f (the prompt's random symbols); accuracy on %d held-out problems",
                            task.task.name, task.task.lineLength, task.task.lossFloor, task.heldOut.count))
        }
        var progress = HeadlessProgress(maxSteps: cfg.maxIters, logInterval: cfg.logInterval)
        let run = TrainingRun(trainer: trainer, name: name)
        var lastEval: Trainer.Evaluation?
        do {
            try run.run(next: { Interrupts.shared.count > 0 ? .stop : .proceed }) { event in
                switch event {
                case let .step(r, tps): progress.show(r, tokensPerSecond: tps, tokensPerStep: cfg.tokensPerStep)
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
            printErr("interrupted at step \(trainer.step)")
            throw ExitCode(130)
        }
    }
}
