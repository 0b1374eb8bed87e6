/// The colours a theme file may set, with btop's key names where btop has the same idea.
public enum ThemeKey: String, CaseIterable, Sendable {
    /// Screen background; an empty value means the terminal's own background.
    case mainBackground = "main_bg"
    case mainForeground = "main_fg"
    /// Pane titles.
    case title
    /// Emphasis: key names in hints, the focused pane's border.
    case highlight = "hi_fg"
    case selectedBackground = "selected_bg"
    case selectedForeground = "selected_fg"
    /// Muted text: placeholders, secondary labels.
    case inactive = "inactive_fg"
    /// Axis labels and tick values.
    case graphText = "graph_text"
    /// Borders of panes without focus.
    case divider = "div_line"
    case statusBackground = "status_bg"
    case statusForeground = "status_fg"
    case trainLoss = "train_loss"
    case valLoss = "val_loss"
    case learningRate = "lr"
    /// The unfilled part of sliders and meters.
    case meterBackground = "meter_bg"
    case running
    case paused
    case warning
    case error
    case heatStart = "heat_start", heatMid = "heat_mid", heatEnd = "heat_end"
    case histStart = "hist_start", histMid = "hist_mid", histEnd = "hist_end"
}

/// A three-stop colour ramp (btop's `_start/_mid/_end`), sampled by a value in 0…1.
public struct ColorScale: Equatable, Sendable {
    public var start: RGB
    public var mid: RGB
    public var end: RGB

    /// More than three evenly spaced stops (a perceptual ramp); empty for a plain three-stop scale.
    public var stops: [RGB] = []

    public init(start: RGB, mid: RGB, end: RGB) {
        self.start = start; self.mid = mid; self.end = end
    }

    /// A ramp through `stops`, evenly spaced over 0…1.
    public init(stops: [RGB]) {
        precondition(stops.count >= 2, "a ramp needs two stops")
        self.init(start: stops[0], mid: stops[stops.count / 2], end: stops[stops.count - 1])
        self.stops = stops
    }

    /// Viridis (van der Walt & Smith, matplotlib), nine samples: lightness rises evenly from dark
    /// violet to yellow, so equal steps of value look like equal steps of colour — unlike a
    /// red–yellow heat ramp, where mid values look brighter than they are — and it stays readable
    /// for red–green colour blindness and when the terminal maps it to its 256 colours.
    public static let viridis = ColorScale(stops: [
        RGB(0x44, 0x01, 0x54), RGB(0x47, 0x2D, 0x7B), RGB(0x3B, 0x52, 0x8B), RGB(0x2C, 0x72, 0x8E), RGB(0x21, 0x91, 0x8C),
        RGB(0x28, 0xAE, 0x80), RGB(0x5E, 0xC9, 0x62), RGB(0xAD, 0xDC, 0x30), RGB(0xFD, 0xE7, 0x25),
    ])

    public func color(at t: Double) -> RGB {
        guard t.isFinite else { return start }
        let t = min(max(t, 0), 1)
        if !stops.isEmpty {
            let position = t * Double(stops.count - 1)
            let i = min(Int(position), stops.count - 2)
            return stops[i].mixed(with: stops[i + 1], position - Double(i))
        }
        return t < 0.5 ? start.mixed(with: mid, t * 2) : mid.mixed(with: end, (t - 0.5) * 2)
    }
}

/// A resolved theme: every key has a colour (file values, else the default theme's).
public struct Theme: Equatable, Sendable {
    public var name: String
    private var colors: [Color]

    public init(name: String, colors: [Color]) {
        precondition(colors.count == ThemeKey.allCases.count)
        self.name = name
        self.colors = colors
    }

    public subscript(key: ThemeKey) -> Color {
        get { colors[ThemeKey.index(of: key)] }
        set { colors[ThemeKey.index(of: key)] = newValue }
    }

    /// The RGB value of a key; a transparent key reads as black, which is only used for blending.
    public func rgb(_ key: ThemeKey) -> RGB {
        if case .rgb(let value) = self[key] { return value }
        return RGB(0, 0, 0)
    }

    public var heatScale: ColorScale { ColorScale(start: rgb(.heatStart), mid: rgb(.heatMid), end: rgb(.heatEnd)) }
    public var histogramScale: ColorScale { ColorScale(start: rgb(.histStart), mid: rgb(.histMid), end: rgb(.histEnd)) }

    /// Style for plain text in a given theme colour on the screen background.
    public func text(_ key: ThemeKey, _ attributes: TextAttributes = []) -> Style {
        Style(fg: self[key], bg: self[.mainBackground], attributes: attributes)
    }

    /// The built-in default theme; always available, even with no theme files on disk.
    public static let builtInDefault: Theme = {
        let parsed = ThemeParser.parse(DefaultThemeSource.text, name: DefaultThemeSource.name, fallback: nil)
        return parsed.theme
    }()
}

extension ThemeKey {
    public static let indexTable: [ThemeKey: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })

    @inline(__always)
    public static func index(of key: ThemeKey) -> Int { indexTable[key]! }

    /// `heat_mid` and the like may be left out of a file; they are then blended from start and end.
    public var isGradientMiddle: Bool { rawValue.hasSuffix("_mid") }
}
