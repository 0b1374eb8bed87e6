import Foundation
import Training
import TerminalUI

/// The status bar's cluster section while training data-parallel (`mpirun -np N nanoscope train
/// --distributed`): the ranks, each rank's tokens/s over its own compute time, and the gradient
/// all-reduce of the latest step with its share of the step —
///
///     ⧉ 2 ranks r0 14.2k r1 13.9k tok/s · all-reduce 3.2ms 1.4% · wait 0.8ms
///
/// `wait` is the time the fastest rank spent at the barrier for the slowest (imbalance, a busy
/// core): communication itself is the all-reduce figure.
enum ClusterSection {
    static func fields(_ cluster: ClusterStatus?, palette: Palette) -> [(text: String, priority: Int, style: Style)] {
        guard let c = cluster else { return [] }
        let perRank = c.ranks.map { "r\($0.rank) \(Format.rate($0.tokensPerSecond))" }.joined(separator: " ")
        let wait = c.ranks.map(\.waitSeconds).max() ?? 0
        return [
            ("⧉ \(c.ranks.count) ranks \(perRank) tok/s", 4, palette.status.adding(.bold)),
            (String(format: "all-reduce %@ %.1f%%", milliseconds(c.allReduceSeconds), 100 * c.allReduceShare)
                + " · wait " + milliseconds(wait), 5, palette.status),
        ]
    }

    static func milliseconds(_ s: Double) -> String {
        s >= 1 ? String(format: "%.2fs", s) : s >= 0.01 ? String(format: "%.0fms", s * 1e3) : String(format: "%.1fms", s * 1e3)
    }
}
