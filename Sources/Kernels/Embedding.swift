import Foundation

/// The input of the transformer: a token's embedding plus its position's embedding,
///
///     x[b,t,:] = wte[idx[b,t], :] + pos[t, :]
///
/// where `pos` is either the learned table `wpe` (GPT-2, nanoGPT) or the fixed sinusoids of
/// "Attention Is All You Need":
///
///     pos[t, 2i] = sin(t / 10000^(2i/C))      pos[t, 2i+1] = cos(t / 10000^(2i/C))
///
/// Backward scatters the gradient back into the rows that were read:
///
///     ∂L/∂wte[idx[b,t]] += ∂L/∂x[b,t]         ∂L/∂wpe[t] += Σ_b ∂L/∂x[b,t]
public enum Embedding {
    public static func forward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        wte: UnsafePointer<Float>, pos: UnsafePointer<Float>,
        batch: Int, seqLen t: Int, channels c: Int, pool: WorkerPool = .shared
    ) {
        pool.parallelRanges(batch * t, serialBelow: 64) { range in
            for bt in range {
                let tok = Int(tokens[bt])
                let o = out + bt * c, e = wte + tok * c, p = pos + (bt % t) * c
                for i in 0..<c { o[i] = e[i] + p[i] }
            }
        }
    }

    /// Adds the gradients into `dwte` and (if the positions are learned) `dwpe`.
    ///
    /// The same token can appear many times in a batch, so rows of `dwte` receive several adds;
    /// workers split the channels, not the tokens, so no two ever write the same float.
    public static func backward(
        dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>,
        batch: Int, seqLen t: Int, channels c: Int, pool: WorkerPool = .shared
    ) {
        pool.parallelRanges(c, serialBelow: 16) { chans in
            for bt in 0..<(batch * t) {
                let g = dout + bt * c
                let dw = dwte + Int(tokens[bt]) * c
                for i in chans { dw[i] += g[i] }
                if let dwpe {
                    let dp = dwpe + (bt % t) * c
                    for i in chans { dp[i] += g[i] }
                }
            }
        }
    }

    /// Fills `table[maxLen, C]` with the sinusoidal position vectors.
    public static func sinusoidalTable(_ table: UnsafeMutablePointer<Float>, maxLen: Int, channels c: Int) {
        for t in 0..<maxLen {
            for i in stride(from: 0, to: c, by: 2) {
                let angle = Double(t) / pow(10000, Double(i) / Double(c))
                table[t * c + i] = Float(sin(angle))
                if i + 1 < c { table[t * c + i + 1] = Float(cos(angle)) }
            }
        }
    }
}
