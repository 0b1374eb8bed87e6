import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Drives the real `nanoscope` binary inside a detached tmux session, as a person at a
/// terminal would: type keys, read the screen.
final class TmuxSession {
    let socket: String
    let name = "e2e"

    init(width: Int, height: Int, label: String = #function) throws {
        socket = "nanoscope-e2e-\(getpid())-\(abs(label.hashValue) % 100_000)"
        // A plain shell with a recognisable prompt, so "the prompt is clean" can be checked.
        try tmux(["new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", name,
                  "env -i HOME=\(NSHomeDirectory()) PATH=/usr/bin:/bin TERM=tmux-256color LANG=C.UTF-8 PS1='READY$ ' bash --norc --noprofile"])
    }

    /// Ends the tmux server and with it everything running in the pane.
    func close() { _ = try? tmux(["kill-server"]) }

    deinit { close() }

    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        try runToCompletion(["tmux", "-L", socket, "-f", "/dev/null"] + args).output
    }

    func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", text]) }
    func press(_ key: String) throws { try tmux(["send-keys", "-t", name, key]) }
    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", name]) }
    /// The screen with colour escape sequences, to see a theme change.
    func screenWithColors() throws -> String { try tmux(["capture-pane", "-p", "-e", "-t", name]) }
    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Polls the screen until `condition` holds or `timeout` seconds pass; returns the last screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 20, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Issue.record("timed out waiting for \(what); screen was:\n\(last)")
        throw TimeoutError(what: what)
    }

    struct TimeoutError: Error { let what: String }
}

/// Runs a command to completion with posix_spawn and waitpid; output goes through a temporary
/// file. Not `Foundation.Process`: on Linux it learns of the child's exit through a descriptor
/// the child inherits, and `tmux new-session` leaves a server holding it, so it never returns.
@discardableResult
func runToCompletion(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("nanoscope-e2e-\(UUID().uuidString).out").path
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Test runners call this from worker threads that block most signals, and a blocked mask is
    // inherited through exec: tmux, its shell and the dashboard would never see SIGWINCH.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS: the low 7 bits are 0 for a normal exit, the code is in bits 8–15.
    return (status & 0x7F == 0 ? (status >> 8) & 0xFF : -1, output)
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
