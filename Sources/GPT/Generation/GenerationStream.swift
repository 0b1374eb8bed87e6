import Synchronization

/// What `Generator.generate` hands to its callback for every token.
public struct GeneratedToken: Sendable, Equatable {
    public var token: Int32
    /// 0 for the first generated token.
    public var index: Int
    /// The distribution the token was drawn from, when asked for (`inspectTop`).
    public var distribution: NextTokenDistribution?
    /// log p(token) under the model itself (softmax of the raw logits, before temperature and
    /// cuts): how likely the model finds what the strategy chose.
    public var modelLogProbability: Float = 0
}

/// The callback's answer: keep going or stop now.
public enum GenerationControl: Sendable, Equatable {
    case proceed
    case stop
}

/// Why `generate` returned.
public enum GenerationEnd: Sendable, Equatable {
    /// `maxTokens` were generated.
    case finished
    /// The callback returned `.stop`.
    case stopped
    /// The cancellation was set.
    case cancelled
}

/// A flag another thread sets to stop a running `generate` before its next token. One per run:
/// to restart after a settings change, cancel the old one and start with a fresh flag.
public final class GenerationCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

