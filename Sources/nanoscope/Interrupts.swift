import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT), SIGTERM and SIGHUP into a flag the training loop reads between steps
/// (and between micro-batches), so a run always stops where it can save what it has done. The
/// command then exits 128 + the first signal, as a shell reports a process that signal killed,
/// and as the dashboard does.
final class Interrupts: Sendable {
    static let shared = Interrupts()
    private let flag = Atomic<Int>(0)
    private let first = Atomic<Int32>(0)
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []

    /// Number of interrupts received so far (a third while stopping quits at once).
    var count: Int { flag.load(ordering: .acquiring) }

    /// The first signal received (SIGINT when none was, for callers that only ask after one).
    var signal: Int32 {
        let s = first.load(ordering: .acquiring)
        return s != 0 ? s : SIGINT
    }

    /// 128 + `signal`.
    var exitStatus: Int32 { 128 + signal }

    func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                _ = first.compareExchange(expected: 0, desired: sig, ordering: .sequentiallyConsistent)
                let n = flag.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                if n >= 3 { Foundation.exit(exitStatus) }
            }
            source.resume()
            sources.append(source)
        }
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT, Ctrl-C"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }
}
