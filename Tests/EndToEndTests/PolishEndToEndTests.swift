import Foundation
import Testing
import TestSupport

/// Issue 20 as a new user meets it: an installed binary's themes, browse mode's history, the
/// mouse, val drawn as points. The real binary under tmux.
@Suite(.serialized) struct PolishEndToEndTests {
    /// A short headless run in `ws`, so browse mode has a run with metrics and checkpoints.
    static func trainSmallRun(_ binary: String, _ ws: Workspace, name: String = "hist") async throws {
        let result = try await runToCompletion([binary, "train", "--headless", "--data", ws.corpus, "--runs_dir=\(ws.runs)",
                                          "--run_name=\(name)", "--n_layer=1", "--n_embd=32", "--n_head=2", "--block_size=32",
                                          "--batch_size=4", "--max_iters=80", "--eval_interval=20", "--eval_iters=2",
                                          "--checkpoint_interval=40"])
        try #require(result.status == 0, "training failed: \(result.output)")
    }

    /// The left button pressed and released at a cell (xterm's normal mouse encoding, which
    /// ncurses reads under TERM=tmux-256color), or the wheel.
    static func mouse(_ tmux: TmuxSession, button: Int, x: Int, y: Int, release: Bool = true) async throws {
        func bytes(_ b: Int) -> [String] { ["1b", "5b", "4d", String(32 + b, radix: 16), String(33 + x, radix: 16), String(33 + y, radix: 16)] }
        try await tmux.tmux(["send-keys", "-t", tmux.name, "-H"] + bytes(button))
        if release { try await tmux.tmux(["send-keys", "-t", tmux.name, "-H"] + bytes(3)) }
    }

    /// `t` works from a copy of the binary in a folder with no Themes/ anywhere near it.
    @Test func anInstalledBinaryHasEveryThemeAndTSaysWhichIsOn() async throws {
        let ws = try Workspace()
        let bin = ws.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try nanoscopeBinary(), toPath: bin + "/nanoscope")
        try FileManager.default.createDirectory(atPath: ws.runs, withIntermediateDirectories: true)
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.waitFor("the shell prompt") { $0.contains("READY$") }
        try await tmux.type("cd \(ws.path) && HOME=\(ws.path) timeout --foreground 120 \(bin)/nanoscope browse runs")
        try await tmux.press("Enter")
        try await tmux.waitFor("the dashboard") { $0.contains("browsing") }
        try await tmux.press("t")
        try await tmux.waitFor("the theme named") { $0.contains("theme light (2 of 4") }
        try await tmux.press("t")
        try await tmux.waitFor("the next theme") { $0.contains("theme high-contrast (3 of 4") }
        try await tmux.press("q")
        try await tmux.waitFor("the prompt after quitting", timeout: 30) { $0.split(separator: "\n").last { !$0.isEmpty }?.hasPrefix("READY$") == true }
    }

    /// Browse mode: the run's history fills the panes, the header names run and checkpoint,
    /// focus is on Checkpoints, keys that need a trainer are not offered; a click focuses the
    /// loss pane and the wheel moves through the checkpoints.
    @Test func browseShowsTheRunsHistoryAndTheMouseWorks() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        try await Self.trainSmallRun(binary, ws)
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.waitFor("the shell prompt") { $0.contains("READY$") }
        try await tmux.type("timeout --foreground 120 \(binary) browse \(ws.runs)")
        try await tmux.press("Enter")
        let screen = try await tmux.waitFor("the run's history") { s in
            s.contains("○ browsing") && s.contains("checkpoint step") && s.unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }.count > 40
        }
        let header = String(screen.split(separator: "\n").first ?? "")
        #expect(header.contains("hist"), "the header names the run: \(header)")
        let footer = String(screen.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "")
        #expect(footer.contains("Enter sample"), "focus starts on Checkpoints: \(footer)")
        #expect(!footer.contains("pause") && !footer.contains("s save"), "no training keys while browsing: \(footer)")
        #expect(screen.contains("• val"), "val is drawn as points")

        // The wheel over the checkpoint list moves the selection (the header follows it).
        let before = header
        try await Self.mouse(tmux, button: 65, x: 100, y: 33, release: false)
        try await tmux.waitFor("another checkpoint selected") { String($0.split(separator: "\n").first ?? "") != before }
        // A click on the loss pane focuses it: its keys take the footer.
        try await Self.mouse(tmux, button: 0, x: 20, y: 8)
        try await tmux.waitFor("the loss pane focused") { $0.contains("m EMA") && $0.contains("←→ zoom") }
        try await tmux.press("q")
        try await tmux.waitFor("the prompt after quitting", timeout: 30) { $0.split(separator: "\n").last { !$0.isEmpty }?.hasPrefix("READY$") == true }
    }

    /// 80×24, the default terminal: two legible panes under the loss pane and a tab row naming
    /// the rest; Tab brings the others into view.
    @Test func at80x24FewerPanesShowAndTabReachesTheRest() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        try await Self.trainSmallRun(binary, ws)
        let tmux = try await TmuxSession(width: 80, height: 24)
        defer { tmux.close() }
        try await tmux.waitFor("the shell prompt") { $0.contains("READY$") }
        try await tmux.type("timeout --foreground 120 \(binary) browse \(ws.runs)")
        try await tmux.press("Enter")
        let screen = try await tmux.waitFor("the small layout") { $0.contains("Tab next pane") && $0.contains("Checkpoints ") }
        #expect(screen.contains("╭ Sampling") || screen.contains("┏ Sampling"))
        #expect(!screen.contains("╭ Gradients") && !screen.contains("┏ Gradients"))
        try await tmux.press("Tab")
        try await tmux.press("Tab")
        try await tmux.waitFor("gradients in view") { $0.contains("┏ Gradients") }
        try await tmux.press("q")
        try await tmux.waitFor("the prompt after quitting", timeout: 30) { $0.split(separator: "\n").last { !$0.isEmpty }?.hasPrefix("READY$") == true }
    }
}
