import Foundation
import Testing
import Kernels
@testable import GPT

/// The 16-bit path against PyTorch CPU autocast (`Scripts/make_autocast_fixtures.py`): the same
/// weights and batch, logits, loss and every gradient.
///
/// Tolerances. bfloat16 keeps 8 significant bits (a rounding error of up to 2⁻⁹ ≈ 0.2 % per
/// operand), float16 11 bits (2⁻¹² ≈ 0.02 %). Both implementations round the same tensors at the
/// same places, but not bit for bit the same way inside a product: PyTorch rounds every matmul's
/// output — ∂L/∂W included — to 16 bits, its flash attention rounds P to 16 bits before P·V,
/// and the float32 sums run in another order; a value that lands near a rounding boundary then
/// rounds the other way, one 16-bit ulp apart, and the difference propagates. So the two can
/// differ by a few ulps of the 16-bit format: the bounds are 2–3 % (bf16) and 0.5 % (fp16) of
/// each tensor's scale for logits and gradients, and 0.1 % (bf16) / 0.02 % (fp16) for the loss.
/// Measured (2025-12, torch 2.15): loss 2e-5–3e-4, logits 0.5–0.6 % (bf16) and 0.08 % (fp16) of
/// their scale, gradients ≤ 1.8 % (bf16) and 0.11 % (fp16).
/// For scale: the fixture also holds PyTorch's float32 results from the same weights, which are
/// as far from autocast as one sequence of 16-bit roundings takes a result. Two *independent*
/// sequences of roundings would be √2 times as far apart; the test requires Nanoscope to be
/// *closer* to autocast than float32 is (on the mean error), i.e. that it rounds the same
/// tensors at the same places, not merely that it lands within a 16-bit tolerance.
@Suite struct AutocastGoldenTests {
    struct Fixture: Decodable {
        let config: GPTConfig
        let dtype: String
        let batch: Int, seq_len: Int
        let tokens: [Int32], targets: [Int32]
        let params: [String: [Float]]
        let logits: [Float], loss: Float, grads: [String: [Float]]
        let logits_fp32: [Float], loss_fp32: Float, grads_fp32: [String: [Float]]

        static func load(_ name: String) throws -> Fixture {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name).json")
            return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        }
    }

    /// max |a − b| / max |b|: an error relative to the tensor's scale.
    static func scaledError(_ a: some Collection<Float>, _ b: [Float]) -> Float {
        let scale = b.map(abs).max() ?? 1
        return (zip(a, b).map { abs($0 - $1) }.max() ?? 0) / max(scale, 1e-30)
    }

    /// mean |a − b|: for the "closer than float32" comparison (a max is one rounding boundary).
    static func meanError(_ a: some Collection<Float>, _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Float(max(1, b.count))
    }

    @Test(arguments: ["autocast_bf16_nobias", "autocast_bf16_bias", "autocast_fp16_nobias"])
    func logitsLossAndGradientsMatchAutocast(fixture name: String) throws {
        let f = try Fixture.load(name)
        let dtype = try #require(DType(rawValue: f.dtype))
        let bf16 = dtype == .bfloat16
        let model = try GPT(config: f.config, seed: 0)
        for t in model.layout.tensors {
            let values = try #require(f.params[t.name])
            let dst = try #require(model.parameter(t.name))
            for i in 0..<t.count { dst[i] = values[i] }
        }
        model.parameterVersion += 1
        model.dtype = dtype
        let loss = try #require(model.forward(tokens: f.tokens, targets: f.targets, batch: f.batch, seqLen: f.seq_len))
        let lossErr = abs(loss - f.loss) / f.loss
        #expect(lossErr < (bf16 ? 1e-3 : 2e-4), "loss \(loss) vs autocast \(f.loss) (float32 \(f.loss_fp32))")
        model.zeroGradients()
        model.backward()
        model.forward(tokens: f.tokens, targets: nil, batch: f.batch, seqLen: f.seq_len)
        var logits: [Float] = []
        for r in 0..<(f.batch * f.seq_len) { logits += Array(model.logits(row: r)) }
        let logitErr = Self.scaledError(logits, f.logits), logitGap = Self.scaledError(f.logits_fp32, f.logits)
        print("\(name): loss \(lossErr) (fp32 gap \(abs(f.loss_fp32 - f.loss) / f.loss)), logits \(logitErr) (fp32 gap \(logitGap))")
        #expect(logitErr < (bf16 ? 0.02 : 0.005), "logits differ from autocast by \(logitErr) of their scale")
        let logitMean = Self.meanError(logits, f.logits), logitMeanGap = Self.meanError(f.logits_fp32, f.logits)
        print("\(name): mean logit error \(logitMean), float32's \(logitMeanGap)")
        #expect(logitMean < logitMeanGap, "logits: no closer to autocast (\(logitMean)) than float32 is (\(logitMeanGap))")
        var worst: Float = 0, worstGap: Float = 0, meanErr: Float = 0, meanGap: Float = 0
        for t in model.layout.tensors {
            let expected = try #require(f.grads[t.name]), fp32 = try #require(f.grads_fp32[t.name])
            let got = try #require(model.gradient(t.name))
            let err = Self.scaledError(got, expected)
            worst = max(worst, err); worstGap = max(worstGap, Self.scaledError(fp32, expected))
            let scale = expected.map(abs).max() ?? 1
            meanErr += Self.meanError(got, expected) / scale; meanGap += Self.meanError(fp32, expected) / scale
            #expect(err < (bf16 ? 0.03 : 0.005), "∂L/∂\(t.name) differs from autocast by \(err) of its scale")
        }
        print("\(name): worst gradient \(worst) (fp32 gap \(worstGap)); mean \(meanErr) vs float32's \(meanGap)")
        #expect(meanErr < meanGap, "gradients: no closer to autocast (\(meanErr)) than float32 is (\(meanGap))")
    }
}
