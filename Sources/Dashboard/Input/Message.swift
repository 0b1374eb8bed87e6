/// The one line of news on the hint line: a confirmation of a command ("checkpoint requested"),
/// a line the trainer published ("checkpoint saved: …"), a theme problem. There is one at a
/// time: a newer message replaces an older one, and each expires after its `lifetime`, so the
/// hint line never keeps showing something stale.
public struct Message: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The dashboard's answer to a key (drawn as a warning, it is about what the user just did).
        case notice
        /// A line from the trainer.
        case trainer
    }

    public var text: String
    public var kind: Kind
    /// When it was posted, on the reducer's clock (time since the dashboard started).
    public var posted: Duration

    public init(_ text: String, kind: Kind = .notice, posted: Duration) {
        self.text = text; self.kind = kind; self.posted = posted
    }

    /// How long a message of this kind stays on screen.
    public var lifetime: Duration {
        switch kind {
        case .notice: .seconds(3)
        case .trainer: .seconds(10)
        }
    }

    public func isExpired(at now: Duration) -> Bool { now - posted > lifetime }
}

/// Lines in `current` that were not in `seen`, oldest first.
///
/// The snapshot's `messages` is not a plain log: the trainer keeps its newest 50, and a
/// `TrainingHost` appends its own lines (a resume) after those of the current session, so a new
/// line can appear in the middle and old ones can drop off the front. Lines are therefore
/// matched as a multiset: a line is new when it occurs more often than it did before. (A line
/// identical to one that dropped off the front in the same frame is missed; trainer lines
/// carry a step or a path, so that does not happen in practice.)
func newTrainerMessages(_ current: [String], since seen: [String]) -> [String] {
    var remaining: [String: Int] = [:]
    for line in seen { remaining[line, default: 0] += 1 }
    var added: [String] = []
    for line in current {
        if let n = remaining[line], n > 0 { remaining[line] = n - 1 } else { added.append(line) }
    }
    return added
}
