import Foundation
import Training
import TerminalUI

/// Gradient statistics for a made-up two-block model: tensor i's gradients are a deterministic
/// spread around 10^-(2 + i/4), with a few exact zeros in the LayerNorm gains; the 16-bit range
/// fractions are of `lossScale`·g, and `tiny` makes every fourth value of the later tensors
/// 1e-12 times smaller (what float16 flushes even at S = 8192).
func sampleTelemetry(step: Int = 600, tensors names: [String] = sampleTensorNames, lossScale: Float = 1, tiny: Bool = false) -> Telemetry {
    let tensors = names.enumerated().map { i, name -> TensorStatistics in
        let scale = Float(pow(10, -2 - Double(i) / 4))
        let values: [Float] = (0..<256).map { k in
            if name.contains("ln_") && k % 8 == 0 { return 0 }
            let g = scale * Float(sin(Double(k) * 0.7 + Double(i))) * (1 + Float(k % 5))
            return tiny && i >= 3 && k % 4 == 0 ? g * 1e-12 : g
        }
        var s = values.withUnsafeBufferPointer { TensorStatistics(name: name, shape: [16, 16], values: $0) }
        s.updateRatio = 1e-3 * Float(i + 1)
        s.halfRange = values.withUnsafeBufferPointer { HalfRangeStatistics($0, scale: lossScale) }
        return s
    }
    return Telemetry(step: step, tensors: tensors,
                     layers: [.init(name: "embedding", ratio: 8e-4), .init(name: "h.0", ratio: 1.2e-3), .init(name: "h.1", ratio: 2e-3)],
                     attention: nil, lossScale: lossScale)
}

let sampleTensorNames = [
    "transformer.wte.weight", "transformer.wpe.weight",
    "transformer.h.0.ln_1.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.weight",
    "transformer.h.0.ln_2.weight", "transformer.h.0.mlp.c_fc.weight", "transformer.h.0.mlp.c_proj.weight",
    "transformer.h.1.ln_1.weight", "transformer.h.1.attn.c_attn.weight", "transformer.h.1.attn.c_proj.weight",
    "transformer.h.1.ln_2.weight", "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
    "transformer.ln_f.weight",
]

/// Causal attention maps over `text` for `layers` × `heads`: head h of layer l attends to the
/// token (l + h) places back (or the first token), with the rest of each row spread evenly.
func sampleAttention(text: String = "First Citizen:\nBefore we proceed", layers: Int = 2, heads: Int = 4, step: Int = 600) -> AttentionMaps {
    let tokens = text.unicodeScalars.map { String($0) }
    let t = tokens.count
    var weights: [Float] = []
    for l in 0..<layers {
        for h in 0..<heads {
            for row in 0..<t {
                let target = max(0, row - (l + h))
                for column in 0..<t {
                    if column > row { weights.append(0); continue }
                    let rest = row > 0 ? 0.2 / Float(row) : 0
                    weights.append(column == target ? (row > 0 ? 0.8 : 1) : rest)
                }
            }
        }
    }
    return AttentionMaps(step: step, tokens: tokens, layers: layers, heads: heads, weights: weights)
}

/// `sampleSnapshot()` with telemetry, an update-ratio history, clipped steps and attention maps.
func insightSnapshot(steps: Int = 600) -> TrainingSnapshot {
    var s = sampleSnapshot(steps: steps)
    s.gradClip = 1
    for i in s.steps.indices { s.steps[i].gradNorm = i % 50 == 7 ? 1.6 : 0.5 + 0.3 * Float(sin(Double(i) / 20)) }
    s.telemetry = sampleTelemetry(step: steps)
    s.updateRatios = stride(from: 25, through: steps, by: 25).map { step in
        .init(step: step, ratios: [8e-4, 1.2e-3 * Float(1 + Double(step) / 600), 2e-3])
    }
    s.attention = sampleAttention(step: steps)
    return s
}

/// A logit lens over `maps`' tokens for three rows (emb, h.0, h.1): row r predicts the next token
/// from r + 1 positions on, with probability 0.3 · (r + 1); the target's rank where wrong is 9, 6, 3.
func sampleLens(_ maps: AttentionMaps) -> LogitLens {
    let t = maps.size, names = ["emb", "h.0", "h.1"]
    var top: [Int32] = [], p: [Float] = [], labels: [String] = [], ranks: [Int32] = [], loss: [Float] = []
    for r in 0..<names.count {
        for pos in 0..<t {
            let right = pos + 1 < t && pos > r
            labels.append(right ? maps.tokens[pos + 1] : "e")
            top.append(Int32(pos % 7))
            p.append(0.3 * Float(r + 1))
            ranks.append(pos + 1 < t ? (right ? 1 : Int32(9 - 3 * r)) : 0)
            loss.append(pos + 1 < t ? (right ? -log(0.3 * Float(r + 1)) : 3.5 - Float(r)) : .nan)
        }
    }
    return LogitLens(step: maps.step, tokens: maps.tokens, layerNames: names, topToken: top, topProbability: p,
                     topLabel: labels, targetRank: ranks, loss: loss)
}
