import Foundation
import Training
import TerminalUI

/// The logit lens on the probe (`AttentionMaps.lens`, computed on the trainer thread with the
/// maps): what the model would predict at each position if its block stack ended after a layer.
/// A grid of layer × position — each cell the top-1 token, shaded by its probability (viridis,
/// 0…1) — under the probe's input tokens and the targets, then the target's rank at each layer
/// (1 = the model's guess is right), then the final layer's per-position loss, which falls along
/// the probe as context helps. The line above reads the cursor's position in full. Drawn inside
/// the Attention pane (`v`), whose cursor row is the position read; the grid scrolls to keep it
/// in view.
struct LogitLensPane: Widget {
    var lens: LogitLens?
    /// The position read (the attention cursor's query row).
    var position: Int
    var palette: Palette

    /// Columns per position: three for the token, one gap.
    static let cellWidth = 4
    static let gutter = 7

    /// The first position shown when `count` fit: the selected one kept in view, near the middle.
    static func firstShown(position: Int, count: Int, positions: Int) -> Int {
        max(0, min(position - count / 2, positions - count))
    }

    /// "pos 12 'e' → 'h': h.3 top 'h' 0.61 · rank 1 · loss 0.49" for the final layer at a position.
    static func readout(_ lens: LogitLens, position: Int) -> String {
        let p = min(max(0, position), lens.positions - 1)
        let last = lens.rows - 1, i = lens.index(row: last, position: p)
        var text = "pos \(p) '\(AttentionPane.visible(lens.tokens[p]))'"
        if p + 1 < lens.positions { text += " → '\(AttentionPane.visible(lens.tokens[p + 1]))'" }
        text += ": \(lens.layerNames[last]) top '\(AttentionPane.visible(lens.topLabel[i]))' "
            + String(format: "%.2f", Double(lens.topProbability[i]))
        if lens.targetRank[i] > 0 { text += " · rank \(lens.targetRank[i]) · loss " + String(format: "%.2f", Double(lens.loss[i])) }
        return text
    }

    /// A rank in three columns: 1…999, then thousands ("12k").
    static func rankText(_ rank: Int32) -> String {
        rank <= 0 ? "" : rank < 1000 ? "\(rank)" : "\(min(99, rank / 1000))k"
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        guard let lens, lens.positions > 0, lens.rows > 0 else {
            buffer.write(TextFit.words("no logit lens (the model is too large to read cheaply, or no maps yet)", width: area.width),
                         in: area.centered(width: area.width, height: 1), alignment: .center, palette.muted)
            return
        }
        let position = min(max(0, position), lens.positions - 1)
        var y = area.y
        buffer.write(TextFit.words(Self.readout(lens, position: position), width: area.width), x: area.x, y: y, palette.highlight)
        y += 1
        let count = max(0, min(lens.positions, (area.width - Self.gutter) / Self.cellWidth))
        guard count > 0 else { return }
        let first = Self.firstShown(position: position, count: count, positions: lens.positions)
        let shown = first..<(first + count)
        func x(_ p: Int) -> Int { area.x + Self.gutter + (p - first) * Self.cellWidth }
        func row(_ name: String, _ style: Style, _ cell: (Int) -> (String, Style)) {
            guard y < area.maxY else { return }
            buffer.write(TextFit.words(name, width: Self.gutter - 1), x: area.x, y: y, style)
            for p in shown {
                let (text, cellStyle) = cell(p)
                buffer.write(AttentionPane.fitted(text, width: Self.cellWidth - 1), x: x(p), y: y,
                             p == position ? cellStyle.adding(.bold) : cellStyle)
            }
            y += 1
        }
        row("input", palette.label) { (lens.tokens[$0], $0 == position ? palette.selected : palette.text) }
        row("target", palette.label) { ($0 + 1 < lens.positions ? lens.tokens[$0 + 1] : "", palette.muted) }
        // Leave the loss, the legend and (if they fit) the ranks their rows.
        let rankRows = area.maxY - y >= 2 * lens.rows + 4 ? lens.rows : 0
        for r in 0..<lens.rows {
            row(lens.layerNames[r], palette.label) { p in
                let i = lens.index(row: r, position: p)
                let v = Double(lens.topProbability[i])
                if palette.monochrome { return (lens.topLabel[i], v > 0.5 ? Style(attributes: .reverse) : Style()) }
                let bg = ColorScale.viridis.color(at: v)
                return (lens.topLabel[i], Style(fg: v > 0.6 ? .rgb(RGB(0, 0, 0)) : .rgb(RGB(0xFF, 0xFF, 0xFF)), bg: .rgb(bg)))
            }
        }
        if rankRows > 0 {
            if y < area.maxY { buffer.write("rank of the target per layer", x: area.x, y: y, palette.muted); y += 1 }
            for r in 0..<lens.rows {
                row(lens.layerNames[r], palette.label) { p in
                    let rank = lens.targetRank[lens.index(row: r, position: p)]
                    return (Self.rankText(rank), rank == 1 ? palette.highlight : palette.text)
                }
            }
        }
        let final = Array(lens.finalLoss)
        row("loss", palette.label) { p in
            let v = final[p]
            return (v.isFinite ? String(format: v < 10 ? "%.1f" : "%.0f", Double(v)) : "", palette.text)
        }
        if y < area.maxY {
            let legend = "top-1 p shaded 0…1 · loss = final layer's −log p(target) · ↑↓ position"
            buffer.write(TextFit.words(legend, width: area.width), x: area.x, y: area.maxY - 1, palette.muted)
        }
    }
}
