import Foundation
import GPT
import Kernels
import Training

/// `nanoscope bench CONFIG --versus key=value`: the config against itself with one key changed —
/// fused against standard attention, bfloat16 against float32, checkpointing on against off —
/// as whole training steps, one step of each in turn in one process.
///
/// Why in turn, in one process: on a shared machine the speed of separate runs drifts by more
/// than most of these differences (±15 % between minutes here). Two trainers built with the same
/// seed see the same batches; the two steps of a pair run a few seconds apart under the same
/// load, so each pair's ratio is a fair comparison, and the median of the ratios is the figure.
/// The side that goes first alternates, so neither always inherits the other's caches.
extension BenchCommand {
    func benchVersus(_ change: String) throws {
        var (base, _) = try resolve()
        base.evalInterval = 0
        var other = base
        let key: String
        do { key = try ConfigOptions.apply(change, to: &other, flag: "--versus") } catch { fail(error.message) }
        do { try other.validate() } catch { fail(error.message) }
        let label = { (c: TrainConfig) in "\(key) = \(c.value(of: key).map { "\($0)" } ?? "?")" }
        if label(base) == label(other) {
            fail("--versus \(change): the config already has \(label(base)); name another value, or set this side with --\(key)=…")
        }
        let dataset = try benchDataset(base)
        // Both trainers live at once: each side fits on its own (validate), the two must together.
        let bytes = [base, other].map { $0.trainingBytes(vocabSize: dataset.tokenizer.vocabSize) }
        let both = bytes[0].flatMap { a in bytes[1].flatMap { a.addingReportingOverflow($0).overflow ? nil : a + $0 } }
        do {
            try MemoryBudget.check(both, for: "--versus (two trainers at once)",
                                   fix: "compare on a smaller shape, or time each side with its own `nanoscope bench`")
        } catch { fail(error.message) }
        print(KernelReport.header(withReference: false))
        print("config: n_layer \(base.nLayer), n_head \(base.nHead), n_embd \(base.nEmbd), block \(base.blockSize), batch \(base.batchSize)×\(base.gradientAccumulationSteps), dropout \(base.dropout); \(WorkerPool.shared.workers) threads")
        var sides: [(name: String, config: TrainConfig, trainer: Trainer)] = []
        for c in [base, other] {
            print("  \(label(c)): \(c.dtype.rawValue), \(c.memoryOptions.summary)")
            do { sides.append((label(c), c, try Trainer(config: c, dataset: dataset))) } catch { fail(error.message) }
        }
        var times = [[Double]](repeating: [], count: sides.count)
        for i in 0..<(warmup + iters) {
            for s in (i % 2 == 0 ? [0, 1] : [1, 0]) {
                let ms = try sides[s].trainer.trainStep().seconds * 1000
                if i >= warmup { times[s].append(ms) }
            }
        }
        let width = sides.map(\.name.count).max() ?? 0
        for (s, side) in sides.enumerated() {
            let med = median(times[s])
            let shown = times[s].count <= 12 ? times[s].map { String(format: "%.0f", $0) }.joined(separator: " ")
                : String(format: "quartiles %.0f %.0f %.0f", quantile(times[s], 0.25), med, quantile(times[s], 0.75))
            print("  " + side.name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + String(format: "  median %9.2f ms/step  %8.0f tokens/s  (%d steps: %@)", med,
                           Double(side.config.tokensPerStep) / (med / 1000), times[s].count, shown as NSString))
        }
        // Per token, so that a change of batch or block size compares like with like.
        let perToken = { (s: Int, ms: Double) in ms / Double(sides[s].config.tokensPerStep) }
        let ratios = zip(times[0], times[1]).map { perToken(1, $1) / perToken(0, $0) }
        print(String(format: "%@ / %@, median of %d paired steps: %.3f× the time per token (pairs %.3f–%.3f); %.2f× the speed",
                     sides[1].name as NSString, sides[0].name as NSString, ratios.count, median(ratios),
                     ratios.min() ?? Double.nan, ratios.max() ?? Double.nan, 1 / median(ratios)))
    }
}

/// The value below which a fraction `q` of `xs` lies (nearest rank).
func quantile(_ xs: [Double], _ q: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, max(0, Int((q * Double(s.count)).rounded(.up)) - 1))]
}
