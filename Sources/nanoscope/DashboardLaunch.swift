import Dashboard
import Foundation
import Training

/// Runs the dashboard on this thread over `host` until the user quits, then prints how the run
/// ended. When no dashboard can be opened, any training is stopped (it checkpoints) and the
/// command fails with `hint` saying what to do instead. Ended by a signal (or Ctrl-C), the
/// process exits 128 + the signal once the checkpoint is written, as `runHeadless` does.
func runDashboardAndReport(host: TrainingHost, options: DashboardOptions, hint: String) {
    let result: DashboardResult
    do {
        result = try runDashboard(control: host, options: options)
    } catch {
        host.send(.stop)
        while !host.isDone { Thread.sleep(forTimeInterval: 0.05) }
        fail("could not open the dashboard (\(error)); \(hint)")
    }
    let final = host.snapshot()
    if case .failed(let why) = final.state { fail(why) }
    if final.state != .idle {
        printErr("run \(final.runName): stopped at step \(final.step)/\(final.maxSteps)"
                 + (final.latestValLoss.map { String(format: ", val loss %.4f", $0) } ?? "")
                 + (final.lastCheckpoint.map { "; last checkpoint \($0)" } ?? ""))
    }
    if let signal = result.interruptedBy {
        printErr("interrupted (\(Interrupts.name(of: signal))): exit status \(128 + signal)")
        Foundation.exit(128 + signal)
    }
}
