import Dashboard
import Foundation
import Training

/// Runs the dashboard on this thread over `host` until the user quits, then prints how the run
/// ended. When no dashboard can be opened, any training is stopped (it checkpoints) and the
/// command fails with `hint` saying what to do instead.
func runDashboardAndReport(host: TrainingHost, options: DashboardOptions, hint: String) {
    do {
        try runDashboard(control: host, options: options)
    } catch {
        host.send(.stop)
        while !host.isDone { Thread.sleep(forTimeInterval: 0.05) }
        fail("could not open the dashboard (\(error)); \(hint)")
    }
    let final = host.snapshot()
    if case .failed(let why) = final.state { fail(why) }
    guard final.state != .idle else { return }
    printErr("run \(final.runName): stopped at step \(final.step)/\(final.maxSteps)"
             + (final.latestValLoss.map { String(format: ", val loss %.4f", $0) } ?? "")
             + (final.lastCheckpoint.map { "; last checkpoint \($0)" } ?? ""))
}
