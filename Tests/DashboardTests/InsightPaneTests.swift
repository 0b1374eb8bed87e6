import Foundation
import Testing
@testable import Dashboard
import Training

private func render(_ width: Int, _ height: Int, _ snapshot: TrainingSnapshot = insightSnapshot(), ui: UIState = UIState(),
                    mode: ColorMode = .truecolor) -> CellBuffer {
    DashboardView.render(snapshot: snapshot, ui: ui, theme: .builtInDefault, colorMode: mode, width: width, height: height)
}

@Suite struct InsightPaneTests {
    @Test func dump() {
        var ui = UIState()
        ui.focus = .gradients
        try? render(120, 40, ui: ui).lines.joined(separator: "\n").write(toFile: "/tmp/frames.txt", atomically: true, encoding: .utf8)
        return;
        ui.expanded = true
        print(render(120, 40, ui: ui).lines.joined(separator: "\n"))
        ui.focus = .attention
        print(render(120, 40, ui: ui).lines.joined(separator: "\n"))
        print(render(80, 24).lines.joined(separator: "\n"))
    }
}
