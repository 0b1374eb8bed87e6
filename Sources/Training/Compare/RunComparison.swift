import Foundation
import GPT
import SafeTensors

/// One run as a comparison sees it, read from its folder: the resolved `config.toml`, the
/// `metrics.jsonl` curves and the newest checkpoint's header (for the vocabulary size, which a
/// character tokenizer takes from the corpus).
public struct RunSummary: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var step: Int
        public var value: Float
        public init(step: Int, value: Float) { self.step = step; self.value = value }
    }

    public var name: String
    public var path: String
    /// `config.toml` as written, key by key in file order, values as TOML writes them.
    public var config: [(key: String, value: String)]
    /// Parameters (the tied head counted once), nil when the vocabulary size is unknown (a
    /// character-level run that has written no checkpoint yet).
    public var parameters: Int?
    /// Parameters without the token and position embeddings.
    public var nonEmbeddingParameters: Int?
    /// Steps completed: the last logged step, or the newest checkpoint's when that is later.
    public var steps: Int
    /// Tokens one optimizer step consumes (`batch_size · block_size · gradient_accumulation_steps`).
    public var tokensPerStep: Int
    public var train: [Point]
    public var val: [Point]
    /// Exact-match accuracy of a synthetic task at evaluations.
    public var accuracy: [Point]
    /// Median of the logged throughputs (robust to the slow first steps).
    public var tokensPerSecond: Double?
    /// Seconds of training (pauses excluded), from the last log line.
    public var wallTime: Double?

    public init(name: String, path: String, config: [(key: String, value: String)], parameters: Int?,
                nonEmbeddingParameters: Int?, steps: Int, tokensPerStep: Int, train: [Point], val: [Point],
                accuracy: [Point] = [], tokensPerSecond: Double?, wallTime: Double?) {
        self.name = name; self.path = path; self.config = config; self.parameters = parameters
        self.nonEmbeddingParameters = nonEmbeddingParameters; self.steps = steps; self.tokensPerStep = tokensPerStep
        self.train = train; self.val = val; self.accuracy = accuracy
        self.tokensPerSecond = tokensPerSecond; self.wallTime = wallTime
    }

    public static func == (a: RunSummary, b: RunSummary) -> Bool {
        a.name == b.name && a.path == b.path && a.config.map(\.key) == b.config.map(\.key)
            && a.config.map(\.value) == b.config.map(\.value) && a.parameters == b.parameters
            && a.nonEmbeddingParameters == b.nonEmbeddingParameters && a.steps == b.steps
            && a.tokensPerStep == b.tokensPerStep && a.train == b.train && a.val == b.val && a.accuracy == b.accuracy
            && a.tokensPerSecond == b.tokensPerSecond && a.wallTime == b.wallTime
    }

    public var tokensSeen: Int { steps * tokensPerStep }
    /// The lowest validation loss and its step.
    public var bestVal: Point? { val.filter { $0.value.isFinite }.min { $0.value < $1.value } }
    public var finalVal: Point? { val.last }
    public var finalTrain: Point? { train.last }

    public func configValue(_ key: String) -> String? { config.first { $0.key == key }?.value }

    /// Reads the run folder at `path`.
    public static func load(_ path: String) throws(CheckpointError) -> RunSummary {
        let run = RunDirectory(path)
        guard run.exists else {
            throw CheckpointError(path, FileSystem.exists(path) ? "not a run folder (no config.toml or checkpoints/)" : "no such run folder")
        }
        var entries: [(key: String, value: String)] = []
        var config = TrainConfig()
        if FileSystem.exists(run.configPath) {
            guard let data = FileManager.default.contents(atPath: run.configPath),
                  let text = String(validatingUTF8Data: data) else {
                throw CheckpointError(run.configPath, "cannot be read as UTF-8 text")
            }
            do {
                for entry in try TOML.parse(text) {
                    entries.append((entry.key, entry.value.description))
                    try? config.set(entry.key, entry.value)  // keys of another version are listed, not applied
                }
            } catch {
                throw CheckpointError(run.configPath, "is not a run config: \(error.description)")
            }
        }
        let records = try MetricsLog.read(run.metricsPath)
        let checkpoints = try run.checkpoints()
        let model = checkpoints.last { $0.config != nil }?.config
            ?? (config.tokenizer == "bpe" ? config.modelConfig(vocabSize: config.vocabSize) : nil)
        let parameters = model?.checkedParameterCount
        let embeddings = model.map { $0.vocabSize * $0.nEmbd + ($0.posEncoding == .learned ? $0.blockSize * $0.nEmbd : 0) }
        func points(_ value: (MetricsRecord) -> Float?) -> [Point] {
            records.compactMap { r in value(r).map { Point(step: r.step, value: $0) } }
        }
        let throughputs = records.compactMap(\.tokensPerSecond).filter { $0.isFinite && $0 > 0 }.sorted()
        return RunSummary(
            name: run.name, path: run.path, config: entries, parameters: parameters,
            nonEmbeddingParameters: parameters.flatMap { p in embeddings.map { p - $0 } },
            steps: max(records.last?.step ?? 0, checkpoints.last?.step ?? 0), tokensPerStep: config.tokensPerStep,
            train: points(\.trainLoss), val: points(\.valLoss), accuracy: points(\.taskAccuracy),
            tokensPerSecond: throughputs.isEmpty ? nil : throughputs[throughputs.count / 2],
            wallTime: records.last?.time)
    }
}

/// Several runs side by side: what `nanoscope compare` prints and the dashboard's run picker
/// shows — a table of the outcomes, and the config keys that differ (the only ones worth reading
/// when asking "what did I change?").
public struct RunComparison: Sendable, Equatable {
    public var runs: [RunSummary]

    public init(runs: [RunSummary]) { self.runs = runs }

    /// Keys that name the run rather than configure it; they always differ and say nothing.
    public static let bookkeepingKeys: Set<String> = ["run_name", "runs_dir"]

    /// Every config key whose value is not the same in all runs (a key one run lacks counts as
    /// differing), in the first run's key order, then keys only later runs have.
    public var differingKeys: [(key: String, values: [String?])] {
        var order: [String] = []
        for run in runs { for entry in run.config where !order.contains(entry.key) { order.append(entry.key) } }
        return order.compactMap { key -> (key: String, values: [String?])? in
            guard !Self.bookkeepingKeys.contains(key) else { return nil }
            let values = runs.map { $0.configValue(key) }
            return Set(values.map { $0 ?? "\u{0}" }).count > 1 ? (key, values) : nil
        }
    }

    public static func == (a: RunComparison, b: RunComparison) -> Bool { a.runs == b.runs }

    /// Loads each run folder, in the order given.
    public static func load(_ paths: [String]) throws(CheckpointError) -> RunComparison {
        var runs: [RunSummary] = []
        for path in paths { runs.append(try RunSummary.load(path)) }
        return RunComparison(runs: runs)
    }

    // MARK: Formatting

    /// `812`, `52.1k`, `3.21M`, `1.10B`.
    public static func count(_ n: Int?) -> String {
        guard let n else { return "—" }
        let x = Double(n)
        if n < 1000 { return String(n) }
        if x < 1e6 { return String(format: x < 1e4 ? "%.2fk" : "%.1fk", x / 1e3) }
        if x < 1e9 { return String(format: x < 1e7 ? "%.2fM" : "%.1fM", x / 1e6) }
        return String(format: "%.2fB", x / 1e9)
    }

    /// `45s`, `3m05s`, `2h14m`.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "—" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    static func loss(_ point: RunSummary.Point?) -> String {
        guard let point else { return "—" }
        return point.value.isFinite ? String(format: "%.4f", Double(point.value)) : "\(point.value)"
    }

    /// Columns padded to their widest cell; `right` columns are right-aligned. No trailing blanks.
    static func aligned(_ rows: [[String]], right: Set<Int>) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            var line = row.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - row[c].count)
                return right.contains(c) ? pad + row[c] : row[c] + pad
            }.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n") + "\n"
    }

    /// The outcome table and, below it, the differing keys:
    ///
    ///     RUN      PARAMS  STEPS  TOKENS  BEST VAL  @STEP  FINAL VAL  TOK/S  WALL
    ///     learned  0.80M    2000   1.54M    1.4712   1750     1.4801  24.1k  1m21s
    ///     rotary   0.79M    2000   1.54M    1.4650   2000     1.4650  23.8k  1m23s
    ///
    ///     KEY           learned  rotary
    ///     pos_encoding  learned  sinusoidal
    public var table: String {
        var rows = [["RUN", "PARAMS", "STEPS", "TOKENS", "BEST VAL", "@STEP", "FINAL VAL", "TOK/S", "WALL"]]
        for run in runs {
            rows.append([run.name, Self.count(run.parameters), String(run.steps), Self.count(run.tokensSeen),
                         Self.loss(run.bestVal), run.bestVal.map { String($0.step) } ?? "—", Self.loss(run.finalVal),
                         run.tokensPerSecond.map { Self.count(Int($0.rounded())) } ?? "—", Self.duration(run.wallTime)])
        }
        var out = Self.aligned(rows, right: Set(1...8))
        let keys = differingKeys
        if runs.count < 2 { return out }
        if keys.isEmpty {
            out += "\nno config key differs between these runs\n"
        } else {
            out += "\n" + Self.aligned([["KEY"] + runs.map(\.name)] + keys.map { [$0.key] + $0.values.map { $0 ?? "—" } }, right: [])
        }
        return out
    }

    /// One JSON document for scripts:
    ///
    ///     {"runs":[{"name":"a","path":"runs/a","parameters":801536,"non_embedding_parameters":784128,
    ///       "steps":2000,"tokens_per_step":768,"tokens_seen":1536000,"best_val_loss":1.47,"best_val_step":1750,
    ///       "final_val_loss":1.48,"final_train_loss":1.31,"tokens_per_s":24100,"wall_time_s":81.2,
    ///       "config":{"n_layer":"4",…},"train":[[10,3.9],…],"val":[[250,2.1],…],"accuracy":[]}],
    ///      "differing_keys":[{"key":"pos_encoding","values":["\"learned\"","\"sinusoidal\""]}]}
    ///
    /// Config values are strings as `config.toml` writes them; absent numbers are `null`.
    public var json: String {
        func num(_ v: Int?) -> StrictJSON { v.map(StrictJSON.number) ?? .null }
        func num(_ v: Float?) -> StrictJSON { v.flatMap { $0.isFinite ? StrictJSON.number($0) : nil } ?? .null }
        func num(_ v: Double?) -> StrictJSON { v.flatMap { $0.isFinite ? StrictJSON.number($0) : nil } ?? .null }
        func curve(_ points: [RunSummary.Point]) -> StrictJSON {
            .array(points.map { .array([.number($0.step), num($0.value)]) })
        }
        let values = runs.map { run -> StrictJSON in
            .object([
                ("name", .string(run.name)), ("path", .string(run.path)),
                ("parameters", num(run.parameters)), ("non_embedding_parameters", num(run.nonEmbeddingParameters)),
                ("steps", .number(run.steps)), ("tokens_per_step", .number(run.tokensPerStep)),
                ("tokens_seen", .number(run.tokensSeen)),
                ("best_val_loss", num(run.bestVal?.value)), ("best_val_step", num(run.bestVal?.step)),
                ("final_val_loss", num(run.finalVal?.value)), ("final_train_loss", num(run.finalTrain?.value)),
                ("tokens_per_s", num(run.tokensPerSecond)), ("wall_time_s", num(run.wallTime)),
                ("config", .object(run.config.map { ($0.key, .string($0.value)) })),
                ("train", curve(run.train)), ("val", curve(run.val)), ("accuracy", curve(run.accuracy)),
            ])
        }
        let keys = differingKeys.map { key -> StrictJSON in
            .object([("key", .string(key.key)), ("values", .array(key.values.map { $0.map(StrictJSON.string) ?? .null }))])
        }
        return StrictJSON.object([("runs", .array(values)), ("differing_keys", .array(keys))]).serialized + "\n"
    }

    /// The curves in long form, one row per point, for a spreadsheet or pandas:
    ///
    ///     run,step,tokens,split,loss
    ///     learned,10,7680,train,3.912
    ///     learned,250,192000,val,2.104
    ///
    /// `split` is `train`, `val` or `accuracy` (then `loss` holds the accuracy). Run names are
    /// folder names (letters, digits, `_-.`), so no field needs quoting; other names are quoted.
    public var csv: String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var lines = ["run,step,tokens,split,loss"]
        for run in runs {
            for (split, points) in [("train", run.train), ("val", run.val), ("accuracy", run.accuracy)] {
                for p in points {
                    lines.append("\(field(run.name)),\(p.step),\(p.step * run.tokensPerStep),\(split),\(p.value)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the x axis of an overlay counts.
    public enum XAxis: String, Sendable, CaseIterable {
        case step, tokens
    }

    /// The overlaid loss curves as a report-ready SVG: train solid, val dashed with dots, one
    /// colour per run (in the order given), ln(vocab) as the uniform-guess reference line when
    /// every run has the same vocabulary.
    public func svg(x: XAxis = .step, width: Int = 800, height: Int = 480, title: String? = nil) -> String {
        var plot = SVGPlot(width: width, height: height)
        plot.title = title ?? "Loss: " + runs.map(\.name).joined(separator: " vs ")
        plot.xLabel = x == .step ? "step" : "tokens seen"
        plot.yLabel = "cross-entropy loss (nats)"
        for (i, run) in runs.enumerated() {
            let colour = SVGPlot.palette[i % SVGPlot.palette.count]
            let scale = Double(x == .step ? 1 : run.tokensPerStep)
            func xy(_ points: [RunSummary.Point]) -> [(Double, Double)] {
                points.filter { $0.value.isFinite }.map { (Double($0.step) * scale, Double($0.value)) }
            }
            plot.series.append(.init(label: run.name + " train", colour: colour, points: xy(run.train), style: .solid))
            plot.series.append(.init(label: run.name + " val", colour: colour, points: xy(run.val), style: .dashedWithDots))
        }
        let vocabularies = Set(runs.map { $0.vocabularySize })
        if vocabularies.count == 1, let v = vocabularies.first ?? nil, v > 1 {
            plot.references.append(.init(label: String(format: "ln(%d) = %.2f, a uniform guess", v, log(Double(v))), y: log(Double(v))))
        }
        return plot.render()
    }
}

extension RunSummary {
    /// The model's vocabulary: parameters give it back exactly, `V·C = params − the rest`.
    public var vocabularySize: Int? {
        guard let parameters, let nonEmbedding = nonEmbeddingParameters,
              let c = configValue("n_embd").flatMap(Int.init), c > 0 else { return nil }
        let learned = configValue("pos_encoding").map { $0 == "\"learned\"" } ?? true
        let t = configValue("block_size").flatMap(Int.init) ?? 0
        let vc = parameters - nonEmbedding - (learned ? t * c : 0)
        return vc % c == 0 ? vc / c : nil
    }
}
