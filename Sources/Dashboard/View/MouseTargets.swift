import Training
import TerminalUI

/// Turns a mouse event into the action a key would have sent, from where things are drawn: a
/// click focuses the pane under it and picks the list row or tensor it lands on, or puts a
/// slider's knob there (a drag moves it); the wheel scrolls the text, lists and help. Pure: the
/// layout is a function of the size and UI state, so this is tested without a terminal.
enum MouseTargets {
    static func action(for event: MouseEvent, ui: UIState, snapshot: TrainingSnapshot, console: ConsoleData,
                       width: Int, height: Int) -> Action? {
        let layout = DashboardLayout(width: width, height: height, ui: ui)
        if ui.showHelp {
            switch event.kind {
            case .wheelUp: return .scrollUp
            case .wheelDown: return .scrollDown
            default: return nil
            }
        }
        if ui.confirmingQuit || ui.browser.confirmingDelete != nil || ui.browser.confirmingResume != nil || ui.textEntry != nil { return nil }
        if event.kind == .release { return ui.draggingSlider == nil ? nil : .releaseMouse }
        if event.kind == .drag, let slider = ui.draggingSlider, let area = layout.panes[.sampling] {
            let g = SamplingPane.geometry(area, columns: console.sampling.columns.count)
            guard let row = g.sliders.first else { return nil }
            let track = SamplingPane.track(of: row)
            return .setSlider(slider, Double(event.x - track.x) / Double(max(1, track.width - 1)))
        }
        // A click on a tab names the pane to show.
        if let tabs = layout.tabs, event.kind == .press, event.y == tabs.y {
            return tab(at: event.x, in: tabs).map(Action.focusPane)
        }
        guard let (pane, area) = layout.panes.first(where: { contains($0.value, event.x, event.y) }) else { return nil }
        switch event.kind {
        case .press, .drag:
            return press(pane, area, event, ui: ui, console: console)
        case .wheelUp, .wheelDown:
            let up = event.kind == .wheelUp
            switch pane {
            case .sampling: return up ? .scrollTextUp : .scrollTextDown
            case .checkpoints: return up ? .previousCheckpoint : .nextCheckpoint
            case .gradients: return up ? .selectPrevious : .selectNext
            case .loss: return up ? .narrowWindow : .widenWindow
            case .attention: return up ? .previousHead : .nextHead
            }
        case .release:
            return nil
        }
    }

    private static func press(_ pane: PaneID, _ area: Rect, _ event: MouseEvent, ui: UIState, console: ConsoleData) -> Action {
        switch pane {
        case .checkpoints:
            if let row = CheckpointsPane.row(at: event.y, area: area, selected: ui.browser.selected, count: console.rows.count) {
                return .selectCheckpointRow(row)
            }
        case .gradients:
            if let list = GradientsPane.listRows(area), contains(list, event.x, event.y) {
                // The list scrolls to keep the selection in view: row r shows first + r.
                let first = SelectableList.firstVisible(selected: ui.gradients.selected, count: Int.max / 2, visibleRows: list.height)
                return .selectTensorRow(first + event.y - list.y)
            }
        case .sampling:
            let g = SamplingPane.geometry(area, columns: console.sampling.columns.count)
            for (slider, row) in zip(SamplingSlider.allCases, g.sliders) where row.y == event.y {
                let track = SamplingPane.track(of: row)
                if event.x >= track.x - 1 && event.x < track.x + track.width + 1 {
                    return .setSlider(slider, Double(event.x - track.x) / Double(max(1, track.width - 1)))
                }
            }
        default:
            break
        }
        return .focusPane(pane)
    }

    /// The pane whose name in the tab strip is at column `x` (the strip's full names).
    static func tab(at x: Int, in tabs: Rect) -> PaneID? {
        var start = tabs.x
        for pane in PaneID.allCases {
            let width = TextFit.width(pane.title) + 2
            if x >= start && x < start + width { return pane }
            start += width + 1
        }
        return nil
    }

    private static func contains(_ r: Rect, _ x: Int, _ y: Int) -> Bool { x >= r.x && x < r.maxX && y >= r.y && y < r.maxY }
}
