import Foundation
import GPT
import Tokenizers
import SafeTensors

/// A tokenized corpus split for training, as nanoGPT's `prepare.py` + `get_batch` do it:
///
///     ids = encode(text);  n = ⌊0.9 · len(ids)⌋;  train = ids[:n];  val = ids[n:]
///     a batch: B offsets i ~ U[0, len − T);  x = ids[i : i+T],  y = ids[i+1 : i+1+T]
///
/// The targets are the inputs shifted by one token: at every position the model learns to
/// predict the next token.
public struct Dataset: Sendable {
    public let train: [Int32]
    public let val: [Int32]
    public let tokenizer: any Tokenizer
    /// The synthetic task the streams were generated from (nil for a text corpus).
    public let task: TaskData?

    /// A synthetic task and the held-out problems its accuracy is measured on.
    public struct TaskData: Sendable {
        public var task: SyntheticTask
        public var heldOut: [SyntheticTask.Problem]
    }

    public enum Split: String, Sendable { case train, val }

    public struct Batch: Sendable {
        public var inputs: [Int32]
        public var targets: [Int32]
    }

    /// Splits already-encoded ids 90/10.
    public init(ids: [Int32], tokenizer: any Tokenizer, blockSize: Int) throws(ConfigError) {
        let n = Int(Double(ids.count) * 0.9)
        self.train = Array(ids[..<n])
        self.val = Array(ids[n...])
        self.tokenizer = tokenizer
        self.task = nil
        let need = blockSize + 2
        if val.count < need || train.count < need {
            throw ConfigError("the corpus has \(ids.count) tokens: its 10% validation split (\(val.count) tokens) needs at least block_size + 2 = \(need); use a longer corpus (≥ \(need * 10) tokens) or a smaller block_size")
        }
    }

    /// Splits made elsewhere (a synthetic task's training and held-out streams).
    public init(train: [Int32], val: [Int32], tokenizer: any Tokenizer, task: TaskData? = nil) {
        self.train = train
        self.val = val
        self.tokenizer = tokenizer
        self.task = task
    }

    /// Prefix of `data = "random:N"` (uniform random token ids; see `randomTokens`).
    static let randomPrefix = "random:"

    /// Whether a config's `data` is made by the program from the seed (`task:`, `random:`):
    /// a resumed run makes it again rather than reading a corpus.
    static func isGenerated(_ data: String) -> Bool {
        data.hasPrefix(SyntheticTask.prefix) || data.hasPrefix(randomPrefix)
    }

    /// Whether a config's `data` is a path to a text file, rather than a source named by its
    /// prefix (`task:`, `random:`, `recipe:`), which no working directory changes.
    public static func namesAFile(_ data: String) -> Bool {
        !isGenerated(data) && !data.hasPrefix(CorpusRecipe.prefix)
    }

    /// The data a config's `data` names: a synthetic task (`task:sort`), uniform random tokens
    /// (`random:50304`), a corpus recipe (`recipe:shakespeare`, prepared once) or a text file.
    public static func prepare(config: TrainConfig, report: (String) -> Void = { _ in }) throws(ConfigError) -> Dataset {
        guard !config.data.isEmpty else { throw ConfigError("no corpus: set `data` in the config or pass --data FILE") }
        if config.data.hasPrefix(randomPrefix) { return try randomTokens(config.data, seed: config.seed) }
        if let task = try SyntheticTask.named(config.data) {
            if config.tokenizer != "char" {
                throw ConfigError("\(config.data) has its own character vocabulary: remove tokenizer = \"\(config.tokenizer)\" from the config")
            }
            return try task.dataset(seed: config.seed, blockSize: config.blockSize, accuracyProblems: config.taskEvalProblems)
        }
        return try load(path: CorpusRecipe.resolve(config.data, report: report), config: config, report: report)
    }

    /// `random:N`: 2²⁰ training and 2¹⁸ validation tokens drawn uniformly from N ids, as the
    /// PyTorch reference's `--vocab_size N` does — for speed and memory at a shape; the loss can
    /// only reach ln N.
    static func randomTokens(_ spec: String, seed: Int) throws(ConfigError) -> Dataset {
        guard let n = Int(spec.dropFirst(randomPrefix.count)), n > 0, n <= 1 << 24 else {
            throw ConfigError("\(spec): write random:N with N the number of token ids, 1 to \(1 << 24) (e.g. random:50304)")
        }
        let tokenizer: TokenIDTokenizer
        do { tokenizer = try TokenIDTokenizer(vocabSize: n) } catch { throw ConfigError("\(spec): \(error)") }
        var rng = RandomNumbers(seed: UInt64(bitPattern: Int64(seed)) &+ 0x7A4D)
        func draw(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(rng.next() % UInt64(n)) } }
        return Dataset(train: draw(1 << 20), val: draw(1 << 18), tokenizer: tokenizer)
    }

    /// Reads and encodes a corpus file with the given tokenizer (or, with nil, a character
    /// tokenizer built from the corpus itself).
    public static func load(path: String, tokenizer: (any Tokenizer)?, blockSize: Int) throws(ConfigError) -> Dataset {
        let text = try readCorpus(path: path)
        let tok: any Tokenizer
        do {
            tok = try tokenizer ?? CharTokenizer(corpus: text)
        } catch {
            throw ConfigError("\(path): \(error)")
        }
        let ids: [Int32]
        do { ids = try tok.encode(text) } catch {
            throw ConfigError("\(path): cannot encode the corpus with the checkpoint's tokenizer: \(error)")
        }
        return try Dataset(ids: ids, tokenizer: tok, blockSize: blockSize)
    }

    /// Reads a corpus and tokenizes it as the config says: characters (the corpus's own
    /// alphabet), or a byte-level BPE with `vocab_size` tokens learned from the training part of
    /// the text (its first 90%, so the validation text never shapes the vocabulary).
    public static func load(path: String, config: TrainConfig, report: (String) -> Void = { _ in }) throws(ConfigError) -> Dataset {
        guard config.tokenizer == "bpe" else { return try load(path: path, tokenizer: nil, blockSize: config.blockSize) }
        let text = try readCorpus(path: path)
        let scalars = text.unicodeScalars
        let cut = scalars.index(scalars.startIndex, offsetBy: Int(Double(scalars.count) * 0.9))
        let start = DispatchTime.now().uptimeNanoseconds
        let bpe: BPETokenizer
        do { bpe = try BPETokenizer.train(text: String(scalars[..<cut]), vocabSize: config.vocabSize) } catch {
            throw ConfigError("\(path): cannot train a \(config.vocabSize)-token BPE: \(error)")
        }
        report(String(format: "trained a %d-token byte-level BPE on %@ in %.2f s", bpe.vocabSize, path,
                      Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        return try load(path: path, tokenizer: bpe, blockSize: config.blockSize)
    }

    /// Characters per token in the validation split: multiply a per-token loss by the inverse
    /// to compare runs with different tokenizers (loss per character = loss × tokens / chars).
    public var valCharactersPerToken: Double {
        Double(tokenizer.decode(val).unicodeScalars.count) / Double(max(1, val.count))
    }

    /// A corpus as text, with one clear error for each way it can be unusable.
    public static func readCorpus(path: String) throws(ConfigError) -> String {
        if let problem = FileSystem.readProblem(path) {
            throw ConfigError("corpus \(path) \(problem) — point `data` (or --data) at a UTF-8 text file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("corpus \(path) cannot be read — point `data` (or --data) at a UTF-8 text file")
        }
        if data.isEmpty { throw ConfigError("corpus \(path) is empty: a model needs text to learn from") }
        guard let text = String(validatingUTF8Data: data) else {
            let offset = firstInvalidUTF8Offset(data) ?? 0
            throw ConfigError("corpus \(path) is not UTF-8 text (invalid byte at offset \(offset)); convert it, e.g. `iconv -f latin1 -t utf-8`")
        }
        return text
    }

    /// B random windows of T tokens from a split, and their next-token targets.
    ///
    /// On a synthetic task the windows start only at line starts, so each problem sits at the
    /// same positions within its line in every window (see `SyntheticTask`).
    public func batch(_ split: Split, batchSize: Int, blockSize: Int, rng: inout RandomNumbers) -> Batch {
        let ids = split == .train ? train : val
        let stride = task?.task.lineLength ?? 1
        var x = [Int32](repeating: 0, count: batchSize * blockSize)
        var y = x
        ids.withUnsafeBufferPointer { src in
            for b in 0..<batchSize {
                let i = rng.nextInt(below: (ids.count - blockSize) / stride) * stride
                for t in 0..<blockSize {
                    x[b * blockSize + t] = src[i + t]
                    y[b * blockSize + t] = src[i + t + 1]
                }
            }
        }
        return Batch(inputs: x, targets: y)
    }

    /// Offset of the first byte that does not begin or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ data: Data) -> Int? {
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            if length == 0 || i + length > bytes.count { return i }
            for j in 1..<length where bytes[i + j] >> 6 != 0b10 { return i }
            i += length
        }
        return nil
    }
}

extension String {
    /// Strict UTF-8 decoding: nil if any byte sequence is invalid (Foundation's initialiser
    /// would substitute replacement characters on some platforms).
    init?(validatingUTF8Data data: Data) {
        guard let s = String(bytes: data, encoding: .utf8) else { return nil }
        var valid = true
        data.withUnsafeBytes { raw in
            var it = raw.bindMemory(to: UInt8.self).makeIterator()
            var decoder = UTF8()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue: continue
                case .emptyInput: break loop
                case .error: valid = false; break loop
                }
            }
        }
        guard valid else { return nil }
        self = s
    }
}
