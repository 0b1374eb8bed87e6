import Training
import TerminalUI

/// What the sampling console and the checkpoint browser draw besides the snapshot: polled each
/// frame from their own threads (`SamplingService`, `CheckpointWatcher`) by the app.
public struct ConsoleData: Equatable, Sendable {
    public var sampling = SamplingOutput()
    public var browser = BrowserData()
    /// `browser`'s checkpoints sorted and filtered as the UI state says.
    public var rows: [BrowserRow] = []

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

        StatusBar(snapshot: snapshot, shuttingDown: ui.shutdown == .waitingForTrainer, palette: palette)
            .render(into: &buffer, area: layout.status)
        if let tabs = layout.tabs {
            TabStrip(focus: ui.focus, expanded: ui.expanded, palette: palette).render(into: &buffer, area: tabs)
        }
        for (pane, area) in layout.panes {
            let focused = pane == ui.focus
            switch pane {
            case .loss:
                LossPane(snapshot: snapshot, view: ui.loss, focused: focused, palette: palette).render(into: &buffer, area: area)
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
            HintLine(snapshot: snapshot, message: ui.message, themeName: theme.name, palette: palette)
                .render(into: &buffer, area: layout.hints)
        }

        if ui.shutdown == .waitingForTrainer {
            Overlays.shuttingDown(into: &buffer, screen: layout.body, palette: palette)
        } else if ui.confirmingQuit {
            Overlays.quitPrompt(into: &buffer, screen: layout.body, palette: palette)
        } else if ui.showHelp {
            Overlays.help(into: &buffer, screen: layout.body, scroll: ui.helpScroll, palette: palette)
        }
        return buffer
    }
}

/// The pane names in a row, focused one highlighted: shown when only one pane fits on screen
/// (or one is expanded), so the others are still known to exist and Tab has visible effect.
struct TabStrip: Widget {
    var focus: PaneID
    var expanded: Bool
    var palette: Palette

    func render(into buffer: inout CellBuffer, area: Rect) {
        guard !area.isEmpty else { return }
        var x = area.x
        for pane in PaneID.allCases {
            let style = pane == focus ? palette.selected : palette.muted
            x += buffer.write(" \(pane.title) ", x: x, y: area.y, maxWidth: area.maxX - x, style)
            x += 1
        }
        if expanded {
            buffer.write("e restores", in: area, alignment: .right, palette.muted)
        }
    }
}

/// The bottom line: the message (a notice or the trainer's newest line, until it expires) on the
/// left, key hints on the right.
struct HintLine: Widget {
    var snapshot: TrainingSnapshot
    var message: Message?
    var themeName: String
    var palette: Palette

    /// Hints dropped first when space runs short; help and quit go last.
    static let dropOrder = ["checkpoints", "focus", "expand", "theme", "save", "pause", "quit", "help"]

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

        // The message gets up to 60% of the line; hints (from the keymap) fill what is left,
        // losing the least essential first.
        var hints = Keymap.hints()
        func width(_ h: [(key: String, word: String)]) -> Int {
            h.reduce(0) { $0 + $1.key.unicodeScalars.count + $1.word.unicodeScalars.count + 3 }
        }
        let messageRoom = min(left.0.unicodeScalars.count + 2, area.width * 3 / 5)
        var drop = Self.dropOrder[...]
        while !hints.isEmpty && width(hints) > area.width - messageRoom, let next = drop.popFirst() {
            hints.removeAll { $0.word == next }
        }
        let hintsWidth = width(hints)
        var x = area.maxX - hintsWidth
        for hint in hints {
            x += buffer.write(hint.key, x: x, y: area.y, palette.highlight)
            x += buffer.write(" \(hint.word)  ", x: x, y: area.y, palette.muted)
        }
        buffer.write(left.0, x: area.x + 1, y: area.y, maxWidth: max(0, area.width - hintsWidth - 2), left.1)
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
        let shown = String(String.UnicodeScalarView(scalars.suffix(room - 1)))
        x += buffer.write(shown, x: x, y: area.y, palette.text)
        buffer.set(x, area.y, "█", palette.highlight)
        buffer.write(help, x: area.maxX - helpWidth, y: area.y, palette.muted)
    }
}
