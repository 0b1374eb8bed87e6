import Foundation
import Training
import TerminalUI

/// Each layer's newest update/data ratio std(Δθ)/std(θ) as one character on a one-row log axis
/// from 1e-5 to 1e-1, with the 1e-3 rule of thumb (Karpathy's: an update about a thousandth of
/// the weights' spread) marked `┃` in the middle: the update/data chart folded into the single
/// row a small Gradients pane has for it. A layer left of the mark barely moves; far right, its
/// updates are large against its weights (a learning rate too high for it).
///
/// Layers are drawn by name: `e` for the embeddings, the block's number for `h.N` (`•` past 9),
/// in the colours the update/data chart gives them; two in one cell show the later one.
struct UpdateRatioStrip: Widget {
    var layers: [Telemetry.LayerRatio]
    var palette: Palette

    /// The axis: decades 10^-5 … 10^-1, 1e-3 in the middle.
    static let lowerExponent = -5.0, upperExponent = -1.0
    static let reference = 1e-3

    /// The column of the 1e-3 mark on a track `width` wide (odd widths put it in the middle).
    static func referenceColumn(width: Int) -> Int { width / 2 }

    /// The column (0..<width) of a ratio on the log axis, clamped to the ends. The mark's own
    /// column is never a ratio's: the other columns are the axis, each ratio falls on the side of
    /// the mark it is on, so the mark stays visible and "above or below 1e-3" is never hidden.
    static func column(_ ratio: Double, width: Int) -> Int {
        let mark = referenceColumn(width: width)
        if ratio == reference { return mark + 1 }
        let below = ratio < reference
        let f = below ? (log10(ratio) - lowerExponent) / (log10(reference) - lowerExponent)
                      : (log10(ratio) - log10(reference)) / (upperExponent - log10(reference))
        let clamped = min(1, max(0, f))
        return below ? min(mark - 1, Int(clamped * Double(mark))) : mark + 1 + min(width - mark - 2, Int(clamped * Double(width - mark - 1)))
    }

    static func mark(_ name: String) -> Unicode.Scalar {
        if name == "embedding" { return "e" }
        if name.hasPrefix("h."), let n = Int(name.dropFirst(2)), n < 10 { return Unicode.Scalar(UInt8(48 + n)) }
        return "•"
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard area.height >= 1 else { return }
        let label = "upd/data 1e-5 ", end = " 1e-1", key = " ┃=1e-3"
        var width = area.width - TextFit.width(label) - TextFit.width(end)
        let withKey = width - TextFit.width(key) >= 12
        if withKey { width -= TextFit.width(key) }
        guard width >= 8 else { return }
        var x = area.x + buffer.write(label, x: area.x, y: area.y, palette.label)
        let track = x
        for i in 0..<width { buffer.set(track + i, area.y, "·", palette.border) }
        buffer.set(track + Self.referenceColumn(width: width), area.y, "┃", Style(fg: palette.color(.inactive)))
        for (i, layer) in layers.enumerated() {
            guard let ratio = layer.ratio, ratio.isFinite, ratio > 0 else { continue }
            let color = palette.color(GradientsPane.seriesColors[i % GradientsPane.seriesColors.count])
            buffer.set(track + Self.column(Double(ratio), width: width), area.y, Self.mark(layer.name), Style(fg: color))
        }
        x = track + width
        x += buffer.write(end, x: x, y: area.y, palette.label)
        if withKey { buffer.write(key, x: x, y: area.y, palette.muted) }
    }
}
