import Foundation
import Training
import TerminalUI

/// The model card (`i`): the run's `TrainingSnapshot.modelCard` — parameters with and without the
/// embeddings, the model and training config, tokenizer and vocabulary, corpus and split sizes,
/// tokens seen so far, the memory estimate and the kernels doing the products — in a box over the
/// panes, because these are the numbers a learner needs to read every other pane ("is 1.5 good
/// for 0.8M parameters on 1M tokens?") and the status bar has room for only two of them.
struct ModelCardView: Widget {
    var card: ModelCard?
    var step: Int
    var palette: Palette

    /// 1234567 → "1,234,567": parameter and token counts are read digit by digit.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }

    static func lines(_ c: ModelCard, step: Int) -> [(label: String, value: String)] {
        var rows: [(String, String)] = [
            ("parameters", "\(grouped(c.parameters)) (\(grouped(c.parametersWithoutEmbeddings)) without the wte/wpe embeddings)"),
            ("model", "n_layer \(c.nLayer) · n_head \(c.nHead) · n_embd \(c.nEmbd) · block_size \(c.blockSize) · "
                + "bias \(c.bias ? "on" : "off") · dropout \(String(format: "%g", Double(c.dropout))) · \(c.dtype)"),
            ("training", "batch_size \(c.batchSize) · grad accum \(c.gradientAccumulationSteps) · lr \(Format.learningRate(c.learningRate)) · "
                + "max_iters \(grouped(c.maxIters)) · \(grouped(c.tokensPerStep)) tokens/step"),
            ("tokenizer", "\(c.tokenizer) · vocab \(grouped(c.vocabSize))"),
            ("corpus", c.corpus.isEmpty ? "–" : c.corpus),
            ("splits", "train \(grouped(c.trainTokens)) tokens · val \(grouped(c.valTokens)) tokens"),
            ("tokens seen", "\(grouped(step * c.tokensPerStep)) (step \(grouped(step)))"),
        ]
        if let bytes = c.estimatedBytes {
            rows.append(("memory", "\(MemoryEstimate.format(bytes: bytes)) estimated" + (c.memoryOptions.isEmpty ? "" : " · \(c.memoryOptions)")))
        }
        if !c.kernels.isEmpty { rows.append(("kernels", c.kernels)) }
        return rows
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        let rows = card.map { Self.lines($0, step: step) } ?? []
        let width = min(area.width - 2, 96), height = min(area.height - 2, max(3, rows.count + 3))
        guard width >= 20, height >= 3 else { return }
        let box = area.centered(width: width, height: height)
        buffer.fill(box, " ", palette.background)
        palette.pane("Model card", trailing: "i closes", focused: true).render(into: &buffer, area: box)
        let inner = Pane.inner(box)
        guard card != nil else {
            buffer.write(TextFit.words("no model card: nothing trains in this process", width: inner.width), x: inner.x, y: inner.y, palette.muted)
            return
        }
        let labelWidth = 12
        for (i, row) in rows.enumerated() where i < inner.height {
            buffer.write(TextFit.words(row.label, width: labelWidth), x: inner.x, y: inner.y + i, palette.label)
            buffer.write(TextFit.words(row.value, width: max(0, inner.width - labelWidth)), x: inner.x + labelWidth, y: inner.y + i, palette.text)
        }
    }
}
