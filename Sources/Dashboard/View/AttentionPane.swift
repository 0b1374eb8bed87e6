import Training
import TerminalUI

/// Where the model looks: the softmax attention weights P of the probe text
/// (`TrainingSnapshot.attention`) for one layer and head, as a half-block heatmap — row t is the
/// query at position t, column s the key it reads, colour P[t, s] on a fixed 0…1 scale — with
/// the probe's tokens along the top and left edges when the map is drawn one column per token. Above the
/// diagonal (s > t) the causal mask makes P zero by construction; those cells are left empty so
/// the triangle is visibly absent rather than coloured as "0".
///
/// Beside it every head of the layer as small multiples (the chosen one marked), and a legend.
/// `[` `]` change the layer, `{` `}` the head, `p` types another probe.
struct AttentionPane: Widget {
    var snapshot: TrainingSnapshot
    var view: AttentionViewState
    var focused: Bool
    var palette: Palette

    /// The values the heatmap draws for one head: P[t, s] for s ≤ t, NaN (not drawn) above the
    /// diagonal. Row-major T×T.
    static func displayedMatrix(_ maps: AttentionMaps, layer: Int, head: Int) -> [Double] {
        let t = maps.size
        let map = maps.map(layer: layer, head: head)
        var values = [Double](repeating: .nan, count: t * t)
        map.withContiguousStorageIfAvailable { p in
            for row in 0..<t {
                for column in 0...row { values[row * t + column] = Double(p[row * t + column]) }
            }
        }
        return values
    }

    /// A token as one visible glyph for a label: its first character, with blanks and control
    /// characters made visible.
    static func glyph(_ token: String) -> Unicode.Scalar {
        guard let first = token.unicodeScalars.first else { return "∅" }
        switch first {
        case " ": return "·"
        case "\n": return "⏎"
        case "\t": return "⇥"
        case "\r": return "␍"
        default: return first.value < 0x20 || (first.value >= 0x7F && first.value < 0xA0) ? "�" : first
        }
    }

    static let range: ClosedRange<Double> = 0...1

    func chosen(_ maps: AttentionMaps) -> (layer: Int, head: Int) {
        (min(max(0, view.layer), maps.layers - 1), min(max(0, view.head), maps.heads - 1))
    }

    var trailingTitle: String {
        guard let maps = snapshot.attention else { return "" }
        let (layer, head) = chosen(maps)
        return "layer \(layer + 1)/\(maps.layers) · head \(head + 1)/\(maps.heads) · step \(maps.step)"
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        palette.pane(PaneID.attention.title, trailing: trailingTitle, focused: focused).render(into: &buffer, area: area)
        let inner = Pane.inner(area)
        guard !inner.isEmpty else { return }
        guard let maps = snapshot.attention, maps.size > 0, maps.layers > 0, maps.heads > 0 else {
            let message = snapshot.state.isActive ? "waiting for the first attention maps…" : "no attention maps"
            buffer.write(TextFit.words(message, width: inner.width), in: inner.centered(width: inner.width, height: 1),
                         alignment: .center, palette.muted)
            return
        }
        let (layer, head) = chosen(maps)
        let t = maps.size
        var body = inner
        if inner.height >= 4 {
            let (rest, legendRow) = inner.splitBottom(1)
            body = rest
            renderLegend(into: &buffer, area: legendRow)
        }

        // The chosen head: square (a half-block cell is about as wide as half its height), as
        // large as fits up to one cell per token. Labels take a row above and, on the left, the
        // tokens of the query rows a cell row holds (two, upper then lower; one in monochrome).
        let perCell = palette.monochrome ? 1 : 2
        let cellRows = (t + perCell - 1) / perCell
        let labelled = body.width >= perCell + t + 12 && body.height >= cellRows + 1
        let mainArea: Rect
        if labelled {
            for (s, token) in maps.tokens.enumerated() {
                buffer.set(body.x + perCell + s, body.y, Self.glyph(token), palette.label)
            }
            for r in 0..<cellRows {
                for k in 0..<perCell where r * perCell + k < t {
                    buffer.set(body.x + k, body.y + 1 + r, Self.glyph(maps.tokens[r * perCell + k]), palette.label)
                }
            }
            mainArea = Rect(x: body.x + perCell, y: body.y + 1, width: t, height: cellRows)
        } else {
            let side = min(t, body.width * 3 / 5, perCell * body.height)
            mainArea = Rect(x: body.x, y: body.y, width: side, height: (side + perCell - 1) / perCell)
        }
        Heatmap(rows: t, columns: t, values: Self.displayedMatrix(maps, layer: layer, head: head),
                range: Self.range, scale: palette.theme.heatScale, monochrome: palette.monochrome)
            .render(into: &buffer, area: mainArea)
        let sideX = mainArea.maxX + 2
        renderHeads(maps, layer: layer, chosen: head, into: &buffer,
                    area: Rect(x: sideX, y: body.y, width: body.maxX - sideX, height: body.height))
    }

    /// Every head of the layer, each a small heatmap under its name, in the grid that gives them
    /// the largest size.
    private func renderHeads(_ maps: AttentionMaps, layer: Int, chosen: Int, into buffer: inout CellBuffer, area: Rect) {
        let n = maps.heads
        let perCell = palette.monochrome ? 1 : 2
        guard area.width >= 3, area.height >= 2 else { return }
        var best = (side: 0, columns: 1)
        for columns in 1...n {
            let rows = (n + columns - 1) / columns
            let width = (area.width - (columns - 1)) / columns
            let height = area.height / rows - 1  // one row for the name
            let side = min(maps.size, width, perCell * height)
            if side > best.side { best = (side, columns) }
        }
        guard best.side >= 2 else { return }
        let side = best.side, cellRows = (side + perCell - 1) / perCell
        for h in 0..<n {
            let x = area.x + (h % best.columns) * (side + 1)
            let y = area.y + (h / best.columns) * (cellRows + 1)
            let style = h == chosen ? palette.selected : palette.label
            buffer.write(TextFit.words("h\(h + 1)", width: side), x: x, y: y, style)
            Heatmap(rows: maps.size, columns: maps.size, values: Self.displayedMatrix(maps, layer: layer, head: h),
                    range: Self.range, scale: palette.theme.heatScale, monochrome: palette.monochrome)
                .render(into: &buffer, area: Rect(x: x, y: y + 1, width: side, height: cellRows))
        }
    }

    /// `P 0 ████████ 1` in the heat scale, or in shades when monochrome.
    private func renderLegend(into buffer: inout CellBuffer, area: Rect) {
        var x = area.x
        x += buffer.write("P 0 ", x: x, y: area.y, palette.label)
        let width = min(12, max(0, area.width - 10))
        for i in 0..<width {
            let f = width > 1 ? Double(i) / Double(width - 1) : 1
            if palette.monochrome {
                buffer.set(x + i, area.y, Heatmap.shades[Int((f * 4).rounded())], palette.label)
            } else {
                buffer.set(x + i, area.y, "█", palette.label.with(fg: .rgb(palette.theme.heatScale.color(at: f))))
            }
        }
        x += width
        x += buffer.write(" 1", x: x, y: area.y, palette.label)
        if area.maxX - x > 22 {
            buffer.write("  p: new probe", x: x, y: area.y, palette.muted)
        }
    }
}
