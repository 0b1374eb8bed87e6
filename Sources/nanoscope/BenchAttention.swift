import Foundation
import GPT
import Kernels

/// `nanoscope bench --attention-kernels`: the two attention kernels side by side — the standard one
/// (P = softmax(Q·Kᵀ) stored for the backward pass) and the fused one (FlashAttention-2: P
/// recomputed from the saved log-sum-exp) — forward and backward of one layer at the baby, large
/// and GPT-2-small shapes, alternating within each repeat so that both see the same load.
extension BenchCommand {
    func benchAttention() {
        print(KernelReport.isaLine)
        print("attention, one layer forward + backward (all \(WorkerPool.shared.workers) threads), median of \(repeats) alternating repeats (more for short shapes: at least 250 ms of each)")
        let shapes: [(name: String, batch: Int, t: Int, c: Int, heads: Int)] = [
            ("baby", 12, 64, 128, 4), ("large", 64, 256, 384, 6), ("gpt2-small", 4, 1024, 768, 12),
        ]
        for s in shapes {
            let kernels = AttentionBench(batch: s.batch, seqLen: s.t, channels: s.c, heads: s.heads)
            // One untimed pass of each first: page faults, scratch and caches. Short shapes run
            // more repeats, at least a quarter of a second of each (a 1 ms pass swings by 2× here).
            let first = max(kernels.milliseconds(fused: false), kernels.milliseconds(fused: true))
            let count = max(repeats, min(500, Int(250 / max(first, 0.001))))
            var standard: [Double] = [], fused: [Double] = []
            for _ in 0..<count {
                standard.append(kernels.milliseconds(fused: false))
                fused.append(kernels.milliseconds(fused: true))
            }
            let (st, fu) = (median(standard), median(fused))
            let kept = { (bytes: Int) in Double(bytes * s.batch * s.heads) / 1_048_576 }
            print("  " + s.name.padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(format: "B %2d  T %4d  %2d heads of %2d   standard %8.2f ms (keeps %7.1f MB)   fused %8.2f ms (keeps %5.2f MB)   fused/standard %.2f× time",
                         s.batch, s.t, s.heads, s.c / s.heads, st,
                         kept(Attention.keptBytesPerHead(seqLen: s.t)), fu, kept(FusedAttention.keptBytesPerHead(seqLen: s.t)), fu / st))
        }
    }
}

/// One layer's attention inputs and outputs at a shape, for timing both kernels on the same data.
private struct AttentionBench {
    let batch: Int, seqLen: Int, channels: Int, heads: Int
    let qkv: FloatBuffer, dout: FloatBuffer, out: FloatBuffer, dqkv: FloatBuffer
    let probabilities: FloatBuffer, logSumExp: FloatBuffer, scratch: FloatBuffer

    init(batch: Int, seqLen: Int, channels: Int, heads: Int) {
        self.batch = batch; self.seqLen = seqLen; self.channels = channels; self.heads = heads
        let rows = batch * seqLen, hs = channels / heads
        qkv = FloatBuffer(count: rows * 3 * channels)
        dout = FloatBuffer(count: rows * channels)
        out = FloatBuffer(count: rows * channels)
        dqkv = FloatBuffer(count: rows * 3 * channels)
        probabilities = FloatBuffer(count: batch * heads * seqLen * seqLen)
        logSumExp = FloatBuffer(count: batch * heads * seqLen)
        scratch = FloatBuffer(count: max(Attention.scratchCount(seqLen: seqLen, headSize: hs),
                                         FusedAttention.scratchCount(seqLen: seqLen, headSize: hs)))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        for i in 0..<qkv.count { qkv[i] = next() }
        for i in 0..<dout.count { dout[i] = next() }
    }

    /// Wall-clock milliseconds of one forward and one backward pass with either kernel.
    func milliseconds(fused: Bool) -> Double {
        1e3 * Stopwatch.seconds { pass(fused: fused) }
    }

    private func pass(fused: Bool) {
        if fused {
            FusedAttention.forward(out: out.pointer, logSumExp: logSumExp.pointer, qkv: qkv.pointer, batch: batch,
                                   seqLen: seqLen, channels: channels, heads: heads, scratch: scratch.pointer)
            FusedAttention.backward(dqkv: dqkv.pointer, dout: dout.pointer, qkv: qkv.pointer, out: out.pointer,
                                    logSumExp: logSumExp.pointer, batch: batch, seqLen: seqLen, channels: channels,
                                    heads: heads, scratch: scratch.pointer)
        } else {
            Attention.forward(out: out.pointer, att: probabilities.pointer, qkv: qkv.pointer, batch: batch,
                              seqLen: seqLen, channels: channels, heads: heads, scratch: scratch.pointer)
            Attention.backward(dqkv: dqkv.pointer, dout: dout.pointer, qkv: qkv.pointer, att: probabilities.pointer,
                               batch: batch, seqLen: seqLen, channels: channels, heads: heads, scratch: scratch.pointer)
        }
    }
}
