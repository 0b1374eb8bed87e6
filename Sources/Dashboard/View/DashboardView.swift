import Training
import TerminalUI

/// What the sampling console and the checkpoint browser draw besides the snapshot: polled each
/// frame from their own threads (`SamplingService`, `CheckpointWatcher`) by the app.
public struct ConsoleData: Equatable, Sendable {
    public var sampling = SamplingOutput()
    public var browser = BrowserData()
    /// `browser`'s checkpoints sorted and filtered as the UI state says.
    public var rows: [BrowserRow] = []
    /// The model's size and memory estimate (from the options).
    public var model: ModelFacts?
    /// This process's resident memory, read every few seconds (nil: not read yet).
    public var residentBytes: Int?

    public init() {}
}

/// Draws one frame: a pure function of the snapshot, the UI state, the console data, the theme
/// and the size.
public enum DashboardView {
    public static func render(snapshot: TrainingSnapshot, ui: UIState, console: ConsoleData = ConsoleData(), theme: Theme,
                              colorMode: ColorMode, width: Int, height: Int) -> CellBuffer {
        let palette = Palette(theme: theme, monochrome: colorMode == .monochrome)
        var buffer = CellBuffer(width: width, height: height, fill: Cell(" ", fg: theme[.mainForeground], bg: theme[.mainBackground]))
        let layout = DashboardLayout(width: width, height: height, ui: ui)
        let screen = buffer.area

        if layout.mode == .tooSmall {
            Overlays.tooSmall(into: &buffer, screen: screen, ui: ui, palette: palette)
            return buffer
        }

        let browsing = snapshot.state == .idle
        let selectedRow = console.rows.isEmpty ? nil : console.rows[min(max(0, ui.browser.selected), console.rows.count - 1)]
        let original = snapshot
        // Browse mode: the selected run's history fills the panes.
        var snapshot = snapshot
        if browsing, let history = console.browser.history, history.runPath == selectedRow?.runPath {
            snapshot = history.snapshot(idle: snapshot)
        }
        StatusBar(snapshot: snapshot, shuttingDown: ui.shutdown == .waitingForTrainer, palette: palette,
                  browsing: browsing ? selectedRow : nil, model: console.model, residentBytes: console.residentBytes)
            .render(into: &buffer, area: layout.status)
        if let tabs = layout.tabs {
            TabStrip(focus: ui.focus, expanded: ui.expanded, shown: Set(layout.panes.keys), palette: palette)
                .render(into: &buffer, area: tabs)
        }
        for (pane, area) in layout.panes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let focused = pane == ui.focus
            switch pane {
            case .loss:
                let overlays = ui.browser.overlays.compactMap { o in console.browser.overlays[o.path].map { LossOverlay(run: $0, slot: o.slot) } }
                LossPane(snapshot: snapshot, view: ui.loss, focused: focused, palette: palette, overlays: overlays,
                         trainingRun: console.browser.overlays.values.first { $0.name == snapshot.runName && !ui.browser.overlays.map(\.path).contains($0.path) })
                    .render(into: &buffer, area: area)
            case .gradients:
                GradientsPane(snapshot: snapshot, view: ui.gradients, focused: focused, palette: palette).render(into: &buffer, area: area)
            case .attention:
                AttentionPane(snapshot: snapshot, view: ui.attention, focused: focused, palette: palette).render(into: &buffer, area: area)
            case .sampling:
                SamplingPane(snapshot: snapshot, view: ui.sampling, output: console.sampling, focused: focused, palette: palette)
                    .render(into: &buffer, area: area)
            case .checkpoints:
                CheckpointsPane(data: console.browser, rows: console.rows, view: ui.browser, sampling: ui.sampling.source.paths,
                                focused: focused, palette: palette).render(into: &buffer, area: area)
            }
        }
        if let entry = ui.textEntry {
            TextEntryLine(entry: entry, palette: palette).render(into: &buffer, area: layout.hints)
        } else {
            HintLine(snapshot: original, ui: ui, message: ui.message, themeName: theme.name, palette: palette)
                .render(into: &buffer, area: layout.hints)
        }

        if ui.shutdown == .waitingForTrainer {
            Overlays.shuttingDown(into: &buffer, screen: layout.body, palette: palette)
        } else if ui.confirmingQuit {
            Overlays.quitPrompt(into: &buffer, screen: layout.body, palette: palette)
        } else if let question = ui.browser.confirmingResume {
            Overlays.resumePrompt(question, into: &buffer, screen: layout.body, palette: palette)
        } else if ui.showHelp {
            Overlays.help(into: &buffer, screen: layout.body, scroll: ui.helpScroll, palette: palette)
        } else if ui.showModelCard {
            ModelCardView(card: snapshot.modelCard, step: snapshot.step, palette: palette).render(into: &buffer, area: layout.body)
        }
        return buffer
    }
}

/// The pane names in a row: the focused one in the selection colour, the others on screen in
/// normal text, the hidden ones muted; with how to reach the rest. Shown when only some panes fit
/// (a narrow or small terminal) or one is expanded, so the others are still known to exist.
struct TabStrip: Widget {
    var focus: PaneID
    var expanded: Bool
    var shown: Set<PaneID>
    var palette: Palette

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let help = expanded ? "e restores" : shown.count < PaneID.allCases.count ? "Tab next pane" : ""
        var titles = PaneID.allCases.map { " \($0.title) " }
        let total = titles.reduce(0) { $0 + TextFit.width($1) + 1 } + TextFit.width(help)
        if total > area.width {
            // Short names before anything is cut: "Grad", "Attn".
            titles = PaneID.allCases.map { " \($0.shortTitle) " }
        }
        var x = area.x
        for (pane, title) in zip(PaneID.allCases, titles) {
            let style = pane == focus ? palette.focusedTitle : shown.contains(pane) ? palette.text : palette.muted
            guard x + TextFit.width(title) <= area.maxX else { break }
            x += buffer.write(title, x: x, y: area.y, style)
            x += 1
        }
        if !help.isEmpty && x + TextFit.width(help) < area.maxX {
            buffer.write(help, in: area, alignment: .right, palette.muted)
        }
    }
}

/// The bottom line: the message (a notice or the trainer's newest line, until it expires) on the
/// left, then the focused pane's keys and the global ones on the right.
struct HintLine: Widget {
    var snapshot: TrainingSnapshot
    var ui: UIState
    var message: Message?
    var themeName: String
    var palette: Palette

    /// Global hints dropped first when space runs short; help and quit go last.
    static let dropOrder = ["checkpoints", "focus", "expand", "theme", "save", "pause", "quit", "help"]

    /// A message made to fit: a path at its end keeps its file name ("checkpoint saved: …/step-001410.safetensors").
    static func fit(_ text: String, width: Int) -> String {
        guard TextFit.width(text) > width else { return text }
        if let r = text.range(of: ": ", options: .backwards), text[r.upperBound...].contains("/") {
            let head = String(text[..<r.upperBound]), path = String(text[r.upperBound...])
            let room = width - TextFit.width(head)
            if room >= 12 { return head + TextFit.path(path, width: room) }
        }
        return TextFit.words(text, width: width)
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        let left: (String, Style)
        if case .failed(let reason) = snapshot.state {
            left = ("training failed: \(reason)", palette.error)
        } else if let message {
            left = (message.text, message.kind == .notice ? palette.warning : palette.text)
        } else {
            left = ("theme \(themeName)", palette.muted)
        }

        // The message gets up to 60% of the line; hints (from the keymap) fill what is left: the
        // focused pane's own keys first to go, then the least essential global ones.
        let (paneHints, globalHints) = Keymap.hints(for: ui, training: snapshot.state.isActive)
        var pane = paneHints, global = globalHints
        func width(_ h: [(key: String, word: String)]) -> Int {
            h.reduce(0) { $0 + TextFit.width($1.key) + TextFit.width($1.word) + 3 }
        }
        let messageRoom = min(TextFit.width(left.0) + 2, area.width * 3 / 5)
        var drop = Self.dropOrder[...]
        while width(pane) + width(global) + (pane.isEmpty ? 0 : 2) > area.width - messageRoom {
            if let next = drop.first, ["checkpoints", "focus", "expand", "theme"].contains(next) {
                drop.removeFirst()
                global.removeAll { $0.word == next }
            } else if !pane.isEmpty {
                pane.removeLast()
            } else if let next = drop.popFirst() {
                global.removeAll { $0.word == next }
            } else { break }
        }
        let hintsWidth = width(pane) + width(global) + (pane.isEmpty ? 0 : 2)
        var x = area.maxX - hintsWidth
        for hint in pane {
            x += buffer.write(hint.key, x: x, y: area.y, palette.highlight)
            x += buffer.write(" \(hint.word)  ", x: x, y: area.y, palette.text)
        }
        if !pane.isEmpty { x += buffer.write("│ ", x: x, y: area.y, palette.border) }
        for hint in global {
            x += buffer.write(hint.key, x: x, y: area.y, palette.highlight)
            x += buffer.write(" \(hint.word)  ", x: x, y: area.y, palette.muted)
        }
        let room = max(0, area.width - hintsWidth - 2)
        buffer.write(Self.fit(left.0, width: room), x: area.x + 1, y: area.y, left.1)
    }
}

/// The bottom line while text is typed (a probe with `p` in the Attention pane, a prompt in the
/// Sampling pane, a filter in the browser): the text so far with a cursor, its tail kept in
/// view, and what Enter and Esc do.
struct TextEntryLine: Widget {
    var entry: TextEntry
    var palette: Palette

    var prompt: String {
        switch entry.purpose {
        case .probe: "probe› "
        case .prompt: "prompt› "
        case .filter: "filter› "
        }
    }

    var help: String {
        switch entry.purpose {
        case .probe: "  Enter runs · Esc cancels"
        case .prompt: "  Enter generates · Esc cancels"
        case .filter: "  Enter filters · Esc cancels"
        }
    }

    func render(into buffer: inout CellBuffer, area: Rect) {
        let text = entry.text
        guard !area.isEmpty else { return }
        buffer.fill(area, " ", palette.background)
        var x = area.x + 1
        x += buffer.write(prompt, x: x, y: area.y, palette.highlight)
        let helpWidth = help.unicodeScalars.count
        let room = max(1, area.maxX - x - helpWidth - 1)
        let scalars = Array(text.unicodeScalars)
        let shown = String(String.UnicodeScalarView(scalars.suffix(max(0, room - 1))))
        x += buffer.write(shown, x: x, y: area.y, palette.text)
        buffer.set(x, area.y, "█", palette.highlight)
        if area.maxX - helpWidth > x { buffer.write(help, x: area.maxX - helpWidth, y: area.y, palette.muted) }
    }
}
