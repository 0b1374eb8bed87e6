import Foundation
import Testing

/// The real binary, training for real, driven through tmux: issue 6's acceptance, step by step.
@Suite(.serialized) struct DashboardEndToEndTests {
    static func step(in screen: String) -> Int? {
        guard let line = screen.split(separator: "\n").first, let r = line.range(of: #"step (\d+)/"#, options: .regularExpression) else { return nil }
        return Int(line[r].dropFirst(5).dropLast())
    }

    @Test func dashboardDrawsObeysKeysResizesAndQuitsCleanly() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.waitFor("the shell prompt") { $0.contains("READY$") }
        // `timeout` bounds the run even if this test dies before it can quit it.
        try await tmux.type("timeout --foreground 300 \(binary) train --data \(ws.corpus) --runs_dir=\(ws.runs) --run_name=e2e --n_layer=2 --n_embd=64 --n_head=4 --max_iters=100000 --eval_interval=40 --eval_iters=2 --checkpoint_interval=0")
        try await tmux.press("Enter")

        // It draws the panes and trains: the step counter and the loss curve move.
        let first = try await tmux.waitFor("training to start") { (Self.step(in: $0) ?? 0) > 5 }
        #expect(first.contains("Loss"))
        #expect(first.contains("running"))
        let brailleBefore = first.unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }.count
        let later = try await tmux.waitFor("more steps") { (Self.step(in: $0) ?? 0) > (Self.step(in: first) ?? 0) + 40 }
        let brailleAfter = later.unicodeScalars.filter { (0x2801...0x28FF).contains($0.value) }.count
        #expect(brailleAfter > brailleBefore, "the loss curve grows as steps pass")

        // Space pauses: the counter stops.
        try await tmux.press("Space")
        let paused = try await tmux.waitFor("paused") { $0.contains("paused") }
        let pausedStep = try #require(Self.step(in: paused))
        try await Task.sleep(for: .seconds(1.0))
        #expect(Self.step(in: try await tmux.screen()) == pausedStep, "no steps while paused")
        try await tmux.press("Space")
        try await tmux.waitFor("running again") { (Self.step(in: $0) ?? 0) > pausedStep }

        // s writes a checkpoint.
        try await tmux.press("s")
        let checkpoints = ws.runs + "/e2e/checkpoints"
        let deadline = Date().addingTimeInterval(20)
        var files: [String] = []
        while Date() < deadline {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).filter { $0.hasSuffix(".safetensors") && !$0.contains("optimizer") }
            if !files.isEmpty { break }
            try await Task.sleep(for: .seconds(0.2))
        }
        #expect(!files.isEmpty, "s wrote a checkpoint into \(checkpoints)")

        // t changes the colours.
        let colorsBefore = try await tmux.screenWithColors()
        try await tmux.press("t")
        try await Task.sleep(for: .seconds(0.5))
        let colorsAfter = try await tmux.screenWithColors()
        #expect(Self.colorCodes(colorsBefore) != Self.colorCodes(colorsAfter), "t changed the colours")

        // ? shows help, built from the keymap; ? closes it.
        try await tmux.press("?")
        let help = try await tmux.waitFor("help") { $0.contains("Keys") }
        #expect(help.contains("pause") && help.contains("theme") && help.contains("quit"))
        try await tmux.press("?")
        try await tmux.waitFor("help closed") { !$0.contains("Keys") && $0.contains("Loss") }

        // Resizing re-lays out, down to 60×15 and back.
        try await tmux.resize(width: 60, height: 15)
        // The status bar on the first line: the app's own small layout, not tmux's crop of the old
        // frame (whose bottom rows also fit in 60×15 and mention a step).
        let small = try await tmux.waitFor("small layout") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: true)
            return lines.count <= 15 && lines.allSatisfy { $0.count <= 60 } && Self.step(in: screen) != nil
        }
        #expect(small.contains("Loss"))
        try await tmux.resize(width: 120, height: 40)
        try await tmux.waitFor("large layout") { $0.contains("Attention") && $0.contains("Sampling") }

        // q asks first while training; y quits, and the shell prompt comes back clean.
        try await tmux.press("q")
        try await tmux.waitFor("quit confirmation") { $0.contains("Quit?") }
        try await tmux.press("y")
        let end = try await tmux.waitFor("the prompt after quitting", timeout: 60) { screen in
            screen.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })?.hasPrefix("READY$") == true
        }
        #expect(!end.contains("Loss"), "the dashboard is gone from the screen")
        #expect(!end.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        #expect(end.contains("stopped at step"))
    }

    /// The SGR colour parameters of a captured screen.
    static func colorCodes(_ s: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: "\u{1B}\\[[0-9;]*m") else { return [] }
        return regex.matches(in: s, range: NSRange(s.startIndex..., in: s)).compactMap { Range($0.range, in: s).map { String(s[$0]) } }
    }
}
