import Foundation
import GPT
import Kernels
import Training

/// `nanoscope bench --scaling`: how the cost of training grows with the work, and what each
/// memory option saves — for the baby, large and GPT-2-small shapes, tokens/s and peak RSS of
/// Nanoscope with each memory option and of the PyTorch reference on the same shape, in one run.
///
/// Peak RSS is a process's high-water mark, so every measurement is its own process: this binary
/// again (`nanoscope bench … --json`) or `torch_gpt.py train`. All shapes train on uniform random
/// tokens of their vocabulary (speed and memory do not depend on what the tokens are).
struct ScalingBenchmark {
    struct Shape {
        var name: String
        var vocab: Int
        var nLayer: Int, nHead: Int, nEmbd: Int, blockSize: Int, batchSize: Int
        var warmup: Int, iters: Int
    }

    static let shapes = [
        Shape(name: "baby", vocab: 65, nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 12, warmup: 5, iters: 30),
        Shape(name: "large", vocab: 65, nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, batchSize: 64, warmup: 1, iters: 3),
        Shape(name: "gpt2-small", vocab: 50304, nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, batchSize: 4, warmup: 1, iters: 2),
    ]

    /// Each memory option measured, as its run-config values.
    static let options: [(name: String, attention: MemoryOptions.AttentionKernel, checkpointing: MemoryOptions.Checkpointing)] = [
        ("standard", .standard, .off),
        ("fused", .fused, .off),
        ("fused + checkpointing", .fused, .full),
        ("fused + selective checkpointing", .fused, .selective),
    ]

    struct Row {
        var shape: String, parameters: Int, variant: String
        var msPerIter: Double, tokensPerSecond: Double, peakRSSMegabytes: Double
        var estimateBytes: Int?
    }

    let reference: String?
    /// Only these shapes (all when empty).
    let only: [String]

    func run() {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var rows: [Row] = []
        let shapes = Self.shapes.filter { only.isEmpty || only.contains($0.name) }
        if shapes.isEmpty { fail("--shapes names none of \(Self.shapes.map(\.name).joined(separator: ", "))") }
        print(KernelReport.header(withReference: reference != nil))
        print("scaling: \(shapes.map(\.name).joined(separator: ", ")) — each figure its own process; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        for shape in shapes {
            var config = TrainConfig()
            config.nLayer = shape.nLayer; config.nHead = shape.nHead; config.nEmbd = shape.nEmbd
            config.blockSize = shape.blockSize; config.batchSize = shape.batchSize
            let parameters = config.modelConfig(vocabSize: shape.vocab).checkedParameterCount ?? 0
            for option in Self.options {
                let args = ["bench", "--json", "--iters", String(shape.iters), "--warmup", String(shape.warmup),
                            "--data=random:\(shape.vocab)", "--n_layer=\(shape.nLayer)", "--n_head=\(shape.nHead)",
                            "--n_embd=\(shape.nEmbd)", "--block_size=\(shape.blockSize)", "--batch_size=\(shape.batchSize)",
                            "--eval_interval=0", "--dropout=0", "--kernel", KernelFamily.active.rawValue]
                var c = config
                c.attention = option.attention.rawValue
                c.activationCheckpointing = option.checkpointing
                let flags = ["attention", "activation_checkpointing"].map { "--\($0)=\(c.value(of: $0)!)" }
                let result = runForJSON(executable, args + flags, what: "nanoscope bench (\(shape.name), \(option.name))")
                let row = Row(shape: shape.name, parameters: parameters, variant: "nanoscope " + option.name,
                              msPerIter: result["median_ms_per_iter"] as? Double ?? .nan,
                              tokensPerSecond: result["tokens_per_s"] as? Double ?? .nan,
                              peakRSSMegabytes: result["peak_rss_mb"] as? Double ?? .nan,
                              estimateBytes: MemoryEstimate.of(c, vocabSize: shape.vocab, workers: 2)?.total)
                print(Self.line(row))
                rows.append(row)
            }
            if let reference {
                let args = [reference, "train", "--data", "/dev/null", "--vocab_size", String(shape.vocab),
                            "--n_layer", String(shape.nLayer), "--n_head", String(shape.nHead), "--n_embd", String(shape.nEmbd),
                            "--block_size", String(shape.blockSize), "--batch_size", String(shape.batchSize),
                            "--max_iters", String(shape.warmup + shape.iters), "--eval_interval", "1000000", "--eval_iters", "1",
                            "--threads", String(ProcessInfo.processInfo.activeProcessorCount)]
                let result = runPythonForJSON(args, what: "the PyTorch reference (\(shape.name))")
                let ms = result["median_ms_per_iter"] as? Double ?? .nan
                let row = Row(shape: shape.name, parameters: parameters, variant: "pytorch",
                              msPerIter: ms, tokensPerSecond: Double(shape.batchSize * shape.blockSize) / (ms / 1000),
                              peakRSSMegabytes: result["peak_rss_mb"] as? Double ?? .nan, estimateBytes: nil)
                print(Self.line(row))
                rows.append(row)
            }
        }
        print()
        print(Self.table(rows))
    }

    static func line(_ r: Row) -> String {
        String(format: "  %-10@ %-34@ %10.1f ms/iter %9.0f tokens/s  peak RSS %7.0f MB", r.shape, r.variant,
               r.msPerIter, r.tokensPerSecond, r.peakRSSMegabytes)
    }

    /// The README's table: one row per shape and variant, with the speed relative to PyTorch.
    static func table(_ rows: [Row]) -> String {
        var out = "| shape | params | variant | ms/step | tokens/s | peak RSS | estimate | vs PyTorch (tokens/s) |\n|---|---|---|---|---|---|---|---|\n"
        for r in rows {
            let torch = rows.first { $0.shape == r.shape && $0.variant == "pytorch" }
            let ratio = torch.map { String(format: "%.2f×", r.tokensPerSecond / $0.tokensPerSecond) } ?? "—"
            out += String(format: "| %@ | %.1fM | %@ | %.0f | %.0f | %.0f MB | %@ | %@ |\n", r.shape, Double(r.parameters) / 1e6,
                          r.variant, r.msPerIter, r.tokensPerSecond, r.peakRSSMegabytes,
                          r.estimateBytes.map { MemoryEstimate.format(bytes: $0) } ?? "—", r.variant == "pytorch" ? "1.00×" : ratio)
        }
        return out
    }
}
