import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// The real binary's headless commands, as a script or a person at a shell would use them:
/// train, list, evaluate, sample, resume — and one-line errors for bad input.
@Suite(.serialized) struct CommandLineTests {
    let binary: String
    let ws: Workspace

    init() throws {
        binary = try nanoscopeBinary()
        ws = try Workspace()
    }

    func nanoscope(_ args: [String]) async throws -> (status: Int32, output: String) {
        try await runToCompletion([binary] + args)
    }

    var small: [String] {
        ["--data", ws.corpus, "--runs_dir=\(ws.runs)", "--n_layer=2", "--n_embd=32", "--n_head=2", "--block_size=32",
         "--eval_iters=2", "--log_interval=10"]
    }

    /// `bench --versus key=value`: the config and the config with one key changed train in one
    /// process, step by step in turn; the figure is the median of the pairs' ratios. Bad
    /// changes are one-line errors.
    @Test func versusBenchPairsWholeStepsOfTwoConfigs() async throws {
        let bench = try await nanoscope(["bench", "--versus", "attention=fused", "--iters", "3", "--warmup", "1"] + small)
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.output.contains(#"attention = "auto": float32, standard attention"#), "block 32 is below the fused kernel's threshold: \(bench.output)")
        #expect(bench.output.contains(#"attention = "fused": float32, fused attention"#), "\(bench.output)")
        let medians = bench.output.matches(of: /attention = "(auto|fused)" +median +\d+\.\d\d ms\/step +\d+ tokens\/s  \(3 steps: \d+ \d+ \d+\)/)
        #expect(medians.map { String($0.1) } == ["auto", "fused"], "\(bench.output)")
        let ratio = try #require(bench.output.firstMatch(of: /attention = "fused" \/ attention = "auto", median of 3 paired steps: (\d+\.\d+)× the time per token/),
                                 "\(bench.output)")
        #expect((Double(ratio.1) ?? 0) > 0.2 && (Double(ratio.1) ?? 0) < 5, "\(bench.output)")

        for (change, mentions) in [("attention=auto", "already has"), ("attention=bogus", "must be"), ("bogus", "key=value"), ("n_head=5", "n_head"),
                                  ("attention=fused --repeats 3", "--repeats")] {
            let bad = try await nanoscope(["bench", "--versus"] + change.split(separator: " ").map(String.init) + ["--iters", "1"] + small)
            let lines = bad.output.split(separator: "\n")
            #expect(bad.status != 0 && lines.count == 1 && bad.output.contains(mentions), "\(change): \(bad.output)")
        }
    }

    /// `bench --reference` runs the reference on the same model as Nanoscope's: on a character
    /// corpus the reference makes the same vocabulary from the file; for any other vocabulary
    /// (here `random:300`, as Samples/gpt2-small.toml's `random:50304`) it is told the size —
    /// the reference once ran GPT-2 small with a 65-output head. A stand-in script records what
    /// it was asked.
    @Test func theReferenceTrainsTheSameVocabulary() async throws {
        let script = ws.path + "/reference.py", log = ws.path + "/reference-args.txt"
        try """
            import json, sys
            open(\(log.debugDescription), "a").write(" ".join(sys.argv[1:]) + "\\n")
            print(json.dumps({"median_ms_per_iter": 5.0}))
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let tiny = ["--runs_dir=\(ws.runs)", "--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=8", "--batch_size=2",
                    "--iters", "1", "--warmup", "0", "--reference", script]
        for data in [ws.corpus, "random:300"] {
            let bench = try await nanoscope(["bench", "--data", data] + tiny)
            #expect(bench.status == 0 && bench.output.contains("pytorch:"), "\(data): \(bench.output)")
        }
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(calls.count == 2, "\(calls)")
        #expect(calls.first.map { $0.contains("--data \(ws.corpus)") && !$0.contains("--vocab_size") } == true, "\(calls)")
        #expect(calls.last.map { $0.contains("--vocab_size 300") && $0.contains("--n_embd 16") } == true, "\(calls)")
    }

    /// `bench --gemm` with a config times every product of that config's training step, on the
    /// config's shapes: rows = batch × block, each layer's three products (x·Wᵀ, G·W, Gᵀ·x).
    @Test func gemmBenchOfAConfigTimesItsStepsProducts() async throws {
        let bench = try await nanoscope(["bench", "--gemm", "--data", "random:300", "--n_layer=2", "--n_embd=32", "--n_head=2",
                                         "--block_size=8", "--batch_size=2"])
        #expect(bench.status == 0, "\(bench.output)")
        let rows = bench.output.matches(of: /\n  ([a-z_ ()]+?) +(x·Wᵀ|G·W|Gᵀ·x) +16× *(\d+)× *(\d+) +\d+\.\d\d ms +\d+\.\d GFLOP\/s +\d+% of the all-core peak( +×2 a step)?/)
        let seen = rows.map { "\($0.1) \($0.2) \($0.3)→\($0.4)\($0.5 == nil ? "" : " ×2")" }
        var expected: [String] = []
        for (layer, io) in [("c_attn", "32→96 ×2"), ("attn c_proj", "32→32 ×2"), ("mlp c_fc", "32→128 ×2"), ("mlp c_proj", "128→32 ×2"),
                            ("head (wte)", "32→300")] {
            for product in ["x·Wᵀ", "G·W", "Gᵀ·x"] { expected.append("\(layer) \(product) \(io)") }
        }
        #expect(seen == expected, "\(bench.output)")
        #expect(bench.output.contains(/all of a step's products: \d+\.\d\d s, \d+\.\d GFLOP\/s/), "\(bench.output)")
    }

    @Test func trainListEvaluateSampleAndResume() async throws {
        let train = try await nanoscope(["train", "--headless", "--run_name=cli", "--max_iters=40", "--eval_interval=20",
                                   "--checkpoint_interval=20"] + small)
        #expect(train.status == 0, "\(train.output)")
        #expect(train.output.contains("step 40: train loss"))
        let checkpoint = ws.runs + "/cli/checkpoints/step-000040.safetensors"
        #expect(FileManager.default.fileExists(atPath: checkpoint))
        let metrics = try String(contentsOfFile: ws.runs + "/cli/metrics.jsonl", encoding: .utf8)
        #expect(metrics.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.contains("\"step\"") })

        let list = try await nanoscope(["checkpoints", ws.runs, "--json"])
        #expect(list.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(list.output.utf8))
        #expect("\(json)".contains("step-000040"))

        let eval = try await nanoscope(["eval", checkpoint, "--data", ws.corpus, "--blocks", "8"])
        #expect(eval.status == 0, "\(eval.output)")
        let loss = try #require(Double(eval.output.trimmingCharacters(in: .whitespacesAndNewlines)), "eval prints a number: \(eval.output)")
        #expect(loss > 0.5 && loss < 4.5)

        // Greedy sampling is deterministic.
        let a = try await nanoscope(["sample", checkpoint, "--prompt", "the ", "--temperature", "0", "--max-tokens", "40"])
        let b = try await nanoscope(["sample", checkpoint, "--prompt", "the ", "--temperature", "0", "--max-tokens", "40"])
        #expect(a.status == 0 && a.output == b.output && a.output.hasPrefix("the "))
        // One thread or a team of all cores: the same text (long enough for the window to slide).
        let long = ["sample", checkpoint, "--prompt", "the ", "--temperature", "0.9", "--max-tokens", "150", "--seed", "3"]
        let team = try await nanoscope(long), alone = try await nanoscope(long + ["--threads", "1"])
        #expect(team.status == 0 && team.output == alone.output && team.output.count > 100, "\(team.output)")

        let bench = try await nanoscope(["sample", checkpoint, "--bench", "--bench-tokens", "200", "--repeats", "1"])
        #expect(bench.status == 0 && bench.output.contains("tokens/s") && bench.output.contains("first token after"), "\(bench.output)")
        #expect(bench.output.contains("kernel ") && bench.output.contains("MB of weights at"), "\(bench.output)")
        // Each thread count's roofline: the read bandwidth of a working set the weights' size, and
        // what share of it the step reached; with a team, what its barriers cost.
        let bounds = bench.output.matches(of: /its bound: (\d+) threads? read a [\d.]+ MB working set at \d+ GB\/s \(measured now\) → ≥ [\d.]+ µs a step, ≤ \d+ tokens\/s; the step ran at (\d+)% of it/)
        #expect(bounds.map { Int($0.1)! } == (ProcessInfo.processInfo.activeProcessorCount > 1 ? [1, ProcessInfo.processInfo.activeProcessorCount] : [1]),
                "\(bench.output)")
        #expect(bounds.allSatisfy { (1...300).contains(Int($0.2)!) }, "\(bench.output)")
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            #expect(bench.output.contains(/and its waits: a barrier between the \d+ threads takes [\d.]+ µs \(measured now\), \d+ of them a step = [\d.]+ µs/),
                    "\(bench.output)")
        }

        let resumed = try await nanoscope(["train", "--headless", "--resume", ws.runs + "/cli", "--max_iters=60"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("resuming run cli from step 40"))
        #expect(FileManager.default.fileExists(atPath: ws.runs + "/cli/checkpoints/step-000060.safetensors"))
    }

    @Test(arguments: [
        (["--n_embd=30", "--n_head=4"], "not divisible by n_head"),
        (["--n_layer=0"], "n_layer = 0 must be a positive"),
        (["--learning_rat=0.1"], "unknown config key learning_rat"),
    ])
    func badConfigsAreOneLineErrors(flags: [String], expected: String) async throws {
        let r = try await nanoscope(["train", "--headless", "--data", ws.corpus, "--runs_dir=\(ws.runs)"] + flags)
        #expect(r.status != 0)
        let lines = r.output.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && r.output.contains(expected), "\(r.output)")
    }

    /// `nanoscope lens`: a row per position with every layer's top-1 and the target's rank,
    /// the layers' mean losses, the loss by position over validation windows, and valid JSON.
    @Test func theLogitLensOfACheckpoint() async throws {
        let train = try await nanoscope(["train", "--headless", "--run_name=lens", "--max_iters=30", "--eval_interval=0",
                                         "--checkpoint_interval=30"] + small)
        try #require(train.status == 0, "\(train.output)")
        let probe = "the king and the queen"
        let table = try await nanoscope(["lens", ws.runs + "/lens", "--probe", probe, "--data", ws.corpus, "--windows", "8"])
        #expect(table.status == 0, "\(table.output)")
        let lines = table.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("POS  TOKEN  TARGET  emb") == true && lines.first?.contains("h.1") == true, "\(lines.first ?? "")")
        // One row per position that has a next token: 22 characters, 21 rows.
        #expect(lines.filter { $0.range(of: #"^\d+ "#, options: .regularExpression) != nil }.count == probe.count - 1)
        #expect(lines.contains { $0.hasPrefix("mean loss per layer: emb ") && $0.contains(", h.1 ") })
        #expect(lines.contains { $0.hasPrefix("final layer's loss by position, mean over 8 windows") && $0.contains("@0 ") })

        let json = try await nanoscope(["lens", ws.runs + "/lens", "--probe", probe, "--json"])
        #expect(json.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((object?["layers"] as? [String]) == ["emb", "h.0", "h.1"])
        #expect(((object?["target_rank"] as? [[Any]])?.first?.count) == probe.count)

        let short = try await nanoscope(["lens", ws.runs + "/lens", "--probe", "t"])
        #expect(short.status != 0 && short.output.split(separator: "\n").count == 1, "\(short.output)")
        #expect(short.output.contains("needs a next token"))
    }

    /// `nanoscope compare` on two runs: the table with the differing key, JSON a parser reads,
    /// a CSV of every point and an SVG that is well-formed XML with an axis, a legend and a path
    /// per curve (its picture is checked by eye with rsvg-convert; see the README).
    @Test func compareTwoRuns() async throws {
        for (name, width) in [("narrow", 32), ("wide", 48)] {
            let train = try await nanoscope(["train", "--headless", "--run_name=\(name)", "--max_iters=30", "--eval_interval=10",
                                             "--checkpoint_interval=30"] + small.map { $0 == "--n_embd=32" ? "--n_embd=\(width)" : $0 })
            try #require(train.status == 0, "\(train.output)")
        }
        let runs = [ws.runs + "/narrow", ws.runs + "/wide"]
        let svg = ws.path + "/loss.svg", csv = ws.path + "/loss.csv"
        let table = try await nanoscope(["compare"] + runs + ["--svg", svg, "--csv", csv])
        #expect(table.status == 0, "\(table.output)")
        #expect(table.output.contains("RUN") && table.output.contains("BEST VAL"))
        let keyLine = table.output.split(separator: "\n").first { $0.hasPrefix("n_embd") }.map(String.init) ?? ""
        #expect(keyLine.split(separator: " ") == ["n_embd", "32", "48"], "\(table.output)")
        let json = try await nanoscope(["compare"] + runs + ["--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect((object?["runs"] as? [Any])?.count == 2)
        #expect(((object?["differing_keys"] as? [[String: Any]])?.map { $0["key"] as? String }) == ["n_embd"])
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "run,step,tokens,split,loss")
        #expect(rows.contains { $0.hasPrefix("wide,30,") && $0.contains(",val,") })
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        let parser = XMLParser(data: Data(picture.utf8))
        #expect(parser.parse(), "the SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(picture.hasPrefix("<svg") || picture.hasPrefix("<?xml"))
        #expect(picture.contains("narrow train") && picture.contains("wide val") && picture.contains("step"))
        #expect(picture.components(separatedBy: "<path").count - 1 >= 4 || picture.components(separatedBy: "<polyline").count - 1 >= 4)
    }

    @Test func badCorporaAreOneLineErrors() async throws {
        let empty = ws.path + "/empty.txt"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let latin1 = ws.path + "/latin1.txt"
        _ = FileManager.default.createFile(atPath: latin1, contents: Data([0x63, 0x61, 0x66, 0xE9, 0x0A]))
        let short = ws.path + "/short.txt"
        _ = FileManager.default.createFile(atPath: short, contents: Data("to be or not to be".utf8))
        for (path, expected) in [(ws.path + "/missing.txt", "does not exist"), (empty, "is empty"),
                                 (latin1, "is not UTF-8 text (invalid byte at offset 3)"), (short, "needs at least block_size + 2")] {
            let r = try await nanoscope(["train", "--headless", "--data", path, "--runs_dir=\(ws.runs)"])
            #expect(r.status == 1)
            #expect(r.output.split(separator: "\n").count == 1 && r.output.contains(expected), "\(r.output)")
        }
    }

    @Test func corruptCheckpointsAreRefusedCleanly() async throws {
        let bad = ws.path + "/bad.safetensors"
        _ = FileManager.default.createFile(atPath: bad, contents: Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x7B]))
        for args in [["eval", bad, "--data", ws.corpus], ["sample", bad, "--prompt", "x"]] {
            let r = try await nanoscope(args)
            #expect(r.status == 1, "\(args[0]): \(r.output)")
            #expect(r.output.hasPrefix("error: ") && r.output.contains("bad.safetensors"), "\(r.output)")
        }
    }
}
