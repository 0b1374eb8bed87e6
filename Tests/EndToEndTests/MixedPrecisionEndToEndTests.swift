import Foundation
import Testing

/// float16 on the real binary under tmux: with loss scaling off, the Gradients pane shows float16
/// flushing part of the gradient to zero (S = 1); with it on, the status bar shows the scale.
@Suite(.serialized) struct MixedPrecisionEndToEndTests {
    /// A small model, so that the debug build trains a few steps a second.
    static func arguments(_ ws: Workspace, _ extra: String) -> String {
        "Samples/shakespeare-char.toml --data '\(ws.corpus)' --n_layer=2 --n_head=2 --n_embd=64 --block_size=64 --batch_size=8 "
            + "--max_iters=100000 --telemetry_interval=5 --eval_interval=0 --runs_dir='\(ws.runs)' " + extra
    }

    /// The overview's fp16→0 column, tensor by tensor: the text under the header's `fp16→0`
    /// (right-aligned to its last column) on each line that follows it.
    static func flushColumn(_ screen: String) -> [(tensor: String, value: String)] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let header = Array("fp16→0".unicodeScalars)
        for (i, line) in lines.enumerated() {
            guard let start = (0...max(0, line.count - header.count)).first(where: { Array(line[$0..<min(line.count, $0 + header.count)]) == header })
            else { continue }
            let end = start + header.count
            var rows: [(String, String)] = []
            for row in lines[(i + 1)...] {
                guard row.count >= end else { break }
                let cell = String(String.UnicodeScalarView(row[(end - 7)..<end])).trimmingCharacters(in: .whitespaces)
                let name = String(String.UnicodeScalarView(row[..<(end - 7)])).split(separator: " ").first { $0.contains(".") }
                guard let name, cell.hasSuffix("%") || cell == "–" else { break }
                rows.append((String(name), cell))
            }
            if !rows.isEmpty { return rows }
        }
        return []
    }

    @Test(.timeLimit(.minutes(2))) func float16WithoutLossScalingVisiblyUnderflows() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 150, Self.arguments(ws, "--dtype=float16 --loss_scaling=false"))
        try await tmux.waitFor("the status bar's precision", timeout: 60) { $0.contains("float16 │ no loss scaling") }
        // The Gradients pane expanded: every tensor's float16 flush fraction at S = 1.
        try await tmux.press("Tab")
        try await tmux.press("e")
        let screen = try await tmux.waitFor("the fp16 column", timeout: 60) {
            $0.contains("16-bit at S=1") && !Self.flushColumn($0).isEmpty
        }
        let column = Self.flushColumn(screen)
        #expect(column.count >= 10, "tensors read: \(column)")
        let flushing = column.filter { $0.value != "0%" && $0.value != "–" }
        #expect(!flushing.isEmpty, "no tensor loses gradient values in float16 at S = 1:\n\(screen)")
        print("float16, loss scaling off, S = 1: fp16→0 per tensor: "
              + column.map { "\($0.tensor) \($0.value)" }.joined(separator: ", "))
        try await tmux.press("q")
        try await tmux.press("y")
    }

    @Test(.timeLimit(.minutes(2))) func float16ShowsTheLossScaleInTheStatusBar() async throws {
        let binary = try nanoscopeBinary()
        let ws = try Workspace()
        let tmux = try await TmuxSession(width: 120, height: 40)
        defer { tmux.close() }
        try await tmux.startTraining(binary, seconds: 150, Self.arguments(ws, "--dtype=float16"))
        let screen = try await tmux.waitFor("the loss scale", timeout: 60) { $0.contains("step ") && $0.contains("float16 │ scale ") }
        let status = screen.split(separator: "\n").first.map(String.init) ?? ""
        #expect(status.range(of: #"scale \d+"#, options: .regularExpression) != nil, "\(status)")
        try await tmux.press("Tab")
        try await tmux.press("e")
        try await tmux.waitFor("the fractions at the scale", timeout: 60) { $0.contains("16-bit at S=") && !$0.contains("16-bit at S=1 ") }
        try await tmux.press("q")
        try await tmux.press("y")
    }
}
