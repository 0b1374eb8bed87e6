import ArgumentParser
import Foundation
import GPT
import SafeTensors
import Tokenizers
import Training

/// `nanoscope lens CKPT --probe TEXT`: the logit lens of a checkpoint on a text, printed — the
/// dashboard's lens view (Attention pane, `v`) for a script, a report or a terminal without the
/// dashboard. For every position: the token, the next token (the target), and at each layer the
/// top-1 prediction with its probability and the target's rank; then each layer's mean loss, and
/// the final layer's loss along the block (does context help?).
struct LensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "The logit lens of a checkpoint on a text: what each layer would predict at each position.",
        discussion: """
        Each layer's residual stream goes through the final LayerNorm and the tied head, as if the \
        model ended there (see Sources/Training/Telemetry/LogitLens.swift for the math). A rank of 1 \
        means that layer already predicts the next token.

        Examples:
          nanoscope lens runs/sort/checkpoints/step-002000.safetensors --probe '31415926|11234569'
          nanoscope lens runs/baby --probe 'ROMEO: wherefore art thou' --json
        """
    )

    @Argument(help: ArgumentHelp("A weights file (.safetensors), or a run folder (its newest checkpoint; --best: lowest val loss).", valueName: "checkpoint"))
    var checkpointArgument: String
    var checkpoint: String { SampleCommand.weightsFile(checkpointArgument, best: best) }

    @Flag(help: "With a run folder: its checkpoint with the lowest val loss instead of the newest.")
    var best = false

    @Option(help: "The text to read (cut to the model's block_size tokens).")
    var probe: String

    @Flag(help: "Print a JSON object instead of the table.")
    var json = false

    @Option(help: "Also average the final layer's loss by position over --windows windows of this corpus's validation split (its last 10%): how much context helps.")
    var data: String?

    @Option(help: "Windows of block_size tokens to average over with --data.")
    var windows = 500

    func run() throws {
        let loaded: LoadedCheckpoint
        do { loaded = try LoadedCheckpoint.load(checkpoint) } catch { fail(error.description) }
        guard let metadata = loaded.metadata.tokenizerJSON else {
            fail("\(checkpoint) has no tokenizer metadata, so the probe cannot be encoded; use a checkpoint Nanoscope wrote")
        }
        let tokenizer: any Tokenizer
        do { tokenizer = try makeTokenizer(fromMetadataJSON: metadata) } catch { fail("\(checkpoint): \(error)") }
        let reading: AttentionProbe
        do { reading = try AttentionProbe(text: probe, tokenizer: tokenizer, blockSize: loaded.config.blockSize) } catch {
            fail("--probe: \(error.message)")
        }
        guard reading.tokens.count >= 2 else { fail("--probe: it encodes to one token, and the lens needs a next token to score") }
        let model: GPT
        do { model = try ModelState.model(from: loaded) } catch { fail(error.description) }
        let maps = AttentionMaps.compute(model: model, probe: reading, step: loaded.metadata.step ?? 0)
        guard let lens = maps.lens else {
            fail("\(checkpoint): the model is too large for the lens (\(LogitLens.maxMultiplyAdds) multiply-adds at most)")
        }
        if reading.truncated { printErr("note: the probe was cut to its first \(loaded.config.blockSize) tokens (block_size)") }
        print(json ? Self.json(lens) : Self.table(lens))
        if let data { try lossByPosition(model: model, tokenizer: tokenizer, corpus: data, blockSize: loaded.config.blockSize) }
    }

    /// loss_L[t] averaged over windows: position t predicts from t + 1 tokens of context, so the
    /// curve falls from roughly the unigram entropy at t = 0 as the model uses what it has read.
    func lossByPosition(model: GPT, tokenizer: any Tokenizer, corpus: String, blockSize: Int) throws {
        guard windows >= 1 else { fail("--windows = \(windows) must be ≥ 1") }
        let text: String
        do { text = try Dataset.readCorpus(path: corpus) } catch { fail(error.message) }
        let ids: [Int32]
        do { ids = try tokenizer.encode(text) } catch { fail("\(corpus): cannot encode it with the checkpoint's tokenizer: \(error)") }
        let validation = CanonicalEval.validationSplit(ids)
        var sums = [Double](repeating: 0, count: blockSize - 1), counted = 0
        var start = validation.startIndex
        while counted < windows, start + blockSize <= validation.endIndex {
            let window = AttentionProbe(tokens: Array(validation[start..<(start + blockSize)]), tokenizer: tokenizer)
            guard let lens = AttentionMaps.compute(model: model, probe: window, step: 0).lens else { return }
            for (t, loss) in lens.finalLoss.prefix(blockSize - 1).enumerated() { sums[t] += Double(loss) }
            counted += 1
            start += blockSize
        }
        guard counted > 0 else { fail("\(corpus): its validation split is shorter than one window of \(blockSize) tokens") }
        let means = sums.map { $0 / Double(counted) }
        var marks = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024].filter { $0 < means.count }
        if marks.last != means.count - 1 { marks.append(means.count - 1) }
        if json {
            print(StrictJSON.object([("windows", .number(counted)), ("loss_by_position", .array(means.map { .number($0) }))]).serialized)
        } else {
            print("final layer's loss by position, mean over \(counted) windows of the validation split: "
                  + marks.map { "@\($0) \(String(format: "%.3f", means[$0]))" }.joined(separator: ", "))
        }
    }

    static func visible(_ token: String) -> String {
        token.replacingOccurrences(of: " ", with: "·").replacingOccurrences(of: "\n", with: "⏎")
    }

    /// One row per position: `pos token → target | layer: top (p) #rank … | loss`.
    static func table(_ lens: LogitLens) -> String {
        let n = lens.positions
        var rows = [["POS", "TOKEN", "TARGET"] + lens.layerNames + ["LOSS"]]
        for t in 0..<(n - 1) {
            var row = [String(t), visible(lens.tokens[t]), visible(lens.tokens[t + 1])]
            for r in 0..<lens.rows {
                let i = lens.index(row: r, position: t)
                row.append("\(visible(lens.topLabel[i])) \(String(format: "%.2f", lens.topProbability[i])) #\(lens.targetRank[i])")
            }
            row.append(String(format: "%.3f", lens.loss[lens.index(row: lens.rows - 1, position: t)]))
            rows.append(row)
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].unicodeScalars.count }.max() ?? 0 }
        var out = rows.map { row in
            row.indices.map { c in row[c] + String(repeating: " ", count: widths[c] - row[c].unicodeScalars.count) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        out.append("")
        out.append("each cell: that layer's top-1 token, its probability, #rank of the target (1 = predicted)")
        out.append("mean loss per layer: " + (0..<lens.rows).map { "\(lens.layerNames[$0]) \(String(format: "%.3f", lens.meanLoss(row: $0)))" }
            .joined(separator: ", "))
        let final = Array(lens.finalLoss.prefix(n - 1))
        let half = final.count / 2
        if half > 0 {
            let first = final.prefix(half).reduce(0, +) / Float(half)
            let second = final.suffix(final.count - half).reduce(0, +) / Float(final.count - half)
            out.append(String(format: "final layer's loss along the block: first half %.3f, second half %.3f", first, second))
        }
        return out.joined(separator: "\n")
    }

    static func json(_ lens: LogitLens) -> String {
        let n = lens.positions
        func cells<T>(_ values: [T], _ f: (T) -> StrictJSON) -> StrictJSON {
            .array((0..<lens.rows).map { r in .array((0..<n).map { t in f(values[lens.index(row: r, position: t)]) }) })
        }
        return StrictJSON.object([
            ("step", .number(lens.step)),
            ("tokens", .array(lens.tokens.map(StrictJSON.string))),
            ("layers", .array(lens.layerNames.map(StrictJSON.string))),
            ("top_token", cells(lens.topLabel, StrictJSON.string)),
            ("top_probability", cells(lens.topProbability) { $0.isFinite ? .number($0) : .null }),
            ("target_rank", cells(lens.targetRank) { $0 > 0 ? .number(Int($0)) : .null }),
            ("loss", cells(lens.loss) { $0.isFinite ? .number($0) : .null }),
        ]).serialized
    }
}
