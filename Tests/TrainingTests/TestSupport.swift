import Foundation
import Testing
@testable import Training

/// A fresh folder under the system temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = #function) {
        let base = FileManager.default.temporaryDirectory.path + "/nanoscope-tests-XXXXXX"
        var template = Array(base.utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed for \(label)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    /// Names in the folder, hidden ones included, sorted.
    func contents(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : file(sub))) ?? []).sorted()
    }
}


/// Path of a committed fixture file.
func fixturePath(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
    return url.path
}

/// Runs `body`, expecting a `CheckpointError`; returns it (nil, with a recorded issue, otherwise).
func expectCheckpointError(
    _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> CheckpointError? {
    do {
        try body()
        Issue.record("expected a CheckpointError, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        return error
    } catch {
        Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
