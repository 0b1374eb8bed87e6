import Foundation
import Testing

/// Issue 19's "compare and explain" on the real binary under tmux at 120×40: the sampling
/// console's four strategy columns from one seed, the loss chart's ln V reference, and a
/// synthetic task's floor and accuracy curve.
@Suite(.serialized) struct CompareAndExplainEndToEndTests {
    /// Occurrences of a regular expression in `text`.
    static func count(_ pattern: String, in text: String) -> Int {
        (try? NSRegularExpression(pattern: pattern))?.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text)) ?? 0
    }

    @Test(.timeLimit(.minutes(2))) func fourStrategyColumnsFromOneSeedAndTheUniformGuessOnTheLossChart() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 90, "Samples/shakespeare-char.toml --data '\(ws.corpus)' "
                      + "--max_iters=100000 --n_layer=1 --n_head=2 --n_embd=32 --block_size=32 --eval_interval=0 "
                      + "--runs_dir='\(ws.runs)'")
        // The loss chart names ln V of this corpus's vocabulary, the one the model card states.
        let running = try await tmux.waitFor("the loss legend") { $0.contains("┄ uniform ln ") }
        try await tmux.press("i")
        let card = try await tmux.waitFor("the model card") { $0.contains("Model card") && $0.contains("char · vocab ") }
        let vocab = try #require(card.firstMatch(of: /char · vocab (\d+)/)?.1)
        #expect(running.contains("uniform ln \(vocab)"))
        try await tmux.press("i")
        try await tmux.waitFor("the card closed") { !$0.contains("Model card") }

        // Focus the console (Loss → Gradients → Attention → Sampling). Once it samples a copy of
        // the weights, training is paused: the comparison needs only that copy, and a trainer
        // left running would take both cores from the other tests' trainers.
        for _ in 0..<3 { try await tmux.press("Tab") }
        // Up to a minute: on a loaded 2-core CI host, with the rest of the suite running, the
        // console's first sample took longer than the default 20 s.
        try await tmux.waitFor("the console sampling live weights", timeout: 60) { $0.contains("↑↓ slider") && $0.contains("live · step ") }
        try await tmux.press("Space")
        try await tmux.waitFor("training paused") { $0.contains("paused") }
        try await tmux.press("v")
        let headings = ["greedy", "temperature 0.8", "top-k 10 · T 1", "top-p 0.9 · T 1"]
        let screen = try await tmux.waitFor("four columns with their numbers", timeout: 40) { s in
            headings.allSatisfy(s.contains) && !s.contains("generating")
                && Self.count(#"mean log p -?\d+\.\d\d"#, in: s) == 4 && Self.count(#"distinct-2 \d\.\d\d"#, in: s) == 4
                && Self.count(#"repetition \d\.\d\d"#, in: s) == 4
        }
        #expect(screen.contains("strategies · seed 1337 locked"))
        #expect(!screen.contains("next token"), "the next-token view gives way to the columns")
        // Greedy's text is the most likely under the model: its mean log p is the highest.
        let logs = screen.matches(of: /mean log p (-?\d+\.\d\d)/).compactMap { Double($0.1) }
        #expect(logs.count == 4 && logs[0] == logs.max(), "\(logs)")

        // v again: back to one text and its next-token view.
        try await tmux.press("v")
        try await tmux.waitFor("the single text again", timeout: 30) { $0.contains("next token") && !$0.contains("top-k 10 · T 1") }
        try await tmux.quitTraining()
    }

    @Test(.timeLimit(.minutes(2))) func aTaskRunPlotsItsAccuracyOverItsLossFloor() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 90, "Samples/reverse.toml --max_iters=100000 --eval_interval=10 "
                      + "--eval_iters=2 --task_eval_problems=50 --n_embd=32 --batch_size=16 --runs_dir='\(ws.runs)'")
        // 8 random letters of 26 over an 18-token line: 8 · ln 26 / 18 = 1.448.
        let screen = try await tmux.waitFor("the accuracy chart", timeout: 60) { s in
            s.contains("task accuracy ") && s.contains("100%┤") && s.contains("  0%┤")
        }
        #expect(screen.contains("┄ floor 1.45"))
        // a–z, "|" and the newline: 28 symbols.
        #expect(screen.contains("┄ uniform ln 28"))
        #expect(screen.contains("(held-out problems, exact match)"))
        try await tmux.quitTraining()
    }
}
