import Foundation

/// One line: `label ━━━━━●──── value`, for a setting moved with the arrow keys (temperature,
/// top-p, top-k in the sampling console).
public struct Slider: Widget {
    public var label: String
    public var value: Double
    public var range: ClosedRange<Double>
    /// How the value is printed after the track (e.g. "%.2f").
    public var format: String
    public var focused: Bool
    public var labelStyle: Style
    public var focusedLabelStyle: Style
    public var filledStyle: Style
    public var trackStyle: Style

    public init(label: String, value: Double, range: ClosedRange<Double>, format: String = "%.2f", focused: Bool = false,
                labelStyle: Style = .plain, focusedLabelStyle: Style = Style(attributes: .reverse),
                filledStyle: Style = .plain, trackStyle: Style = .plain) {
        self.label = label
        self.value = value
        self.range = range
        self.format = format
        self.focused = focused
        self.labelStyle = labelStyle
        self.focusedLabelStyle = focusedLabelStyle
        self.filledStyle = filledStyle
        self.trackStyle = trackStyle
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let y = area.y
        var x = area.x
        x += buffer.write(TextFit.words(label, width: area.width), x: x, y: y, focused ? focusedLabelStyle : labelStyle)
        let valueText = String(format: format, value)
        let trackWidth = area.maxX - x - valueText.unicodeScalars.count - 2
        guard trackWidth >= 3 else {
            // No room for a track: the number alone still says where the slider is.
            guard !valueText.isEmpty else { return }
            if TextFit.width(" " + valueText) <= area.maxX - x {
                buffer.write(" " + valueText, x: x, y: y, labelStyle)
            } else if TextFit.width(valueText) <= area.width {
                // The number matters more than the label.
                buffer.fill(Rect(x: area.x, y: y, width: area.width, height: 1), " ", labelStyle)
                buffer.write(valueText, x: area.x, y: y, labelStyle)
            }
            return
        }
        x += 1
        let span = range.upperBound - range.lowerBound
        let f = span > 0 ? min(max((value - range.lowerBound) / span, 0), 1) : 0
        let knob = Int((f * Double(trackWidth - 1)).rounded())
        for i in 0..<trackWidth {
            if i < knob { buffer.set(x + i, y, "━", filledStyle) }
            else if i == knob { buffer.set(x + i, y, "●", filledStyle.adding(.bold)) }
            else { buffer.set(x + i, y, "─", trackStyle) }
        }
        buffer.write(valueText, x: x + trackWidth + 1, y: y, labelStyle)
    }
}
