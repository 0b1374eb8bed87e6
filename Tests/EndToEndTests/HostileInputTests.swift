import Foundation
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and careless input to the real binary (issue 14): bad flags, configs, corpora,
/// checkpoints, optimizer files and tokenizer files — hand-written cases for every reported
/// problem, plus seeded mutations of real small files. Every case runs under an address-space
/// limit (`prlimit --as`) and a timeout, and must end without a signal, without a hang, and —
/// when it fails — with one `error: …` line that names the problem.
///
/// `NANOSCOPE_BINARY` picks the binary (e.g. the release build); `NANOSCOPE_HOSTILE_REPORT` names
/// a file for the per-case results.
@Suite struct HostileInputTests {
    @Test func hostileInputsEndCleanly() async throws {
        let binary = try hostileBinary()
        let fixtures = try await HostileFixtures(binary: binary)
        let cases = HostileCases.handWritten(fixtures) + HostileCases.generated(fixtures, seed: 14)
        let outcomes = HostileRunner.run(cases, binary: binary, in: fixtures.root)
        let summary = HostileRunner.summary(outcomes)
        print(summary.text)
        if let report = ProcessInfo.processInfo.environment["NANOSCOPE_HOSTILE_REPORT"] {
            try summary.details.write(toFile: report, atomically: true, encoding: .utf8)
        }
        #expect(cases.count >= 300)
        #expect(summary.crashes == 0 && summary.hangs == 0 && summary.accepted == 0 && summary.unclear == 0,
                "\(summary.text)\n\(summary.failures.prefix(40).joined(separator: "\n"))")
    }
}

func hostileBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["NANOSCOPE_BINARY"], !path.isEmpty { return path }
    return try nanoscopeBinary()
}

/// One invocation and what a clean result looks like.
struct HostileCase: Sendable {
    enum Expectation: Sendable {
        /// Must exit non-zero with one clear line (containing every `mentions`).
        case failure
        /// Must exit 0 (e.g. a catalog that lists a bad file as unreadable).
        case success
        /// Either; a failure must still be one clear line.
        case either
    }

    var name: String
    var arguments: [String]
    var expect: Expectation
    var mentions: [String] = []
    /// Standard input for the command (default: /dev/null).
    var stdin: String? = nil
    var timeout: Int = 20
}

struct HostileOutcome: Sendable {
    enum Verdict: String, Sendable { case ok, crash, hang, accepted, unclear }
    var name: String
    var verdict: Verdict
    var status: Int32
    var output: String
}

/// Small real files to mutate: a corpus, a trained run (weights + optimizer state at step 4), a
/// run config and a BPE `.model` file.
final class HostileFixtures: @unchecked Sendable {
    let root: String
    let corpus: String
    let run: String
    let weights: String
    let optimizer: String
    let config: String
    let tokenizerModel: String
    var counter = 0

    /// The tiny shape every training case uses, so cases take milliseconds.
    static let tiny = ["--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=16", "--batch_size=4", "--max_iters=3",
                       "--eval_iters=1", "--eval_interval=0", "--log_interval=1", "--checkpoint_interval=0"]

    init(binary: String) async throws {
        root = NSTemporaryDirectory() + "nanoscope-hostile-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        corpus = root + "/corpus.txt"
        var text = ""
        var x: UInt64 = 99
        let words = ["the", "king", "and", "queen", "of", "hearts", "sat", "on", "a", "throne"]
        while text.utf8.count < 20_000 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            text += words[Int(x >> 33) % words.count] + ((x >> 20) % 9 == 0 ? ".\n" : " ")
        }
        try text.write(toFile: corpus, atomically: true, encoding: .utf8)
        let train = try await runToCompletion([binary, "train", "--headless", "--data", corpus, "--runs_dir=\(root)/base", "--run_name=tiny"]
                                        + Self.tiny + ["--max_iters=4", "--eval_interval=4"])
        try #require(train.status == 0, "the fixture run failed: \(train.output)")
        run = root + "/base/tiny"
        weights = run + "/checkpoints/step-000004.safetensors"
        optimizer = run + "/checkpoints/step-000004.optimizer.safetensors"
        config = root + "/tiny.toml"
        try ((try String(contentsOfFile: run + "/config.toml", encoding: .utf8))).write(toFile: config, atomically: true, encoding: .utf8)
        let prefix = root + "/bpe"
        let tok = try await runToCompletion([binary, "tokenizer", "train", "--data", corpus, "--vocab-size", "280", "--out", prefix])
        try #require(tok.status == 0, "the fixture tokenizer failed: \(tok.output)")
        tokenizerModel = prefix + ".model"
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func fresh(_ label: String) -> String {
        counter += 1
        return root + "/case-\(counter)-\(label)"
    }

    /// A copy of the fixture run with its files replaced, for `--resume` and `checkpoints`.
    func runCopy(weights newWeights: [UInt8]? = nil, optimizer newOptimizer: [UInt8]? = nil, label: String) throws -> String {
        let folder = fresh(label)
        let copy = folder + "/runs/tiny"
        try FileManager.default.createDirectory(atPath: folder + "/runs", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        if let newWeights { try Data(newWeights).write(to: URL(fileURLWithPath: copy + "/checkpoints/step-000004.safetensors")) }
        if let newOptimizer { try Data(newOptimizer).write(to: URL(fileURLWithPath: copy + "/checkpoints/step-000004.optimizer.safetensors")) }
        return copy
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = fresh(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func write(text: String, _ name: String) throws -> String {
        try write(Array(text.utf8), name)
    }
}

/// A safetensors file taken apart: header JSON object and the data bytes.
struct SafeTensorsParts {
    var header: [String: Any]
    var data: [UInt8]

    init(_ bytes: [UInt8]) throws {
        let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        data = Array(bytes[(8 + n)...])
    }

    var metadata: [String: String] {
        get { header["__metadata__"] as? [String: String] ?? [:] }
        set { header["__metadata__"] = newValue }
    }

    var tensorNames: [String] { header.keys.filter { $0 != "__metadata__" }.sorted() }

    func bytes() throws -> [UInt8] {
        let json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    /// Overwrites float `index` of tensor `name` with `value`.
    mutating func setFloat(_ name: String, index: Int, _ value: Float) {
        guard let entry = header[name] as? [String: Any], let offsets = entry["data_offsets"] as? [Int] else { return }
        let at = offsets[0] + 4 * index
        guard at + 4 <= offsets[1] else { return }
        withUnsafeBytes(of: value.bitPattern.littleEndian) { for (i, b) in $0.enumerated() { data[at + i] = b } }
    }

    /// Overwrites every float of tensor `name`.
    mutating func fill(_ name: String, _ value: (Int) -> Float) {
        guard let entry = header[name] as? [String: Any], let offsets = entry["data_offsets"] as? [Int] else { return }
        for i in 0..<((offsets[1] - offsets[0]) / 4) { setFloat(name, index: i, value(i)) }
    }
}

enum HostileCases {
    static let huge = ["1000000000", "4611686018427387904", "9223372036854775807", "99999999999999999999"]

    // MARK: Hand-written: every reproduction in the issue, and their neighbours

    static func handWritten(_ f: HostileFixtures) -> [HostileCase] {
        var cases: [HostileCase] = []
        func train(_ name: String, _ flags: [String], mentions: [String] = [], expect: HostileCase.Expectation = .failure) {
            cases.append(HostileCase(name: "train " + name,
                                     arguments: ["train", "--headless", f.config, "--data", f.corpus, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny + flags,
                                     expect: expect, mentions: mentions))
        }
        // 1. sizes and values that crashed
        train("seed -1", ["--seed=-1"], mentions: ["seed"])
        train("seed -1 spaced", ["--seed", "-1"], mentions: ["seed"])
        for (key, values) in [("n_embd", ["100000", "4611686018427387904"]), ("n_layer", ["1000000", "4611686018427387904"]),
                              ("batch_size", ["1000000000", "4611686018427387904"]), ("block_size", ["100000000", "4611686018427387904"]),
                              ("n_head", ["4611686018427387904"]), ("vocab_size", ["4611686018427387904"])] {
            for v in values {
                let extra = key == "n_embd" && v.count < 10 ? ["--n_head=1"] : key == "n_head" ? ["--n_embd=4611686018427387904"] : []
                let tok = key == "vocab_size" ? ["--tokenizer=bpe"] : []
                // Sizes a machine could hold in principle are refused for memory; impossible ones by name.
                train("\(key)=\(v)", ["--\(key)=\(v)"] + extra + tok, mentions: [v.count < 10 && key != "batch_size" ? "memory" : key])
            }
        }
        train("n_layer=n_embd=2^62", ["--n_layer=4611686018427387904", "--n_embd=4611686018427387904", "--n_head=1"], mentions: ["n_layer"])
        train("n_layer=n_embd=2^20", ["--n_layer=1048576", "--n_embd=1048576", "--n_head=1"], mentions: ["n_layer"])
        train("n_embd=2^31-1 (parameters overflow)", ["--n_embd=2147483647", "--n_head=1", "--n_layer=2147483647"], mentions: ["n_layer"])
        cases.append(HostileCase(name: "bench seed -1", arguments: ["bench", f.config, "--data", f.corpus, "--seed=-1", "--iters", "1", "--warmup", "0"] + HostileFixtures.tiny,
                                 expect: .failure, mentions: ["seed"]))
        // A missing corpus is an error, not random text timed in its place (and so is its GEMM form).
        cases.append(HostileCase(name: "bench missing corpus", arguments: ["bench", f.config, "--data", f.fresh("nope") + ".txt", "--iters", "1"] + HostileFixtures.tiny,
                                 expect: .failure, mentions: ["no corpus at", "nope"]))
        cases.append(HostileCase(name: "bench --gemm missing corpus", arguments: ["bench", "--gemm", f.config, "--data", f.fresh("nope") + ".txt"] + HostileFixtures.tiny,
                                 expect: .failure, mentions: ["no corpus at"]))
        cases.append(HostileCase(name: "bench n_layer huge", arguments: ["bench", f.config, "--data", f.corpus, "--iters", "1"] + HostileFixtures.tiny + ["--n_layer=1000000"],
                                 expect: .failure, mentions: ["memory"]))
        cases.append(HostileCase(name: "tokenizer vocab 1e9",
                                 arguments: ["tokenizer", "train", "--data", f.corpus, "--vocab-size", "1000000000", "--out", f.fresh("tok")],
                                 expect: .failure, mentions: ["vocab"]))
        cases.append(HostileCase(name: "tokenizer vocab 2^62",
                                 arguments: ["tokenizer", "train", "--data", f.corpus, "--vocab-size", "4611686018427387904", "--out", f.fresh("tok")],
                                 expect: .failure, mentions: ["vocab"]))
        // 4. non-finite and absurd optimisation settings
        for (key, v) in [("learning_rate", "inf"), ("learning_rate", "nan"), ("learning_rate", "-inf"), ("min_lr", "inf"), ("min_lr", "nan"),
                         ("grad_clip", "inf"), ("grad_clip", "nan"), ("grad_clip", "-1"), ("beta1", "nan"), ("beta2", "inf"),
                         ("weight_decay", "nan"), ("weight_decay", "inf"), ("weight_decay", "-1"), ("dropout", "nan"), ("learning_rate", "1e39")] {
            train("\(key)=\(v)", ["--\(key)=\(v)"], mentions: [key])
        }
        // 6/7. run names
        for name in ["..", ".", "../../x", "a/b", "/abs", " ", "x\ty", ".hidden", "-rf", String(repeating: "n", count: 300)] {
            train("run_name=\(name.prefix(20))", ["--run_name=\(name)"], mentions: ["run_name"])
        }
        // 8. unbounded step
        train("accumulation 1e9", ["--gradient_accumulation_steps=1000000000"], mentions: ["gradient_accumulation_steps"])
        train("eval_iters 1e12", ["--eval_iters=1000000000000"], mentions: ["eval_iters"])
        // 10. quiet wrong answers
        for id in ["999999999", "-1", "300", "2147483648", "x"] {
            cases.append(HostileCase(name: "decode \(id)", arguments: ["tokenizer", "decode", "--model", f.tokenizerModel, id],
                                     expect: .failure, mentions: ["token id"]))
        }
        let checkpoint = f.weights
        cases.append(HostileCase(name: "sample threads 0", arguments: ["sample", checkpoint, "--threads", "0", "--max-tokens", "5"], expect: .failure, mentions: ["threads"]))
        cases.append(HostileCase(name: "sample threads -1", arguments: ["sample", checkpoint, "--threads", "-1", "--max-tokens", "5"], expect: .failure, mentions: ["threads"]))
        cases.append(HostileCase(name: "bench iters 0", arguments: ["bench", f.config, "--data", f.corpus, "--iters", "0"] + HostileFixtures.tiny, expect: .failure, mentions: ["iters"]))
        cases.append(HostileCase(name: "bench iters -1", arguments: ["bench", f.config, "--data", f.corpus, "--iters", "-1"] + HostileFixtures.tiny, expect: .failure, mentions: ["iters"]))
        cases.append(HostileCase(name: "bench repeats 0", arguments: ["bench", f.config, "--data", f.corpus, "--repeats", "0"] + HostileFixtures.tiny, expect: .failure, mentions: ["repeats"]))
        // Each side fits the 3 GB limit on its own (1.4 GB), the two trainers together do not.
        cases.append(HostileCase(name: "bench versus, two trainers beyond memory",
                                 arguments: ["bench", f.config, "--data", f.corpus, "--versus", "attention=fused", "--iters", "1"] + HostileFixtures.tiny
                                     + ["--n_layer=4", "--n_embd=128", "--n_head=4", "--block_size=64", "--batch_size=500"],
                                 expect: .failure, mentions: ["two trainers", "memory"]))
        cases.append(HostileCase(name: "bench warmup -1", arguments: ["bench", f.config, "--data", f.corpus, "--warmup", "-1"] + HostileFixtures.tiny, expect: .failure, mentions: ["warmup"]))
        let outDir = f.fresh("outdir")
        try? FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        cases.append(HostileCase(name: "tokenizer --out dir/", arguments: ["tokenizer", "train", "--data", f.corpus, "--vocab-size", "260", "--out", outDir + "/"],
                                 expect: .failure, mentions: ["--out"]))
        cases.append(HostileCase(name: "tokenizer --out missing folder", arguments: ["tokenizer", "train", "--data", f.corpus, "--vocab-size", "260", "--out", f.fresh("nowhere") + "/x/y"],
                                 expect: .failure, mentions: ["--out"]))
        // 11. messages
        cases.append(HostileCase(name: "unknown command", arguments: ["frobnicate"], expect: .failure, mentions: ["frobnicate", "command"]))
        cases.append(HostileCase(name: "unknown flag", arguments: ["train", "--headless", "--data", f.corpus, "--bogus"], expect: .failure, mentions: ["bogus"]))
        cases.append(HostileCase(name: "unknown flag with value", arguments: ["train", "--headless", f.config, "--data", f.corpus, "--bogus", "3"], expect: .failure, mentions: ["bogus"]))
        cases.append(HostileCase(name: "no config outside the repo", arguments: ["train", "--headless", "--data", f.corpus, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny,
                                 expect: .either))
        cases.append(HostileCase(name: "unknown sample flag", arguments: ["sample", checkpoint, "--bogus"], expect: .failure, mentions: ["bogus"]))
        let fifo = f.fresh("fifo")
        mkfifo(fifo, 0o600)
        let folder = f.fresh("folder")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let unreadable = (try? f.write(text: "hello world, hello world, hello world, hello world", "unreadable")) ?? ""
        chmod(unreadable, 0)
        let latin1 = (try? f.write([0x63, 0x61, 0x66, 0xE9, 0x0A], "latin1")) ?? ""
        let nul = (try? f.write(Array(repeating: 0, count: 4000), "nul")) ?? ""
        let empty = (try? f.write([], "empty")) ?? ""
        for (label, path) in [("/dev/null", "/dev/null"), ("fifo", fifo), ("folder", folder), ("latin1", latin1), ("empty", empty), ("missing", f.fresh("missing"))] {
            cases.append(HostileCase(name: "corpus \(label)", arguments: ["train", "--headless", f.config, "--data", path, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny,
                                     expect: .failure, mentions: ["corpus"], timeout: 10))
            cases.append(HostileCase(name: "config \(label)", arguments: ["train", "--headless", path, "--data", f.corpus, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny,
                                     expect: label == "empty" ? .either : .failure, mentions: ["config"], timeout: 10))
            cases.append(HostileCase(name: "eval corpus \(label)", arguments: ["eval", checkpoint, "--data", path], expect: .failure, mentions: [], timeout: 10))
            cases.append(HostileCase(name: "tokenizer data \(label)", arguments: ["tokenizer", "train", "--data", path, "--vocab-size", "260", "--out", f.fresh("tok")],
                                     expect: .failure, mentions: [], timeout: 10))
            cases.append(HostileCase(name: "tokenizer model \(label)", arguments: ["tokenizer", "encode", "--model", path, "--text", "hi"], expect: .failure, mentions: [], timeout: 10))
            cases.append(HostileCase(name: "sample ckpt \(label)", arguments: ["sample", path, "--max-tokens", "3"], expect: .failure, mentions: [], timeout: 10))
        }
        if getuid() != 0 {
            cases.append(HostileCase(name: "corpus unreadable", arguments: ["train", "--headless", f.config, "--data", unreadable, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny,
                                     expect: .failure, mentions: ["permission"]))
        }
        cases.append(HostileCase(name: "corpus nul bytes", arguments: ["train", "--headless", f.config, "--data", nul, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny,
                                 expect: .either))
        for (option, value) in [("--max-tokens", "-1"), ("--seed", "-1"), ("--top-k", "-1"), ("--temperature", "-1"), ("--top-p", "-0.5"),
                                ("--temperature", "nan"), ("--top-p", "nan"), ("--temperature", "inf"), ("--slide-keep", "-1"), ("--bench-tokens", "-1"),
                                ("--repeats", "-1"), ("--seed", "x"), ("--top-k", "1e99"), ("--max-tokens", "x")] {
            cases.append(HostileCase(name: "sample \(option) \(value)", arguments: ["sample", checkpoint, option, value, "--max-tokens", "3"].reorderedMaxTokens(option),
                                     expect: .failure, mentions: [option.dropFirst(2).split(separator: "-").first.map(String.init) ?? option]))
        }
        for value in ["-1", "0", "x", "99999999999999999999"] {
            cases.append(HostileCase(name: "eval --blocks \(value)", arguments: ["eval", checkpoint, "--data", f.corpus, "--blocks", value], expect: .failure, mentions: ["blocks"]))
        }
        cases.append(HostileCase(name: "bench --iters x", arguments: ["bench", "--iters", "x"], expect: .failure, mentions: ["iters"]))
        cases.append(HostileCase(name: "two configs", arguments: ["train", "--headless", f.config, f.config], expect: .failure, mentions: ["config"]))
        cases.append(HostileCase(name: "resume missing", arguments: ["train", "--headless", "--resume", f.fresh("nothing")], expect: .failure, mentions: []))
        cases.append(HostileCase(name: "resume a corpus", arguments: ["train", "--headless", "--resume", f.corpus], expect: .failure, mentions: []))
        cases.append(HostileCase(name: "checkpoints missing", arguments: ["checkpoints", f.fresh("nothing")], expect: .failure, mentions: []))
        cases.append(HostileCase(name: "checkpoints a file", arguments: ["checkpoints", f.corpus], expect: .failure, mentions: []))
        cases.append(HostileCase(name: "sample run folder", arguments: ["sample", f.run, "--max-tokens", "3", "--temperature", "0"], expect: .success))
        cases.append(HostileCase(name: "sample runs folder", arguments: ["sample", f.root + "/base", "--max-tokens", "3"], expect: .failure, mentions: []))
        cases.append(HostileCase(name: "encode unknown special", arguments: ["tokenizer", "encode", "--model", f.tokenizerModel, "--allowed-special", "<|x|>", "--text", "hi"],
                                 expect: .either))
        // Config files with the bad value inside.
        for (key, value) in [("n_layer", "1.5"), ("n_layer", "\"4\""), ("learning_rate", "inf"), ("learning_rate", "nan"), ("seed", "-1"),
                             ("run_name", "\"..\""), ("gradient_accumulation_steps", "1000000000"), ("n_embd", "99999999999999999999"),
                             ("grad_clip", "-1"), ("batch_size", "4611686018427387904")] {
            let text = tinyConfig(f, overriding: key, with: value)
            if let path = try? f.write(text: text, "config.toml") {
                cases.append(HostileCase(name: "config file \(key)=\(value)", arguments: ["train", "--headless", path], expect: .failure, mentions: [key]))
            }
        }
        return cases
    }

    /// The fixture run's config with small sizes, one key replaced, written for the case's own runs folder.
    static func tinyConfig(_ f: HostileFixtures, overriding key: String, with value: String) -> String {
        let base: [(String, String)] = [("data", "\"\(f.corpus)\""), ("runs_dir", "\"\(f.fresh("runs"))\""), ("n_layer", "1"), ("n_embd", "16"), ("n_head", "2"),
                                        ("block_size", "16"), ("batch_size", "4"), ("max_iters", "3"), ("eval_iters", "1"), ("eval_interval", "0"),
                                        ("checkpoint_interval", "0"), ("log_interval", "1")]
        var lines = base.filter { $0.0 != key }.map { "\($0.0) = \($0.1)" }
        lines.append("\(key) = \(value)")
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Generated: seeded mutations of real files and values

    static func generated(_ f: HostileFixtures, seed: UInt64) -> [HostileCase] {
        var rng = SplitMix64(seed: seed)
        var cases: [HostileCase] = []
        guard let weightBytes = FileManager.default.contents(atPath: f.weights).map(Array.init),
              let optimizerBytes = FileManager.default.contents(atPath: f.optimizer).map(Array.init),
              let modelText = try? String(contentsOfFile: f.tokenizerModel, encoding: .utf8) else { return [] }

        // Checkpoints: each mutation is tried by eval, sample, checkpoints (which must list it) and --resume.
        let configKeys = ["vocab_size", "block_size", "n_layer", "n_head", "n_embd", "bias", "dropout", "pos_encoding"]
        let badNumbers: [Any] = [0, -1, 3, 7, 100, 10_000_000, 2_147_483_648, 4_611_686_018_427_387_904, Int.max, 1.5, 1e300, "4", NSNull(), true, "sinusoidal"]
        var mutatedCheckpoints: [(String, [UInt8])] = []
        for i in 0..<24 {
            guard var parts = try? SafeTensorsParts(weightBytes),
                  var config = (try? JSONSerialization.jsonObject(with: Data((parts.metadata["config"] ?? "{}").utf8))) as? [String: Any] else { continue }
            let key = configKeys[Int(rng.next() % UInt64(configKeys.count))]
            let value = badNumbers[Int(rng.next() % UInt64(badNumbers.count))]
            config[key] = value
            if i % 5 == 0 { config[configKeys[Int(rng.next() % 5)]] = badNumbers[Int(rng.next() % UInt64(badNumbers.count))] }
            var meta = parts.metadata
            meta["config"] = String(decoding: (try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
            parts.metadata = meta
            if let bytes = try? parts.bytes() { mutatedCheckpoints.append(("config \(key)=\(value)", bytes)) }
        }
        let metadataMutations: [(String, String)] = [("step", "-5"), ("step", "99999999999999999999"), ("step", "x"), ("train_loss", "nan"),
                                                     ("val_loss", "inf"), ("created", "yesterday"), ("format", "nanoscope/9"),
                                                     ("tokenizer", "{\"type\":\"char\",\"vocab\":[]}"), ("tokenizer", "{\"type\":\"bpe\"}"),
                                                     ("tokenizer", "not json"), ("tokenizer", "{\"type\":\"char\",\"vocab\":[\"ab\"]}"),
                                                     ("config", String(repeating: "x", count: 400_000)), ("config", "{\"n_layer\":1.5}")]
        for (key, value) in metadataMutations {
            guard var parts = try? SafeTensorsParts(weightBytes) else { continue }
            var meta = parts.metadata
            meta[key] = value
            parts.metadata = meta
            if let bytes = try? parts.bytes() { mutatedCheckpoints.append(("metadata \(key)=\(value.prefix(24))", bytes)) }
        }
        for special: Float in [.nan, .infinity, -.infinity, 3e38] {
            guard var parts = try? SafeTensorsParts(weightBytes) else { continue }
            let names = parts.tensorNames
            let name = names[Int(rng.next() % UInt64(names.count))]
            parts.setFloat(name, index: Int(rng.next() % 8), special)
            if special == 3e38 { parts.fill("transformer.wte.weight") { _ in 3e38 }; parts.fill("lm_head.weight") { _ in 3e38 } }
            if let bytes = try? parts.bytes() { mutatedCheckpoints.append(("weight \(name) = \(special)", bytes)) }
        }
        for _ in 0..<6 {  // shapes
            guard var parts = try? SafeTensorsParts(weightBytes) else { continue }
            let names = parts.tensorNames
            let name = names[Int(rng.next() % UInt64(names.count))]
            guard var entry = parts.header[name] as? [String: Any] else { continue }
            let shapes: [[Int]] = [[], [0], [1, 1, 1], [Int.max, 2], [-1], [4_611_686_018_427_387_904]]
            entry["shape"] = shapes[Int(rng.next() % UInt64(shapes.count))]
            parts.header[name] = entry
            if let bytes = try? parts.bytes() { mutatedCheckpoints.append(("shape of \(name)", bytes)) }
        }
        for i in 0..<10 {  // raw bytes
            var bytes = weightBytes
            switch i % 3 {
            case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 1: for _ in 0..<4 { let at = Int(rng.next() % UInt64(min(bytes.count, 2000))); bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            default: withUnsafeBytes(of: (rng.next() >> (rng.next() % 60)).littleEndian) { for (j, b) in $0.enumerated() { bytes[j] = b } }
            }
            mutatedCheckpoints.append(("bytes \(i)", bytes))
        }
        for (label, bytes) in mutatedCheckpoints {
            guard let path = try? f.write(bytes, "ckpt.safetensors"), let run = try? f.runCopy(weights: bytes, label: "ckrun") else { continue }
            cases.append(HostileCase(name: "eval " + label, arguments: ["eval", path, "--data", f.corpus, "--blocks", "4"], expect: .either))
            cases.append(HostileCase(name: "sample " + label, arguments: ["sample", path, "--max-tokens", "4"], expect: .either))
            cases.append(HostileCase(name: "checkpoints " + label, arguments: ["checkpoints", AtomicPath.parent(run)], expect: .success))
            cases.append(HostileCase(name: "resume " + label, arguments: ["train", "--headless", "--resume", run, "--max_iters=5"], expect: .either))
        }

        // Optimizer files, tried by --resume.
        var mutatedOptimizers: [(String, [UInt8], HostileCase.Expectation)] = []
        for (key, value) in [("adamw_step", "-100"), ("adamw_step", "9223372036854775807"), ("adamw_step", "x"), ("step", "5"), ("step", "30"),
                             ("step", "-1"), ("rng", "zz"), ("rng", "0 0 0 0"), ("consecutive_bad_steps", "-3"), ("kind", "sgd"),
                             ("consecutive_bad_steps", "9223372036854775807"), ("data_position", "")] {
            guard var parts = try? SafeTensorsParts(optimizerBytes) else { continue }
            var meta = parts.metadata
            meta[key] = value
            parts.metadata = meta
            let harmless = key == "data_position" || (key == "rng" && value == "0 0 0 0")
            if let bytes = try? parts.bytes() { mutatedOptimizers.append(("optimizer \(key)=\(value)", bytes, harmless ? .either : .failure)) }
        }
        for (label, value): (String, Float) in [("nan m", .nan), ("nan v", .nan), ("negative v", -1), ("inf v", .infinity), ("inf m", .infinity), ("huge m", 3e38)] {
            guard var parts = try? SafeTensorsParts(optimizerBytes) else { continue }
            let prefix = label.hasSuffix("v") ? "v." : "m."
            let names = parts.tensorNames.filter { $0.hasPrefix(prefix) }
            let name = names[Int(rng.next() % UInt64(names.count))]
            if label == "huge m" { parts.fill(name) { _ in value } } else { parts.setFloat(name, index: Int(rng.next() % 4), value) }
            if let bytes = try? parts.bytes() { mutatedOptimizers.append(("optimizer \(label) in \(name)", bytes, label == "huge m" ? .either : .failure)) }
        }
        for i in 0..<8 {
            var bytes = optimizerBytes
            if i % 2 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) } else {
                for _ in 0..<3 { let at = Int(rng.next() % UInt64(min(bytes.count, 1500))); bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            }
            mutatedOptimizers.append(("optimizer bytes \(i)", bytes, .either))
        }
        if let weightsOnly = try? SafeTensorsParts(weightBytes), let bytes = try? weightsOnly.bytes() {
            mutatedOptimizers.append(("optimizer replaced by weights", bytes, .failure))
        }
        for (label, bytes, expect) in mutatedOptimizers {
            guard let run = try? f.runCopy(optimizer: bytes, label: "optrun") else { continue }
            cases.append(HostileCase(name: "resume " + label, arguments: ["train", "--headless", "--resume", run, "--max_iters=6"], expect: expect))
        }

        // Config values: each key with values of the wrong kind or out of range.
        let intKeys = ["vocab_size", "n_layer", "n_head", "n_embd", "block_size", "batch_size", "gradient_accumulation_steps", "max_iters",
                       "warmup_iters", "lr_decay_iters", "eval_interval", "eval_iters", "task_eval_problems", "log_interval",
                       "checkpoint_interval", "keep_checkpoints", "max_bad_steps", "telemetry_interval", "seed"]
        let floatKeys = ["dropout", "learning_rate", "min_lr", "weight_decay", "beta1", "beta2", "grad_clip"]
        let badInts = ["-1", "-4611686018427387904", "4611686018427387904", "9223372036854775807", "1.5", "\"3\"", "true", "nan"]
        let badFloats = ["nan", "inf", "-inf", "-1", "1e39", "\"0.1\"", "true"]
        for _ in 0..<45 {
            let pickFloat = rng.next() % 3 == 0
            let key = pickFloat ? floatKeys[Int(rng.next() % UInt64(floatKeys.count))] : intKeys[Int(rng.next() % UInt64(intKeys.count))]
            let value = pickFloat ? badFloats[Int(rng.next() % UInt64(badFloats.count))] : badInts[Int(rng.next() % UInt64(badInts.count))]
            let viaFlag = rng.next() % 2 == 0
            // A huge interval or count of these only means "never" or "all": legitimate.
            let hugeIsFine = ["eval_interval", "lr_decay_iters", "warmup_iters", "log_interval", "checkpoint_interval", "keep_checkpoints",
                              "max_bad_steps", "telemetry_interval", "task_eval_problems", "vocab_size", "seed"].contains(key)
                && (value == "4611686018427387904" || value == "9223372036854775807")
            let expect: HostileCase.Expectation = hugeIsFine ? .either : .failure
            if viaFlag {
                cases.append(HostileCase(name: "flag \(key)=\(value)",
                                         arguments: ["train", "--headless", f.config, "--data", f.corpus, "--runs_dir=\(f.fresh("runs"))"] + HostileFixtures.tiny + ["--\(key)=\(value)"],
                                         expect: expect, mentions: [key]))
            } else if let path = try? f.write(text: tinyConfig(f, overriding: key, with: value), "config.toml") {
                cases.append(HostileCase(name: "config \(key)=\(value)", arguments: ["train", "--headless", path], expect: expect, mentions: [key]))
            }
        }
        // Config file text mutations: random lines and bytes.
        let configText = tinyConfig(f, overriding: "seed", with: "1")
        for i in 0..<12 {
            var bytes = Array(configText.utf8)
            for _ in 0..<(1 + i % 3) { bytes[Int(rng.next() % UInt64(bytes.count))] = [UInt8(ascii: "="), UInt8(ascii: "\""), UInt8(ascii: "["), 0xFF, 0x00, UInt8(ascii: "\n")][Int(rng.next() % 6)] }
            if let path = try? f.write(bytes, "config.toml") {
                cases.append(HostileCase(name: "config bytes \(i)", arguments: ["train", "--headless", path], expect: .either))
            }
        }

        // Tokenizer files, tried by encode and decode.
        let modelLines = modelText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var mutatedModels: [(String, String)] = [("header", "minbpe v9\n" + modelLines.dropFirst().joined(separator: "\n")),
                                                 ("specials count huge", modelLines[0] + "\n" + modelLines[1] + "\n999999999999\n" + modelLines.dropFirst(3).joined(separator: "\n")),
                                                 ("specials count negative", modelLines[0] + "\n" + modelLines[1] + "\n-1\n" + modelLines.dropFirst(3).joined(separator: "\n")),
                                                 ("pattern", modelLines[0] + "\n\\p{L}+\n" + modelLines.dropFirst(2).joined(separator: "\n")),
                                                 ("empty", ""), ("only header", "minbpe v1\n")]
        for i in 0..<18 {
            var lines = modelLines
            let at = 3 + Int(rng.next() % UInt64(max(1, lines.count - 4)))
            let replacement = ["999999999 1", "-1 5", "1 2147483648", "x y", "1", "1 2 3", "65 65", "256 256", "9223372036854775807 1", ""][i % 10]
            if at < lines.count { lines[at] = replacement }
            mutatedModels.append(("merge line \(at) = \(replacement)", lines.joined(separator: "\n")))
        }
        for (label, text) in mutatedModels {
            guard let path = try? f.write(text: text, "bpe.model") else { continue }
            cases.append(HostileCase(name: "encode " + label, arguments: ["tokenizer", "encode", "--model", path, "--text", "the king and queen"], expect: .either))
            cases.append(HostileCase(name: "decode " + label, arguments: ["tokenizer", "decode", "--model", path, "256", "65", "10"], expect: .either))
        }

        // Numeric flags of the other commands.
        let numericFlags: [(command: [String], option: String, bad: [String])] = [
            (["sample", f.weights, "--max-tokens", "3"], "--top-k", ["-5", "nan", "18446744073709551616"]),
            (["sample", f.weights, "--max-tokens", "3"], "--top-p", ["1.5", "-inf", "x"]),
            (["sample", f.weights, "--max-tokens", "3"], "--temperature", ["-0.1", "-inf", "1e999"]),
            (["sample", f.weights, "--max-tokens", "3"], "--slide-keep", ["-3", "1000000000", "x"]),
            (["sample", f.weights, "--max-tokens", "3"], "--threads", ["-2", "100000000", "x"]),
            (["sample", f.weights], "--max-tokens", ["-9", "nan"]),
            (["eval", f.weights, "--data", f.corpus], "--blocks", ["-9", "nan", "-4611686018427387904"]),
            (["bench", f.config, "--data", f.corpus] + HostileFixtures.tiny, "--iters", ["-9", "nan"]),
            (["bench", f.config, "--data", f.corpus] + HostileFixtures.tiny, "--warmup", ["-9"]),
            (["bench", f.config, "--data", f.corpus] + HostileFixtures.tiny, "--repeats", ["-9", "0"]),
            (["tokenizer", "train", "--data", f.corpus, "--out", f.fresh("tok")], "--vocab-size", ["-1", "0", "255", "nan", "9223372036854775807"]),
            (["tokenizer", "train", "--data", f.corpus, "--out", f.fresh("tok"), "--vocab-size", "260"], "--pattern", ["gpt5", ""]),
        ]
        for flag in numericFlags {
            for value in flag.bad {
                cases.append(HostileCase(name: "\(flag.command[0]) \(flag.option) \(value)", arguments: flag.command + [flag.option, value], expect: .failure,
                                         mentions: [String(flag.option.dropFirst(2))]))
            }
        }
        return cases
    }
}

enum AtomicPath {
    static func parent(_ path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
}

extension [String] {
    /// Puts the trailing default `--max-tokens 3` first, so an option under test is not followed by it.
    func reorderedMaxTokens(_ option: String) -> [String] {
        guard option == "--max-tokens", count >= 2 else { return self }
        return Array(dropLast(2))
    }
}

enum HostileRunner {
    /// Memory every case may use: plenty for the tiny models, far below what absurd sizes ask for.
    static let addressSpace = String(3 << 30)  // prlimit takes bytes (it has no unit suffixes)
    static let parallel = 4

    static func run(_ cases: [HostileCase], binary: String, in folder: String) -> [HostileOutcome] {
        let next = Atomic<Int>(0)
        let results = Mutex<[Int: HostileOutcome]>([:])
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<parallel {
            Thread.detachNewThread {
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < cases.count else { break }
                    let outcome = judge(cases[i], binary: binary, folder: folder)
                    results.withLock { $0[i] = outcome }
                }
                done.signal()
            }
        }
        for _ in 0..<parallel { done.wait() }
        return results.withLock { r in cases.indices.compactMap { r[$0] } }
    }

    static func judge(_ c: HostileCase, binary: String, folder: String) -> HostileOutcome {
        let input = c.stdin.map { text -> String in
            let path = folder + "/stdin-\(UUID().uuidString)"
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        } ?? "/dev/null"
        let (status, signal, output) = spawn(["env", "-C", folder, "prlimit", "--as=\(addressSpace)", "--", "timeout", "-k", "3", String(c.timeout), binary] + c.arguments,
                                             stdin: input)
        var verdict = HostileOutcome.Verdict.ok
        let lines = output.split(separator: "\n", omittingEmptySubsequences: true)
        let errorLines = lines.filter { $0.lowercased().hasPrefix("error: ") }
        let vague = ["needs a value", "check its permissions", "cannot be read as UTF-8", "invalid JSON", "Error Domain", "NSCocoaErrorDomain",
                     "differ;", "Missing value", "Usage:", "(try Samples/", "Fatal error", "Stack dump", "Current stack trace", "-nan", "nan ms"]
        if signal != 0 || (status > 128 && status != 137) || output.contains("Fatal error") || output.contains("Current stack trace") {
            verdict = .crash
        } else if status == 124 || status == 137 {
            verdict = .hang
        } else if status == 0 {
            if c.expect == .failure { verdict = .accepted }
            else if vague.contains(where: output.contains) || output.contains(" nan\n") || output.hasPrefix("nan") { verdict = .unclear }
        } else {
            let last = lines.last.map(String.init) ?? ""
            // Progress lines before the error may show a diverged loss; the error line itself must be clear.
            let clean = errorLines.count == 1 && last.lowercased().hasPrefix("error: ") && last.count <= 400
                && !vague.contains(where: last.contains) && !output.contains("Usage:")
                && c.mentions.allSatisfy { last.lowercased().contains($0.lowercased()) }
            if c.expect == .success || !clean { verdict = .unclear }
        }
        return HostileOutcome(name: c.name, verdict: verdict, status: signal != 0 ? -signal : status, output: output)
    }

    struct Summary {
        var total = 0, crashes = 0, hangs = 0, accepted = 0, unclear = 0
        var failures: [String] = []
        var details = ""
        var text: String {
            "hostile inputs: \(total) tried, \(crashes) crashes, \(hangs) hangs, \(accepted) silently accepted, \(unclear) unclear messages"
        }
    }

    static func summary(_ outcomes: [HostileOutcome]) -> Summary {
        var s = Summary()
        s.total = outcomes.count
        for o in outcomes {
            switch o.verdict {
            case .ok: break
            case .crash: s.crashes += 1
            case .hang: s.hangs += 1
            case .accepted: s.accepted += 1
            case .unclear: s.unclear += 1
            }
            let shown = o.output.split(separator: "\n").suffix(3).map { String($0.prefix(300)) }.joined(separator: " ⏎ ")
            let line = "\(o.verdict.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) [\(o.status)] \(o.name): \(shown)"
            if o.verdict != .ok { s.failures.append(line) }
            s.details += line + "\n"
        }
        return s
    }

    /// posix_spawn with stdout and stderr into one file; returns the exit status (or 0), the signal
    /// that ended it (or 0), and the output.
    static func spawn(_ arguments: [String], stdin: String) -> (Int32, Int32, String) {
        let outputPath = NSTemporaryDirectory() + "nanoscope-hostile-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ) == 0 else { return (127, 0, "spawn failed") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8))
            ?? String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
        let signal = status & 0x7F
        return (signal == 0 ? (status >> 8) & 0xFF : 0, signal, output)
    }
}
