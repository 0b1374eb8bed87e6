import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real binary, training, under tmux at 120×40: the Gradients and Attention panes draw,
/// their keys change what they show, the maps change as training proceeds, a typed probe is
/// taken, and quitting ends the program.
///
/// It runs `.build/<config>/nanoscope` built beside this test bundle (`swift test` builds it),
/// on a private tmux server (`-L`), which it kills at the end.
@Suite(.serialized) struct InsightPanesEndToEndTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `nanoscope` next to the test bundle (`.build/debug/NanoscopePackageTests.xctest`).
    static func binary() -> String? {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL]
        candidates += [Bundle.main.bundleURL.deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("nanoscope").path }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) { try runToCompletion(arguments) }

    final class Tmux {
        let socket = "nanoscope-e2e-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let session = "insight"

        func start(_ command: String) throws {
            let r = try run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command])
            #expect(r.status == 0, "tmux did not start: \(r.output)")
        }

        func keys(_ keys: String...) throws {
            try run(["tmux", "-L", socket, "send-keys", "-t", session] + keys)
        }

        /// The screen as text (`escapes`: with colour escape sequences).
        func screen(escapes: Bool = false) throws -> String {
            try run(["tmux", "-L", socket, "capture-pane", "-p", "-t", session] + (escapes ? ["-e"] : [])).output
        }

        var isRunning: Bool { (try? run(["tmux", "-L", socket, "has-session", "-t", session]).status) == 0 }

        /// Polls the screen until `condition` holds; records an issue with the last screen otherwise.
        @discardableResult
        func waitFor(_ what: String, timeout: TimeInterval = 15, sourceLocation: SourceLocation = #_sourceLocation,
                     _ condition: (String) -> Bool) throws -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                last = try screen()
                if condition(last) { return last }
                Thread.sleep(forTimeInterval: 0.1)
            }
            Issue.record("timed out waiting for \(what); screen:\n\(last)", sourceLocation: sourceLocation)
            return last
        }

        deinit { _ = try? run(["tmux", "-L", socket, "kill-server"]) }
    }

    /// The corpus: nanoGPT's tinyshakespeare where the team has it, else a generated text.
    static func corpus(in folder: String) throws -> String {
        let shared = "/work/shared/data/tinyshakespeare.txt"
        if FileManager.default.fileExists(atPath: shared) { return shared }
        let path = folder + "/corpus.txt"
        let lines = (0..<4000).map { i in "Line \(i): to be, or not to be, that is the question of the day.\n" }
        try lines.joined().write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The first 64 characters of the val split, as the pane labels them.
    static func probeLabels(_ corpusPath: String) throws -> String {
        let scalars = Array(try String(contentsOfFile: corpusPath, encoding: .utf8).unicodeScalars)
        let start = Int(Double(scalars.count) * 0.9)
        return String(String.UnicodeScalarView(scalars[start..<(start + 64)].map { s -> Unicode.Scalar in
            s == " " ? "·" : s == "\n" ? "⏎" : s
        }))
    }

    /// Lines of an `-e` capture between the pane's top border and the hint line.
    static func body(_ screen: String) -> [Substring] { Array(screen.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(3).prefix(33)) }

    @Test(.timeLimit(.minutes(1))) func thePanesDrawFollowKeysAndChangeWhileTraining() throws {
        let binary = try #require(Self.binary(), "nanoscope is not built next to the tests (run `swift build` first)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nanoscope-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = try Self.corpus(in: folder)
        let tmux = Tmux()
        // `timeout`: even if this test dies, the trainer it started does not outlive it for long.
        try tmux.start("cd '\(Self.packageRoot.path)' && exec env -u NO_COLOR TERM=tmux-256color timeout 120 '\(binary)' train Samples/shakespeare-char.toml --data '\(data)' "
                       + "--max_iters=100000 --telemetry_interval=10 --eval_interval=0 --runs_dir='\(folder)/runs'")

        // Both panes fill with data in the grid.
        try tmux.waitFor("gradient statistics and maps") { $0.contains("▶ wte.w") && $0.contains("layer 1/4 · head 1/4") }

        // Gradients, expanded: the overview, the charts; arrows select, v switches to values.
        try tmux.keys("Tab")
        try tmux.keys("e")
        try tmux.waitFor("the expanded gradients pane") { $0.contains("update/data per layer") && $0.contains("‖g‖") && $0.contains("0.mlp.c_proj.w") }
        try tmux.keys("j", "Down")
        try tmux.waitFor("the third tensor selected") { $0.contains("▶ 0.ln_1.w") && $0.contains("0.ln_1.w [128]") }
        try tmux.keys("v")
        try tmux.waitFor("raw values") { $0.contains("values · step") && !$0.contains("|g| 1e-10") }

        // Attention, expanded: probe labels, layer and head keys; the maps change with training.
        try tmux.keys("Tab")
        let labels = try Self.probeLabels(data)
        try tmux.waitFor("the labelled attention map") { $0.contains("layer 1/4 · head 1/4") && $0.contains(String(labels.prefix(30))) }
        try tmux.keys("]", "}")
        let first = try tmux.waitFor("layer 2, head 2") { $0.contains("layer 2/4 · head 2/4") }
        let firstColours = Self.body(try tmux.screen(escapes: true))
        let step = { (screen: String) -> Int? in
            guard let range = screen.range(of: #"head 2/4 · step (\d+)"#, options: .regularExpression) else { return nil }
            return Int(screen[range].split(separator: " ").last!)
        }
        let firstStep = try #require(step(first))
        try tmux.waitFor("newer maps", timeout: 20) { (step($0) ?? 0) >= firstStep + 20 }
        #expect(Self.body(try tmux.screen(escapes: true)) != firstColours, "the heatmap did not change as training went on")

        // A typed probe replaces the labels.
        try tmux.keys("p")
        try tmux.waitFor("the probe input line") { $0.contains("probe›") }
        try tmux.keys("-l", "To be, or not")
        try tmux.keys("Enter")
        try tmux.waitFor("the new probe's labels") { $0.contains("To·be,·or·not") }

        // Quit: confirm, the trainer stops, the program ends.
        try tmux.keys("q")
        try tmux.waitFor("the quit prompt") { $0.contains("Quit?") }
        try tmux.keys("y")
        let deadline = Date().addingTimeInterval(15)
        while tmux.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!tmux.isRunning, "nanoscope did not exit after quitting")
    }
}
