import Testing
import Foundation
@testable import Dashboard
import Training

@Test func scratchDump() throws {
    var out = ""
    for (w, h) in [(120, 40), (80, 24)] {
        var ui = UIState()
        if w == 80 { ui.showHelp = true }
        let frame = DashboardView.render(snapshot: sampleSnapshot(), ui: ui, theme: .builtInDefault, colorMode: .truecolor, width: w, height: h)
        out += frame.lines.joined(separator: "\n") + "\n" + String(repeating: "=", count: w) + "\n"
    }
    try out.write(toFile: "/tmp/dump.txt", atomically: true, encoding: .utf8)
}
