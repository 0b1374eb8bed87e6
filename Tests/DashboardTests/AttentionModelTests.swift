import Foundation
import Testing
@testable import Dashboard
import GPT
import Kernels
import Tokenizers
import Training
import TerminalUI

/// A task whose solution is a known attention pattern: lines `abcde|edcba⏎`. To predict the
/// reversed half, the query at position p (5…9, the `|` and the reversed letters so far) must
/// read the letter at position 9 − p: an anti-diagonal in the lower-left of the map.
private enum Reversal {
    static let letters = Array("abcdefghijklmnopqrstuvwxyz".unicodeScalars)
    static let tokenizer = try! CharTokenizer(vocab: letters + ["|", "\n"])

    static func line(_ rng: inout RandomNumbers) -> String {
        let word = String(String.UnicodeScalarView((0..<5).map { _ in letters[rng.nextInt(below: letters.count)] }))
        return word + "|" + String(word.reversed()) + "\n"
    }

    /// A one-layer, two-head model trained on random lines, aligned so each sequence is one line
    /// (inputs: its first 11 tokens, targets: the next ones).
    static func trainedModel() throws -> GPT {
        let config = GPTConfig(vocabSize: tokenizer.vocabSize, blockSize: 12, nLayer: 1, nHead: 2, nEmbd: 48,
                               bias: false, dropout: 0, posEncoding: .learned)
        let model = try GPT(config: config, seed: 11)
        let optimizer = AdamW(layout: model.layout, beta1: 0.9, beta2: 0.99, weightDecay: 0)
        var rng = RandomNumbers(seed: 5)
        let batch = 32
        for _ in 0..<400 {
            var inputs: [Int32] = [], targets: [Int32] = []
            for _ in 0..<batch {
                let ids = try tokenizer.encode(line(&rng))
                inputs += ids[0..<11]
                targets += ids[1..<12]
            }
            model.zeroGradients()
            model.forward(tokens: inputs, targets: targets, batch: batch, seqLen: 11, training: true)
            model.backward()
            GradientClipping.clip(model.grads, maxNorm: 1)
            optimizer.update(params: model.params, grads: model.grads, lr: 3e-3)
            model.parameterVersion += 1
        }
        return model
    }
}

@Suite(.serialized) struct AttentionModelTests {
    /// Trained once for both tests; the suite is serialized, so only one test uses it at a time.
    nonisolated(unsafe) static let model = try! Reversal.trainedModel()
    static let probeText = "qwert|trewq"

    static func maps() throws -> AttentionMaps {
        let probe = AttentionProbe(tokens: try Reversal.tokenizer.encode(probeText), tokenizer: Reversal.tokenizer)
        let collector = TelemetryCollector(layout: model.layout, interval: 1, probe: probe)
        return try #require(collector.attentionMaps(model: model, step: 400))
    }

    @Test func theTrainedReversalModelsHeatmapShowsTheAntiDiagonal() throws {
        let maps = try Self.maps()
        #expect(maps.tokens == Self.probeText.unicodeScalars.map { String($0) })
        // Mass on the anti-diagonal (query p → key 9 − p) for the rows that answer, taking the
        // head that does the reading; untrained it is ~1/(p+1) ≈ 0.10–0.17, trained ~0.98.
        var masses: [Double] = []
        for p in 5...9 {
            let best = (0..<maps.heads).map { h in AttentionPane.displayedMatrix(maps, layer: 0, head: h)[p * maps.size + (9 - p)] }.max()!
            masses.append(best)
        }
        #expect(masses.allSatisfy { $0 > 0.8 }, "anti-diagonal weights \(masses)")
        #expect(masses.reduce(0, +) / 5 > 0.9, "anti-diagonal weights \(masses)")
        // And the model solves the task it was trained on: it writes the probe's reverse.
        Self.model.forward(tokens: try Reversal.tokenizer.encode(Self.probeText), targets: nil, batch: 1, seqLen: 11)
        let predicted = (5...9).map { row -> Int32 in
            let logits = Self.model.logits(row: row)
            return Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        #expect(Reversal.tokenizer.decode(predicted) == "trewq")
    }

    @Test func thePaneDrawsTheModelsOwnSoftmax() throws {
        let maps = try Self.maps()
        let t = maps.size
        var snapshot = TrainingSnapshot(runName: "reversal", maxSteps: 400)
        snapshot.state = .running
        snapshot.attention = maps
        let palette = Palette(theme: .builtInDefault, monochrome: false)
        for head in 0..<maps.heads {
            // The model's own P for the probe, straight from its forward pass.
            Self.model.forward(tokens: try Reversal.tokenizer.encode(Self.probeText), targets: nil, batch: 1, seqLen: t)
            let own = Array(Self.model.attentionWeights(layer: 0)[(head * t * t)..<((head + 1) * t * t)])
            let drawn = AttentionPane.displayedMatrix(maps, layer: 0, head: head)
            for r in 0..<t {
                for c in 0..<t {
                    if c <= r { #expect(drawn[r * t + c] == Double(own[r * t + c])) } else { #expect(drawn[r * t + c].isNaN) }
                }
            }

            // And the cells on screen: an 11-token probe is magnified, each token a block of
            // cells painted in the viridis colour of the model's P, the future left empty.
            var view = AttentionViewState()
            view.head = head
            view.cursorRow = 7; view.cursorColumn = 2
            var buffer = CellBuffer(width: 80, height: 20)
            let pane = AttentionPane(snapshot: snapshot, view: view, focused: true, palette: palette)
            pane.render(into: &buffer, area: buffer.area)
            let background = buffer[0, 0].bg  // the pane's own fill
            // Inside the border: the readout row, then the map (the legend takes the last row).
            let g = AttentionPane.geometry(tokens: maps.tokens, width: 78 * 3 / 5, height: 18 - 2, monochrome: false)
            #expect(g.cellHeight >= 1 && g.cellWidth >= 2, "magnified: \(g)")
            let origin = (x: 1 + g.gutter, y: 1 + 1 + g.header)
            #expect(buffer.line(2).contains("q w e r t | t r e w q"), "column labels, one token per block")
            // The cursor reads the model's own softmax value for query 7, key 2, to four decimals.
            let expected = String(format: "%.4f", Double(own[7 * t + 2]))
            #expect(buffer.line(1).contains("query 'r' @7 → key 'e' @2: \(expected)"), "\(buffer.line(1))")
            for r in 0..<t {
                for c in 0..<t {
                    // The block's right column (its left one may hold the cursor's mark).
                    let cell = buffer[origin.x + c * g.cellWidth + g.cellWidth - 1, origin.y + r * g.cellHeight]
                    if c <= r {
                        #expect(cell.bg == .rgb(AttentionPane.scale.color(at: Double(own[r * t + c]))))
                    } else {
                        #expect(cell.bg == background, "above the diagonal: the causal mask, left empty")
                    }
                }
            }
        }
    }
}
