import Foundation
import Testing

/// Issue 19's views on the real binary, a tiny model training under tmux at 120×40: the model
/// card carries the trainer's own facts, and the logit lens grid fills and changes as training
/// proceeds.
@Suite(.serialized) struct ReadableViewsEndToEndTests {
    @Test(.timeLimit(.minutes(1))) func theModelCardAndTheLogitLensOfARunningModel() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 60, "Samples/shakespeare-char.toml --data '\(ws.corpus)' "
                      + "--max_iters=100000 --n_layer=2 --n_head=2 --n_embd=32 --block_size=32 --telemetry_interval=5 "
                      + "--eval_interval=0 --runs_dir='\(ws.runs)'")
        try await tmux.waitFor("training") { $0.contains("layer 1/2 · head 1/2") }

        // The card: the 2×2×32 model's config, the char tokenizer, the splits, tokens seen.
        try await tmux.press("i")
        let card = try await tmux.waitFor("the model card") { $0.contains("Model card") && $0.contains("tokens seen") }
        #expect(card.contains("n_layer 2 · n_head 2 · n_embd 32 · block_size 32"))
        #expect(card.contains("char · vocab "))
        #expect(card.contains("without the wte/wpe embeddings"))
        #expect(card.contains("tokens · val "))
        try await tmux.press("i")
        try await tmux.waitFor("the card closed") { !$0.contains("Model card") }

        // The logit lens: rows emb, h.0, h.1 over the probe's positions; newer steps change the grid.
        try await tmux.press("Tab")
        try await tmux.press("Tab")
        try await tmux.press("e")
        try await tmux.press("v")
        let step = { (screen: String) -> Int? in
            guard let range = screen.range(of: #"logit lens · step (\d+)"#, options: .regularExpression) else { return nil }
            return Int(screen[range].split(separator: " ").last!)
        }
        let first = try await tmux.waitFor("the lens grid") { step($0) != nil && $0.contains("┃h.1 ") && $0.contains("┃loss ") }
        #expect(first.contains("┃emb ") && first.contains("┃h.0 ") && first.contains("rank of the target per layer"))
        let grid = { (screen: String) in screen.split(separator: "\n").filter { $0.hasPrefix("┃h.") || $0.hasPrefix("┃loss") || $0.hasPrefix("┃emb") } }
        let firstStep = try #require(step(first))
        let later = try await tmux.waitFor("a newer lens", timeout: 30) { (step($0) ?? 0) >= firstStep + 50 }
        #expect(grid(later) != grid(first), "the logit lens did not change as training went on")

        try await tmux.quitTraining()
    }
}

/// The attention cursor reads the model's softmax: on a paused run (so the maps hold still) the
/// cells of query row 2 — keys 0, 1, 2, read one by one with the cursor — sum to 1, as a row of
/// P = softmax(q·kᵀ/√d) under the causal mask must; row 0's only cell is exactly 1.
@Suite(.serialized) struct AttentionCursorEndToEndTests {
    @Test(.timeLimit(.minutes(1))) func theCursorReadsARowOfTheSoftmax() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 60, "Samples/shakespeare-char.toml --data '\(ws.corpus)' "
                      + "--max_iters=100000 --n_layer=2 --n_head=2 --n_embd=32 --block_size=32 --telemetry_interval=5 "
                      + "--eval_interval=0 --runs_dir='\(ws.runs)'")
        try await tmux.waitFor("attention maps") { $0.contains("layer 1/2 · head 1/2 · step") }
        try await tmux.press("Space")
        try await tmux.waitFor("paused") { $0.contains("paused") }
        // A map computed just before the pause can still land after it (seen on a loaded CI
        // host: the three cells then came from two maps). Read only once the map's step holds.
        func mapStep(_ screen: String) -> String? {
            screen.firstMatch(of: /layer 1\/2 · head 1\/2 · step (\d+)/).map { String($0.1) }
        }
        var held = try await tmux.waitFor("attention maps") { mapStep($0) != nil }
        var settled = false
        for _ in 0..<20 where !settled {
            try await Task.sleep(for: .milliseconds(500))
            let now = try await tmux.waitFor("attention maps") { mapStep($0) != nil }
            settled = mapStep(now) == mapStep(held)
            held = now
        }
        #expect(settled, "the paused attention map kept changing")
        try await tmux.press("Tab")
        try await tmux.press("Tab")
        func read(_ row: Int, _ column: Int) async throws -> Double {
            let screen = try await tmux.waitFor("the cell @\(row) → @\(column)") {
                $0.range(of: #"@\#(row) → key '[^']*' @\#(column): [0-9.]+"#, options: .regularExpression) != nil
            }
            let match = screen[screen.range(of: #"@\#(row) → key '[^']*' @\#(column): [0-9.]+"#, options: .regularExpression)!]
            return Double(match.split(separator: " ").last!)!
        }
        #expect(try await read(0, 0) == 1)
        try await tmux.press("j")
        try await tmux.press("j")
        var sum = try await read(2, 0)
        try await tmux.press("l")
        sum += try await read(2, 1)
        try await tmux.press("l")
        sum += try await read(2, 2)
        // Each cell is printed to four decimals: three roundings of at most 5e-5 each.
        #expect(abs(sum - 1) <= 1.5e-4, "row 2 sums to \(sum)")
        try await tmux.quitTraining()
    }
}
