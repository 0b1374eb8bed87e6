/// A line of text being typed: an attention probe, the console's prompt or the browser's
/// filter. While one is open every printable key types into it (Keymap) until Enter or Esc.
public struct TextEntry: Equatable, Sendable {
    public enum Purpose: Equatable, Sendable {
        /// The attention probe (`p` in the Attention pane): Enter sends it to the trainer.
        case probe
        /// The sampling console's prompt.
        case prompt
        /// The checkpoint browser's filter.
        case filter
    }

    /// One keystroke's worth of editing.
    public enum Edit: Hashable, Sendable {
        case type(Unicode.Scalar)
        case deleteBackward
        case submit
        case cancel
    }

    /// What an edit leaves behind.
    public enum Outcome: Equatable, Sendable {
        case editing(TextEntry)
        /// Enter: the text to use.
        case submitted(String)
        /// Esc: the old text stays.
        case cancelled
    }

    /// Longest text accepted from the keyboard (the trainer cuts a probe to block_size tokens).
    public static let maximumLength = 512

    public var purpose: Purpose
    public var text: String

    public init(_ purpose: Purpose, text: String = "") {
        self.purpose = purpose
        self.text = text
    }

    /// The one editing function every text entry uses.
    public func applying(_ edit: Edit) -> Outcome {
        var next = self
        switch edit {
        case .type(let c):
            if text.unicodeScalars.count < Self.maximumLength { next.text.unicodeScalars.append(c) }
            return .editing(next)
        case .deleteBackward:
            if !text.isEmpty { next.text.unicodeScalars.removeLast() }
            return .editing(next)
        case .submit:
            return .submitted(text)
        case .cancel:
            return .cancelled
        }
    }
}
