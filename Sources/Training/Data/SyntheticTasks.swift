import Foundation
import GPT
import Tokenizers

/// Algorithmic problems the program generates itself, in the manner of minGPT's demos, named in
/// a config as `data = "task:NAME"` or `"task:NAME:SIZE"` (e.g. `task:sort`, `task:add:2`).
///
/// Every problem is one line of text, a prompt followed by its answer and a newline, with fixed
/// lengths for a given task and size:
///
/// - `sort` (size = digit count, default 8): digits 0–9, then `|`, then the same digits in
///   ascending order — `31415926|11234569`.
/// - `add` (size = digits per operand, default 3): two zero-padded numbers and their sum with
///   size + 1 digits written **least significant digit first**, as minGPT's adder does —
///   `123+456=9750` means 123 + 456 = 0579. Reversed, each answer digit depends only on the
///   operand digits at and below it plus a carry, so the model can emit it left to right.
/// - `reverse` (size = letter count, default 8): letters a–z, `|`, the letters backwards —
///   `nanogpts|stpgonan`.
/// - `copy` (size = letter count, default 8): letters a–z, `|`, the same letters —
///   `nanogpts|nanogpts`.
///
/// **Held-out problems.** A problem belongs to the validation set when a hash of its prompt
/// falls in one tenth of the hash range; the training stream only ever draws problems outside
/// it and the validation stream only problems inside it, so the two are disjoint by
/// construction, whatever the seed.
///
/// **Training.** The training split is a long stream of random training lines (the validation
/// split a stream of held-out lines) and batches are the ordinary `Dataset.batch` windows of
/// `block_size` tokens, except that a task's windows start only at line starts. With
/// `block_size` equal to the line length (as in the sample configs) every window is then
/// exactly one problem at the same positions, as each of minGPT's examples is its own
/// sequence. That matters: measured here, 3-digit addition stayed on its plateau (accuracy
/// ≈ 0) for 3000 steps with three problems per window, whether the windows started at line
/// starts or anywhere, and 2-digit addition for 1500 steps; with one problem per window 2-digit
/// addition reached 100% by step 1000 and 3-digit by step 2500. An answer digit depends on two
/// prompt digits jointly (neither alone says anything about it), and with more of the window
/// to attend over, the model takes far longer to find them. Sorting and reversing learn
/// either way.
///
/// The loss is taken on every token of the window — prompt, answer and newline alike — not
/// masked to the answer: that needs no change to the loss kernel, and the unpredictable prompt
/// tokens only add a constant. Hence the loss cannot fall below `lossFloor`, the entropy of a
/// random prompt spread over the tokens of its line; a run that has learned the task sits just
/// above it (a little more when `block_size` cuts a line short at the end of the window).
///
/// **Accuracy.** `greedyAnswers` decodes the answers of held-out problems with the model's
/// most likely token at each step and `exactMatch` scores the fraction answered entirely right.
public struct SyntheticTask: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case sort, add, reverse, copy

        var defaultSize: Int { self == .add ? 3 : 8 }
        /// The smallest size with enough distinct problems to hold some out.
        var minimumSize: Int { self == .add ? 1 : 2 }
        /// Beyond this a line would be longer than any sensible block_size, and (for add) the
        /// numbers would overflow.
        var maximumSize: Int { self == .add ? 17 : 64 }
    }

    public static let prefix = "task:"

    public let kind: Kind
    /// Digits (sort), digits per operand (add) or letters (reverse, copy).
    public let size: Int

    public init(kind: Kind, size: Int? = nil) throws(ConfigError) {
        let size = size ?? kind.defaultSize
        guard (kind.minimumSize...kind.maximumSize).contains(size) else {
            throw ConfigError("task:\(kind.rawValue):\(size): the size must be between \(kind.minimumSize) and \(kind.maximumSize)")
        }
        self.kind = kind
        self.size = size
    }

    /// The task a `data` value names, or nil if it names no task (a path or a recipe).
    public static func named(_ data: String) throws(ConfigError) -> SyntheticTask? {
        guard data.hasPrefix(prefix) else { return nil }
        let parts = data.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        let names = Kind.allCases.map { "task:" + $0.rawValue }.joined(separator: ", ")
        guard let kind = Kind(rawValue: String(parts[0])), parts.count <= 2 else {
            throw ConfigError("unknown task \(data): the tasks are \(names) (optionally with a size, e.g. task:sort:6)")
        }
        guard parts.count == 2 else { return try SyntheticTask(kind: kind) }
        guard let size = Int(parts[1]) else {
            throw ConfigError("task size in \(data) must be a whole number, e.g. task:\(kind.rawValue):\(kind.defaultSize)")
        }
        return try SyntheticTask(kind: kind, size: size)
    }

    /// The `data` value naming this task.
    public var name: String { "task:\(kind.rawValue):\(size)" }

    // MARK: - Problems

    public struct Problem: Sendable, Hashable {
        /// Everything before the answer, separator included (`31415926|`).
        public var prompt: String
        public var answer: String
        public var line: String { prompt + answer + "\n" }
    }

    private static let digits = Array("0123456789".unicodeScalars)
    private static let letters = Array("abcdefghijklmnopqrstuvwxyz".unicodeScalars)

    /// Every character a line can contain, in code-point order (as a corpus's own alphabet would be).
    public var vocabulary: [Unicode.Scalar] {
        let symbols: [Unicode.Scalar] = switch kind {
        case .sort: Self.digits + ["|"]
        case .add: Self.digits + ["+", "="]
        case .reverse, .copy: Self.letters + ["|"]
        }
        return (symbols + ["\n"]).sorted { $0.value < $1.value }
    }

    public var promptLength: Int { kind == .add ? 2 * size + 2 : size + 1 }
    public var answerLength: Int { kind == .add ? size + 1 : size }
    /// Characters per line, the newline included.
    public var lineLength: Int { promptLength + answerLength + 1 }

    /// The least possible mean loss (nats per token) on a stream of lines: the prompt's random
    /// symbols cannot be predicted, everything else can. The floor of windows one line long
    /// (`block_size` = `lineLength`, as the sample configs have it): see `lossFloor(blockSize:)`.
    public var lossFloor: Double { lossFloor(blockSize: lineLength) }

    /// Offsets within a line that hold a random prompt symbol: the operand digits of `add`
    /// (around `+`), the digits or letters before `|` otherwise. Everything else in a line follows
    /// from them — the separators from their positions, the answer from the prompt.
    var randomOffsets: [Int] {
        kind == .add ? Array(0..<size) + Array((size + 1)..<(2 * size + 1)) : Array(0..<size)
    }

    /// The least possible mean loss (nats per token) of a window of `blockSize` tokens that starts
    /// at a line start, as `Dataset.batch` draws them.
    ///
    /// The targets are the stream's tokens 1…T after the window's start. A random symbol costs any
    /// model ln(choices) — it is uniform and independent of everything before it — and every other
    /// target can be predicted exactly, so with R = {t ∈ 1…T : t mod L is a random offset}
    ///
    ///     floor(T) = |R| · ln(choices) / T,
    ///
    /// which for T = L is symbols · ln(choices) / L (offset 0 of the first line is an input, not a
    /// target, but offset 0 of the next line, t = L, is). The training lines avoid the held-out
    /// tenth of the prompts, so strictly their entropy is about ln(10/9) nats per line lower
    /// (0.006 per token on an 18-token line); a model could only gain that by memorising the hash.
    public func lossFloor(blockSize: Int) -> Double {
        guard blockSize > 0 else { return .nan }
        let random = Set(randomOffsets)
        let choices = kind == .reverse || kind == .copy ? Self.letters.count : Self.digits.count
        let unpredictable = (1...blockSize).filter { random.contains($0 % lineLength) }.count
        return Double(unpredictable) * log(Double(choices)) / Double(blockSize)
    }

    /// The problem with the given random symbols (digits for sort and add, letters otherwise).
    public func problem(_ symbols: [Unicode.Scalar]) -> Problem {
        let text = String(String.UnicodeScalarView(symbols))
        switch kind {
        case .sort:
            return Problem(prompt: text + "|", answer: String(String.UnicodeScalarView(symbols.sorted { $0.value < $1.value })))
        case .reverse:
            return Problem(prompt: text + "|", answer: String(text.reversed()))
        case .copy:
            return Problem(prompt: text + "|", answer: text)
        case .add:
            let a = String(text.prefix(size)), b = String(text.suffix(size))
            let sum = String(Int(a)! + Int(b)!)
            let padded = String(repeating: "0", count: size + 1 - sum.count) + sum
            return Problem(prompt: a + "+" + b + "=", answer: String(padded.reversed()))
        }
    }

    /// A uniformly random problem (from either split).
    public func randomProblem(rng: inout RandomNumbers) -> Problem {
        let alphabet = kind == .reverse || kind == .copy ? Self.letters : Self.digits
        let count = kind == .add ? 2 * size : size
        return problem((0..<count).map { _ in alphabet[rng.nextInt(below: alphabet.count)] })
    }

    /// Whether a problem is held out for validation: one in ten prompts, chosen by a hash that
    /// depends on nothing but the prompt, so no seed or run can move a problem across splits.
    public func isHeldOut(_ problem: Problem) -> Bool {
        Self.hash(problem.prompt) % 10 == 0
    }

    /// FNV-1a over the UTF-8 bytes, then a SplitMix finaliser so that prompts differing only in
    /// the last character still land far apart.
    static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// `count` random problems of one split, by rejection: a draw from the wrong side of the
    /// hash is thrown away (nine in ten for validation, one in ten for training).
    public func problems(_ split: Dataset.Split, count: Int, rng: inout RandomNumbers) -> [Problem] {
        var out: [Problem] = []
        out.reserveCapacity(count)
        let wantHeldOut = split == .val
        while out.count < count {
            let p = randomProblem(rng: &rng)
            if isHeldOut(p) == wantHeldOut { out.append(p) }
        }
        return out
    }

    // MARK: - Dataset

    /// Lines in the training stream: 3.6M tokens (14 MB) for an 18-character line, generated in
    /// well under a second. The sample runs read each line once or twice, far from memorising.
    public static let trainLines = 200_000
    /// Lines in the validation stream (for the loss; the accuracy uses its first distinct ones).
    public static let valLines = 20_000

    /// The task as a `Dataset`: streams of training and held-out lines generated from `seed`,
    /// with the task's own character vocabulary and `accuracyProblems` distinct held-out problems
    /// for the accuracy metric.
    public func dataset(seed: Int, blockSize: Int, accuracyProblems: Int) throws(ConfigError) -> Dataset {
        // Training windows should hold at least one whole problem.
        guard blockSize >= lineLength else {
            throw ConfigError("\(name) has \(lineLength)-character lines: block_size = \(blockSize) must be at least \(lineLength) so the model sees a whole problem")
        }
        let tokenizer: CharTokenizer
        do { tokenizer = try CharTokenizer(vocab: vocabulary) } catch { throw ConfigError("\(name): \(error)") }
        func encode(_ problems: [Problem]) throws(ConfigError) -> [Int32] {
            do { return try tokenizer.encode(problems.map(\.line).joined()) } catch { throw ConfigError("\(name): \(error)") }
        }
        var rng = RandomNumbers(seed: UInt64(truncatingIfNeeded: seed) &+ 0x7A5C)
        let train = problems(.train, count: Self.trainLines, rng: &rng)
        let val = problems(.val, count: Self.valLines, rng: &rng)
        var seen = Set<Problem>()
        let distinct = val.filter { seen.insert($0).inserted }
        return Dataset(train: try encode(train), val: try encode(val), tokenizer: tokenizer,
                       task: Dataset.TaskData(task: self, heldOut: Array(distinct.prefix(accuracyProblems))))
    }

    // MARK: - Accuracy

    /// The fraction of predictions equal to their answers (0 for no problems).
    public static func exactMatch(_ predictions: [String], _ answers: [String]) -> Float {
        precondition(predictions.count == answers.count, "one prediction per answer")
        guard !answers.isEmpty else { return 0 }
        return Float(zip(predictions, answers).filter { $0 == $1 }.count) / Float(answers.count)
    }

    /// The model's greedy answers: for each problem, `answerLength` times, the most likely next
    /// token after the prompt and the answer tokens chosen so far.
    ///
    /// Problems are decoded `rows` at a time in one batched forward pass. Each row is a line at
    /// the start of a window, where training put lines, and always has the full length
    /// `promptLength + answerLength − 1` (the last answer token is never fed back); positions
    /// not yet decoded hold a placeholder, which the causal mask keeps invisible to the position
    /// being read, and the fixed shape lets the model reuse its activation buffers from one
    /// forward pass to the next.
    public func greedyAnswers(model: GPT, tokenizer: CharTokenizer, problems: [Problem], rows: Int) -> [String] {
        guard !problems.isEmpty else { return [] }
        let placeholder = try! tokenizer.encode("\n")[0]
        let seqLen = promptLength + answerLength - 1
        precondition(seqLen <= model.config.blockSize, "block_size too small for a problem")
        let rows = max(1, min(rows, problems.count))
        var answers: [String] = []
        answers.reserveCapacity(problems.count)
        for start in stride(from: 0, to: problems.count, by: rows) {
            let chunk = Array(problems[start..<min(start + rows, problems.count)])
            // The last chunk is padded with copies of its first problem to keep the shape.
            var tokens = [Int32](repeating: placeholder, count: rows * seqLen)
            for r in 0..<rows {
                let prompt = try! tokenizer.encode(chunk[r < chunk.count ? r : 0].prompt)
                for (t, id) in prompt.enumerated() { tokens[r * seqLen + t] = id }
            }
            var decoded = [[Int32]](repeating: [], count: rows)
            for k in 0..<answerLength {
                model.forward(tokens: tokens, targets: nil, batch: rows, seqLen: seqLen)
                // Position `promptLength − 1 + k` holds the last known token; its logits
                // predict answer token k.
                let read = promptLength - 1 + k
                for r in 0..<rows {
                    let logits = model.logits(row: r * seqLen + read)
                    var best = 0
                    for v in 1..<logits.count where logits[v] > logits[best] { best = v }
                    decoded[r].append(Int32(best))
                    // The last answer token is never fed back, so the row needs no slot for it.
                    if read + 1 < seqLen { tokens[r * seqLen + read + 1] = Int32(best) }
                }
            }
            answers += decoded.prefix(chunk.count).map { tokenizer.decode($0) }
        }
        return answers
    }

    /// Exact-match accuracy of greedy decoding on a dataset's held-out problems, nil for a
    /// dataset that is not a task. Decodes in chunks of at most `tokensPerForward` tokens (a
    /// training batch's worth), so evaluating never needs more activation memory than training.
    public static func accuracy(model: GPT, dataset: Dataset, tokensPerForward: Int) -> Float? {
        guard let data = dataset.task, let tokenizer = dataset.tokenizer as? CharTokenizer else { return nil }
        let seqLen = data.task.lineLength
        let predicted = data.task.greedyAnswers(model: model, tokenizer: tokenizer, problems: data.heldOut,
                                                rows: max(1, tokensPerForward / seqLen))
        return exactMatch(predicted, data.heldOut.map(\.answer))
    }
}
