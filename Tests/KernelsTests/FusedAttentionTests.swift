import Testing
import Kernels
import TestSupport

/// FusedAttention must compute what Attention computes (to float rounding), forward and
/// backward, with and without dropout, and its gradients must pass a finite-difference check of
/// their own.
@Suite struct FusedAttentionTests {
    /// Both kernels on the same input; returns the largest difference of each output relative to
    /// the largest magnitude of the reference (outputs, then ∂L/∂qkv).
    static func compare(batch: Int, seqLen t: Int, channels c: Int, heads nh: Int, dropout p: Float,
                        seed: UInt64) -> (forward: Float, backward: Float) {
        var rng = SplitMix64(seed: seed)
        let qkv = (0..<(batch * t * 3 * c)).map { _ in (rng.nextFloat() * 2 - 1) * 2 }
        let gradOut = (0..<(batch * t * c)).map { _ in rng.nextFloat() * 2 - 1 }
        let hs = c / nh
        let reference = buffer(batch * t * c), fused = buffer(batch * t * c)
        let att = buffer(batch * nh * t * t), lse = buffer(batch * nh * t)
        let scratch = buffer(max(Attention.scratchCount(seqLen: t, headSize: hs),
                                 FusedAttention.scratchCount(seqLen: t, headSize: hs)))
        let dReference = buffer(batch * t * 3 * c), dFused = buffer(batch * t * 3 * c)
        qkv.withPointer { x in gradOut.withPointer { g in
            Attention.forward(out: reference.baseAddress!, att: att.baseAddress!, qkv: x, batch: batch, seqLen: t,
                              channels: c, heads: nh, dropout: p, dropoutSeed: 5, scratch: scratch.baseAddress!)
            Attention.backward(dqkv: dReference.baseAddress!, dout: g, qkv: x, att: att.baseAddress!, batch: batch,
                               seqLen: t, channels: c, heads: nh, dropout: p, dropoutSeed: 5, scratch: scratch.baseAddress!)
            FusedAttention.forward(out: fused.baseAddress!, logSumExp: lse.baseAddress!, qkv: x, batch: batch,
                                   seqLen: t, channels: c, heads: nh, dropout: p, dropoutSeed: 5,
                                   scratch: scratch.baseAddress!)
            FusedAttention.backward(dqkv: dFused.baseAddress!, dout: g, qkv: x, out: fused.baseAddress!,
                                    logSumExp: lse.baseAddress!, batch: batch, seqLen: t, channels: c, heads: nh,
                                    dropout: p, dropoutSeed: 5, scratch: scratch.baseAddress!)
        } }
        return (relativeDifference(fused, reference), relativeDifference(dFused, dReference))
    }

    static func relativeDifference(_ a: UnsafeMutableBufferPointer<Float>, _ b: UnsafeMutableBufferPointer<Float>) -> Float {
        var worst: Float = 0, scale: Float = 1e-30
        for i in 0..<a.count {
            worst = max(worst, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return a.contains { !$0.isFinite } ? .infinity : worst / scale
    }

    /// Lengths that are and are not multiples of the 64-wide tiles (and of the kernel's panel
    /// columns, so that key panels are zero-padded), a single token, heads of 8 and 64 channels,
    /// and one head wider than a packed B may be (264 > `GEMM.maxPackedK`: panel by panel).
    @Test(arguments: [(1, 16, 2), (7, 16, 2), (64, 24, 3), (100, 24, 3), (130, 128, 2), (200, 64, 1), (70, 264, 1)])
    func matchesTheReferenceKernel(seqLen t: Int, channels c: Int, heads nh: Int) {
        for p: Float in [0, 0.25] {
            let seed = UInt64(t * 1000 + c)
            let (f, b) = Self.compare(batch: 2, seqLen: t, channels: c, heads: nh, dropout: p, seed: seed)
            #expect(f < 1e-5, "forward differs by \(f) at T=\(t), C=\(c), nh=\(nh), p=\(p), seed \(seed)")
            #expect(b < 1e-5, "backward differs by \(b) at T=\(t), C=\(c), nh=\(nh), p=\(p), seed \(seed)")
        }
    }

    /// The shape: T = 1024, 12 heads of 64.
    @Test func matchesTheReferenceAtGPT2Length() {
        let (f, b) = Self.compare(batch: 1, seqLen: 1024, channels: 768, heads: 12, dropout: 0, seed: 11)
        #expect(f < 1e-5, "forward differs by \(f)")
        #expect(b < 1e-5, "backward differs by \(b)")
    }

    @Test(arguments: [(0.0 as Float, 70), (0.3, 70)])
    func gradientsMatchFiniteDifferences(dropout: Float, seqLen t: Int) {
        var g = GradientCheck()
        let batch = 2, c = 16, nh = 2
        var qkv = g.randoms(batch * t * 3 * c)
        let w = g.randoms(batch * t * c)
        let out = buffer(batch * t * c), lse = buffer(batch * nh * t)
        let scratch = buffer(FusedAttention.scratchCount(seqLen: t, headSize: c / nh))
        func forward(_ qkv: [Float]) -> Double {
            qkv.withPointer {
                FusedAttention.forward(out: out.baseAddress!, logSumExp: lse.baseAddress!, qkv: $0, batch: batch,
                                       seqLen: t, channels: c, heads: nh, dropout: dropout, dropoutSeed: 3,
                                       scratch: scratch.baseAddress!)
            }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        _ = forward(qkv)
        let dqkv = buffer(batch * t * 3 * c)
        qkv.withPointer { qp in w.withPointer { wp in
            FusedAttention.backward(dqkv: dqkv.baseAddress!, dout: wp, qkv: qp, out: out.baseAddress!,
                                    logSumExp: lse.baseAddress!, batch: batch, seqLen: t, channels: c, heads: nh,
                                    dropout: dropout, dropoutSeed: 3, scratch: scratch.baseAddress!)
        } }
        #expect(GradientCheck.compare(x: &qkv, analytic: Array(dqkv), h: 1e-2, samples: 400, loss: forward) < 2e-3)
    }

    /// What it keeps for the backward pass grows with T, not T².
    @Test func keptMemoryIsLinearInT() {
        for t in [256, 1024, 4096] {
            #expect(FusedAttention.keptBytesPerHead(seqLen: t) == 4 * t)
            #expect(Attention.keptBytesPerHead(seqLen: t) == 4 * t * t)
        }
    }
}
