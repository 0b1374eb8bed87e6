import Foundation
import Testing
import Synchronization
@testable import Training

/// The runner `pip download`, `tar` and the PyTorch reference go through. The tests are async
/// and await `run`: a test runs on the cooperative pool, where `runAndWait` must not be called.
@Suite struct ExternalCommandTests {
    @Test func statusOutputAndStandardErrorComeBackApart() async throws {
        let r = try await ExternalCommand.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(r.status == 3)
        #expect(r.output == "out\n")
        #expect(r.errorOutput == "err\n")
        let merged = try await ExternalCommand.run(["sh", "-c", "echo out; echo err >&2"], mergingErrors: true)
        #expect(merged.output == "out\nerr\n" && merged.errorOutput == "")
    }

    @Test func aSignalIsReportedAsAShellWould() async throws {
        #expect(try await ExternalCommand.run(["sh", "-c", "kill -9 $$"]).status == 128 + 9)
    }

    @Test func aMissingProgramIsALaunchError() async {
        await #expect(throws: ExternalCommand.LaunchError.self) { try await ExternalCommand.run(["nanoscope-no-such-program"]) }
    }

    /// A child that writes far more to stderr than a pipe holds before it writes to stdout
    /// finishes: both streams are read while it runs.
    @Test(.timeLimit(.minutes(1))) func aFullStandardErrorDoesNotStallTheChild() async throws {
        let r = try await ExternalCommand.run(["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; echo done"])
        #expect(r.status == 0 && r.output == "done\n" && r.errorOutput.utf8.count == 1_000_000)
    }

    /// `runAndWait` from plain threads, as the trainer's thread and the main thread call it:
    /// more callers at once than the machine has cores, none of them starved.
    @Test(.timeLimit(.minutes(1))) func synchronousCallersOnTheirOwnThreadsAllFinish() async throws {
        let statuses = Mutex<[Int32]>([])
        let callers = 6
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let remaining = Atomic<Int>(callers)
            for _ in 0..<callers {
                Thread {
                    let status = (try? ExternalCommand.runAndWait(["sh", "-c", "sleep 0.2; echo ok"]).status) ?? -1
                    statuses.withLock { $0.append(status) }
                    if remaining.subtract(1, ordering: .sequentiallyConsistent).newValue == 0 { finished.resume() }
                }.start()
            }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 0, count: callers))
    }
}
