import Foundation
import Testing
import GPT
import Kernels
import Tokenizers
@testable import Training

/// Lines `abcde|edcba⏎`: the second half is only predictable by reading the first.
private enum Reversal {
    static let letters = Array("abcdefghijklmnopqrstuvwxyz".unicodeScalars)
    static let tokenizer = try! CharTokenizer(vocab: letters + ["|", "\n"])

    static func line(_ rng: inout RandomNumbers) -> String {
        let word = String(String.UnicodeScalarView((0..<5).map { _ in letters[rng.nextInt(below: letters.count)] }))
        return word + "|" + String(word.reversed()) + "\n"
    }

    static func model(layers: Int, steps: Int) throws -> GPT {
        let config = GPTConfig(vocabSize: tokenizer.vocabSize, blockSize: 12, nLayer: layers, nHead: 2, nEmbd: 48,
                               bias: false, dropout: 0, posEncoding: .learned)
        let model = try GPT(config: config, seed: 11)
        let optimizer = AdamW(layout: model.layout, beta1: 0.9, beta2: 0.99, weightDecay: 0)
        var rng = RandomNumbers(seed: 5)
        for _ in 0..<steps {
            var inputs: [Int32] = [], targets: [Int32] = []
            for _ in 0..<32 {
                let ids = try tokenizer.encode(line(&rng))
                inputs += ids[0..<11]
                targets += ids[1..<12]
            }
            model.zeroGradients()
            model.forward(tokens: inputs, targets: targets, batch: 32, seqLen: 11, training: true)
            model.backward()
            GradientClipping.clip(model.grads, maxNorm: 1)
            optimizer.update(params: model.params, grads: model.grads, lr: 3e-3)
            model.parameterVersion += 1
        }
        return model
    }

    static func lens(_ model: GPT, text: String) throws -> LogitLens {
        let probe = AttentionProbe(tokens: try tokenizer.encode(text), tokenizer: tokenizer)
        return try #require(AttentionMaps.compute(model: model, probe: probe, step: 0).lens)
    }
}

@Suite(.serialized) struct LogitLensTests {
    nonisolated(unsafe) static let trained = try! Reversal.model(layers: 3, steps: 400)

    @Test func theLastLayersLensIsTheModelsOwnPrediction() throws {
        let model = try Reversal.model(layers: 2, steps: 20)
        let text = "qwert|trewq\n"
        let tokens = try Reversal.tokenizer.encode(text)
        let lens = try Reversal.lens(model, text: text)
        #expect(lens.rows == 3 && lens.layerNames == ["emb", "h.0", "h.1"] && lens.positions == 12)
        model.forward(tokens: tokens, targets: nil, batch: 1, seqLen: 12)
        for position in 0..<12 {
            let logits = Array(model.logits(row: position))
            let maximum = logits.max()!
            let top = logits.firstIndex(of: maximum)!
            let sum = logits.reduce(0.0) { $0 + Double(exp($1 - maximum)) }
            let i = lens.index(row: 2, position: position)
            #expect(Int(lens.topToken[i]) == top)
            #expect(abs(lens.topProbability[i] - Float(1 / sum)) < 1e-6)
            #expect(lens.topLabel[i] == Reversal.tokenizer.decode([Int32(top)]))
            if position < 11 {
                let target = Int(tokens[position + 1])
                #expect(Int(lens.targetRank[i]) == 1 + logits.filter { $0 > logits[target] }.count)
            } else {
                #expect(lens.targetRank[i] == 0 && lens.loss[i].isNaN)
            }
        }
        // The final row's mean loss is the model's cross-entropy on the same tokens.
        let loss = model.forward(tokens: Array(tokens[0..<11]), targets: Array(tokens[1..<12]), batch: 1, seqLen: 11)!
        #expect(abs(lens.meanLoss(row: 2) - loss) < 1e-4)
    }

    @Test func onATrainedReversalTheAnswerEmergesInTheLaterLayers() throws {
        let text = "qwert|trewq\n"
        let lens = try Reversal.lens(Self.trained, text: text)
        // Positions 5…9 predict the reversed letters t r e w q (position 5 is '|').
        let answer = 5...9
        func correct(_ row: Int) -> Int { answer.filter { lens.targetRank[lens.index(row: row, position: $0)] == 1 }.count }
        func loss(_ row: Int) -> Float { answer.map { lens.loss[lens.index(row: row, position: $0)] }.reduce(0, +) / 5 }
        var report = ""
        for row in 0..<lens.rows {
            report += lens.layerNames[row].padding(toLength: 5, withPad: " ", startingAt: 0)
            report += answer.map { "\(lens.topLabel[lens.index(row: row, position: $0)])/\(lens.targetRank[lens.index(row: row, position: $0)])" }
                .joined(separator: " ") + String(format: "  loss %.2f\n", loss(row))
        }
        print("logit lens on \(String(reflecting: text)), answer positions (top-1/target rank):\n" + report)
        #expect(correct(lens.rows - 1) == 5, "\(report)")
        #expect(correct(0) <= 1, "\(report)")
        #expect(loss(0) > loss(lens.rows - 1) + 2, "\(report)")
        #expect(loss(lens.rows - 2) > loss(lens.rows - 1) || correct(lens.rows - 2) < 5 || loss(1) > loss(lens.rows - 1), "\(report)")
    }

    @Test func aModelTooLargeToReadCheaplyHasNoLens() throws {
        let config = GPTConfig(vocabSize: 8192, blockSize: 128, nLayer: 2, nHead: 1, nEmbd: 1024)
        let model = try GPT(config: config, seed: 1)
        let probe = AttentionProbe(tokens: [Int32](repeating: 1, count: 128), tokenizer: try CharTokenizer(vocab: Array("ab".unicodeScalars)))
        // The cost is checked before the model is read, so no forward pass is needed.
        #expect(LogitLens.read(model: model, probe: probe, vocabulary: [], step: 0) == nil)
    }
}
