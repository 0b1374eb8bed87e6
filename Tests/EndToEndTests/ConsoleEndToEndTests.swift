import Foundation
import Testing
import TestSupport

/// Issue 8 through the real binary: `nanoscope browse` lists a run's checkpoints, Enter samples
/// one, the temperature slider regenerates the text (greedy = `nanoscope sample --temperature 0`),
/// d deletes after a yes, and r resumes training from the selection.
@Suite(.serialized) struct ConsoleEndToEndTests {
    @Test func browseSampleDeleteAndResume() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let train = try await runToCompletion(["timeout", "300", binary, "train", "--headless", "--data", ws.corpus, "--runs_dir=\(ws.runs)",
                                         "--run_name=e2e", "--n_layer=2", "--n_embd=64", "--n_head=4", "--max_iters=60",
                                         "--eval_interval=30", "--eval_iters=2", "--checkpoint_interval=30"])
        try #require(train.status == 0, "training failed: \(train.output)")
        let step30 = ws.runs + "/e2e/checkpoints/step-000030.safetensors"
        let greedy = try await runToCompletion(["timeout", "60", binary, "sample", step30, "--temperature", "0", "--max-tokens", "200"])
        try #require(greedy.status == 0)
        // The first line of greedy text, as the console must show it too.
        let firstLine = String(greedy.output.split(separator: "\n").first(where: { $0.count >= 8 })?.prefix(30) ?? "")

        let tmux = try await TmuxSession(width: 140, height: 45)
        defer { tmux.close() }
        try await tmux.waitFor("the shell prompt") { $0.contains("READY$") }
        try await tmux.type("timeout --foreground 300 \(binary) browse \(ws.runs)")
        try await tmux.press("Enter")
        try await tmux.waitFor("the browser listing both checkpoints") { $0.contains("no training") && $0.contains("2 · run, step") }

        // Enter loads step 30: its step shows in the console and text streams in.
        try await tmux.press("c")
        try await tmux.press("Enter")
        try await tmux.waitFor("step 30 in the console") { $0.contains("e2e · step 30") && $0.contains("next token 200/200") }

        // Temperature down to 0 (Shift-Tab focuses the console): the value shows and the text is greedy.
        try await tmux.press("BTab")
        for _ in 0..<16 { try await tmux.press("Left") }
        let greedyScreen = try await tmux.waitFor("greedy text") { $0.contains("0.00 greedy") && $0.contains(firstLine) }
        #expect(greedyScreen.contains("Σ after cut 1.000"), "the kept bars sum to 1")
        // top-k up: the value changes and the text regenerates.
        try await tmux.press("Down"); try await tmux.press("Down"); try await tmux.press("Right")
        try await tmux.waitFor("top-k 1") { $0.contains("top-k") && $0.contains(" 1     ") }

        // d + y deletes step 60 (one of two: one yes), and the list updates.
        try await tmux.press("c"); try await tmux.press("Down"); try await tmux.press("d")
        try await tmux.waitFor("the delete question") { $0.contains("delete e2e step 60") && $0.contains("? y/n") }
        try await tmux.press("y")
        try await tmux.waitFor("the list without step 60") { $0.contains("1 · run, step") }
        #expect(!FileManager.default.fileExists(atPath: ws.runs + "/e2e/checkpoints/step-000060.safetensors"))

        // r resumes from step 30: training runs in this process and the counter continues from 30.
        try await tmux.press("Up"); try await tmux.press("r")
        // It asks first, naming the step.
        try await tmux.waitFor("the resume question") { $0.contains("Resume e2e from step 30?") }
        try await tmux.press("y")
        try await tmux.waitFor("training resumed past step 30", timeout: 60) { screen in
            guard let r = screen.range(of: #"step (\d+)/60"#, options: .regularExpression) else { return false }
            let step = Int(screen[r].dropFirst(5).prefix { $0.isNumber }) ?? 0
            return step > 30
        }
        try await tmux.press("q")
        try await Task.sleep(for: .seconds(0.5))
        try await tmux.press("y")
        try await tmux.waitFor("the prompt after quitting", timeout: 60) { screen in
            screen.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })?.hasPrefix("READY$") == true
        }
    }
}
