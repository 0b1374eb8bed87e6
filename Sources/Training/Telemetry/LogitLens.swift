import Foundation
import GPT

/// The logit lens (nostalgebraist 2020) on the probe text: what the model would predict at every
/// position if its stack of blocks ended after layer ℓ.
///
/// With h_ℓ[t] the residual stream at position t after block ℓ (ℓ = 0 is the embeddings
/// wte[x_t] + pos[t], ℓ = 1…L the outputs of the L blocks), the model's own head reads it:
///
///     z_ℓ[t] = LN_f(h_ℓ[t]) · wteᵀ               logits, V of them (the head is tied to wte)
///     p_ℓ[t] = softmax(z_ℓ[t])
///     top-1:   argmax_v p_ℓ[t, v], with its probability
///     rank_ℓ[t] = 1 + #{v : z_ℓ[t, v] > z_ℓ[t, y_t]}   of the target y_t = x_{t+1} (1 = predicted)
///     loss_ℓ[t] = −log p_ℓ[t, y_t]
///
/// z_L is exactly the model's output (`GPT.headLogits` uses the forward pass's kernels), so the
/// last row is what the model predicts; earlier rows show where along the block stack the answer
/// forms. `loss_L[t]` along t shows how context helps: later positions see more of it. The last
/// position has no target (the probe ends there): its rank and loss are absent.
///
/// Computed on the trainer thread from the probe's forward pass (the one that gives the attention
/// maps), so it costs (L + 1) · T · V · C multiply-adds and one softmax per cell; probes longer than
/// `maxPositions` are read on their first `maxPositions` tokens, and models where even that would
/// cost more than `maxMultiplyAdds` get no lens.
public struct LogitLens: Sendable, Equatable {
    public static let maxPositions = 128
    public static let maxMultiplyAdds = 1 << 31

    /// Optimizer steps completed when the lens was computed.
    public var step: Int
    /// The probe's tokens at the positions read, decoded one by one.
    public var tokens: [String]
    /// Rows: `emb`, `h.0`, …, `h.{L-1}` (the residual after that block).
    public var layerNames: [String]
    /// `[row][position]`: the top-1 token id, its probability, and its text.
    public var topToken: [Int32]
    public var topProbability: [Float]
    public var topLabel: [String]
    /// `[row][position]`: the target's rank (1 = top-1), 0 where there is no target (last position).
    public var targetRank: [Int32]
    /// `[row][position]`: −log p(target), NaN where there is no target.
    public var loss: [Float]

    public var rows: Int { layerNames.count }

    /// Equal when every cell is (NaN losses of the last position compare equal to each other).
    public static func == (a: LogitLens, b: LogitLens) -> Bool {
        a.step == b.step && a.tokens == b.tokens && a.layerNames == b.layerNames && a.topToken == b.topToken
            && a.topProbability == b.topProbability && a.topLabel == b.topLabel && a.targetRank == b.targetRank
            && a.loss.map(\.bitPattern) == b.loss.map(\.bitPattern)
    }
    public var positions: Int { tokens.count }

    public init(step: Int, tokens: [String], layerNames: [String], topToken: [Int32], topProbability: [Float],
                topLabel: [String], targetRank: [Int32], loss: [Float]) {
        let n = tokens.count * layerNames.count
        precondition([topToken.count, topProbability.count, topLabel.count, targetRank.count, loss.count].allSatisfy { $0 == n },
                     "one value per layer and position")
        self.step = step; self.tokens = tokens; self.layerNames = layerNames; self.topToken = topToken
        self.topProbability = topProbability; self.topLabel = topLabel; self.targetRank = targetRank; self.loss = loss
    }

    public func index(row: Int, position: Int) -> Int { row * positions + position }

    /// The final layer's per-position loss (the last row), NaN at the last position.
    public var finalLoss: ArraySlice<Float> {
        let start = (rows - 1) * positions
        return loss[start..<(start + positions)]
    }

    /// Mean loss of a row over the positions that have a target.
    public func meanLoss(row: Int) -> Float {
        let values = loss[(row * positions)..<((row + 1) * positions)].filter(\.isFinite)
        return values.isEmpty ? .nan : values.reduce(0, +) / Float(values.count)
    }

    /// Reads the lens from `model`'s last forward pass, which must have been of `probe.tokens`
    /// with batch 1 (as `AttentionMaps.compute` runs it). nil when the model is too large to read
    /// cheaply (see `maxMultiplyAdds`) or the probe is empty.
    public static func read(model: GPT, probe: AttentionProbe, vocabulary: [String], step: Int) -> LogitLens? {
        let t = probe.tokens.count, n = min(t, maxPositions)
        let c = model.config.nEmbd, v = model.config.vocabSize, rows = model.config.nLayer + 1
        guard n > 0 else { return nil }
        let (cost, overflow) = (rows * n).multipliedReportingOverflow(by: v * c)
        guard !overflow, cost <= maxMultiplyAdds else { return nil }
        var topToken = [Int32](), topProbability = [Float](), topLabel = [String](), ranks = [Int32](), losses = [Float]()
        topToken.reserveCapacity(rows * n); topProbability.reserveCapacity(rows * n); ranks.reserveCapacity(rows * n)
        losses.reserveCapacity(rows * n); topLabel.reserveCapacity(rows * n)
        var logits = [Float](repeating: 0, count: n * v)
        for row in 0..<rows {
            let residual = model.residual(afterLayer: row - 1)
            logits.withUnsafeMutableBufferPointer { out in
                model.headLogits(residual: residual.baseAddress!, rows: n, into: out.baseAddress!)
            }
            for position in 0..<n {
                let z = logits[(position * v)..<((position + 1) * v)]
                var best = z.startIndex, maximum = -Float.infinity
                for i in z.indices where z[i] > maximum { maximum = z[i]; best = i }
                var sum: Double = 0
                for x in z { sum += Double(Foundation.exp(x - maximum)) }
                let logSum = Float(Foundation.log(sum))
                let id = Int32(best - z.startIndex)
                topToken.append(id)
                topProbability.append(Foundation.exp(-logSum))
                topLabel.append(Int(id) < vocabulary.count ? vocabulary[Int(id)] : "#\(id)")
                if position + 1 < t {
                    let target = Int(probe.tokens[position + 1])
                    let zt = z[z.startIndex + target]
                    ranks.append(Int32(1 + z.reduce(0) { $0 + ($1 > zt ? 1 : 0) }))
                    losses.append(maximum + logSum - zt)
                } else {
                    ranks.append(0)
                    losses.append(.nan)
                }
            }
        }
        return LogitLens(step: step, tokens: Array(probe.labels.prefix(n)),
                         layerNames: ["emb"] + (0..<model.config.nLayer).map { "h.\($0)" },
                         topToken: topToken, topProbability: topProbability, topLabel: topLabel,
                         targetRank: ranks, loss: losses)
    }
}
