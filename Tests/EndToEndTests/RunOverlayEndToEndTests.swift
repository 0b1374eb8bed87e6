import Foundation
import Testing
import TestSupport

/// Issue 19's run overlay on the real binary: two finished runs of different widths are picked
/// in the checkpoint browser with `a` while a third trains; the Loss pane then names all three
/// in its legend and lists the one key that differs.
@Suite(.serialized) struct RunOverlayEndToEndTests {
    static func trainRun(_ binary: String, _ ws: Workspace, name: String, width: Int) async throws {
        let result = try await runToCompletion([binary, "train", "--headless", "--data", ws.corpus, "--runs_dir=\(ws.runs)",
                                                "--run_name=\(name)", "--n_layer=1", "--n_embd=\(width)", "--n_head=2",
                                                "--block_size=32", "--batch_size=4", "--max_iters=60", "--eval_interval=20",
                                                "--eval_iters=2", "--checkpoint_interval=30"])
        try #require(result.status == 0, "training \(name) failed: \(result.output)")
    }

    @Test(.timeLimit(.minutes(2))) func twoRunsOverlaidWithALegendAndTheirConfigDiff() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        try await Self.trainRun(binary, ws, name: "a32", width: 32)
        try await Self.trainRun(binary, ws, name: "b48", width: 48)
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 90, "Samples/shakespeare-char.toml --data '\(ws.corpus)' "
                      + "--max_iters=100000 --n_layer=1 --n_head=2 --n_embd=32 --block_size=32 --batch_size=4 "
                      + "--eval_interval=0 --run_name=live --runs_dir='\(ws.runs)'")
        try await tmux.waitFor("training") { $0.contains("running") }

        // Rows by run then step: a32 30, 60, then b48 30, 60, then the live run.
        try await tmux.press("c")
        try await tmux.waitFor("the browser's rows") { $0.contains("a32") && $0.contains("b48") }
        try await tmux.press("a")
        try await tmux.waitFor("the first run overlaid") { $0.contains("1 run overlaid on the loss chart") }
        try await tmux.press("j")
        try await tmux.press("j")
        try await tmux.press("a")
        try await tmux.waitFor("the second run overlaid") { $0.contains("2 runs overlaid on the loss chart") }

        // The Loss pane, expanded: every run in the legend, n_embd as the only differing key.
        try await tmux.press("Tab")
        try await tmux.press("e")
        let screen = try await tmux.waitFor("the legend and the diff") {
            $0.contains("━ live (training)") && $0.contains("━ a32") && $0.contains("━ b48") && $0.contains("┃n_embd")
        }
        #expect(screen.contains("+2 runs"))
        let diff = screen.split(separator: "\n").first { $0.contains("┃n_embd") }.map(String.init) ?? ""
        let values = diff.split(separator: " ").filter { Int($0) != nil }
        #expect(values == ["32", "32", "48"], "the diff row: \(diff)\n\(screen)")
        #expect(!screen.contains("┃n_layer"), "a key every run shares is listed")

        // x toggles the axis to tokens (the title says so), a on an overlaid row removes it.
        try await tmux.press("x")
        try await tmux.waitFor("the tokens axis") { $0.contains("x: tokens") }

        try await tmux.quitTraining()
    }
}
