import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14 item 12 on the real binary under tmux: a signal ends the dashboard with 128 + the
/// signal (after a long step is abandoned between micro-batches), and every way out — SIGTERM,
/// SIGHUP, a crash signal — leaves the pane's terminal modes reset and echo on.
@Suite(.serialized) struct TerminalExitEndToEndTests {
    let binary: String
    let ws: Workspace

    init() throws {
        binary = try nanoscopeBinary()
        ws = try Workspace()
    }

    /// Starts a dashboard training a step of 60000 micro-batches, sends `signal`, and returns
    /// the exit status the shell saw, `stty -a` afterwards and tmux's mode flags.
    func run(_ signal: String, name: String) async throws -> (status: Int?, stty: String, flags: String, seconds: Double) {
        let tmux = try await TmuxSession(width: 120, height: 40, label: name)
        defer { tmux.close() }
        let w = ws.path + "/" + name
        try FileManager.default.createDirectory(atPath: w, withIntermediateDirectories: true)
        let args = [binary, "train", "--data", ws.corpus, "--runs_dir=\(ws.runs)", "--run_name=\(name)", "--n_layer=1", "--n_embd=16",
                    "--n_head=2", "--block_size=16", "--batch_size=4", "--eval_iters=1", "--eval_interval=0",
                    "--gradient_accumulation_steps=60000", "--max_iters=2"].map { "'\($0)'" }.joined(separator: " ")
        try await tmux.type("sh -c 'echo $$ > \(w)/pid; exec \"$@\"' sh \(args); echo $? > \(w)/code; stty -a > \(w)/stty")
        try await tmux.press("Enter")
        try await tmux.waitFor("the dashboard", timeout: 60) { $0.contains("Loss") && $0.contains("Checkpoints") }
        let pid = try #require(pid_t(try String(contentsOfFile: w + "/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let start = Date()
        _ = try await runToCompletion(["kill", "-" + signal, String(pid)])
        var code: String?
        while Date().timeIntervalSince(start) < 60 {
            if let text = try? String(contentsOfFile: w + "/code", encoding: .utf8), text.hasSuffix("\n") { code = text; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = Date().timeIntervalSince(start)
        try await Task.sleep(for: .milliseconds(300))
        let stty = (try? String(contentsOfFile: w + "/stty", encoding: .utf8)) ?? ""
        let flags = try await tmux.tmux(["display-message", "-p", "-t", tmux.name,
                                         "#{keypad_cursor_flag} #{keypad_flag} #{cursor_flag} #{alternate_on}"])
        return (code.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, stty, flags.trimmingCharacters(in: .whitespacesAndNewlines), seconds)
    }

    @Test(arguments: [("TERM", 143), ("HUP", 129), ("ABRT", 134), ("SEGV", 139)])
    func everyExitResetsTheTerminal(_ signal: String, _ status: Int) async throws {
        let r = try await run(signal, name: "sig" + signal.lowercased())
        #expect(r.status == status, "exit status after SIG\(signal)")
        #expect(r.flags == "0 0 1 0", "keypad_cursor keypad cursor alternate: \(r.flags)")
        #expect(r.stty.contains(" echo ") && !r.stty.contains("-echo "), "\(r.stty)")
        if status < 134 {
            // The 60000-micro-batch step was abandoned, not finished: seconds, not minutes.
            #expect(r.seconds < 30, "took \(r.seconds) s")
        }
    }
}
