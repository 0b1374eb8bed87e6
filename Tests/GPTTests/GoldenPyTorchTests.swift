import Foundation
import Testing
import Kernels
@testable import GPT

/// A fixture written by `Scripts/make_gpt_fixtures.py` (PyTorch): weights, a batch, and what
/// PyTorch computed from them.
struct GoldenFixture: Decodable {
    struct AdamWSettings: Decodable {
        let lr: Float, weight_decay: Float, beta1: Float, beta2: Float, grad_clip: Float, eps: Float
    }
    let config: GPTConfig
    let batch: Int
    let seq_len: Int
    let adamw: AdamWSettings
    let tokens: [Int32]
    let targets: [Int32]
    let params: [String: [Float]]
    let logits: [Float]
    let loss: Float
    let grads: [String: [Float]]
    let adamw_losses: [Float]
    let adamw_grad_norms: [Float]

    static func load(_ name: String) throws -> GoldenFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name).json")
        return try JSONDecoder().decode(GoldenFixture.self, from: Data(contentsOf: url))
    }

    /// A model holding the fixture's weights.
    func model() throws -> GPT {
        let model = try GPT(config: config, seed: 0)
        for t in model.layout.tensors {
            let values = try #require(params[t.name], "fixture lacks \(t.name)")
            #expect(values.count == t.count)
            let dst = try #require(model.parameter(t.name))
            for i in 0..<t.count { dst[i] = values[i] }
        }
        model.parameterVersion += 1
        return model
    }
}

/// Largest |a − b| / (|b| + floor) over two arrays: a relative error that does not explode on
/// values that are zero up to rounding.
func maxRelativeError(_ a: some Collection<Float>, _ b: [Float], floor: Float) -> Float {
    zip(a, b).map { abs($0 - $1) / (abs($1) + floor) }.max() ?? 0
}

@Suite struct GoldenPyTorchTests {
    @Test(arguments: ["gpt_nobias", "gpt_bias"])
    func logitsLossAndGradientsMatchPyTorch(fixture name: String) throws {
        let f = try GoldenFixture.load(name)
        let model = try f.model()
        let loss = try #require(model.forward(tokens: f.tokens, targets: f.targets, batch: f.batch, seqLen: f.seq_len))
        #expect(abs(loss - f.loss) / f.loss < 1e-4, "loss \(loss) vs PyTorch \(f.loss)")

        model.zeroGradients()
        model.backward()
        // Logits are overwritten by the backward pass only in `probs`; re-run without targets to read them.
        model.forward(tokens: f.tokens, targets: nil, batch: f.batch, seqLen: f.seq_len)
        var logits: [Float] = []
        for r in 0..<(f.batch * f.seq_len) { logits += Array(model.logits(row: r)) }
        let logitScale = f.logits.map(abs).max()!
        let logitErr = maxRelativeError(logits, f.logits, floor: 1e-3 * logitScale)
        #expect(logitErr < 1e-4, "logits differ from PyTorch by \(logitErr) (relative)")

        for t in model.layout.tensors {
            let expected = try #require(f.grads[t.name], "fixture lacks gradient of \(t.name)")
            let got = try #require(model.gradient(t.name))
            let scale = expected.map(abs).max()!
            let err = maxRelativeError(got, expected, floor: 1e-2 * scale)
            #expect(err < 1e-3, "∂L/∂\(t.name) differs from PyTorch by \(err) (relative)")
        }
    }
}
