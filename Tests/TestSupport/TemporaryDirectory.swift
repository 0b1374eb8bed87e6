import Foundation

/// A fresh folder under the system temporary directory, removed when the value goes away.
public final class TemporaryDirectory {
    public let path: String

    public init(_ label: String = #function) {
        let base = FileManager.default.temporaryDirectory.path + "/nanoscope-tests-XXXXXX"
        var template = Array(base.utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed for \(label)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Names in the folder, hidden ones included, sorted.
    public func contents(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : file(sub))) ?? []).sorted()
    }
}
