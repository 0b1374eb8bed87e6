import Foundation
import Testing
import TerminalUI

/// Whole-frame golden files: a frame's full text compared with `Golden/<name>.txt`, line by line.
///
/// To re-record after an intended change of what the dashboard draws:
///
///     NANOSCOPE_RECORD_GOLDEN=1 swift test --scratch-path .build-dash --filter GoldenFrameTests
///
/// writes every golden file and fails each test saying it recorded (so a recording run never
/// passes by accident); run again without the variable, then read the new files (`cat` them:
/// they are what a user sees) and `git diff Tests/DashboardTests/Golden` before committing.
enum GoldenFrame {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static var recording: Bool { ProcessInfo.processInfo.environment["NANOSCOPE_RECORD_GOLDEN"] == "1" }

    /// The frame as stored: every line (trailing spaces kept, the frame is exactly `width`
    /// columns), each ended by a newline.
    static func text(of frame: CellBuffer) -> String {
        frame.lines.map { $0 + "\n" }.joined()
    }

    /// Where `actual` and `expected` first differ, both lines shown; nil when equal.
    static func difference(actual: String, expected: String) -> String? {
        guard actual != expected else { return nil }
        let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
        let first = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        func line(_ lines: [String], _ i: Int) -> String { i < lines.count ? "|\(lines[i])|" : "(no such line)" }
        var column = ""
        if first < a.count, first < e.count {
            let x = zip(a[first].unicodeScalars, e[first].unicodeScalars).prefix { $0 == $1 }.count
            column = ", column \(x + 1)"
        }
        return """
            first difference at line \(first + 1)\(column) (frame lines: actual \(a.count - 1), golden \(e.count - 1))
              golden: \(line(e, first))
              actual: \(line(a, first))
            """
    }

    /// Compares `frame` with the golden file `name`, or records it when NANOSCOPE_RECORD_GOLDEN=1.
    static func check(_ frame: CellBuffer, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let url = directory.appendingPathComponent("\(name).txt")
        let actual = text(of: frame)
        if recording {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: url, options: .atomic)
                Issue.record("recorded \(url.path); run again without NANOSCOPE_RECORD_GOLDEN to compare",
                             sourceLocation: sourceLocation)
            } catch {
                Issue.record("could not record \(url.path): \(error)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path), let expected = String(data: data, encoding: .utf8) else {
            Issue.record("no golden file \(url.path); record it with NANOSCOPE_RECORD_GOLDEN=1 swift test --filter GoldenFrameTests",
                         sourceLocation: sourceLocation)
            return
        }
        if let difference = difference(actual: actual, expected: expected) {
            Issue.record("""
                frame \(name) differs from \(url.path)
                \(difference)
                (if the change is intended, re-record with NANOSCOPE_RECORD_GOLDEN=1 and review the diff)
                """, sourceLocation: sourceLocation)
        }
    }
}
