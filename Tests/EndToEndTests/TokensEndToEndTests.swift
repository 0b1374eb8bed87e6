import Foundation
import Testing

/// Issue 19's "tokens you can read" on the real binary with a BPE model: a typed probe's
/// attention rows and columns carry whole BPE tokens, the cursor reads them, and the tokenizer
/// view (`n`) shows how the probe split, then each token's id.
@Suite(.serialized) struct TokensEndToEndTests {
    static let probe = "the king and the queen sat on a throne"

    @Test(.timeLimit(.minutes(2))) func aBPEProbeReadsAsWholeTokens() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        // 44 merges over a corpus of 13 words (it runs out of pairs after 49): the words become tokens of their own.
        try await tmux.startTraining(binary, seconds: 90, "Samples/shakespeare-bpe.toml --data '\(ws.corpus)' --vocab_size=300 "
                      + "--max_iters=100000 --n_layer=1 --n_head=2 --n_embd=32 --block_size=32 --batch_size=4 "
                      + "--telemetry_interval=5 --eval_interval=0 --runs_dir='\(ws.runs)'")
        try await tmux.waitFor("training") { $0.contains("head 1/2") }
        try await tmux.press("Tab")
        try await tmux.press("Tab")
        try await tmux.press("e")
        try await tmux.press("p")
        try await tmux.type(Self.probe)
        try await tmux.press("Enter")

        // The tokenizer view: fewer tokens than characters, and they join back into the probe.
        try await tmux.press("n")
        let view = try await tmux.waitFor("the tokenizer view") {
            $0.contains("tokens · \(Self.probe.count) characters")
        }
        let counts = try #require(view.range(of: #"(\d+) tokens · \d+ characters"#, options: .regularExpression))
        let tokens = try #require(Int(view[counts].split(separator: " ")[0]))
        #expect(tokens < Self.probe.count / 2, "BPE merged almost nothing: \(tokens) tokens for \(Self.probe.count) characters")
        let strip = view.split(separator: "\n").first { $0.contains("king") }.map(String.init) ?? ""
        #expect(strip.replacingOccurrences(of: "·", with: " ").contains(Self.probe), "the strip: \(strip)")

        // Ids on demand: merged tokens have ids past the 256 bytes.
        try await tmux.press("n")
        let ids = try await tmux.waitFor("the ids row") { screen in
            screen.split(separator: "\n").contains { line in line.split(separator: " ").contains { Int($0).map { $0 >= 256 && $0 < 300 } ?? false } }
        }
        #expect(ids.contains("king"))

        // Back to the map: the cursor on the last query reads a whole token, the probe's ending.
        try await tmux.press("n")
        for _ in 0..<tokens { try await tmux.press("j") }
        let map = try await tmux.waitFor("the cursor on the last token") { $0.contains("@\(tokens - 1) → key") }
        let readout = try #require(map.range(of: #"query '([^']+)' @\d+"#, options: .regularExpression))
        let token = String(map[readout].dropFirst("query '".count).prefix { $0 != "'" }).replacingOccurrences(of: "·", with: " ")
        #expect(token.count > 1 && Self.probe.hasSuffix(token), "the last token read '\(token)'")

        try await tmux.quitTraining()
    }
}
