import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs a program (by path, or by name looked up in `PATH`) to completion through swift-subprocess,
/// standard input from /dev/null and standard error merged into the output (as `2>&1`);
/// `environment` is added to this process's. The status is the exit code, or -1 if a signal ended
/// the program; a program that cannot be started throws.
///
/// swift-subprocess fits the programs the tests drive where `Foundation.Process` did not: it
/// waits for the child itself (a pidfd), not for a descriptor the child inherits — which
/// `tmux new-session` hands to the server it leaves running, so `Process` never returned — and
/// it clears the signal mask, which test threads block and exec would pass on (tmux, its
/// shell and the dashboard would never see SIGWINCH).
///
/// It is async, as the library is, and has no synchronous twin on purpose: Swift Testing runs
/// tests on the cooperative pool (two threads on two cores), a synchronous wrapper would block
/// a pool thread per waiting test, and the library needs a pool thread to finish each run — two
/// tests waiting at once would wait forever (seen here with a semaphore bridge).
@discardableResult
public func runToCompletion(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    guard let program = arguments.first else { return (127, "no program given") }
    var overrides: [Environment.Key: String?] = [:]
    for (key, value) in environment { overrides[Environment.Key(stringLiteral: key)] = value }
    let result = try await Subprocess.run(executable(program), arguments: Arguments(Array(arguments.dropFirst())),
                                          environment: Environment.inherit.updating(overrides), input: .none,
                                          output: .string(limit: 64 << 20), error: .combinedWithOutput)
    let status: Int32 = switch result.terminationStatus {
    case .exited(let code): code
    case .signaled: -1
    }
    return (status, result.standardOutput)
}

/// A program by path (it has a `/`) or by name, looked up in `PATH`.
public func executable(_ program: String) -> Executable {
    program.contains("/") ? .path(FilePath(program)) : .name(program)
}
