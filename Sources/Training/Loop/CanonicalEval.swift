import GPT

/// The canonical evaluation (`nanoscope eval`), a number that PyTorch reproduces exactly
/// (`torch_gpt.py eval`, function `canonical_eval`) so two implementations can be compared on one
/// checkpoint:
///
///     ids = encode(corpus);   val = ids[⌊0.9 · len(ids)⌋ :]          the split Dataset uses
///     window b (b = 0, 1, …, K−1):  s = b·T;   x = val[s : s+T],   y = val[s+1 : s+T+1]
///     loss = (1/K) Σ_b  mean_t  −log softmax(model(x))[t, y[t]]
///
/// with T = `block_size`; windows are contiguous and do not overlap, and the walk stops early if
/// the split runs out (a window needs T + 1 tokens). Unlike the trainer's `estimate_loss`, nothing
/// here is random, so the same checkpoint always gets the same number.
public enum CanonicalEval {
    public struct Result: Sendable, Equatable {
        /// Mean next-token cross-entropy, in nats.
        public var loss: Double
        /// Windows actually evaluated (fewer than asked if the split is short).
        public var blocks: Int
    }

    /// The validation split of a tokenized corpus: its last 10 %.
    public static func validationSplit(_ ids: [Int32]) -> ArraySlice<Int32> {
        ids[Int(Double(ids.count) * 0.9)...]
    }

    /// Evaluates `model` on the first `blocks` windows of `validation`.
    public static func evaluate(_ model: GPT, validation: ArraySlice<Int32>, blocks: Int) throws(ConfigError) -> Result {
        let t = model.config.blockSize
        guard blocks > 0 else { throw ConfigError("--blocks must be at least 1") }
        let available = (validation.count - 1) / t  // window b needs tokens s … s+T
        let count = min(blocks, available)
        guard count > 0 else {
            throw ConfigError("the validation split has \(validation.count) tokens; one window of block_size \(t) needs \(t + 1): use a longer corpus")
        }
        let val = Array(validation)
        let vocab = Int32(model.config.vocabSize)
        if let bad = val.first(where: { $0 < 0 || $0 >= vocab }) {
            throw ConfigError("token id \(bad) is outside the model's vocabulary of \(vocab)")
        }
        // Several windows per forward pass for speed. All windows have T positions, so the mean
        // of the per-window means equals Σ (batch mean × windows in batch) / windows.
        let perPass = 16
        var total = 0.0
        var start = 0
        while start < count {
            let n = min(perPass, count - start)
            var x: [Int32] = [], y: [Int32] = []
            x.reserveCapacity(n * t); y.reserveCapacity(n * t)
            for b in start..<(start + n) {
                x.append(contentsOf: val[(b * t)..<(b * t + t)])
                y.append(contentsOf: val[(b * t + 1)..<(b * t + t + 1)])
            }
            let mean = model.forward(tokens: x, targets: y, batch: n, seqLen: t) ?? .nan
            total += Double(mean) * Double(n)
            start += n
        }
        return Result(loss: total / Double(count), blocks: count)
    }
}
