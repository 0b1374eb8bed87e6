import Foundation

/// A line plot written straight to SVG 1.1, for reports: a frame with "nice" ticks (1, 2 or 5
/// times a power of ten) and grid lines, axis labels, a title, one polyline per series (solid, or
/// dashed with a dot per point), horizontal reference lines, and a legend in the top-right corner.
///
/// No fonts or scripts are referenced beyond the generic `sans-serif` family, so any browser,
/// `rsvg-convert` or Inkscape draws it the same.
public struct SVGPlot: Sendable {
    public enum Style: Sendable { case solid, dashedWithDots }

    public struct Series: Sendable {
        public var label: String
        /// `#rrggbb`.
        public var colour: String
        public var points: [(Double, Double)]
        public var style: Style
        public init(label: String, colour: String, points: [(Double, Double)], style: Style) {
            self.label = label; self.colour = colour; self.points = points; self.style = style
        }
    }

    public struct Reference: Sendable {
        public var label: String
        public var y: Double
        public init(label: String, y: Double) { self.label = label; self.y = y }
    }

    /// Colours that stay distinct for the colour-blind (Okabe & Ito 2008), the i-th run's colour.
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    public var width: Int
    public var height: Int
    public var title = ""
    public var xLabel = ""
    public var yLabel = ""
    public var series: [Series] = []
    public var references: [Reference] = []

    public init(width: Int = 800, height: Int = 480) {
        self.width = width
        self.height = height
    }

    // MARK: Ticks

    /// About `count` tick values covering [lo, hi], each a multiple of 1, 2 or 5 × 10ᵏ.
    public static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo, count > 0 else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 {
            // k·step in decimal, not the float sum's 0.6000000000000001.
            out.append(abs(v) < step * 1e-9 ? 0 : Double(String(format: "%.12g", v)) ?? v)
            v += step
        }
        return out
    }

    /// A tick label: `0.5`, `2`, `250`, `1.5k`, `12M`.
    public static func tickLabel(_ v: Double) -> String {
        let a = abs(v)
        func trim(_ s: String) -> String {
            guard s.contains(".") else { return s }
            var t = s
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
            return t
        }
        if a >= 1e9 { return trim(String(format: "%.2f", v / 1e9)) + "G" }
        if a >= 1e6 { return trim(String(format: "%.2f", v / 1e6)) + "M" }
        if a >= 1e4 { return trim(String(format: "%.2f", v / 1e3)) + "k" }
        if a >= 100 || a == 0 { return String(format: "%.0f", v) }
        return trim(String(format: "%.3f", v))
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    // MARK: Rendering

    /// The data range: x from 0 (training starts there) to the last point, y over every point and
    /// reference line with a little headroom; a flat or empty series still gets a visible range.
    func ranges() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let all = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        let xs = all.map(\.0), ys = all.map(\.1) + references.map(\.y).filter(\.isFinite)
        var x0 = min(0, xs.min() ?? 0), x1 = xs.max() ?? 1
        if x1 <= x0 { x1 = x0 + 1 }
        var y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        if y0 < 0 && (ys.min() ?? 0) >= 0 { y0 = 0 }
        x0 = min(x0, x1)
        return (x0...x1, y0...y1)
    }

    public func render() -> String {
        let f = Self.f
        let left = 72.0, right = 24.0, top = title.isEmpty ? 24.0 : 48.0, bottom = 56.0
        let w = Double(width), h = Double(height)
        let plotW = max(10, w - left - right), plotH = max(10, h - top - bottom)
        let (xr, yr) = ranges()
        func px(_ x: Double) -> Double { left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotH }
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif">

        """
        s += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        if !title.isEmpty {
            s += "<text x=\"\(f(w / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(Self.escape(title))</text>\n"
        }
        // Grid and ticks.
        s += "<g font-size=\"12\" fill=\"#333333\">\n"
        for t in Self.ticks(xr.lowerBound, xr.upperBound) {
            let x = px(t)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>"
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333333\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\">\(Self.tickLabel(t))</text>\n"
        }
        for t in Self.ticks(yr.lowerBound, yr.upperBound) {
            let y = py(t)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>"
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333333\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Self.tickLabel(t))</text>\n"
        }
        s += "</g>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333333\"/>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(h - 14))\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(xLabel))</text>\n"
        s += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">\(Self.escape(yLabel))</text>\n"
        // Reference lines, then the data, clipped to the frame.
        s += "<defs><clipPath id=\"frame\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath></defs>\n"
        s += "<g clip-path=\"url(#frame)\">\n"
        for r in references where r.y.isFinite {
            let y = py(r.y)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#777777\" stroke-width=\"1\" stroke-dasharray=\"2 3\"/>"
            s += "<text x=\"\(f(left + 6))\" y=\"\(f(y - 4))\" font-size=\"11\" fill=\"#555555\">\(Self.escape(r.label))</text>\n"
        }
        for series in self.series {
            let points = series.points.filter { $0.0.isFinite && $0.1.isFinite }
            guard !points.isEmpty else { continue }
            let coords = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            switch series.style {
            case .solid:
                s += "<polyline fill=\"none\" stroke=\"\(series.colour)\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"\(coords)\"/>\n"
            case .dashedWithDots:
                s += "<polyline fill=\"none\" stroke=\"\(series.colour)\" stroke-width=\"2\" stroke-dasharray=\"6 4\" points=\"\(coords)\"/>\n"
                for p in points {
                    s += "<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"3\" fill=\"\(series.colour)\"/>"
                }
                s += "\n"
            }
        }
        s += "</g>\n"
        // Legend, top right inside the frame.
        let shown = series.filter { !$0.points.isEmpty }
        if !shown.isEmpty {
            let longest = shown.map(\.label.count).max() ?? 0
            let boxW = 44 + Double(longest) * 7, rowH = 18.0
            let boxX = left + plotW - boxW - 8, boxY = top + 8
            s += "<g font-size=\"12\">\n"
            s += "<rect x=\"\(f(boxX))\" y=\"\(f(boxY))\" width=\"\(f(boxW))\" height=\"\(f(Double(shown.count) * rowH + 8))\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n"
            for (i, item) in shown.enumerated() {
                let y = boxY + 4 + rowH * (Double(i) + 0.5)
                let dash = item.style == .solid ? "" : " stroke-dasharray=\"6 4\""
                s += "<line x1=\"\(f(boxX + 6))\" y1=\"\(f(y))\" x2=\"\(f(boxX + 32))\" y2=\"\(f(y))\" stroke=\"\(item.colour)\" stroke-width=\"2\"\(dash)/>"
                if item.style == .dashedWithDots {
                    s += "<circle cx=\"\(f(boxX + 19))\" cy=\"\(f(y))\" r=\"3\" fill=\"\(item.colour)\"/>"
                }
                s += "<text x=\"\(f(boxX + 38))\" y=\"\(f(y + 4))\">\(Self.escape(item.label))</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }
}
