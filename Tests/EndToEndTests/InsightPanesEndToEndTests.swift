import Foundation
import Testing

/// The real binary, training, under tmux at 120×40: the Gradients and Attention panes draw,
/// their keys change what they show, the maps change as training proceeds, a typed probe is
/// taken, and quitting ends the program.
///
/// It runs the `nanoscope` built beside this test bundle (`swift test` builds it) through
/// `TmuxSession`, on a private tmux server that is killed at the end.
@Suite(.serialized) struct InsightPanesEndToEndTests {
    /// The first 64 characters of the val split, as the pane labels them.
    static func probeLabels(_ corpusPath: String) throws -> String {
        let scalars = Array(try String(contentsOfFile: corpusPath, encoding: .utf8).unicodeScalars)
        let start = Int(Double(scalars.count) * 0.9)
        return String(String.UnicodeScalarView(scalars[start..<(start + 64)].map { s -> Unicode.Scalar in
            s == " " ? "·" : s == "\n" ? "⏎" : s
        }))
    }

    /// Lines of an `-e` capture between the pane's top border and the hint line.
    static func body(_ screen: String) -> [Substring] { Array(screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(3).prefix(33)) }

    @Test(.timeLimit(.minutes(1))) func thePanesDrawFollowKeysAndChangeWhileTraining() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        // The sample config's 4×4 model, so the panes show 4 layers and 4 heads.
        try await tmux.startTraining(binary, seconds: 120, "Samples/shakespeare-char.toml --data '\(ws.corpus)' "
                      + "--max_iters=100000 --telemetry_interval=10 --eval_interval=0 --runs_dir='\(ws.runs)'")

        // Both panes fill with data in the grid.
        try await tmux.waitFor("gradient statistics and maps") { $0.contains("▶ wte.w") && $0.contains("layer 1/4 · head 1/4") }

        // Gradients, expanded: the overview, the charts; arrows select, v switches to values.
        try await tmux.press("Tab")
        try await tmux.press("e")
        try await tmux.waitFor("the expanded gradients pane") { $0.contains("update/data per layer") && $0.contains("‖g‖") && $0.contains("0.mlp.c_proj.w") }
        try await tmux.press("j")
        try await tmux.press("Down")
        try await tmux.waitFor("the third tensor selected") { $0.contains("▶ 0.ln_1.w") && $0.contains("0.ln_1.w [128]") }
        try await tmux.press("v")
        try await tmux.waitFor("raw values") { $0.contains("values · step") && !$0.contains("|g| 1e-10") }

        // Attention, expanded: probe labels, layer and head keys; the maps change with training.
        try await tmux.press("Tab")
        let labels = try Self.probeLabels(ws.corpus)
        try await tmux.waitFor("the labelled attention map") { $0.contains("layer 1/4 · head 1/4") && $0.contains(String(labels.prefix(30))) }
        try await tmux.press("]")
        try await tmux.press("}")
        let first = try await tmux.waitFor("layer 2, head 2") { $0.contains("layer 2/4 · head 2/4") }
        let firstColours = Self.body(try await tmux.screenWithColors())
        let step = { (screen: String) -> Int? in
            guard let range = screen.range(of: #"head 2/4 · step (\d+)"#, options: .regularExpression) else { return nil }
            return Int(screen[range].split(separator: " ").last!)
        }
        let firstStep = try #require(step(first))
        try await tmux.waitFor("newer maps", timeout: 20) { (step($0) ?? 0) >= firstStep + 20 }
        #expect(Self.body(try await tmux.screenWithColors()) != firstColours, "the heatmap did not change as training went on")

        // A typed probe replaces the labels.
        try await tmux.press("p")
        try await tmux.waitFor("the probe input line") { $0.contains("probe›") }
        try await tmux.type("the king sat.")  // characters of the generated corpus
        try await tmux.press("Enter")
        // A short probe is magnified (13 tokens: 4 columns × 2 rows each), its characters spaced along the top.
        try await tmux.waitFor("the new probe's labels") { $0.contains("t   h   e   ·   k   i   n   g   ·   s   a   t   .") }
        // The cursor reads a cell of the new probe's map.
        try await tmux.press("j")
        try await tmux.waitFor("the cursor's readout") { $0.contains("query 'h' @1 → key 't' @0: ") }

        // Quit: confirm, the trainer stops, the program ends.
        try await tmux.quitTraining()
    }
}
