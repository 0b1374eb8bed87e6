import Foundation
import Testing
import Kernels

/// Every kernel's backward pass against finite differences of its forward pass.
@Suite struct KernelGradientTests {
    @Test(arguments: [true, false])
    func layerNorm(withBias: Bool) {
        var g = GradientCheck()
        let rows = 5, c = 21  // 21: exercises the scalar tail after one 16-wide vector
        var x = g.randoms(rows * c, scale: 2), gamma = g.randoms(c), beta = g.randoms(c)
        let w = g.randoms(rows * c)
        let out = buffer(rows * c), mean = buffer(rows), rstd = buffer(rows)
        func forward(_ x: [Float], _ gamma: [Float], _ beta: [Float]) -> Double {
            x.withPointer { xp in gamma.withPointer { gp in beta.withPointer { bp in
                LayerNorm.forward(out: out.baseAddress!, mean: mean.baseAddress!, rstd: rstd.baseAddress!, inp: xp,
                                  weight: gp, bias: withBias ? bp : nil, rows: rows, channels: c)
            } } }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        _ = forward(x, gamma, beta)
        let dx = buffer(rows * c), dg = buffer(c), db = buffer(c), scratch = buffer(LayerNorm.backwardChunks * 2 * c)
        x.withPointer { xp in gamma.withPointer { gp in w.withPointer { wp in
            LayerNorm.backward(dinp: dx.baseAddress!, dweight: dg.baseAddress!, dbias: withBias ? db.baseAddress! : nil,
                               dout: wp, inp: xp, weight: gp, mean: mean.baseAddress!, rstd: rstd.baseAddress!,
                               rows: rows, channels: c, scratch: scratch.baseAddress!)
        } } }
        #expect(GradientCheck.compare(x: &x, analytic: Array(dx)) { forward($0, gamma, beta) } < 2e-3)
        #expect(GradientCheck.compare(x: &gamma, analytic: Array(dg)) { forward(x, $0, beta) } < 2e-3)
        if withBias { #expect(GradientCheck.compare(x: &beta, analytic: Array(db)) { forward(x, gamma, $0) } < 2e-3) }
    }

    @Test func gelu() {
        var g = GradientCheck()
        let n = 37
        var x = g.randoms(n, scale: 4)
        let w = g.randoms(n)
        let out = buffer(n)
        func forward(_ x: [Float]) -> Double {
            x.withPointer { GELU.forward(out: out.baseAddress!, inp: $0, count: n) }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        let d = buffer(n)
        for i in 0..<n { d[i] = w[i] }
        x.withPointer { GELU.backward(dinp: d.baseAddress!, inp: $0, dout: d.baseAddress!, count: n) }
        #expect(GradientCheck.compare(x: &x, analytic: Array(d), h: 1e-3, loss: forward) < 2e-3)
    }

    @Test func geluMatchesTheErfDefinition() {
        // Values of x·Φ(x) computed in double precision.
        let xs: [Float] = [-3, -1, -0.5, 0, 0.1, 1, 2.5, 6]
        let expected: [Float] = [-0.0040496961, -0.15865525, -0.15426877, 0, 0.053982784, 0.84134475, 2.4844761, 6]
        let out = buffer(xs.count)
        xs.withPointer { GELU.forward(out: out.baseAddress!, inp: $0, count: xs.count) }
        for i in 0..<xs.count { #expect(abs(out[i] - expected[i]) < 1e-6, "gelu(\(xs[i]))") }
    }

    @Test(arguments: [true, false])
    func linear(withBias: Bool) {
        var g = GradientCheck()
        let rows = 11, ic = 19, oc = 37  // ragged in every GEMM dimension
        var x = g.randoms(rows * ic), wgt = g.randoms(oc * ic), b = g.randoms(oc)
        let w = g.randoms(rows * oc)
        let out = buffer(rows * oc)
        func forward(_ x: [Float], _ wgt: [Float], _ b: [Float]) -> Double {
            x.withPointer { xp in b.withPointer { bp in wgt.withPointer { wp in
                Linear.forward(out: out.baseAddress!, inp: xp, weight: wp, bias: withBias ? bp : nil,
                               rows: rows, inFeatures: ic, outFeatures: oc)
            } } }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        let dx = buffer(rows * ic), dw = buffer(oc * ic), db = buffer(oc)
        x.withPointer { xp in wgt.withPointer { wp in w.withPointer { gp in
            Linear.backward(dinp: dx.baseAddress!, dweight: dw.baseAddress!, dbias: withBias ? db.baseAddress! : nil,
                            dout: gp, inp: xp, weight: wp, rows: rows, inFeatures: ic, outFeatures: oc)
        } } }
        #expect(GradientCheck.compare(x: &x, analytic: Array(dx)) { forward($0, wgt, b) } < 1e-3)
        #expect(GradientCheck.compare(x: &wgt, analytic: Array(dw)) { forward(x, $0, b) } < 1e-3)
        if withBias { #expect(GradientCheck.compare(x: &b, analytic: Array(db)) { forward(x, wgt, $0) } < 1e-3) }
    }

    @Test(arguments: [(0.0 as Float, 40), (0.0, 7), (0.3, 40)])
    func attention(dropout: Float, seqLen t: Int) {
        var g = GradientCheck()
        let batch = 2, c = 24, nh = 3  // head size 8; T = 40 spans two causal blocks of 32
        var qkv = g.randoms(batch * t * 3 * c)
        let w = g.randoms(batch * t * c)
        let out = buffer(batch * t * c), att = buffer(batch * nh * t * t)
        let scratch = buffer(Attention.scratchCount(seqLen: t, headSize: c / nh))
        func forward(_ qkv: [Float]) -> Double {
            qkv.withPointer {
                Attention.forward(out: out.baseAddress!, att: att.baseAddress!, qkv: $0, batch: batch, seqLen: t, channels: c,
                                  heads: nh, dropout: dropout, dropoutSeed: 9, scratch: scratch.baseAddress!)
            }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        _ = forward(qkv)
        // Causal: every weight above the diagonal is exactly zero and every row sums to one.
        if dropout == 0 {
            for bh in 0..<(batch * nh) {
                for row in 0..<t {
                    var sum: Float = 0
                    for col in 0..<t {
                        let p = att[(bh * t + row) * t + col]
                        if col > row { #expect(p == 0) }
                        sum += p
                    }
                    #expect(abs(sum - 1) < 1e-5)
                }
            }
        }
        let dqkv = buffer(batch * t * 3 * c)
        qkv.withPointer { qp in w.withPointer { wp in
            Attention.backward(dqkv: dqkv.baseAddress!, dout: wp, qkv: qp, att: att.baseAddress!, batch: batch, seqLen: t,
                               channels: c, heads: nh, dropout: dropout, dropoutSeed: 9, scratch: scratch.baseAddress!)
        } }
        #expect(GradientCheck.compare(x: &qkv, analytic: Array(dqkv), h: 1e-2, samples: 400, loss: forward) < 2e-3)
    }

    @Test func crossEntropy() {
        var g = GradientCheck()
        let rows = 6, v = 37
        var logits = g.randoms(rows * v, scale: 3)
        let targets: [Int32] = [0, 5, 36, 17, 17, 2]
        let probs = buffer(rows * v), losses = buffer(rows)
        func forward(_ z: [Float]) -> Double {
            Double(z.withPointer { zp in targets.withUnsafeBufferPointer { tp in
                CrossEntropy.forward(probs: probs.baseAddress!, losses: losses.baseAddress!, logits: zp, targets: tp.baseAddress!,
                                     rows: rows, vocab: v)
            } })
        }
        _ = forward(logits)
        let d = buffer(rows * v)
        targets.withUnsafeBufferPointer { tp in
            CrossEntropy.backward(dlogits: d.baseAddress!, probs: probs.baseAddress!, targets: tp.baseAddress!, rows: rows,
                                  vocab: v, scale: 1 / Float(rows))
        }
        #expect(GradientCheck.compare(x: &logits, analytic: Array(d), h: 1e-3, loss: forward) < 2e-3)
    }

    @Test func crossEntropyOfUniformLogitsIsLogV() {
        let rows = 3, v = 65
        let logits = [Float](repeating: 0.5, count: rows * v)
        let targets: [Int32] = [1, 2, 64]
        let probs = buffer(rows * v), losses = buffer(rows)
        let loss = logits.withPointer { zp in targets.withUnsafeBufferPointer { tp in
            CrossEntropy.forward(probs: probs.baseAddress!, losses: losses.baseAddress!, logits: zp, targets: tp.baseAddress!, rows: rows, vocab: v)
        } }
        #expect(abs(loss - logf(65)) < 1e-5)
    }

    @Test func embedding() {
        var g = GradientCheck()
        let batch = 2, t = 5, c = 18, v = 7
        var wte = g.randoms(v * c), wpe = g.randoms(t * c)
        let tokens: [Int32] = [0, 3, 3, 6, 1, 2, 2, 2, 0, 5]
        let w = g.randoms(batch * t * c)
        let out = buffer(batch * t * c)
        func forward(_ wte: [Float], _ wpe: [Float]) -> Double {
            wte.withPointer { ep in wpe.withPointer { pp in tokens.withUnsafeBufferPointer { tp in
                Embedding.forward(out: out.baseAddress!, tokens: tp.baseAddress!, wte: ep, pos: pp, batch: batch, seqLen: t, channels: c)
            } } }
            return GradientCheck.project(UnsafeBufferPointer(out), w)
        }
        let dwte = buffer(v * c), dwpe = buffer(t * c)
        w.withPointer { wp in tokens.withUnsafeBufferPointer { tp in
            Embedding.backward(dwte: dwte.baseAddress!, dwpe: dwpe.baseAddress!, dout: wp, tokens: tp.baseAddress!,
                               batch: batch, seqLen: t, channels: c)
        } }
        #expect(GradientCheck.compare(x: &wte, analytic: Array(dwte)) { forward($0, wpe) } < 1e-3)
        #expect(GradientCheck.compare(x: &wpe, analytic: Array(dwpe)) { forward(wte, $0) } < 1e-3)
    }

    @Test func dropoutKeepsAboutOneMinusPAndScales() {
        let n = 100_000, p: Float = 0.25
        let x = buffer(n)
        for i in 0..<n { x[i] = 1 }
        Dropout.apply(x.baseAddress!, count: n, p: p, seed: 3)
        let kept = x.filter { $0 != 0 }
        #expect(abs(Float(kept.count) / Float(n) - (1 - p)) < 0.01)
        #expect(kept.allSatisfy { abs($0 - 1 / (1 - p)) < 1e-6 })
        // The same seed gives the same mask (the backward pass relies on it).
        let y = buffer(n)
        for i in 0..<n { y[i] = 1 }
        Dropout.apply(y.baseAddress!, count: n, p: p, seed: 3)
        #expect(Array(x) == Array(y))
    }
}
