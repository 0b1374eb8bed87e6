#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anything that goes wrong reading or writing a run's files: a malformed checkpoint, a full disk,
/// a checkpoint that does not fit the model.
///
/// The message names the file and the problem in words a user can act on; it never needs a stack
/// trace to be understood.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or folder) concerned.
    public let path: String
    /// What is wrong with it.
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }

    /// An error for a failed system call, carrying the C library's own words for `code`.
    public static func system(_ path: String, _ action: String, errno code: Int32) -> CheckpointError {
        CheckpointError(path, "\(action): \(String(cString: strerror(code))) (errno \(code))")
    }
}
