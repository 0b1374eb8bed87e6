import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14 on the real binary: a full disk or a read-only folder (training goes on, the exit
/// code says nothing could be saved, metrics.jsonl has only whole lines), a stop request in a
/// long step, `--run_name=..`, and two trainers on one run.
@Suite struct DataSafetyEndToEndTests {
    let binary: String
    let ws: Workspace

    init() throws {
        binary = try hostileBinary()
        ws = try Workspace()
    }

    var tiny: [String] {
        ["--data", ws.corpus, "--runs_dir=\(ws.runs)", "--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=16", "--batch_size=4",
         "--eval_iters=1", "--eval_interval=0", "--log_interval=1"]
    }

    /// A file-size limit stands in for a full disk: every write past it fails with EFBIG.
    @Test func aFullDiskFailsTheRunWithWholeMetricsLines() async throws {
        // The limit applies to every file the process writes, so its output goes through a pipe;
        // the shell reports the trainer's exit code after the last lines.
        let command = (["prlimit", "--fsize=30000", binary, "train", "--headless", "--run_name=full", "--max_iters=300",
                        "--checkpoint_interval=100"] + tiny).map { "'\($0)'" }.joined(separator: " ")
        let piped = try await runToCompletion(["bash", "-c", "set -o pipefail; \(command) 2>&1 | tail -n 5"])
        let r = (status: piped.status, output: piped.output)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("step 300/300"), "training went on to the end: \(r.output.suffix(600))")
        let last = r.output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("error: ") && last.contains("could not be saved") && last.contains("no checkpoint of this run was saved"), "\(last)")
        let metrics = try String(contentsOfFile: ws.runs + "/full/metrics.jsonl", encoding: .utf8)
        #expect(metrics.utf8.count > 25_000 && metrics.hasSuffix("\n"))
        #expect(metrics.split(separator: "\n").allSatisfy { $0.hasPrefix("{\"step\":") && $0.hasSuffix("}") })
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: ws.runs + "/full/checkpoints")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aReadOnlyCheckpointsFolderFailsTheRunAndNamesTheLastGoodCheckpoint() async throws {
        let first = try await runToCompletion([binary, "train", "--headless", "--run_name=ro", "--max_iters=4", "--checkpoint_interval=4"] + tiny)
        #expect(first.status == 0, "\(first.output)")
        let folder = ws.runs + "/ro/checkpoints"
        // Root ignores file modes: as root (CI) the resume runs as `nobody`, owning the run folder.
        var asUser: [String] = []
        if getuid() == 0 {
            _ = try await runToCompletion(["chown", "-R", "65534:65534", ws.runs + "/ro"])
            for dir in [ws.path, ws.runs] { chmod(dir, 0o755) }
            chmod(ws.corpus, 0o644)
            asUser = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        chmod(folder, 0o555)
        defer { chmod(folder, 0o755) }
        let r = try await runToCompletion(asUser + [binary, "train", "--headless", "--resume", ws.runs + "/ro", "--max_iters=8"])
        #expect(r.status == 1 && r.output.contains("step 8/8"), "\(r.output)")
        #expect(r.output.split(separator: "\n").last?.contains("the last good checkpoint is \(folder)/step-000004.safetensors") == true, "\(r.output)")
    }

    @Test func aStopRequestEndsALongStep() async throws {
        let start = Date()
        let r = try await runToCompletion(["timeout", "-s", "TERM", "-k", "20", "3", binary, "train", "--headless", "--run_name=long",
                                     "--gradient_accumulation_steps=60000", "--max_iters=2"] + tiny)
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 124, "timeout sent SIGTERM: \(r.output)")
        // "interrupted at step 0": the first step (60000 micro-batches) was abandoned between
        // micro-batches, not finished — a wall-clock bound would only measure how loaded the
        // machine running the whole suite is.
        #expect(r.output.contains("interrupted at step 0"), "\(r.output) (after \(seconds) s)")
    }

    @Test func dotDotIsNotARunName() async throws {
        let r = try await runToCompletion([binary, "train", "--headless", "--run_name=..", "--max_iters=2"] + tiny)
        #expect(r.status == 1 && r.output.hasPrefix("error: run_name = \"..\""), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/config.toml"))
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/metrics.jsonl"))
    }

    /// While one process holds the run's lock (here `flock`, as a trainer would), a trainer is refused.
    @Test func twoTrainersCannotBothWriteOneRun() async throws {
        try FileManager.default.createDirectory(atPath: ws.runs + "/same", withIntermediateDirectories: true)
        let lock = ws.runs + "/same/.lock"
        let command = ([binary, "train", "--headless", "--run_name=same", "--max_iters=2"] + tiny).map { "'\($0)'" }.joined(separator: " ")
        let r = try await runToCompletion(["flock", "-n", lock, "sh", "-c", "echo 4242 > '\(lock)'; \(command)"])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("another trainer (pid 4242) is training in this run folder"), "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: ws.runs + "/same/config.toml"))
        // Once the holder is gone, the run can be trained.
        let after = try await runToCompletion([binary, "train", "--headless", "--run_name=same", "--max_iters=2"] + tiny)
        #expect(after.status == 0, "\(after.output)")
    }

    @Test func sampleTakesARunFolder() async throws {
        let t = try await runToCompletion([binary, "train", "--headless", "--run_name=s", "--max_iters=2"] + tiny)
        #expect(t.status == 0, "\(t.output)")
        let r = try await runToCompletion([binary, "sample", ws.runs + "/s", "--max-tokens", "5", "--temperature", "0"])
        #expect(r.status == 0 && !r.output.isEmpty, "\(r.output)")
    }
}
