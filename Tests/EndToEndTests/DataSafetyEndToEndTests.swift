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
        // Saved between evaluations, its checkpoints record no val loss: --best says so.
        let none = try await runToCompletion([binary, "sample", ws.runs + "/s", "--best", "--max-tokens", "5"])
        #expect(none.status != 0 && none.output.contains("records a val loss") && none.output.split(separator: "\n").count == 1, "\(none.output)")
        let file = try await runToCompletion([binary, "eval", ws.runs + "/s/checkpoints/step-000002.safetensors", "--best", "--data", ws.corpus])
        #expect(file.status != 0 && file.output.contains("give runs/NAME"), "\(file.output)")
    }

    /// `--best` takes the checkpoint with the lowest val loss, not the newest: a run resumed
    /// with a learning rate far too high gets worse, so its best checkpoint is an earlier one.
    @Test func bestTakesTheLowestValLoss() async throws {
        let flags = tiny.map { $0 == "--eval_interval=0" ? "--eval_interval=3" : $0 }
        let t = try await runToCompletion([binary, "train", "--headless", "--run_name=b", "--max_iters=6", "--checkpoint_interval=3",
                                           "--keep_checkpoints=0", "--learning_rate=0.03"] + flags)
        #expect(t.status == 0, "\(t.output)")
        let worse = try await runToCompletion([binary, "train", "--headless", "--resume", ws.runs + "/b", "--max_iters=9",
                                               "--learning_rate=50", "--decay_lr=false"])
        #expect(worse.status == 0, "\(worse.output)")
        // The catalog's own "best" (the one retention keeps) and its newest.
        let listing = try await runToCompletion([binary, "checkpoints", ws.runs + "/b", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as? [String: Any])
        let entries = try #require(((json["runs"] as? [[String: Any]])?.first?["checkpoints"]) as? [[String: Any]])
        #expect(entries.count == 3, "\(listing.output)")
        let bestPath = try #require(entries.first { $0["best"] as? Bool == true }?["path"] as? String)
        let newestPath = try #require(entries.last?["path"] as? String)
        for command in [["eval", "--data", ws.corpus], ["sample", "--max-tokens", "3"]] {
            let r = try await runToCompletion([binary] + command + [ws.runs + "/b", "--best"])
            #expect(r.status == 0, "\(r.output)")
        }
        // eval prints the loss of the file it evaluated: the best one's, recomputed.
        let e = try await runToCompletion([binary, "eval", ws.runs + "/b", "--best", "--json", "--data", ws.corpus])
        let eNewest = try await runToCompletion([binary, "eval", newestPath, "--json", "--data", ws.corpus])
        let eBest = try await runToCompletion([binary, "eval", bestPath, "--json", "--data", ws.corpus])
        #expect(e.status == 0 && e.output == eBest.output, "\(e.output) vs \(eBest.output)")
        #expect(bestPath != newestPath, "\(listing.output)")
        #expect(e.output != eNewest.output)
    }
}
