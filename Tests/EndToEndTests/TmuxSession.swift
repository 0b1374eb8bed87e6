import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Drives the real `nanoscope` binary inside a detached tmux session, as a person at a
/// terminal would: type keys, read the screen.
///
/// Async because swift-subprocess is: a synchronous wrapper would block threads of the
/// cooperative pool that tests run on (two, on two cores), and the library needs that pool to
/// finish a run — two tests waiting at once would wait forever.
final class TmuxSession {
    let socket: String
    let name = "e2e"
    /// The tmux server's process, so `close` can end it without running another program (it
    /// runs from `deinit` and `defer`, which cannot wait for one).
    private let serverPID: pid_t

    init(width: Int, height: Int, label: String = #function) async throws {
        socket = "nanoscope-e2e-\(getpid())-\(abs(label.hashValue) % 100_000)"
        // A plain shell with a recognisable prompt, so "the prompt is clean" can be checked.
        try await Self.tmux(socket, ["new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", name,
                                     "env -i HOME=\(NSHomeDirectory()) PATH=/usr/bin:/bin TERM=tmux-256color LANG=C.UTF-8 PS1='READY$ ' bash --norc --noprofile"])
        let pid = try await Self.tmux(socket, ["display-message", "-p", "-t", name, "#{pid}"])
        serverPID = try #require(pid_t(pid.trimmingCharacters(in: .whitespacesAndNewlines)), "tmux printed no server pid: \(pid)")
    }

    /// Ends the tmux server (SIGTERM) and with it everything running in the pane.
    func close() { kill(serverPID, SIGTERM) }

    deinit { close() }

    @discardableResult
    private static func tmux(_ socket: String, _ args: [String]) async throws -> String {
        try await runToCompletion(["tmux", "-L", socket, "-f", "/dev/null"] + args).output
    }

    @discardableResult
    func tmux(_ args: [String]) async throws -> String { try await Self.tmux(socket, args) }

    func type(_ text: String) async throws { try await tmux(["send-keys", "-t", name, "-l", text]) }
    func press(_ key: String) async throws { try await tmux(["send-keys", "-t", name, key]) }
    func screen() async throws -> String { try await tmux(["capture-pane", "-p", "-t", name]) }
    /// The screen with colour escape sequences, to see a theme change.
    func screenWithColors() async throws -> String { try await tmux(["capture-pane", "-p", "-e", "-t", name]) }
    /// Whether the session still exists: it ends when a program started with `exec` exits.
    func isRunning() async -> Bool {
        (try? await runToCompletion(["tmux", "-L", socket, "-f", "/dev/null", "has-session", "-t", name]).status) == 0
    }
    func resize(width: Int, height: Int) async throws {
        try await tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Polls the screen until `condition` holds or `timeout` seconds pass; returns the last screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ condition: (String) -> Bool) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try await screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out waiting for \(what); screen was:\n\(last)")
        throw TimeoutError(what: what)
    }

    struct TimeoutError: Error { let what: String }
}

extension TmuxSession {
    /// The package folder, so the programs started here find `Samples/`.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `nanoscope train <arguments>` in this session, from the package folder, once the shell is
    /// ready. `exec`: the session ends with the program. `timeout`: even if the test dies, the
    /// trainer it started does not outlive it for long.
    /// Quits a training dashboard as a user does — `q`, the prompt, `y` — and expects the program
    /// to have exited within 15 s.
    func quitTraining() async throws {
        try await press("q")
        try await waitFor("the quit prompt") { $0.contains("Quit?") }
        try await press("y")
        let deadline = Date().addingTimeInterval(15)
        while await isRunning(), Date() < deadline { try await Task.sleep(for: .seconds(0.1)) }
        let stillRunning = await isRunning()
        #expect(!stillRunning, "nanoscope did not exit after quitting")
    }

    func startTraining(_ binary: String, seconds: Int, _ arguments: String) async throws {
        try await waitFor("the shell prompt") { $0.contains("READY$") }
        try await type("cd '\(Self.packageRoot.path)' && exec timeout \(seconds) '\(binary)' train " + arguments)
        try await press("Enter")
    }
}

/// The `nanoscope` binary built next to this test bundle.
func nanoscopeBinary() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("nanoscope").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/nanoscope"
    try #require(FileManager.default.isExecutableFile(atPath: fallback), "the nanoscope binary was not built next to the tests")
    return fallback
}

/// A temporary folder with a generated corpus, removed afterwards.
final class Workspace {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "nanoscope-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var text = ""
        var x: UInt64 = 12345
        let words = ["the", "king", "and", "queen", "of", "hearts", "sat", "on", "a", "throne", "while", "fools", "sang"]
        while text.utf8.count < 200_000 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            text += words[Int(x >> 33) % words.count] + ((x >> 20) % 9 == 0 ? ".\n" : " ")
        }
        try text.write(toFile: corpus, atomically: true, encoding: .utf8)
    }
    var corpus: String { path + "/corpus.txt" }
    var runs: String { path + "/runs" }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
