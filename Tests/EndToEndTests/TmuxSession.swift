import Foundation
import Testing

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

    deinit { _ = try? tmux(["kill-server"]) }

    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["tmux", "-L", socket] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
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
