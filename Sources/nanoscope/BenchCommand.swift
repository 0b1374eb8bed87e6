import ArgumentParser
import Foundation
import GPT
import Kernels
import Tokenizers
import Training
import Dashboard

/// Training throughput, measured the way the performance targets are stated: median ms per
/// optimizer step after warm-up, tokens/s, achieved GFLOP/s — optionally side by side with the
/// PyTorch reference (`torch_gpt.py train`) in the same run, alternating so both see the same
/// machine load.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training speed (ms/iter, tokens/s, GFLOP/s), optionally against PyTorch.",
        discussion: """
        Examples:
          nanoscope bench                                  # the baby Shakespeare config
          nanoscope bench --reference ../shared/reference/torch_gpt.py --repeats 3
          nanoscope bench --n_layer=6 --n_head=6 --n_embd=384 --block_size=256 --batch_size=64 --iters 6 --warmup 1
          nanoscope bench --gemm                           # GEMM GFLOP/s on the model's shapes
          nanoscope bench --gemm Samples/gpt2-small.toml   # … every product of that config's training step
          nanoscope bench --attention-kernels              # standard vs fused attention, one layer
          nanoscope bench Samples/shakespeare-char-large.toml --attention=standard --versus attention=fused --iters 6 --warmup 1
          nanoscope bench --gemm --kernel all              # … with every kernel family this machine runs
          nanoscope bench --gemm --repeats 4               # … each row in 4 rounds, its fastest (a noisy host)
          nanoscope bench --peak                           # this core's FP32 FMA peak
          nanoscope bench --kernel avx2 --reference ../shared/reference/torch_gpt.py
          nanoscope bench --ranks 2 Samples/shakespeare-char-large.toml --batch_size=32 --gradient_accumulation_steps=2 --iters 5 --warmup 1

        Every figure states the ISA, the kernel family, and its fraction of this core's FMA peak
        measured in the same run. --kernel (or the environment variable NANOSCOPE_KERNEL, which
        every command reads) forces a family: avx512, avx2, generic (NEON's shape, portable), auto.
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Timed optimizer steps per measurement.")
    var iters = 50

    @Option(help: "Untimed steps before measuring.")
    var warmup = 5

    @Option(help: "Measurements of each side (the medians' median is reported).")
    var repeats = 1

    @Option(help: "Path of torch_gpt.py: also measure PyTorch on the same config, alternating with Nanoscope.")
    var reference: String?

    @Flag(help: "Only measure the GEMM kernel's GFLOP/s on the model's shapes and a square; with a config, on every product of its training step.")
    var gemm = false

    @Flag(help: "Only measure this core's FP32 FMA peak (independent chains on each vector width this machine runs).")
    var peak = false

    @Option(help: "Kernel family: avx512, avx2, generic, auto (default: NANOSCOPE_KERNEL, else the widest this CPU and build run); with --gemm also 'all'.")
    var kernel: String?

    @Flag(help: "Also train with the dashboard drawing (needs a terminal, e.g. tmux), alternating with headless runs, and report the cost.")
    var dashboard = false

    @Flag(help: "Only measure the 16-bit GEMM (bf16/fp16 operands, FP32 accumulation) against the FP32 GEMM, naming the kernel.")
    var gemm16 = false

    @Flag(help: "Train in float32, bfloat16 and float16 (and PyTorch float32 and bf16 autocast with --reference), alternating.")
    var precision = false

    @Flag(help: "(Not the config key `attention`.) Only time the two attention kernels (standard and fused), one layer forward + backward at the baby, large and GPT-2-small shapes, alternating.")
    var attentionKernels = false

    @Option(help: "Also train the config with this one key changed (e.g. attention=fused, dtype=bfloat16, activation_checkpointing=true), one whole step of each in turn in one process (--iters pairs after --warmup), and report the median ratio of the pairs.")
    var versus: String?

    @Flag(help: "Only time dashboard frames (render + diff) at 200×60 in memory.")
    var frames = false

    @Flag(help: "How cost grows with the work: baby, large and GPT-2-small shapes, each memory option, tokens/s and peak RSS (each its own process), beside --reference on the same shapes.")
    var scaling = false

    @Option(help: "With --scaling: only these shapes (comma-separated: baby, large, gpt2-small).")
    var shapes: String?

    @Option(help: "Data parallelism (MPI build): one process on every core against N ranks × 1 thread under mpirun, over shared memory and TCP, alternating.")
    var ranks: Int?

    @Flag(help: "End with one JSON line: median_ms_per_iter, tokens_per_s, peak_rss_mb.")
    var json = false

    @Flag(help: "Collect the dashboard's telemetry (gradient statistics, update ratios, attention maps) every telemetry_interval steps while measuring.")
    var telemetry = false

    func run() throws {
        if iters < 1 || warmup < 0 || repeats < 1 { fail("--iters = \(iters) and --repeats = \(repeats) must be ≥ 1, --warmup = \(warmup) ≥ 0") }
        if frames { benchFrames(); return }
        if gemm && kernel?.lowercased() == "all" {
            benchGEMM(families: KernelFamily.available)
            return
        }
        // Before every measurement that trains or multiplies: `--kernel avx2` stands in for an
        // AVX2 machine in the 16-bit benchmarks too (float32 6×16 tile, 16-bit operands widened).
        do { try KernelFamily.select(kernel) } catch { throw ValidationError(error.description) }
        if gemm16 { benchGEMM16(); return }
        if precision { try benchPrecision(); return }
        if peak { benchPeak(); return }
        if gemm {
            if options.passedOn.isEmpty {
                benchGEMM(families: [KernelFamily.active])
            } else {
                try benchModelProducts(try resolve().0)
            }
            return
        }
        if attentionKernels { benchAttention(); return }
        if let versus {
            // Both sides are Nanoscope, timed step by step: the flags that add other runs do not apply.
            if reference != nil || dashboard || repeats > 1 || ranks != nil || scaling {
                fail("--versus times two Nanoscope configs step by step (--iters pairs after --warmup); drop --reference, --dashboard, --repeats, --ranks and --scaling, or run them as their own `nanoscope bench`")
            }
            try benchVersus(versus)
            return
        }
        if scaling {
            ScalingBenchmark(reference: reference, only: shapes.map { $0.split(separator: ",").map(String.init) } ?? []).run()
            return
        }
        var (cfg, _) = try resolve()
        if let ranks {
            if ranks < 2 { fail("--ranks = \(ranks) must be at least 2") }
            DistributedBenchmark(ranks: ranks, iters: iters, warmup: warmup, repeats: repeats,
                                 configArguments: options.passedOn, tokensPerStep: cfg.tokensPerStep).run()
            return
        }
        cfg.evalInterval = 0
        let dataset = try benchDataset(cfg)
        let modelConfig = cfg.modelConfig(vocabSize: dataset.tokenizer.vocabSize)
        let flopsPerToken = Self.flopsPerToken(modelConfig)
        print(KernelReport.header(withReference: reference != nil))
        print("config: n_layer \(cfg.nLayer), n_head \(cfg.nHead), n_embd \(cfg.nEmbd), block \(cfg.blockSize), batch \(cfg.batchSize)×\(cfg.gradientAccumulationSteps), vocab \(modelConfig.vocabSize); \(WorkerPool.shared.workers) threads")
        if let estimate = MemoryEstimate.of(cfg, vocabSize: modelConfig.vocabSize, workers: WorkerPool.shared.workers) {
            print("memory estimate (\(cfg.memoryOptions.summary)): \(estimate.summary)")
        }
        var ours: [Double] = [], oursMean: [Double] = [], theirs: [Double] = [], withDashboard: [Double] = []
        for r in 0..<max(1, repeats) {
            let (ms, mean) = try measureNanoscope(cfg, dataset: dataset)
            ours.append(ms)
            oursMean.append(mean)
            print(String(format: "  nanoscope  run %d: median %.2f ms/iter", r + 1, ms))
            if dashboard {
                let d = try measureWithDashboard(cfg, dataset: dataset)
                withDashboard.append(d)
                print(String(format: "  dashboard  run %d: %.2f ms/iter wall clock (training while the dashboard draws)", r + 1, d))
            }
            if let reference {
                let t = try measureReference(reference, cfg: cfg, vocabSize: modelConfig.vocabSize)
                theirs.append(t)
                print(String(format: "  pytorch    run %d: median %.2f ms/iter", r + 1, t))
            }
        }
        let med = median(ours)
        let tps = Double(cfg.tokensPerStep) / (med / 1000)
        let gflops = flopsPerToken * tps / 1e9
        print(String(format: "nanoscope: %.2f ms/iter  %.0f tokens/s  %.1f GFLOP/s (model FLOPs, nanoGPT's 6N + 12·L·H·Q·T per token)", med, tps, gflops))
        // This machine's FMA peak, measured now on the same cores: how much of it training achieves.
        let report = KernelReport.measure()
        print("           = " + report.ofAllCores(gflops).trimmingCharacters(in: .whitespaces) + "; " + report.peakLine)
        if cfg.dtype == .bfloat16 && GEMM16.kernel(for: .bfloat16) == .amxBF16 {
            print("           (bfloat16 products run on AMX tiles, which the float32 FMA peak does not bound)")
        }
        print(String(format: "peak resident memory: %.1f MB", peakRSSMegabytes()))
        if json {
            print(#"{"median_ms_per_iter":\#(med),"tokens_per_s":\#(tps),"peak_rss_mb":\#(peakRSSMegabytes())}"#)
        }
        if !withDashboard.isEmpty {
            // Each dashboard run is compared with the headless run just before it (same machine
            // weather); the median of those ratios is robust to load that drifts between runs.
            let d = median(withDashboard)
            let ratio = median(zip(oursMean, withDashboard).map { $0 / $1 })
            print(String(format: "with dashboard: %.2f ms/iter — throughput %.1f%% of headless (median of paired runs)", d, 100 * ratio))
        }
        if !theirs.isEmpty {
            let ref = median(theirs)
            let rtps = Double(cfg.tokensPerStep) / (ref / 1000)
            print(String(format: "pytorch:   %.2f ms/iter  %.0f tokens/s  %.1f GFLOP/s", ref, rtps, flopsPerToken * rtps / 1e9))
            print(String(format: "speed-up:  %.2f× (tokens/s, Nanoscope / PyTorch; median of paired runs %.2f×)", tps / rtps,
                         median(zip(ours, theirs).map { $1 / $0 })))
        }
    }

    func resolve() throws -> (TrainConfig, String) {
        do { return try options.resolve() } catch let e as UserError { fail(e.message) }
    }

    /// The config's corpus if it has one, else random text over 65 symbols (speed does not
    /// depend on what the tokens are).
    func benchDataset(_ cfg: TrainConfig) throws -> Dataset {
        if cfg.data.hasPrefix("random:") {
            do { return try Dataset.prepare(config: cfg) } catch { fail(error.message) }
        }
        if !cfg.data.isEmpty, FileManager.default.fileExists(atPath: cfg.data) {
            do { return try Dataset.load(path: cfg.data, tokenizer: nil, blockSize: cfg.blockSize) } catch { fail(error.message) }
        }
        // A corpus named by path (not a task or recipe) that is not there is a typo, not a wish
        // for random text: say so rather than time something else.
        if !cfg.data.isEmpty, Dataset.namesAFile(cfg.data) {
            fail("no corpus at \(cfg.data): pass --data an existing text file, or leave it out to time the model on random text")
        }
        var rng = RandomNumbers(seed: 7)
        let ids = (0..<max(200_000, cfg.blockSize * 40)).map { _ in Int32(rng.nextInt(below: 65)) }
        let tok = try CharTokenizer(vocab: (0..<65).map { Unicode.Scalar(UInt8(48 + $0)) })
        do { return try Dataset(ids: ids, tokenizer: tok, blockSize: cfg.blockSize) } catch { fail(error.message) }
    }

    /// Median and mean ms per step after warm-up.
    func measureNanoscope(_ cfg: TrainConfig, dataset: Dataset) throws -> (median: Double, mean: Double) {
        let trainer: Trainer
        do { trainer = try Trainer(config: cfg, dataset: dataset) } catch { fail(error.message) }
        if telemetry { trainer.telemetry = TelemetryCollector(trainer: trainer) }
        var times: [Double] = [], telemetrySteps: [Double] = [], plainSteps: [Double] = []
        for i in 0..<(warmup + iters) {
            let r = try trainer.trainStep()
            guard i >= warmup else { continue }
            times.append(r.seconds * 1000)
            if r.telemetry != nil { telemetrySteps.append(r.seconds * 1000) } else { plainSteps.append(r.seconds * 1000) }
        }
        if telemetry && !telemetrySteps.isEmpty && !plainSteps.isEmpty {
            // Same run, same load: the extra time of a telemetry step, spread over its interval.
            let extra = median(telemetrySteps) - median(plainSteps)
            let share = extra / Double(max(1, cfg.telemetryInterval)) / median(plainSteps)
            print(String(format: "  telemetry: %d steps, median %.2f ms vs %.2f ms without: +%.2f ms each, %.2f%% of training at telemetry_interval %d",
                         telemetrySteps.count, median(telemetrySteps), median(plainSteps), extra, 100 * share, cfg.telemetryInterval))
        }
        // Telemetry steps are rare and slower, so the median hides them; the mean is what a long
        // run's throughput sees, and is the number to compare with and without --telemetry.
        let mean = times.reduce(0, +) / Double(max(1, times.count))
        print(String(format: "  nanoscope  mean %.3f ms/iter", mean) + (telemetry ? " (with telemetry every \(cfg.telemetryInterval) steps)" : ""))
        return (median(times), mean)
    }

    /// The same steps on the trainer thread while the real dashboard draws on this one, timed by
    /// the wall clock from the steps the session published (compared with the headless mean).
    func measureWithDashboard(_ cfg: TrainConfig, dataset: Dataset) throws -> Double {
        var c = cfg
        c.maxIters = warmup + iters
        c.checkpointInterval = 0
        let trainer: Trainer
        do { trainer = try Trainer(config: c, dataset: dataset) } catch { fail(error.message) }
        nonisolated(unsafe) let handOver = trainer
        let session = TrainingSession(name: "bench", maxSteps: c.maxIters) { TrainingRun(trainer: handOver, name: "bench") }
        do {
            try runDashboard(control: session, options: DashboardOptions(exitWhenTrainingEnds: true))
        } catch {
            fail("--dashboard needs a terminal (run it under tmux): \(error)")
        }
        while !session.isDone { Thread.sleep(forTimeInterval: 0.01) }
        // Wall-clock time per step after warm-up: everything the trainer thread loses to the
        // dashboard shows up here, between steps as well as inside them.
        let steps = session.snapshot().steps
        guard steps.count > warmup + 1 else { fail("the dashboard run ended early") }
        let first = steps[warmup], last = steps[steps.count - 1]
        return (last.wallTime - first.wallTime) * 1000 / Double(last.step - first.step)
    }

    func benchFrames() {
        let r = DashboardBenchmark.run(width: 200, height: 60, steps: 2000, frames: 200)
        print(r)
    }

    /// Runs `torch_gpt.py train` with the same shape for warmup+iters steps; returns its median.
    /// The reference makes its own character vocabulary from a text file, which is Nanoscope's
    /// only for `tokenizer = "char"` on that file; any other vocabulary (BPE, `random:V`, a task)
    /// it is given as a size (`--vocab_size`, uniform random tokens: speed and memory depend on
    /// the shape, not on the tokens). Without that, a GPT-2-small config was compared with a
    /// reference whose head had 65 outputs instead of 50304.
    func measureReference(_ script: String, cfg: TrainConfig, vocabSize: Int, dtype: String = "float32") throws -> Double {
        guard FileManager.default.fileExists(atPath: script) else { fail("reference script \(script) not found") }
        let text = cfg.tokenizer == "char" && FileManager.default.fileExists(atPath: cfg.data)
        let data = text ? cfg.data : "/dev/null"
        var args = [script, "train", "--data", data,
                    "--max_iters", String(warmup + iters),
                    "--eval_interval", "1000000", "--eval_iters", "1",
                    "--block_size", String(cfg.blockSize), "--batch_size", String(cfg.batchSize),
                    "--n_layer", String(cfg.nLayer), "--n_head", String(cfg.nHead), "--n_embd", String(cfg.nEmbd),
                    "--lr", String(cfg.learningRate), "--dropout", String(cfg.dropout),
                    "--threads", String(WorkerPool.shared.workers)]
        if cfg.bias { args.append("--bias") }
        if !text { args += ["--vocab_size", String(vocabSize)] }
        args += ["--dtype", dtype]
        let object = runPythonForJSON(args)
        guard let ms = object["median_ms_per_iter"] as? Double else { fail("the reference printed no median_ms_per_iter") }
        return ms
    }

    /// nanoGPT's `estimate_mfu` numerator: 6N FLOPs per token for the weights (forward and
    /// backward) plus 12·L·H·Q·T for attention, N excluding the position embeddings.
    static func flopsPerToken(_ c: GPTConfig) -> Double {
        let layout = ParameterLayout(config: c)
        let n = Double(layout.totalCount - (layout.wpe != nil ? c.blockSize * c.nEmbd : 0))
        return 6 * n + 12 * Double(c.nLayer * c.nHead * c.headSize * c.blockSize)
    }

    func benchPeak() {
        print(KernelReport.isaLine)
        print("FP32 FMA peak, 12 independent chains per thread, best of 9:")
        for family in KernelFamily.available {
            let r = FMAPeak.measure(family: family)
            let mark = family == KernelFamily.best ? "   ← the widest: the peak every bench figure is compared with" : ""
            print(String(format: "  %2d-wide ", family.lanes) + "(\(family.isaName), \(family.rawValue))"
                  + String(format: "   one core %6.1f GFLOP/s   all %d cores %6.1f GFLOP/s", r.oneCore, r.threads, r.allCores) + mark)
        }
    }

    /// GFLOP/s of each family's GEMM on the model's shapes (and a square and the large config's
    /// products), as fractions of the FMA peak measured in the same run. With several
    /// families, each shape is measured with each family in turn, so all see the same load.
    ///
    /// A shared host's speed moves within seconds (one core's peak here: 102–197 GFLOP/s within
    /// an hour), so each row's fractions are of the peak measured right before and right after
    /// that row (the better of the two, as each GEMM figure is its best of 30): a slow minute
    /// then lowers both sides of the fraction instead of one. Where the slow spells last
    /// seconds (on a Zen 3 host one thread's product ran at 92–96 or at 66–75 GFLOP/s, in
    /// turns a second or so long, a C copy of the tile likewise), `--repeats N` measures every
    /// row in N rounds spread over the run and reports each row's fastest round, with the peak
    /// measured around that round, and the range over the rounds.
    func benchGEMM(families: [KernelFamily]) {
        print(KernelReport.isaLine)
        print(KernelReport.measure().peakLine)
        let rounds = max(1, repeats)
        print("GEMM, single precision, best of 30, \(WorkerPool.shared.workers) threads (NN: C = A·B; TN: C = Aᵀ·B with A stored [K, M], the weight gradients);")
        print("each row's fractions are of the FMA peak measured just before and after it (one core / all cores)"
              + (rounds > 1 ? "; every row measured in \(rounds) rounds, its fastest shown (the rounds' range in brackets):" : ":"))
        // The baby model's products (rows = 12×64 tokens, C = 128), a square, and the large
        // config's (64×256 tokens, C = 384): QKV forward, the MLP's projection (K = 4C), and
        // two weight gradients, summed over all 16384 tokens.
        let shapes: [(m: Int, k: Int, n: Int, tn: Bool)] = [
            (768, 128, 384, false), (768, 128, 512, false), (768, 512, 128, false), (768, 128, 128, false),
            (384, 768, 128, true), (512, 768, 128, true), (128, 768, 512, true), (128, 768, 128, true),
            (1024, 1024, 1024, false), (16384, 384, 1152, false), (16384, 1536, 384, false),
            (1152, 16384, 384, true), (384, 16384, 1536, true),
        ]
        var measured = [[[GEMMRound]]](repeating: [[GEMMRound]](repeating: [], count: families.count), count: shapes.count)
        for round in 0..<rounds {
            for (row, (m, k, n, tn)) in shapes.enumerated() {
                for (f, family) in families.enumerated() {
                    let before = FMAPeak.measure(repeats: 5)
                    let one = Self.gemmGFLOPs(m: m, k: k, n: n, transposedA: tn, allThreads: false, kernel: family)
                    let all = Self.gemmGFLOPs(m: m, k: k, n: n, transposedA: tn, allThreads: true, kernel: family)
                    let after = FMAPeak.measure(repeats: 5)
                    measured[row][f].append(GEMMRound(one: one, all: all, peak: before.faster(after)))
                    if round == rounds - 1 { printGEMMRow(shapes[row], family, measured[row][f]) }
                }
            }
            if round < rounds - 1 { print("  (round \(round + 1) of \(rounds) measured; the rows follow the last)") }
        }
        for family in families { print("  \(family)") }
    }

    /// One row's measurement in one round of `benchGEMM`: both figures and the peak around them.
    private struct GEMMRound { let one: Double, all: Double, peak: FMAPeak.Result }

    /// One row of `benchGEMM`: the fastest round of each figure against the peak around it.
    private func printGEMMRow(_ shape: (m: Int, k: Int, n: Int, tn: Bool), _ family: KernelFamily, _ rounds: [GEMMRound]) {
        let one = rounds.max { $0.one < $1.one }!, all = rounds.max { $0.all < $1.all }!
        let oneReport = KernelReport(peak: one.peak), allReport = KernelReport(peak: all.peak)
        func range(_ xs: [Double]) -> String {
            rounds.count == 1 ? "" : String(format: " [%.0f–%.0f]", xs.min()!, xs.max()!)
        }
        let name = family.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        print("  " + (shape.tn ? "TN" : "NN") + String(format: " %5d×%4d×%4d  ", shape.m, shape.k, shape.n) + name
              + String(format: "1 thread %6.1f GFLOP/s (", one.one) + oneReport.ofOneCore(one.one) + ")" + range(rounds.map(\.one))
              + String(format: "   all threads %6.1f GFLOP/s (", all.all) + allReport.ofAllCores(all.all) + ")" + range(rounds.map(\.all))
              + String(format: "   peak %.0f / %.0f", oneReport.peak.oneCore, allReport.allCoresPeak))
    }

    /// The GEMM kernel's GFLOP/s on one shape: the best of 30 products (operands in cache).
    static func gemmGFLOPs(m: Int, k: Int, n: Int, transposedA: Bool = false, allThreads: Bool,
                           kernel: KernelFamily = .active) -> Double {
        // A is [M, K] (row stride K), or for TN stored as [K, M] and read column-wise.
        let ars = transposedA ? 1 : k, acs = transposedA ? m : 1
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 7) * 0.1 }
        for i in 0..<b.count { b[i] = Float(i % 5) * 0.1 }
        var best = Double.infinity
        for _ in 0..<30 {
            best = min(best, Stopwatch.seconds {
                if allThreads {
                    GEMM.multiply(m: m, n: n, k: k, a: a.pointer, aRowStride: ars, aColStride: acs, b: b.pointer, ldb: n,
                                  c: c.pointer, ldc: n, accumulate: false, kernel: kernel)
                } else {
                    GEMM.serial(m: m, n: n, k: k, a: a.pointer, aRowStride: ars, aColStride: acs, b: b.pointer, ldb: n,
                                c: c.pointer, ldc: n, accumulate: false, kernel: kernel)
                }
            })
        }
        return 2 * Double(m * n * k) / best / 1e9
    }
}

func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}
