import Foundation
import Kernels
import Training

extension BenchCommand {
    /// `bench --gemm` with a config: every matrix product of that model's training step, called
    /// the way the step calls it — the forward pass's x·Wᵀ (`GEMM.multiply(transposedB:)`, the
    /// weights packed from PyTorch's layout), the backward pass's ∂x = G·W and ∂W += Gᵀ·x — on
    /// all threads, with operands the step's size (so they come from where the step's come from,
    /// mostly L3 and memory, not the warm caches of the fixed list's small shapes). Where a step
    /// falls short of the peak, this says which product loses it.
    func benchModelProducts(_ cfg: TrainConfig) throws {
        let dataset = try benchDataset(cfg)
        let model = cfg.modelConfig(vocabSize: dataset.tokenizer.vocabSize)
        let rows = cfg.batchSize * cfg.blockSize, c = model.nEmbd
        print(KernelReport.isaLine)
        print(KernelReport.measure().peakLine)
        print("The products of one training step of \(model.nLayer)×\(c), \(rows) tokens (batch \(cfg.batchSize) × block \(cfg.blockSize)), "
              + "\(WorkerPool.shared.workers) threads, each the best of up to 10 (the fraction is of the all-core peak measured just before and after it):")
        let layers: [(name: String, inFeatures: Int, outFeatures: Int, count: Int)] = [
            ("c_attn", c, 3 * c, model.nLayer), ("attn c_proj", c, c, model.nLayer),
            ("mlp c_fc", c, 4 * c, model.nLayer), ("mlp c_proj", 4 * c, c, model.nLayer),
            ("head (wte)", c, model.vocabSize, 1),
        ]
        var stepSeconds = 0.0, stepFlops = 0.0
        for layer in layers {
            let ic = layer.inFeatures, oc = layer.outFeatures
            let x = FloatBuffer(count: rows * ic), w = FloatBuffer(count: oc * ic), g = FloatBuffer(count: rows * oc)
            let y = FloatBuffer(count: rows * oc), dx = FloatBuffer(count: rows * ic), dw = FloatBuffer(count: oc * ic)
            for i in 0..<x.count { x[i] = Float(i % 7) * 0.1 }
            for i in 0..<w.count { w[i] = Float(i % 5) * 0.01 }
            for i in 0..<g.count { g[i] = Float(i % 3) * 0.01 }
            let products: [(String, () -> Void)] = [
                ("x·Wᵀ ", { GEMM.multiply(m: rows, n: oc, k: ic, a: x.pointer, aRowStride: ic, transposedB: w.pointer, ldw: ic,
                                          c: y.pointer, ldc: oc, accumulate: false) }),
                ("G·W  ", { GEMM.multiply(m: rows, n: ic, k: oc, a: g.pointer, aRowStride: oc, b: w.pointer, ldb: ic,
                                          c: dx.pointer, ldc: ic, accumulate: false) }),
                ("Gᵀ·x ", { GEMM.multiply(m: oc, n: ic, k: rows, a: g.pointer, aRowStride: 1, aColStride: oc, b: x.pointer, ldb: ic,
                                          c: dw.pointer, ldc: ic, accumulate: true) }),
            ]
            let flops = 2 * Double(rows) * Double(ic) * Double(oc)
            for (label, product) in products {
                let before = FMAPeak.measure(repeats: 5)
                product()  // warm: first touch of the outputs, the packing buffers
                var best = Double.infinity, spent = 0.0, tries = 0
                while tries < 10 && (tries < 3 || spent < 2) {
                    let t = Stopwatch.seconds(product)
                    best = min(best, t); spent += t; tries += 1
                }
                let report = KernelReport(peak: before.faster(FMAPeak.measure(repeats: 5)))
                let gflops = flops / best / 1e9
                stepSeconds += best * Double(layer.count); stepFlops += flops * Double(layer.count)
                print("  " + layer.name.padding(toLength: 12, withPad: " ", startingAt: 0) + label
                      + String(format: "%6d×%5d×%5d  %7.2f ms  %6.1f GFLOP/s  ", rows, ic, oc, best * 1e3, gflops)
                      + report.ofAllCores(gflops) + (layer.count > 1 ? "   ×\(layer.count) a step" : ""))
            }
        }
        print(String(format: "  all of a step's products: %.2f s, %.1f GFLOP/s", stepSeconds, stepFlops / stepSeconds / 1e9))
    }
}
