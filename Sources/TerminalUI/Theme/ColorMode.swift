/// How many colours the terminal can show; themes are written in 24-bit and mapped down.
public enum ColorMode: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case monochrome = 0
    case palette16 = 1
    case palette256 = 2
    case truecolor = 3

    public static func < (a: ColorMode, b: ColorMode) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .monochrome: "monochrome"
        case .palette16: "16 colours"
        case .palette256: "256 colours"
        case .truecolor: "truecolor"
        }
    }

    /// Picks the mode from what ncurses reports (`COLORS` after `start_color`) and the environment.
    ///
    /// `NO_COLOR` (any non-empty value, per no-color.org) wins. ncurses can only emit 24-bit colour
    /// when the terminfo entry is a direct-colour one (`COLORS` = 2^24, e.g. `TERM=xterm-direct`);
    /// `COLORTERM=truecolor` with a 256-colour entry cannot be honoured through ncurses, so it only
    /// produces a hint for the user.
    public static func detect(colors: Int, hasColors: Bool, environment: [String: String]) -> (mode: ColorMode, hint: String?) {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return (.monochrome, nil) }
        guard hasColors else { return (.monochrome, nil) }
        if colors >= 1 << 24 { return (.truecolor, nil) }
        let wantsTruecolor = ["truecolor", "24bit"].contains(environment["COLORTERM"]?.lowercased() ?? "")
        if colors >= 256 {
            let term = environment["TERM"] ?? ""
            let hint = wantsTruecolor
                ? "COLORTERM says truecolor but TERM=\(term) has 256 colours; set TERM=\(term.hasPrefix("tmux") ? "tmux" : "xterm")-direct for 24-bit colour"
                : nil
            return (.palette256, hint)
        }
        if colors >= 8 { return (.palette16, nil) }
        return (.monochrome, nil)
    }
}

/// Nearest-colour mapping from 24-bit theme colours to terminal palettes.
public enum ColorQuantizer {
    private static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// Index in the xterm-256 palette. Only the 6×6×6 cube and the grey ramp are used: entries
    /// 0–15 are redefined by most users' terminal themes, so their real colour is unknown.
    public static func xterm256(_ c: RGB) -> Int {
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for i in 1..<6 where abs(cubeLevels[i] - Int(v)) < abs(cubeLevels[best] - Int(v)) { best = i }
            return best
        }
        let ri = nearestLevel(c.r), gi = nearestLevel(c.g), bi = nearestLevel(c.b)
        let cube = RGB(UInt8(cubeLevels[ri]), UInt8(cubeLevels[gi]), UInt8(cubeLevels[bi]))
        let average = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let greyIndex = min(23, max(0, (average - 8 + 5) / 10))
        let greyLevel = UInt8(8 + 10 * greyIndex)
        let grey = RGB(greyLevel, greyLevel, greyLevel)
        return distance(c, grey) < distance(c, cube) ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi
    }

    /// The usual xterm defaults for the 16 ANSI colours.
    public static let ansi16: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0),
        RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// Index among the first `count` (8 or 16) ANSI colours.
    public static func ansi(_ c: RGB, count: Int = 16) -> Int {
        var best = 0
        var bestDistance = Int.max
        for i in 0..<min(count, 16) {
            let d = distance(c, ansi16[i])
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }

    /// Squared distance weighted roughly by how sensitive the eye is to each channel.
    public static func distance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r), dg = Int(a.g) - Int(b.g), db = Int(a.b) - Int(b.b)
        return 2 * dr * dr + 4 * dg * dg + 3 * db * db
    }
}
