/// Which checkpoints of a run to keep: the newest `keepLast`, plus the one with the lowest
/// validation loss. A pure function of the listing, so the rules are testable without files.
///
/// Rules, in order of precedence:
/// - A checkpoint that cannot be loaded is never deleted (the user may want to inspect it) and
///   never counts towards what is kept.
/// - The newest loadable checkpoint is always kept, whatever the policy says: pruning must never
///   leave a run without a checkpoint to resume from.
/// - The newest `keepLast` loadable checkpoints are kept.
/// - With `keepBest`, the loadable checkpoint with the lowest finite `valLoss` is kept (on a tie,
///   the later step).
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int
    public var keepBest: Bool

    public init(keepLast: Int = 3, keepBest: Bool = true) {
        self.keepLast = keepLast
        self.keepBest = keepBest
    }

    /// The checkpoints of one run that this policy removes, in step order.
    public func checkpointsToDelete(from checkpoints: [CheckpointInfo]) -> [CheckpointInfo] {
        let loadable = checkpoints.filter(\.isLoadable).sorted { $0.step < $1.step }
        guard !loadable.isEmpty else { return [] }

        var kept = Set(loadable.suffix(max(1, keepLast)).map(\.path))
        if keepBest, let best = Self.best(of: loadable) { kept.insert(best.path) }
        return loadable.filter { !kept.contains($0.path) }
    }

    /// Lowest finite validation loss; the later step wins a tie.
    public static func best(of checkpoints: [CheckpointInfo]) -> CheckpointInfo? {
        checkpoints
            .filter { $0.isLoadable && ($0.valLoss?.isFinite ?? false) }
            .min { a, b in a.valLoss! != b.valLoss! ? a.valLoss! < b.valLoss! : a.step > b.step }
    }
}
