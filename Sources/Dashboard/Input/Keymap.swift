import TerminalUI
/// What a key asks for. The reducer gives each action its meaning.
public enum Action: Hashable, Sendable {
    case togglePause
    case saveCheckpoint
    case quit
    /// Ctrl-C: quit without the confirmation prompt (and, while saving, stop waiting).
    case interrupt
    case toggleHelp
    case toggleModelCard
    case closeOverlay
    case scrollDown
    case scrollUp
    case focusNext
    case focusPrevious
    case toggleExpand
    case nextTheme
    case redraw
    case confirmQuit
    case cancelQuit
    case toggleSmoothing
    case toggleLogScale
    case toggleFollow
    case widenWindow
    case narrowWindow
    case toggleLossAxis
    case selectNext
    case selectPrevious
    case toggleRawValues
    case nextLayer
    case previousLayer
    case nextHead
    case previousHead
    case editProbe
    /// The attention cursor (or, in the logit lens, its position) moved by a query row / key column.
    case moveCursor(rows: Int, columns: Int)
    case cycleAttentionScaling
    case toggleLens
    case cycleTokensView
    // Sampling console
    case nextSlider
    case previousSlider
    case increaseSlider
    case decreaseSlider
    case toggleSeedLock
    case newSeed
    case editPrompt
    case cursorEarlier
    case cursorLater
    case useLiveWeights
    case toggleStrategies
    // Checkpoint browser
    case focusCheckpoints
    case nextCheckpoint
    case previousCheckpoint
    case loadCheckpoint
    case resumeCheckpoint
    case deleteCheckpoint
    case confirmDelete
    case cancelDelete
    case confirmResume
    case cancelResume
    case markCheckpoint
    case toggleOverlay
    case cycleSort
    case editFilter
    case scrollTextUp
    case scrollTextDown
    case followText
    // Typing a probe, a prompt or a filter
    case editText(TextEntry.Edit)
    // Mouse (from `MouseTargets`, which knows where everything is drawn)
    case focusPane(PaneID)
    case selectCheckpointRow(Int)
    case selectTensorRow(Int)
    /// Put a slider at a fraction of its track (a click or a drag).
    case setSlider(SamplingSlider, Double)
    case releaseMouse
}

/// Where a binding applies. Modal scopes (a prompt, the help overlay) are looked up first.
public enum KeyScope: Sendable, CaseIterable {
    case quitPrompt, deletePrompt, resumePrompt, probeInput, textInput, help, lossPane, gradientsPane, attentionPane, samplingPane,
         checkpointsPane, global

    public var title: String {
        switch self {
        case .quitPrompt: "Quit prompt"
        case .deletePrompt: "Delete prompt"
        case .resumePrompt: "Resume prompt"
        case .probeInput: "Typing a probe (other keys type)"
        case .textInput: "Typing a prompt or filter (other keys type)"
        case .samplingPane: "Sampling pane"
        case .checkpointsPane: "Checkpoints pane"
        case .help: "Help"
        case .lossPane: "Loss pane"
        case .gradientsPane: "Gradients pane"
        case .attentionPane: "Attention pane"
        case .global: "Everywhere"
        }
    }
}

public struct KeyBinding: Sendable {
    public var keys: [Key]
    public var action: Action
    public var scope: KeyScope
    /// A line of the help overlay.
    public var summary: String
    /// A word for the bottom hint line; nil keeps the binding out of it.
    public var hint: String?
    /// How the hint line names the keys (default: the first key's label).
    public var hintKeys: String? = nil
    /// Offered (in the hints) only while a trainer runs in this process.
    public var needsTraining = false
}

/// The one table of key bindings: the reducer resolves keys through it and the help overlay and
/// hint line are drawn from it, so what the help says is what the keys do.
public enum Keymap {
    public static let bindings: [KeyBinding] = [
        KeyBinding(keys: [.character("y"), .character("Y"), .character("q"), .enter], action: .confirmQuit,
                   scope: .quitPrompt, summary: "stop training (with a checkpoint) and quit"),
        KeyBinding(keys: [.character("n"), .character("N"), .escape], action: .cancelQuit,
                   scope: .quitPrompt, summary: "keep training"),

        KeyBinding(keys: [.character("y"), .character("Y")], action: .confirmDelete, scope: .deletePrompt,
                   summary: "delete the checkpoint (its optimizer state too)"),
        KeyBinding(keys: [.character("n"), .character("N"), .escape, .character("q")], action: .cancelDelete,
                   scope: .deletePrompt, summary: "keep it"),

        KeyBinding(keys: [.character("y"), .character("Y"), .enter], action: .confirmResume, scope: .resumePrompt,
                   summary: "resume: later checkpoints move to checkpoints/abandoned-from-step-N/"),
        KeyBinding(keys: [.character("n"), .character("N"), .escape, .character("q")], action: .cancelResume,
                   scope: .resumePrompt, summary: "do not resume"),

        KeyBinding(keys: [.character("?"), .function(1), .escape, .character("q"), .enter], action: .closeOverlay,
                   scope: .help, summary: "close this help"),
        KeyBinding(keys: [.down, .character("j")], action: .scrollDown, scope: .help, summary: "scroll down"),
        KeyBinding(keys: [.up, .character("k")], action: .scrollUp, scope: .help, summary: "scroll up"),

        KeyBinding(keys: [.character("m")], action: .toggleSmoothing, scope: .lossPane,
                   summary: "EMA smoothing of the train loss: stronger, then off (strength in the title)", hint: "EMA"),
        KeyBinding(keys: [.character("g")], action: .toggleLogScale, scope: .lossPane,
                   summary: "logarithmic loss axis on/off", hint: "log"),
        KeyBinding(keys: [.character("a")], action: .toggleFollow, scope: .lossPane,
                   summary: "show the whole run / follow the newest steps", hint: "all"),
        KeyBinding(keys: [.left, .character("h"), .character("-")], action: .widenWindow, scope: .lossPane,
                   summary: "follow more steps (zoom out)", hint: "zoom", hintKeys: "←→"),
        KeyBinding(keys: [.right, .character("l"), .character("+"), .character("=")], action: .narrowWindow,
                   scope: .lossPane, summary: "follow fewer steps (zoom in)"),
        KeyBinding(keys: [.character("x")], action: .toggleLossAxis, scope: .lossPane,
                   summary: "x axis: steps / tokens seen (runs with different batches line up by tokens)"),

        KeyBinding(keys: [.down, .character("j")], action: .selectNext, scope: .gradientsPane,
                   summary: "select the next tensor", hint: "tensor", hintKeys: "↑↓"),
        KeyBinding(keys: [.up, .character("k")], action: .selectPrevious, scope: .gradientsPane,
                   summary: "select the previous tensor"),
        KeyBinding(keys: [.character("v")], action: .toggleRawValues, scope: .gradientsPane,
                   summary: "histogram of log10|g| / of the raw values", hint: "values"),

        KeyBinding(keys: [.character("]")], action: .nextLayer, scope: .attentionPane, summary: "next layer",
                   hint: "layer", hintKeys: "[ ]"),
        KeyBinding(keys: [.character("[")], action: .previousLayer, scope: .attentionPane, summary: "previous layer"),
        KeyBinding(keys: [.character("}")], action: .nextHead, scope: .attentionPane, summary: "next head",
                   hint: "head", hintKeys: "{ }"),
        KeyBinding(keys: [.character("{")], action: .previousHead, scope: .attentionPane, summary: "previous head"),
        KeyBinding(keys: [.left, .character("h")], action: .moveCursor(rows: 0, columns: -1), scope: .attentionPane,
                   summary: "cursor: an earlier key (the cell is read above the map)", hint: "cursor", hintKeys: "←↑↓→"),
        KeyBinding(keys: [.right, .character("l")], action: .moveCursor(rows: 0, columns: 1), scope: .attentionPane,
                   summary: "cursor: a later key"),
        KeyBinding(keys: [.up, .character("k")], action: .moveCursor(rows: -1, columns: 0), scope: .attentionPane,
                   summary: "cursor: an earlier query"),
        KeyBinding(keys: [.down, .character("j")], action: .moveCursor(rows: 1, columns: 0), scope: .attentionPane,
                   summary: "cursor: a later query"),
        KeyBinding(keys: [.character("g")], action: .cycleAttentionScaling, scope: .attentionPane,
                   summary: "colour scale: P / P per row's max / log₁₀ P", hint: "scale"),
        KeyBinding(keys: [.character("v")], action: .toggleLens, scope: .attentionPane,
                   summary: "attention maps / logit lens (each layer's top-1 guess at the cursor's row)", hint: "lens"),
        KeyBinding(keys: [.character("n")], action: .cycleTokensView, scope: .attentionPane,
                   summary: "tokens: how the probe splits (again: with ids, again: off)", hint: "tokens"),
        KeyBinding(keys: [.character("p")], action: .editProbe, scope: .attentionPane,
                   summary: "type another probe text (Enter runs it)", hint: "probe", needsTraining: true),

        KeyBinding(keys: [.enter], action: .editText(.submit), scope: .probeInput,
                   summary: "recompute the attention maps for the typed text"),
        KeyBinding(keys: [.escape], action: .editText(.cancel), scope: .probeInput, summary: "keep the old probe"),
        KeyBinding(keys: [.backspace], action: .editText(.deleteBackward), scope: .probeInput,
                   summary: "delete the last character"),

        KeyBinding(keys: [.enter], action: .editText(.submit), scope: .textInput, summary: "use the typed text"),
        KeyBinding(keys: [.escape], action: .editText(.cancel), scope: .textInput, summary: "keep the old text"),
        KeyBinding(keys: [.backspace], action: .editText(.deleteBackward), scope: .textInput,
                   summary: "delete the last character"),

        KeyBinding(keys: [.down, .character("j")], action: .nextSlider, scope: .samplingPane, summary: "select the next slider",
                   hint: "slider", hintKeys: "↑↓"),
        KeyBinding(keys: [.up, .character("k")], action: .previousSlider, scope: .samplingPane,
                   summary: "select the previous slider"),
        KeyBinding(keys: [.right, .character("l"), .character("+"), .character("=")], action: .increaseSlider,
                   scope: .samplingPane, summary: "raise the slider (the text regenerates)", hint: "move", hintKeys: "←→"),
        KeyBinding(keys: [.left, .character("h"), .character("-")], action: .decreaseSlider, scope: .samplingPane,
                   summary: "lower the slider"),
        KeyBinding(keys: [.character("p")], action: .editPrompt, scope: .samplingPane, summary: "type the prompt (Enter uses it)", hint: "prompt"),
        KeyBinding(keys: [.character("f")], action: .toggleSeedLock, scope: .samplingPane,
                   summary: "lock / unlock the seed (locked: same random draws for every setting)"),
        KeyBinding(keys: [.character("n")], action: .newSeed, scope: .samplingPane, summary: "draw with a new seed"),
        KeyBinding(keys: [.character("[")], action: .cursorEarlier, scope: .samplingPane,
                   summary: "next-token view: an earlier position (marked in the text)", hint: "token", hintKeys: "[ ]"),
        KeyBinding(keys: [.character("]")], action: .cursorLater, scope: .samplingPane,
                   summary: "next-token view: a later position (past the end: follow the newest)"),
        KeyBinding(keys: [.character("v")], action: .toggleStrategies, scope: .samplingPane,
                   summary: "greedy, temperature, top-k, top-p side by side on one seed (again: back)",
                   hint: "strategies"),
        KeyBinding(keys: [.character("w")], action: .useLiveWeights, scope: .samplingPane,
                   summary: "sample the trainer's weights (a fresh copy)", needsTraining: true),
        KeyBinding(keys: [.pageUp], action: .scrollTextUp, scope: .samplingPane, summary: "scroll the text up",
                   hint: "scroll", hintKeys: "PgUp/Dn"),
        KeyBinding(keys: [.pageDown], action: .scrollTextDown, scope: .samplingPane, summary: "scroll the text down"),
        KeyBinding(keys: [.end], action: .followText, scope: .samplingPane, summary: "follow the end of the text"),

        KeyBinding(keys: [.down, .character("j")], action: .nextCheckpoint, scope: .checkpointsPane,
                   summary: "select the next checkpoint"),
        KeyBinding(keys: [.up, .character("k")], action: .previousCheckpoint, scope: .checkpointsPane,
                   summary: "select the previous checkpoint"),
        KeyBinding(keys: [.enter], action: .loadCheckpoint, scope: .checkpointsPane,
                   summary: "load it into the sampling console", hint: "sample"),
        KeyBinding(keys: [.character("r")], action: .resumeCheckpoint, scope: .checkpointsPane,
                   summary: "resume training from it (asks first; stops the current run first)", hint: "resume"),
        KeyBinding(keys: [.character("d")], action: .deleteCheckpoint, scope: .checkpointsPane,
                   summary: "delete it (asks first)", hint: "delete"),
        KeyBinding(keys: [.character("x")], action: .markCheckpoint, scope: .checkpointsPane,
                   summary: "mark / unmark for comparison: two marked are sampled side by side", hint: "compare"),
        KeyBinding(keys: [.character("a")], action: .toggleOverlay, scope: .checkpointsPane,
                   summary: "overlay / remove this row's run on the loss chart (with a config diff)", hint: "overlay"),
        KeyBinding(keys: [.character("o")], action: .cycleSort, scope: .checkpointsPane,
                   summary: "sort by run and step / newest / best val loss", hint: "sort"),
        KeyBinding(keys: [.character("/")], action: .editFilter, scope: .checkpointsPane,
                   summary: "filter by run name or step", hint: "filter"),

        KeyBinding(keys: [.character(" ")], action: .togglePause, scope: .global,
                   summary: "pause / resume training", hint: "pause", needsTraining: true),
        KeyBinding(keys: [.character("s")], action: .saveCheckpoint, scope: .global,
                   summary: "save a checkpoint now", hint: "save", needsTraining: true),
        KeyBinding(keys: [.tab], action: .focusNext, scope: .global, summary: "focus the next pane", hint: "focus"),
        KeyBinding(keys: [.backTab], action: .focusPrevious, scope: .global, summary: "focus the previous pane"),
        KeyBinding(keys: [.character("e")], action: .toggleExpand, scope: .global,
                   summary: "expand / restore the focused pane", hint: "expand"),
        KeyBinding(keys: [.character("c")], action: .focusCheckpoints, scope: .global,
                   summary: "focus the checkpoint browser", hint: "checkpoints"),
        KeyBinding(keys: [.character("t")], action: .nextTheme, scope: .global, summary: "next colour theme", hint: "theme"),
        KeyBinding(keys: [.character("i")], action: .toggleModelCard, scope: .global,
                   summary: "model card: parameters, config, tokenizer, data, tokens seen, memory (again closes)"),
        KeyBinding(keys: [.character("?"), .function(1)], action: .toggleHelp, scope: .global,
                   summary: "show this help", hint: "help"),
        KeyBinding(keys: [.escape], action: .closeOverlay, scope: .global, summary: "restore an expanded pane"),
        KeyBinding(keys: [.control("l")], action: .redraw, scope: .global, summary: "redraw the screen"),
        KeyBinding(keys: [.character("q")], action: .quit, scope: .global,
                   summary: "quit (asks first while training)", hint: "quit"),
        KeyBinding(keys: [.control("c")], action: .interrupt, scope: .global,
                   summary: "quit now (checkpoints first; again to stop waiting)"),
    ]

    /// Scopes that apply in `state`, most specific first.
    static func activeScopes(_ state: UIState) -> [KeyScope] {
        if state.confirmingQuit { return [.quitPrompt] }
        if state.browser.confirmingDelete != nil { return [.deletePrompt] }
        if state.browser.confirmingResume != nil { return [.resumePrompt] }
        // One text entry, two help sections: Enter means something different for a probe.
        if let entry = state.textEntry { return [entry.purpose == .probe ? .probeInput : .textInput] }
        var scopes: [KeyScope] = []
        if state.showHelp { scopes.append(.help) }
        switch state.focus {
        case .loss: scopes.append(.lossPane)
        case .gradients: scopes.append(.gradientsPane)
        case .attention: scopes.append(.attentionPane)
        case .sampling: scopes.append(.samplingPane)
        case .checkpoints: scopes.append(.checkpointsPane)
        }
        scopes.append(.global)
        return scopes
    }

    /// The action bound to `key` in the current state; Ctrl-C works in every state.
    public static func action(for key: Key, in state: UIState) -> Action? {
        if key == .control("c") { return .interrupt }
        for scope in activeScopes(state) {
            if let binding = bindings.first(where: { $0.scope == scope && $0.keys.contains(key) }) {
                return binding.action
            }
        }
        // While text is typed every other printable key is text.
        if state.textEntry != nil, case .character(let c) = key { return .editText(.type(c)) }
        return nil
    }

    /// `key label  summary` lines per scope, for the help overlay.
    public static func helpSections() -> [(title: String, lines: [(keys: String, summary: String)])] {
        KeyScope.allCases.reversed().compactMap { scope in
            let lines = bindings.filter { $0.scope == scope }.map { binding in
                (keys: binding.keys.map(\.label).joined(separator: " "), summary: binding.summary)
            }
            return lines.isEmpty ? nil : (scope.title, lines)
        }
    }

    /// `(key, word)` pairs for the hint line, in table order.
    public static func hints() -> [(key: String, word: String)] {
        bindings.filter { $0.scope == .global }.compactMap { b in b.hint.map { (b.hintKeys ?? b.keys[0].label, $0) } }
    }

    /// The focused pane's own hints, then the global ones; keys that need a trainer are left out
    /// when none runs (browse mode, or after the run ended).
    public static func hints(for state: UIState, training: Bool) -> (pane: [(key: String, word: String)], global: [(key: String, word: String)]) {
        let scope = activeScopes(state).first { ![.help, .global].contains($0) } ?? .global
        func pairs(_ scope: KeyScope) -> [(key: String, word: String)] {
            bindings.filter { $0.scope == scope && (training || !$0.needsTraining) }
                .compactMap { b in b.hint.map { (b.hintKeys ?? b.keys[0].label, $0) } }
        }
        return (scope == .global ? [] : pairs(scope), pairs(.global))
    }
}
