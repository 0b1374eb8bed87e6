/// Wrapped text that either follows its end (streaming samples) or is scrolled to a line.
public struct ScrollingText: Widget {
    public enum Position: Equatable, Sendable {
        /// Show the last lines, as a terminal does while text streams in.
        case following
        /// First visible wrapped line.
        case line(Int)
    }

    public var text: String
    public var position: Position
    public var style: Style

    public init(text: String, position: Position = .following, style: Style = .plain) {
        self.text = text
        self.position = position
        self.style = style
    }

    /// Breaks text into lines of at most `width` columns, at spaces where a word fits and
    /// mid-word where it does not; newlines always break.
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String.UnicodeScalarView()
            var lineLength = 0
            var word = String.UnicodeScalarView()
            func flushWord() {
                var w = word[...]
                while !w.isEmpty {
                    let room = width - lineLength
                    if w.count <= room {
                        line.append(contentsOf: w); lineLength += w.count; w = w[w.endIndex...]
                    } else if lineLength > 0 && w.count <= width {
                        lines.append(String(line)); line = .init(); lineLength = 0
                    } else {
                        let cut = w.index(w.startIndex, offsetBy: room)
                        line.append(contentsOf: w[..<cut]); w = w[cut...]
                        lines.append(String(line)); line = .init(); lineLength = 0
                    }
                }
                word = .init()
            }
            for scalar in paragraph.unicodeScalars {
                if scalar == " " {
                    flushWord()
                    if lineLength < width { line.append(" "); lineLength += 1 }
                    else { lines.append(String(line)); line = .init(); lineLength = 0 }
                } else {
                    word.append(scalar == "\t" ? " " : scalar)
                }
            }
            flushWord()
            lines.append(String(line))
        }
        return lines
    }

    public func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let lines = Self.wrap(text, width: area.width)
        let first: Int
        switch position {
        case .following: first = max(0, lines.count - area.height)
        case .line(let n): first = min(max(0, n), max(0, lines.count - 1))
        }
        for row in 0..<min(area.height, lines.count - first) {
            buffer.write(lines[first + row], in: area, row: row, style)
        }
    }
}

/// Wrapping for text whose characters carry a style tag (a prompt set apart from generated text,
/// a marked token): the same rules as `ScrollingText.wrap` — break at spaces where a word fits,
/// mid-word where it does not, always at newlines — with each scalar keeping its tag.
public enum StyledText {
    public static func wrap<Tag>(_ text: [(Unicode.Scalar, Tag)], width: Int) -> [[(Unicode.Scalar, Tag)]] {
        guard width > 0 else { return [] }
        var lines: [[(Unicode.Scalar, Tag)]] = []
        var line: [(Unicode.Scalar, Tag)] = []
        var word: [(Unicode.Scalar, Tag)] = []
        func flushWord() {
            var w = word[...]
            while !w.isEmpty {
                let room = width - line.count
                if w.count <= room {
                    line += w; w = w[w.endIndex...]
                } else if !line.isEmpty && w.count <= width {
                    lines.append(line); line = []
                } else {
                    let cut = w.index(w.startIndex, offsetBy: room)
                    line += w[..<cut]; w = w[cut...]
                    lines.append(line); line = []
                }
            }
            word = []
        }
        for (scalar, tag) in text {
            switch scalar {
            case "\n":
                flushWord()
                lines.append(line); line = []
            case " ", "\t":
                flushWord()
                if line.count < width { line.append((" ", tag)) } else { lines.append(line); line = [] }
            default:
                word.append((scalar, tag))
            }
        }
        flushWord()
        lines.append(line)
        return lines
    }
}
