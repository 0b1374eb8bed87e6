import Foundation
import TerminalUI

/// Number formats shared by the status bar and the panes.
enum Format {
    /// `m:ss`, or `h:mm:ss` from an hour on.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = (total / 60) % 60, s = total % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }

    static func loss(_ value: Float?) -> String {
        guard let value else { return "–" }
        return value.isFinite ? String(format: "%.4f", value) : "\(value)"
    }

    static func learningRate(_ value: Float?) -> String {
        guard let value else { return "–" }
        return String(format: "%.2e", value)
    }

    static func rate(_ perSecond: Double) -> String {
        guard perSecond.isFinite, perSecond > 0 else { return "–" }
        if perSecond >= 1_000_000 { return String(format: "%.2fM", perSecond / 1_000_000) }
        if perSecond >= 1_000 { return String(format: "%.1fk", perSecond / 1_000) }
        return String(format: "%.0f", perSecond)
    }

    /// A loss scale: a power of two as the integer it is ("65536"), anything else in %g.
    static func lossScale(_ scale: Float) -> String {
        guard scale.isFinite else { return "\(scale)" }
        if scale >= 1, scale < 1e12, scale == scale.rounded() { return String(Int64(scale)) }
        return String(format: "%g", scale)
    }

    /// A fraction as a percentage with one decimal; a nonzero fraction below 0.05 % as "<0.1%",
    /// so that a loss, however small, never reads as none.
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "–" }
        if fraction == 0 { return "0%" }
        if fraction < 0.0005 { return "<0.1%" }
        return String(format: "%.1f%%", 100 * fraction)
    }

    /// "0.80M", "10.65M", "124M", "850k".
    static func parameters(_ n: Int) -> String {
        if n >= 100_000_000 { return String(format: "%.0fM", Double(n) / 1e6) }
        if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
        if n >= 1_000 { return String(format: "%.0fk", Double(n) / 1e3) }
        return String(n)
    }
}
