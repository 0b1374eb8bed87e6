import Foundation
import Synchronization

/// Turns Ctrl-C (SIGINT) and SIGTERM into a flag the training loop reads between steps, so a
/// run always stops at a step boundary and can save what it has done.
final class Interrupts: Sendable {
    static let shared = Interrupts()
    private let flag = Atomic<Int>(0)
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []

    /// Number of interrupts received so far (a second Ctrl-C while stopping quits at once).
    var count: Int { flag.load(ordering: .acquiring) }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                let n = flag.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
                if n >= 3 { Foundation.exit(130) }
            }
            source.resume()
            sources.append(source)
        }
    }
}
