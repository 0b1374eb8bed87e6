/// A problem found in a theme file. Themes are user-editable, so problems are reported and the
/// key falls back to the default theme's colour; a theme file can never stop the dashboard.
public struct ThemeWarning: Equatable, Sendable, CustomStringConvertible {
    public var theme: String
    public var line: Int
    public var message: String

    public var description: String { "theme \(theme), line \(line): \(message)" }
}

/// Reads btop's theme format: one `theme[key]="value"` per line, `#` comments. Values are
/// `#rrggbb`, `#gg` (a grey), `r g b` in decimal, or empty (the terminal's default colour).
public enum ThemeParser {
    public static func parse(_ text: String, name: String, fallback: Theme?) -> (theme: Theme, warnings: [ThemeWarning]) {
        var warnings: [ThemeWarning] = []
        var values: [ThemeKey: Color] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            func warn(_ message: String) {
                warnings.append(ThemeWarning(theme: name, line: lineNumber, message: message))
            }
            guard let (keyName, value) = splitAssignment(line) else {
                warn("expected theme[key]=\"value\", found \(line.prefix(60))")
                continue
            }
            guard let key = ThemeKey(rawValue: keyName) else {
                warn("unknown key \"\(keyName)\" ignored")
                continue
            }
            guard let color = parseColor(value) else {
                warn("bad colour \"\(value)\" for \(keyName); using the default")
                continue
            }
            if color == .terminalDefault && key.isGradientKey {
                warn("\(keyName) cannot be empty; using the default")
                continue
            }
            values[key] = color
        }

        var colors: [Color] = []
        for key in ThemeKey.allCases {
            if let value = values[key] {
                colors.append(value)
            } else if key.isGradientMiddle, let blended = blendedMiddle(for: key, values) {
                colors.append(.rgb(blended))
            } else if let fallback {
                colors.append(fallback[key])
            } else {
                colors.append(.terminalDefault)
            }
        }
        return (Theme(name: name, colors: colors), warnings)
    }

    /// nil when the value is not a colour in any accepted spelling.
    public static func parseColor(_ raw: some StringProtocol) -> Color? {
        let value = raw.trimmingWhitespace()
        if value.isEmpty { return .terminalDefault }
        if value.hasPrefix("#") {
            let digits = value.dropFirst()
            guard digits.allSatisfy(\.isHexDigit), let number = UInt32(digits, radix: 16) else { return nil }
            switch digits.count {
            case 6: return .rgb(RGB(hex: number))
            case 2: return .rgb(RGB(UInt8(number), UInt8(number), UInt8(number)))
            default: return nil
            }
        }
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        let channels = parts.compactMap { UInt8($0) }
        guard channels.count == 3 else { return nil }
        return .rgb(RGB(channels[0], channels[1], channels[2]))
    }

    private static func splitAssignment(_ line: Substring) -> (String, Substring)? {
        guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else { return nil }
        let key = line[line.index(line.startIndex, offsetBy: 6)..<close]
        var rest = line[line.index(after: close)...].trimmingWhitespace()
        guard rest.hasPrefix("=") else { return nil }
        rest = rest.dropFirst().trimmingWhitespace()
        guard rest.count >= 2, rest.first == "\"", rest.last == "\"" else { return nil }
        return (String(key), rest.dropFirst().dropLast())
    }

    private static func blendedMiddle(for key: ThemeKey, _ values: [ThemeKey: Color]) -> RGB? {
        let stem = key.rawValue.dropLast(4)
        guard let startKey = ThemeKey(rawValue: stem + "_start"), let endKey = ThemeKey(rawValue: stem + "_end"),
              case .rgb(let start)? = values[startKey], case .rgb(let end)? = values[endKey] else { return nil }
        return start.mixed(with: end, 0.5)
    }
}

extension ThemeKey {
    public var isGradientKey: Bool {
        rawValue.hasSuffix("_start") || rawValue.hasSuffix("_mid") || rawValue.hasSuffix("_end")
    }
}

extension StringProtocol {
    public func trimmingWhitespace() -> SubSequence {
        var s = self[...]
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return s
    }
}
