/// The one way text is made to fit a width: every label a pane draws goes through here, so what
/// does not fit is shortened where a reader expects it (`…` on a word boundary), numbers never
/// lose digits, and names keep the tail that tells them apart.
///
/// Widths count Unicode scalars, as `CellBuffer` draws one scalar per column.
public enum TextFit {
    public static let ellipsis: Unicode.Scalar = "…"

    @inline(__always)
    public static func width(_ text: some StringProtocol) -> Int { text.unicodeScalars.count }

    /// `text` if it fits in `width` columns; else its longest prefix of whole words followed by
    /// `…`. A word that holds a digit is never cut; a single long word without digits is cut
    /// mid-word with `…` (the reader still sees how it starts). Trailing separators (spaces,
    /// `·`, `│`, `,`, `:`) are dropped before the `…`. Returns "" when nothing useful fits.
    public static func words(_ text: String, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        if scalars.count <= width { return text }
        guard width >= 1 else { return "" }
        // Word boundaries: positions where a space starts.
        var cut = -1
        var i = width - 1  // the prefix [0, i) plus "…" must fit: i ≤ width − 1
        while i > 0 {
            if scalars[i] == " " { cut = i; break }
            i -= 1
        }
        if cut > 0 {
            var end = cut
            // A label whose number was cut off goes with it: "std 2.3e-02…", not "std 2.3e-02  mean…".
            let next = scalars[(cut + 1)...].prefix { $0 != " " }
            if next.contains(where: isDigit) {
                var start = end
                while start > 0 && scalars[start - 1] != " " { start -= 1 }
                if !scalars[start..<end].contains(where: isDigit) && start > 0 { end = start }
            }
            while end > 0 && separators.contains(scalars[end - 1]) { end -= 1 }
            if end > 0 { return String(String.UnicodeScalarView(scalars[0..<end])) + "…" }
        }
        // No boundary in reach: the first word itself is too long.
        let firstWordStart = scalars.firstIndex { $0 != " " } ?? 0
        let firstWordEnd = scalars[firstWordStart...].firstIndex(of: " ") ?? scalars.count
        let firstWord = scalars[firstWordStart..<firstWordEnd]
        if firstWord.contains(where: isDigit) || width < 3 { return "" }
        return String(String.UnicodeScalarView(scalars[0..<(width - 1)])) + "…"
    }

    /// A name shortened in the middle, `head…tail`, keeping more of the tail (where run names,
    /// paths and timestamps differ): "shakespeare-char-20261201-194418" in 20 columns is
    /// "shakes…20261201-194418".
    public static func middle(_ text: String, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        if scalars.count <= width { return text }
        guard width >= 2 else { return width == 1 ? "…" : "" }
        let keep = width - 1
        let head = keep / 3
        let tail = keep - head
        return String(String.UnicodeScalarView(scalars[0..<head])) + "…"
            + String(String.UnicodeScalarView(scalars[(scalars.count - tail)...]))
    }

    /// A path shortened from the front, keeping the file name whole when it fits:
    /// "runs/shakespeare-char/checkpoints/step-001410.safetensors" → "…/step-001410.safetensors".
    public static func path(_ text: String, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        if scalars.count <= width { return text }
        guard width >= 2 else { return width == 1 ? "…" : "" }
        // Drop whole leading components while it does not fit.
        var parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        while parts.count > 1 {
            parts.removeFirst()
            let candidate = "…/" + parts.joined(separator: "/")
            if TextFit.width(candidate) <= width { return candidate }
        }
        return middle(text, width: width)
    }

    /// Parts joined by `separator`, least important dropped first until the rest fits; each part
    /// is kept whole. `parts` are (text, priority): a lower priority survives longer; ties drop
    /// from the end.
    public static func parts(_ parts: [(text: String, priority: Int)], separator: String, width: Int) -> [Int] {
        var shown = Array(parts.indices).filter { !parts[$0].text.isEmpty }
        func total(_ s: [Int]) -> Int {
            s.reduce(0) { $0 + TextFit.width(parts[$1].text) } + max(0, s.count - 1) * TextFit.width(separator)
        }
        while !shown.isEmpty && total(shown) > width {
            let drop = shown.indices.max { a, b in
                let pa = parts[shown[a]].priority, pb = parts[shown[b]].priority
                return pa != pb ? pa < pb : a < b
            }!
            shown.remove(at: drop)
        }
        return shown
    }

    /// `text` padded with spaces (or fitted with `words`) to exactly `width` columns.
    public static func pad(_ text: String, _ width: Int, alignment: Alignment = .left) -> String {
        let fitted = words(text, width: width)
        let n = TextFit.width(fitted)
        let pad = String(repeating: " ", count: max(0, width - n))
        switch alignment {
        case .left: return fitted + pad
        case .right: return pad + fitted
        case .center:
            let left = max(0, width - n) / 2
            return String(repeating: " ", count: left) + fitted + String(repeating: " ", count: max(0, width - n - left))
        }
    }

    static let separators: Set<Unicode.Scalar> = [" ", "·", "│", ",", ":", ";", "(", "—", "-", "/"]

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
}
