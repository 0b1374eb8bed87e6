/// A 24-bit colour as themes write it (`#rrggbb`); the backend maps it to what the terminal can show.
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r; self.g = g; self.b = b
    }

    /// `0xRRGGBB`, the form a direct-colour terminal uses as a colour number.
    public init(hex: UInt32) {
        self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
    }

    public var hex: UInt32 { UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b) }

    public var description: String {
        let digits = String(hex, radix: 16)
        return "#" + String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// Straight-line blend in RGB space; `t` is clamped to 0…1.
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        let t = min(max(t, 0), 1)
        func lerp(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
        }
        return RGB(lerp(r, other.r), lerp(g, other.g), lerp(b, other.b))
    }

    /// Rec. 709 luma, 0…255: used to pick readable text on a coloured background.
    public var luma: Double { 0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b) }
}

/// A cell's foreground or background: a theme colour, or whatever the terminal's own default is
/// (so a theme may leave the background transparent, as btop allows with an empty `main_bg`).
public enum Color: Hashable, Sendable {
    case terminalDefault
    case rgb(RGB)

    public static func hex(_ value: UInt32) -> Color { .rgb(RGB(hex: value)) }
}
