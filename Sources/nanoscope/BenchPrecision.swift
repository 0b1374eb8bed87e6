import Foundation
import GPT
import Kernels
import Training

/// `nanoscope bench --gemm16` and `--precision`: the 16-bit kernels and the dtypes side by side.
extension BenchCommand {
    /// The 16-bit GEMM against the float32 GEMM on the products a training step runs (forward
    /// x·Wᵀ, ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x) at the baby and the large config's shapes, all threads.
    func benchGEMM16() {
        let bfKernels = GEMM16.kernels(for: .bfloat16)
        print(KernelReport.isaLine)
        print("16-bit GEMM vs float32 GEMM, best of 30, \(WorkerPool.shared.workers) threads")
        print("  CPU: AMX-BF16 \(GEMM16.hasAMXBF16 ? "yes" : "no"), AVX512_BF16 \(GEMM16.hasAVX512BF16 ? "yes" : "no"), F16C \(GEMM16.hasF16C ? "yes" : "no")")
        for (i, kernel) in bfKernels.enumerated() {
            print("  bf16[\(i + 1)] \(kernel.rawValue)\(kernel == GEMM16.kernel(for: .bfloat16) ? "  ← what training uses" : "")")
        }
        print("  fp16    \(GEMM16.kernel(for: .float16).rawValue)")
        // (m, k, n, transposedA): rows = B·T tokens; baby 768 × C 128, large 16384 × C 384.
        let shapes: [(String, Int, Int, Int, Bool)] = [
            ("baby c_attn fwd", 768, 128, 384, false), ("baby c_fc fwd", 768, 128, 512, false),
            ("baby mlp.c_proj fwd", 768, 512, 128, false), ("baby c_fc dx", 768, 512, 128, false),
            ("baby c_fc dW", 512, 768, 128, true),
            ("large c_attn fwd", 16384, 384, 1152, false), ("large c_fc fwd", 16384, 384, 1536, false),
            ("large mlp.c_proj fwd", 16384, 1536, 384, false), ("large c_fc dW", 1536, 16384, 384, true),
        ]
        var ratios = [[Double]](repeating: [], count: bfKernels.count)
        for (name, m, k, n, t) in shapes {
            let f32 = Self.gemmGFLOPs(m: m, k: k, n: n, allThreads: true)
            var line = name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: " %5d×%5d×%5d%@  fp32 %6.1f", m, k, n, (t ? " Aᵀ" : "   ") as NSString, f32)
            for (i, kernel) in bfKernels.enumerated() {
                let bf = Self.gemm16GFLOPs(.bfloat16, kernel: kernel, m: m, k: k, n: n, transposedA: t)
                ratios[i].append(bf / f32)
                line += String(format: "   bf16[%d] %6.1f (%.2f×)", i + 1, bf, bf / f32)
            }
            let fp = Self.gemm16GFLOPs(.float16, kernel: .widenToFloat32, m: m, k: k, n: n, transposedA: t)
            print(line + String(format: "   fp16 %6.1f (%.2f×) GFLOP/s", fp, fp / f32))
        }
        for (i, kernel) in bfKernels.enumerated() {
            print(String(format: "  bf16[%d] / fp32: median %.2f×, min %.2f×  (%@)", i + 1, median(ratios[i]),
                         ratios[i].min() ?? .nan, kernel.rawValue as NSString))
        }
    }

    static func gemm16GFLOPs(_ format: HalfFormat, kernel: GEMM16.Kernel, m: Int, k: Int, n: Int, transposedA: Bool) -> Double {
        let a = [UInt16]((0..<(m * k)).map { Half.bits(Float($0 % 7) * 0.1, format) })
        let b = [UInt16]((0..<(k * n)).map { Half.bits(Float($0 % 5) * 0.1, format) })
        let c = FloatBuffer(count: m * n)
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            for _ in 0..<30 {
                best = min(best, Stopwatch.seconds {
                    GEMM16.multiply(format, m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: transposedA ? 1 : k,
                                    aColStride: transposedA ? m : 1, b: bp.baseAddress!, ldb: n, c: c.pointer, ldc: n,
                                    accumulate: transposedA, kernel: kernel)
                })
            }
        } }
        return 2 * Double(m * n * k) / best / 1e9
    }

    /// The config trained in float32, bfloat16 and float16, and (with `--reference`) PyTorch in
    /// float32 and under bfloat16 autocast, alternating within each repeat so all see the same load.
    func benchPrecision() throws {
        var (cfg, _) = try resolve()
        cfg.evalInterval = 0
        let dataset = try benchDataset(cfg)
        print(KernelReport.header(withReference: reference != nil))
        print("config: n_layer \(cfg.nLayer), n_head \(cfg.nHead), n_embd \(cfg.nEmbd), block \(cfg.blockSize), batch \(cfg.batchSize); \(WorkerPool.shared.workers) threads")
        print("bf16 GEMM kernel: \(GEMM16.kernel(for: .bfloat16).rawValue); fp16: \(GEMM16.kernel(for: .float16).rawValue)")
        var ours: [DType: [Double]] = [:], theirs: [String: [Double]] = [:]
        for r in 0..<max(1, repeats) {
            for d in DType.allCases {
                var c = cfg
                c.dtype = d
                let ms = try measureNanoscope(c, dataset: dataset).median
                ours[d, default: []].append(ms)
                print(String(format: "  run %d nanoscope %-8@ %.2f ms/iter", r + 1, d.rawValue as NSString, ms))
            }
            if let reference {
                for d in ["float32", "bfloat16"] {
                    let ms = try measureReference(reference, cfg: cfg, vocabSize: dataset.tokenizer.vocabSize, dtype: d)
                    theirs[d, default: []].append(ms)
                    print(String(format: "  run %d pytorch   %-8@ %.2f ms/iter", r + 1, d as NSString, ms))
                }
            }
        }
        try benchUnderflow(cfg, dataset: dataset)
        let base = median(ours[.float32]!)
        for d in DType.allCases {
            let m = median(ours[d]!)
            print(String(format: "nanoscope %-8@ median %.2f ms/iter  (%.2f× float32's speed)", d.rawValue as NSString, m, base / m))
        }
        if let t32 = theirs["float32"].map(median), let t16 = theirs["bfloat16"].map(median) {
            print(String(format: "pytorch   float32  median %.2f ms/iter; bfloat16 autocast %.2f ms/iter", t32, t16))
            print(String(format: "nanoscope bfloat16 vs pytorch float32: %.2f×; vs pytorch bfloat16: %.2f×; nanoscope float32 vs pytorch float32: %.2f×",
                         t32 / median(ours[.bfloat16]!), t16 / median(ours[.bfloat16]!), t32 / base))
        }
    }
}

extension BenchCommand {
    /// The loss-scaling lesson, measured: after `iters` float32 steps, the share of gradient values
    /// that would flush to zero or overflow in float16 / bfloat16 at S = 1 and S = 65536; and a
    /// float16 run with loss scaling off against one with it on (exact zeros in ∂L/∂W).
    func benchUnderflow(_ cfg: TrainConfig, dataset: Dataset) throws {
        var c = cfg
        c.dtype = .float32
        let t = try Trainer(config: c, dataset: dataset)
        var last: [Float] = []
        t.afterBackward = { m in last = m.grads.array }
        for _ in 0..<iters { _ = try t.trainStep() }
        last.withUnsafeBufferPointer { g in
            for s: Float in [1, 65536] {
                let h = HalfRangeFractions.of(g, scale: s, format: .float16), b = HalfRangeFractions.of(g, scale: s, format: .bfloat16)
                print(String(format: "float32 gradients after %d steps at S = %.0f: float16 flushes %.2f%%, overflows %.4f%%; bfloat16 flushes %.4f%%, overflows %.4f%%",
                             iters, s, 100 * h.underflow, 100 * h.overflow, 100 * b.underflow, 100 * b.overflow))
            }
        }
        for scaling in [false, true] {
            var f = cfg
            f.dtype = .float16
            f.lossScaling = scaling
            let tr = try Trainer(config: f, dataset: dataset)
            var zeros = 0.0, loss: Float = 0
            tr.afterBackward = { m in zeros = Double(m.grads.array.filter { $0 == 0 }.count) / Double(m.grads.count) }
            for _ in 0..<iters { loss = try tr.trainStep().loss }
            print(String(format: "float16, loss scaling %@: %.2f%% of ∂L/∂W entries exactly zero after %d steps (loss %.4f)",
                         (scaling ? "on " : "off") as NSString, 100 * zeros, iters, loss))
        }
    }
}
