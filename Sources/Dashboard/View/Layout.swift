import TerminalUI
/// Where everything goes for a given terminal size and UI state.
///
/// Three arrangements, chosen by size: a grid with every pane (wide and tall terminals), the
/// loss pane over a row of the others (medium), and one pane at a time with a tab strip (small,
/// e.g. 60×15). `e` gives the focused pane the whole body in any of them.
public struct DashboardLayout: Equatable, Sendable {
    public enum Mode: Equatable, Sendable { case grid, stacked, single, tooSmall }

    public static let minimumWidth = 40
    public static let minimumHeight = 10

    public var mode: Mode
    public var status: Rect
    public var body: Rect
    public var hints: Rect
    /// Present in `single` mode, when a pane is expanded, and when the row under the loss pane
    /// shows only some of the panes (a narrow terminal).
    public var tabs: Rect?
    public var panes: [PaneID: Rect]
    /// Narrowest a pane beside others may be and stay legible; below it fewer are shown at once.
    public static let legiblePaneWidth = 38

    /// Panes in the row under the loss pane (stacked mode) when not all four fit.
    static func detailWindow(count: Int, around pane: PaneID) -> [PaneID] {
        let details: [PaneID] = [.gradients, .attention, .sampling, .checkpoints]
        let n = min(max(1, count), details.count)
        let i = details.firstIndex(of: pane) ?? 0
        // Stable pages: the window starts at a multiple of its size (Gradients+Attention, Sampling+Checkpoints).
        let start = min((i / n) * n, details.count - n)
        return Array(details[start..<(start + n)])
    }

    public init(width: Int, height: Int, ui: UIState) {
        let screen = Rect(width: width, height: height)
        guard width >= Self.minimumWidth, height >= Self.minimumHeight else {
            mode = .tooSmall
            status = Rect(width: 0, height: 0); body = screen; hints = Rect(width: 0, height: 0)
            tabs = nil; panes = [:]
            return
        }
        let (statusRow, rest) = screen.splitTop(1)
        let (middle, hintRow) = rest.splitBottom(1)
        status = statusRow
        hints = hintRow
        body = middle

        if middle.width >= 100 && middle.height >= 24 {
            mode = .grid
        } else if middle.width >= 60 && middle.height >= 16 {
            mode = .stacked
        } else {
            mode = .single
        }

        if mode == .single || ui.expanded {
            let (tabRow, content) = middle.splitTop(1)
            tabs = tabRow
            panes = [ui.focus: content]
            return
        }
        tabs = nil
        switch mode {
        case .grid:
            let cols = middle.columns(weights: [3, 2])
            let left = cols[0].rows(weights: [3, 2]), right = cols[1].rows(weights: [1, 1, 1])
            panes = [.loss: left[0], .sampling: left[1], .gradients: right[0], .attention: right[1], .checkpoints: right[2]]
        default:
            let rows = middle.rows(weights: [3, 2])
            let fit = middle.width / Self.legiblePaneWidth
            if fit >= 4 {
                let bottom = rows[1].columns(weights: [1, 1, 1, 1])
                panes = [.loss: rows[0], .gradients: bottom[0], .attention: bottom[1], .sampling: bottom[2], .checkpoints: bottom[3]]
            } else {
                // Fewer panes side by side, and a tab row naming all of them (Tab moves on).
                let (loss, below) = Rect(x: middle.x, y: middle.y, width: middle.width, height: middle.height)
                    .splitTop(max(6, middle.height * 11 / 20))
                let (tabRow, bottom) = below.splitTop(1)
                tabs = tabRow
                let shown = Self.detailWindow(count: fit, around: ui.focus == .loss ? ui.detailPane : ui.focus)
                panes = [.loss: loss]
                for (pane, rect) in zip(shown, bottom.columns(weights: Array(repeating: 1, count: shown.count))) { panes[pane] = rect }
            }
        }
    }
}
