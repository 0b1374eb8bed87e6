import Foundation
import Dispatch
import Synchronization
import Subprocess

/// Runs other programs (`pip download`, `tar`, the PyTorch reference) to completion, through
/// swift-subprocess, for the synchronous code that needs them.
///
/// swift-subprocess reads standard output and standard error concurrently, so a child that
/// fills one pipe while we wait on the other cannot stall; both are collected whole.
public enum ExternalCommand {
    public struct Result: Sendable {
        /// The exit code, or 128 + the signal number if a signal ended the process (as a shell
        /// reports it), so one number tells success (0) from failure.
        public let status: Int32
        /// Standard output (with standard error in it, for `mergingErrors`).
        public let output: String
        /// Standard error, when it was collected apart from standard output.
        public let errorOutput: String
    }

    /// Why a program could not be run at all (not found, not startable).
    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Output beyond this is an error rather than memory: everything run here prints little.
    static let outputLimit = 64 << 20

    /// Runs `arguments[0]` (a path, or a name looked up in `PATH`) with the rest as its arguments and waits for it.
    /// `mergingErrors` interleaves standard error into `output`, as `2>&1` would.
    public static func run(_ arguments: [String], mergingErrors: Bool = false) async throws(LaunchError) -> Result {
        guard let name = arguments.first else { throw LaunchError(description: "no program given") }
        let rest = Arguments(Array(arguments.dropFirst()))
        // `.name` searches PATH and refuses a path; a program given by its path runs from there.
        let executable: Executable = name.contains("/") ? .path(.init(name)) : .name(name)
        do {
            if mergingErrors {
                let r = try await Subprocess.run(executable, arguments: rest, input: .none,
                                                 output: .string(limit: outputLimit), error: .combinedWithOutput)
                return Result(status: r.terminationStatus.shellStatus, output: r.standardOutput, errorOutput: "")
            }
            let r = try await Subprocess.run(executable, arguments: rest, input: .none,
                                             output: .string(limit: outputLimit), error: .string(limit: outputLimit))
            return Result(status: r.terminationStatus.shellStatus, output: r.standardOutput, errorOutput: r.standardError)
        } catch {
            throw LaunchError(description: "\(name) could not be run: \(error)")
        }
    }

    /// `run`, for synchronous callers: `Dataset.load` (on the main thread or the trainer's
    /// thread) and the commands' `run()` (on the main thread).
    ///
    /// The work runs on a task of its own while the caller waits on a semaphore. That task
    /// prefers `executor`, a dispatch queue, to Swift's cooperative pool, so the work mostly stays
    /// off the pool; but swift-subprocess starts one unstructured task per run, which does run
    /// on the pool. So this must not be called from a thread *of* the pool (async code, a
    /// synchronous Swift Testing test): with every pool thread (two, on two cores) waiting here,
    /// that task would never run (seen here: eight such callers hung). Async code awaits `run`.
    public static func runAndWait(_ arguments: [String], mergingErrors: Bool = false) throws(LaunchError) -> Result {
        let outcome = Mutex<Swift.Result<Result, LaunchError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: executor) {
            let result: Swift.Result<Result, LaunchError>
            do throws(LaunchError) {
                result = .success(try await run(arguments, mergingErrors: mergingErrors))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    static let executor = QueueExecutor()

    /// A task executor over a concurrent dispatch queue, whose threads are not the cooperative
    /// pool's.
    final class QueueExecutor: TaskExecutor {
        let queue = DispatchQueue(label: "nanoscope.child-process", attributes: .concurrent)

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }
}

extension TerminationStatus {
    /// The status as a shell reports it: the exit code, or 128 + the signal.
    var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}
