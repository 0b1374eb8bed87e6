import Foundation
import Training

/// `nanoscope bench --ranks N`: data parallelism against one process on the same cores, in one
/// run — `train --headless` with all cores as threads, then `mpirun -np N --bind-to core` (one
/// thread per rank) over shared memory and over TCP on loopback (the path separate machines
/// use), alternating, `--repeats` times. Each figure is the median ms per step after `--warmup`
/// steps, from the run's own `metrics.jsonl` clock; rank 0's closing cluster line gives the
/// all-reduce's share of the step.
struct DistributedBenchmark {
    let ranks: Int
    let iters: Int
    let warmup: Int
    let repeats: Int
    /// The config path and `--key=value` overrides, passed on to every `train`.
    let configArguments: [String]
    let tokensPerStep: Int

    struct Variant {
        var name: String
        var launcher: [String]
        var distributed: Bool
    }

    private func pad(_ name: String) -> String { name.padding(toLength: 40, withPad: " ", startingAt: 0) }

    func run() {
        #if !MPI
        fail("bench --ranks needs the MPI build: swift build -c release --traits MPI (README: More than one machine)")
        #else
        guard let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            fail("bench --ranks needs mpirun: apt-get install openmpi-bin libopenmpi-dev (README: More than one machine)")
        }
        if warmup < 1 { fail("bench --ranks needs --warmup ≥ 1: the first step is timed from the end of the warm-up") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var mpi = [mpirun, "-np", String(ranks), "--bind-to", "core"]
        if getuid() == 0 { mpi.append("--allow-run-as-root") }  // Open MPI refuses root without it
        if ranks > cores { mpi.append("--oversubscribe") }
        let variants = [
            Variant(name: "1 process × \(cores) threads", launcher: [executable], distributed: false),
            Variant(name: "\(ranks) ranks × 1 thread, shared memory", launcher: mpi + [executable], distributed: true),
            Variant(name: "\(ranks) ranks × 1 thread, TCP loopback", launcher: mpi + ["--mca", "btl", "tcp,self", executable], distributed: true),
        ]
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nanoscope-bench-ranks-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        print("data parallelism: \(variants.map(\.name).joined(separator: " / ")), alternating, \(repeats) × \(iters) steps after \(warmup) warm-up")
        var ms = [[Double]](repeating: [], count: variants.count)
        var cluster = [String](repeating: "", count: variants.count)
        for r in 0..<repeats {
            for (v, variant) in variants.enumerated() {
                let name = "v\(v)-r\(r)"
                let args = variant.launcher + ["train", "--headless"] + configArguments
                    + ["--runs_dir=\(scratch)", "--run_name=\(name)", "--max_iters=\(warmup + iters)", "--eval_interval=0",
                       "--checkpoint_interval=0", "--log_interval=1", "--keep_checkpoints=1"]
                    + (variant.distributed ? ["--distributed"] : [])
                let result: ExternalCommand.Result
                do { result = try ExternalCommand.runAndWait(args, mergingErrors: true) } catch { fail("cannot run \(args[0]): \(error)") }
                guard result.status == 0 else {
                    fail("\(variant.name) did not run: " + result.output.split(separator: "\n").suffix(3).joined(separator: " | "))
                }
                guard let records = try? MetricsLog.read(scratch + "/\(name)/metrics.jsonl"),
                      let start = records.first(where: { $0.step == warmup }), let end = records.first(where: { $0.step == warmup + iters }) else {
                    fail("\(variant.name): its metrics.jsonl has no steps \(warmup) and \(warmup + iters)")
                }
                let perStep = 1000 * (end.time - start.time) / Double(iters)
                ms[v].append(perStep)
                if let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("cluster (") }) {
                    cluster[v] = String(line)
                }
                print("  run \(r + 1)  " + pad(variant.name) + String(format: " %9.1f ms/step", perStep))
                try? FileManager.default.removeItem(atPath: scratch + "/\(name)")
            }
        }
        let medians = ms.map(median)
        for (v, variant) in variants.enumerated() {
            let tps = Double(tokensPerStep) / (medians[v] / 1000)
            let ratio = medians[0] / medians[v]
            print(pad(variant.name) + String(format: " %9.1f ms/step  %8.0f tokens/s  %5.2f× one process", medians[v], tps, ratio))
            if !cluster[v].isEmpty { print("    last run's " + cluster[v]) }
        }
        #endif
    }
}
