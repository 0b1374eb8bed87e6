import ArgumentParser
import Foundation
import GPT
import SafeTensors
import Tokenizers
import Training

/// `nanoscope eval CKPT --data FILE --blocks K`: the canonical validation loss of a checkpoint
/// (see `CanonicalEval`), the number `torch_gpt.py eval` computes in PyTorch.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Canonical validation loss of a checkpoint: mean next-token cross-entropy over the first K windows of the corpus's last 10%.",
        discussion: """
        The checkpoint may come from Nanoscope or from elsewhere (a nanoGPT state_dict saved with \
        safetensors, with `config` and `tokenizer` in its metadata; either or both of \
        transformer.wte.weight and lm_head.weight). Without tokenizer metadata, the corpus's own \
        characters are used, as nanoGPT's prepare.py does.

        Example:
          nanoscope eval runs/baby/checkpoints/step-002000.safetensors --data ../shared/data/tinyshakespeare.txt --blocks 64
        """
    )

    @Argument(help: ArgumentHelp("A weights file (.safetensors), or a run folder (its newest checkpoint; --best: lowest val loss).", valueName: "checkpoint"))
    var checkpointArgument: String
    var checkpoint: String { SampleCommand.weightsFile(checkpointArgument, best: best) }

    @Flag(help: "With a run folder: its checkpoint with the lowest val loss instead of the newest.")
    var best = false

    @Option(help: "The corpus; its last 10% (in tokens) is the validation split.")
    var data: String

    @Option(help: "Number of block_size windows to evaluate.")
    var blocks = 64

    @Flag(help: "Print a JSON object instead of the bare number.")
    var json = false

    func run() throws {
        guard blocks >= 1 else { fail("--blocks = \(blocks) must be ≥ 1") }
        let loaded: LoadedCheckpoint
        do { loaded = try LoadedCheckpoint.load(checkpoint) } catch { fail(error.description) }
        let text: String
        do { text = try Dataset.readCorpus(path: data) } catch { fail(error.message) }
        let tokenizer: any Tokenizer
        do {
            if let json = loaded.metadata.tokenizerJSON {
                tokenizer = try makeTokenizer(fromMetadataJSON: json)
            } else {
                tokenizer = try CharTokenizer(corpus: text)
                printErr("note: \(checkpoint) has no tokenizer metadata; using the corpus's \(tokenizer.vocabSize) characters")
            }
        } catch { fail("\(checkpoint): \(error)") }
        guard tokenizer.vocabSize == loaded.config.vocabSize else {
            fail("\(checkpoint): the tokenizer has \(tokenizer.vocabSize) tokens but the model's vocab_size is \(loaded.config.vocabSize)")
        }
        let ids: [Int32]
        do { ids = try tokenizer.encode(text) } catch { fail("\(data): cannot encode the corpus with the checkpoint's tokenizer: \(error)") }
        let result: CanonicalEval.Result
        do {
            let model = try ModelState.model(from: loaded)
            result = try CanonicalEval.evaluate(model, validation: CanonicalEval.validationSplit(ids), blocks: blocks)
        } catch let e as ConfigError { fail(e.message) } catch { fail("\(error)") }
        guard result.loss.isFinite else {
            fail("\(checkpoint): the loss is not finite — the weights overflow in the forward pass (the run diverged); evaluate an earlier checkpoint")
        }
        if result.blocks < blocks {
            printErr("note: the validation split holds only \(result.blocks) windows of \(loaded.config.blockSize) tokens")
        }
        if json {
            // A loss that is not finite (a diverged checkpoint) is `null`: JSON has no NaN.
            let loss: StrictJSON = result.loss.isFinite ? .number(String(format: "%.7f", result.loss)) : .null
            print(StrictJSON.object([
                ("val_loss", loss),
                ("blocks", .number(result.blocks)),
                ("step", loaded.metadata.step.map(StrictJSON.number) ?? .null),
                ("checkpoint", .string(checkpoint)),
            ]).serialized)
        } else {
            print(String(format: "%.7f", result.loss))
        }
    }
}
