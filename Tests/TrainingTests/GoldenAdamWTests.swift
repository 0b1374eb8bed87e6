import Foundation
import Testing
import GPT
@testable import Training

/// AdamW against PyTorch: ten optimizer steps on the golden model of `Tests/GPTTests/Fixtures`
/// (written by `Scripts/make_gpt_fixtures.py`), comparing each step's loss and gradient norm.
struct GoldenAdamWFixture: Decodable {
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
    let adamw_losses: [Float]
    let adamw_grad_norms: [Float]

    static func load(_ name: String) throws -> GoldenAdamWFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("GPTTests/Fixtures/\(name).json")
        return try JSONDecoder().decode(GoldenAdamWFixture.self, from: Data(contentsOf: url))
    }

    /// A model holding the fixture's weights.
    func model() throws -> GPT {
        let model = try GPT(config: config, seed: 0)
        for t in model.layout.tensors {
            let values = try #require(params[t.name], "fixture lacks \(t.name)")
            try #require(values.count == t.count)
            let dst = try #require(model.parameter(t.name))
            _ = dst.update(fromContentsOf: values)
        }
        model.parameterVersion += 1
        return model
    }
}

@Suite struct GoldenAdamWTests {
    @Test(arguments: ["gpt_nobias", "gpt_bias"])
    func tenAdamWStepsMatchPyTorch(fixture name: String) throws {
        let f = try GoldenAdamWFixture.load(name)
        let model = try f.model()
        let opt = AdamW(layout: model.layout, beta1: f.adamw.beta1, beta2: f.adamw.beta2, eps: f.adamw.eps,
                        weightDecay: f.adamw.weight_decay)
        for step in 0..<10 {
            model.zeroGradients()
            let loss = try #require(model.forward(tokens: f.tokens, targets: f.targets, batch: f.batch, seqLen: f.seq_len))
            model.backward()
            let norm = GradientClipping.clip(model.grads, maxNorm: f.adamw.grad_clip)
            opt.update(params: model.params, grads: model.grads, lr: f.adamw.lr)
            model.parameterVersion += 1
            #expect(abs(loss - f.adamw_losses[step]) / f.adamw_losses[step] < 1e-4,
                    "step \(step): loss \(loss) vs PyTorch \(f.adamw_losses[step])")
            #expect(abs(norm - f.adamw_grad_norms[step]) / f.adamw_grad_norms[step] < 1e-3,
                    "step \(step): grad norm \(norm) vs PyTorch \(f.adamw_grad_norms[step])")
        }
    }
}
