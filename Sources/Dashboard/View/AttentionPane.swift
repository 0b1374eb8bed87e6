import Foundation
import Training
import TerminalUI

/// Where the model looks: the softmax attention weights P of the probe text
/// (`TrainingSnapshot.attention`) for one layer and head — row t is the query at position t,
/// column s the key it reads. Above the diagonal (s > t) the causal mask makes P zero by
/// construction; those cells are left empty so the triangle is visibly absent rather than "0".
///
/// The rows and columns carry the probe's tokens as the tokenizer cut them (a BPE token whole,
/// blanks made visible), because "which word looks at which" is the question the map answers.
/// A short probe (a sort task's 18 tokens) is magnified so each cell is big enough to see; a long
/// one is drawn two rows per cell or averaged down. A cursor (arrows / hjkl) picks one cell and
/// the line above the map reads it exactly — "query 'e' @12 → key 'h' @3: 0.4213", positions
/// from 0 — so a colour can be checked against a number. Colour is viridis (perceptually even)
/// on P, P divided by its row's maximum, or log₁₀ P (`g`), with a legend saying which. Beside
/// the map, every head of the layer in a grid (the chosen one marked).
/// `[` `]` change the layer, `{` `}` the head, `p` types another probe, `n` shows how the probe
/// splits into tokens (the cursor's query token marked; `n` again adds each token's id).
struct AttentionPane: Widget {
    var snapshot: TrainingSnapshot
    var view: AttentionViewState
    var focused: Bool
    var palette: Palette

    static let scale = ColorScale.viridis
    /// log₁₀ P below this is drawn as the darkest colour.
    static let logFloor = -3.0

    /// The values the heatmap draws for one head under a scaling: P[t, s] (or its per-row / log
    /// form) for s ≤ t, NaN (not drawn) above the diagonal. Row-major T×T, on 0…1.
    static func displayedMatrix(_ maps: AttentionMaps, layer: Int, head: Int,
                                scaling: AttentionScaling = .linear) -> [Double] {
        let t = maps.size
        let map = Array(maps.map(layer: layer, head: head))
        var values = [Double](repeating: .nan, count: t * t)
        for row in 0..<t {
            let rowMax = (0...row).reduce(0.0) { max($0, Double(map[row * t + $1])) }
            for column in 0...row {
                let p = Double(map[row * t + column])
                switch scaling {
                case .linear: values[row * t + column] = p
                case .perRow: values[row * t + column] = rowMax > 0 ? p / rowMax : 0
                case .log:
                    let l = p > 0 ? Foundation.log10(p) : logFloor
                    values[row * t + column] = (max(l, logFloor) - logFloor) / -logFloor
                }
            }
        }
        return values
    }

    /// A token made visible for a label: blanks and control characters as glyphs, so " the"
    /// reads `·the` and a newline `⏎`.
    static func visible(_ token: String) -> String {
        if token.isEmpty { return "∅" }
        var out = String.UnicodeScalarView()
        for s in token.unicodeScalars {
            switch s {
            case " ": out.append("·")
            case "\n": out.append("⏎")
            case "\t": out.append("⇥")
            case "\r": out.append("␍")
            default: out.append(s.value < 0x20 || (s.value >= 0x7F && s.value < 0xA0) ? "�" : s)
            }
        }
        return String(out)
    }

    /// `token` in at most `width` columns: whole if it fits, else its start and `…`.
    static func fitted(_ token: String, width: Int) -> String {
        let v = Array(visible(token).unicodeScalars)
        if v.count <= width { return String(String.UnicodeScalarView(v)) }
        guard width >= 2 else { return width == 1 ? String(v[0]) : "" }
        return String(String.UnicodeScalarView(v[0..<(width - 1)])) + "…"
    }

    /// The cursor's cell read in words: "query 'e' @12 → key 'h' @3: 0.4213" (positions from 0,
    /// P to four decimals: the value the model's softmax gave, not the colour's).
    static func readout(_ maps: AttentionMaps, layer: Int, head: Int, row: Int, column: Int) -> String {
        let r = min(max(0, row), maps.size - 1), c = min(max(0, column), r)
        let p = maps.weight(layer: layer, head: head, row: r, column: c)
        return "query '\(visible(maps.tokens[r]))' @\(r) → key '\(visible(maps.tokens[c]))' @\(c): "
            + String(format: "%.4f", Double(p))
    }

    /// How the map is drawn in an area: `cellWidth` × `cellHeight` terminal cells per token
    /// (`cellHeight` 0: two tokens per cell row with half blocks; the map is then `side` columns).
    struct Geometry: Equatable {
        var cellWidth: Int
        var cellHeight: Int
        /// Left gutter (row labels) and top header (column labels), 0 when unlabelled.
        var gutter: Int
        var header: Int
        /// Columns the map takes (tokens are averaged down when fewer than T).
        var side: Int
        var labelled: Bool { gutter > 0 }
    }

    static func geometry(tokens: [String], width: Int, height: Int, monochrome: Bool) -> Geometry {
        let t = tokens.count
        let widest = tokens.map { TextFit.width(visible($0)) }.max() ?? 1
        let gutter = min(widest, 8) + 1
        // Full cells, square (a cell is about twice as tall as wide), as large as fits up to 3 rows a token.
        for h in stride(from: 3, through: 1, by: -1) {
            for w in Set([2 * h, h]).sorted(by: >) {
                let header = widest <= w ? 1 : min(widest, 3)
                if gutter + t * w <= width && header + t * h <= height {
                    return Geometry(cellWidth: w, cellHeight: h, gutter: gutter, header: header, side: t * w)
                }
            }
        }
        // Half blocks, two queries per cell row: labelled along the top only when one column per token fits.
        let perCell = monochrome ? 1 : 2
        let rows = (t + perCell - 1) / perCell
        let header = widest <= 1 ? 1 : min(widest, 3)
        if 2 + t <= width && header + rows <= height {
            return Geometry(cellWidth: 1, cellHeight: 0, gutter: 2, header: header, side: t)
        }
        let side = max(0, min(t, width * 3 / 5, perCell * height))
        return Geometry(cellWidth: 1, cellHeight: 0, gutter: 0, header: 0, side: side)
    }

    func chosen(_ maps: AttentionMaps) -> (layer: Int, head: Int) {
        (min(max(0, view.layer), maps.layers - 1), min(max(0, view.head), maps.heads - 1))
    }

    /// The cursor's cell, kept inside the probe and the causal triangle.
    func cursor(_ maps: AttentionMaps) -> (row: Int, column: Int) {
        let r = min(max(0, view.cursorRow), maps.size - 1)
        return (r, min(max(0, view.cursorColumn), r))
    }

    var trailingTitle: String {
        guard let maps = snapshot.attention else { return "" }
        if view.showLens { return "logit lens · step \(maps.step)" }
        if view.tokens != .off { return "tokens · step \(maps.step)" }
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
        let (row, column) = cursor(maps)
        if view.showLens {
            LogitLensPane(lens: maps.lens, position: row, palette: palette).render(into: &buffer, area: inner)
            return
        }
        if view.tokens != .off {
            renderTokens(maps, cursor: row, into: &buffer, area: inner)
            return
        }
        var body = inner
        if inner.height >= 5 {
            let (top, rest) = body.splitTop(1)
            buffer.write(TextFit.words(Self.readout(maps, layer: layer, head: head, row: row, column: column), width: top.width),
                         x: top.x, y: top.y, focused ? palette.highlight : palette.text)
            let (middle, legendRow) = rest.splitBottom(1)
            body = middle
            renderLegend(into: &buffer, area: legendRow)
        }
        // The chosen head takes up to 3/5 of the width when the heads' grid fits beside it.
        let mainWidth = maps.heads > 1 && body.width >= 60 ? body.width * 3 / 5 : body.width
        let g = Self.geometry(tokens: maps.tokens, width: mainWidth, height: body.height, monochrome: palette.monochrome)
        let values = Self.displayedMatrix(maps, layer: layer, head: head, scaling: view.scaling)
        let mapX = body.x + g.gutter, mapY = body.y + g.header
        let t = maps.size
        if g.labelled { renderLabels(maps.tokens, g, cursor: (row, column), body: body, into: &buffer) }
        let mainArea: Rect
        if g.cellHeight > 0 {
            mainArea = Rect(x: mapX, y: mapY, width: t * g.cellWidth, height: t * g.cellHeight)
            renderCells(values, t: t, g, origin: (mapX, mapY), cursor: (row, column), into: &buffer)
        } else {
            let perCell = palette.monochrome ? 1 : 2
            mainArea = Rect(x: mapX, y: mapY, width: g.side, height: min(body.maxY - mapY, (g.side + perCell - 1) / perCell))
            Heatmap(rows: t, columns: t, values: values, range: 0...1, scale: Self.scale, monochrome: palette.monochrome)
                .render(into: &buffer, area: mainArea)
            // The cursor on the map: the cell holding its query row and key column, marked.
            let cx = mapX + column * g.side / t, cy = mapY + (row * g.side / t) / perCell
            if mainArea.width > 0, cx < mainArea.maxX, cy < mainArea.maxY {
                buffer.set(cx, cy, "◆", Style(fg: .rgb(RGB(0xFF, 0x40, 0x40))))
            }
        }
        let sideX = max(mainArea.maxX, body.x + g.gutter + g.side) + 2
        renderHeads(maps, layer: layer, chosen: head, into: &buffer,
                    area: Rect(x: sideX, y: body.y, width: max(0, body.maxX - sideX), height: body.height))
    }

    /// Column labels along the top (whole tokens across when they fit the column, else down, up
    /// to 3 rows with `…`) and row labels in the gutter; the cursor's row and column highlighted.
    private func renderLabels(_ tokens: [String], _ g: Geometry, cursor: (row: Int, column: Int), body: Rect,
                              into buffer: inout CellBuffer) {
        let across = g.header == 1
        for (s, token) in tokens.enumerated() {
            let style = s == cursor.column ? palette.selected : palette.label
            let x = body.x + g.gutter + s * g.cellWidth
            if across {
                let text = Self.fitted(token, width: g.cellWidth)
                for (i, c) in text.unicodeScalars.enumerated() { buffer.set(x + i, body.y, c, style) }
            } else {
                let text = Self.fitted(token, width: g.header)
                for (i, c) in text.unicodeScalars.enumerated() { buffer.set(x, body.y + i, c, style) }
            }
        }
        let labelWidth = g.gutter - 1
        if g.cellHeight > 0 {
            for (r, token) in tokens.enumerated() {
                let style = r == cursor.row ? palette.selected : palette.label
                let y = body.y + g.header + r * g.cellHeight + (g.cellHeight - 1) / 2
                let text = Self.fitted(token, width: labelWidth)
                let x = body.x + labelWidth - TextFit.width(text)
                for (i, c) in text.unicodeScalars.enumerated() { buffer.set(x + i, y, c, style) }
            }
        } else {
            // Two queries per cell row: their first characters, upper then lower.
            let perCell = palette.monochrome ? 1 : 2
            for (r, token) in tokens.enumerated() {
                let style = r == cursor.row ? palette.selected : palette.label
                let c = Self.visible(token).unicodeScalars.first ?? "∅"
                buffer.set(body.x + r % perCell, body.y + g.header + r / perCell, c, style)
            }
        }
    }

    /// One value per `cellWidth` × `cellHeight` block of full cells; the cursor's block framed.
    private func renderCells(_ values: [Double], t: Int, _ g: Geometry, origin: (x: Int, y: Int), cursor: (row: Int, column: Int),
                             into buffer: inout CellBuffer) {
        for r in 0..<t {
            for c in 0...r {
                let v = values[r * t + c]
                guard v.isFinite else { continue }
                let style: Style
                let glyph: Unicode.Scalar
                if palette.monochrome {
                    glyph = Heatmap.shades[Int((min(max(v, 0), 1) * 4).rounded())]; style = Style()
                } else {
                    glyph = " "; style = Style(bg: .rgb(Self.scale.color(at: v)))
                }
                buffer.fill(Rect(x: origin.x + c * g.cellWidth, y: origin.y + r * g.cellHeight, width: g.cellWidth, height: g.cellHeight),
                            glyph, style)
            }
        }
        let v = values[cursor.row * t + cursor.column]
        // The mark in the colour that stands out from the cell's own: dark on bright, bright on dark.
        let mark: Color = v > 0.6 ? .rgb(RGB(0, 0, 0)) : .rgb(RGB(0xFF, 0xFF, 0xFF))
        let x = origin.x + cursor.column * g.cellWidth, y = origin.y + cursor.row * g.cellHeight + (g.cellHeight - 1) / 2
        if g.cellWidth >= 2 {
            buffer.set(x, y, "[", Style(fg: mark, attributes: .bold))
            buffer.set(x + g.cellWidth - 1, y, "]", Style(fg: mark, attributes: .bold))
        } else {
            buffer.set(x, y, "◆", Style(fg: mark, attributes: .bold))
        }
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
            Heatmap(rows: maps.size, columns: maps.size,
                    values: Self.displayedMatrix(maps, layer: layer, head: h, scaling: view.scaling),
                    range: 0...1, scale: Self.scale, monochrome: palette.monochrome)
                .render(into: &buffer, area: Rect(x: x, y: y + 1, width: side, height: cellRows))
        }
    }

    /// The scale's name and its ends around the ramp: `P 0 ████████ 1`, `log₁₀ P −3 ████ 0`.
    private func renderLegend(into buffer: inout CellBuffer, area: Rect) {
        let (low, high) = view.scaling == .log ? ("−3", "0") : ("0", "1")
        var x = area.x
        x += buffer.write("\(view.scaling.name) \(low) ", x: x, y: area.y, palette.label)
        let width = min(12, max(0, area.maxX - x - 4))
        for i in 0..<width {
            let f = width > 1 ? Double(i) / Double(width - 1) : 1
            if palette.monochrome {
                buffer.set(x + i, area.y, Heatmap.shades[Int((f * 4).rounded())], palette.label)
            } else {
                buffer.set(x + i, area.y, "█", palette.label.with(fg: .rgb(Self.scale.color(at: f))))
            }
        }
        x += width
        x += buffer.write(TextFit.words(" \(high)", width: max(0, area.maxX - x)), x: x, y: area.y, palette.label)
        let hint = "  g: scale · v: lens · p: new probe"
        if area.maxX - x >= TextFit.width(hint) { buffer.write(hint, x: x, y: area.y, palette.muted) }
    }
}

extension AttentionPane {
    /// The tokenizer view: the probe as the model reads it — one shaded cell per token, so a BPE
    /// merge (` the` as one token) or a character model's one-letter tokens are seen, not
    /// described — with the token count, characters per token and, on demand, the ids.
    func renderTokens(_ maps: AttentionMaps, cursor: Int, into buffer: inout CellBuffer, area: Rect) {
        let characters = maps.tokens.reduce(0) { $0 + $1.count }
        let perToken = Double(characters) / Double(max(1, maps.size))
        let header = "\(maps.size) tokens · \(characters) characters · \(String(format: "%.2f", perToken)) characters per token"
            + " · query \(cursor) marked"
        buffer.write(TextFit.words(header, width: area.width), x: area.x, y: area.y, palette.label)
        let shaded = Style(fg: palette.color(.mainForeground), bg: palette.faded(.selectedBackground))
        TokenStrip(pieces: maps.tokens.map(Self.visible), ids: view.tokens == .ids ? maps.tokenIDs.map(Int.init) : nil,
                   styles: (even: palette.text, odd: shaded), idStyle: palette.muted, highlighted: cursor,
                   highlightStyle: palette.selected)
            .render(into: &buffer, area: Rect(x: area.x, y: area.y + 2, width: area.width, height: max(0, area.height - 2)))
    }
}
