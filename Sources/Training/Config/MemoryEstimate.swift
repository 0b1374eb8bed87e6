import Foundation
import GPT

/// What a run will hold in memory, by part, computed from the config alone — before anything is
/// allocated, with overflow-checked arithmetic — so a config that cannot fit is refused with its
/// figure, and the dashboard can show the estimate next to the measured RSS.
///
///     parameters            N floats          (the FP32 master weights)
///     gradients             N                 (FP32 accumulation)
///     AdamW moments         2N                (m and v)
///     16-bit weights        N                 (bfloat16/float16 only: W and Wᵀ in 16 bits, N halves each)
///     activations           see ActivationFootprint: per layer, plus attention, plus the head
public struct MemoryEstimate: Sendable, Equatable {
    public var parameters: Int
    /// Whether the products run on 16-bit copies of the weights (`dtype` bfloat16 or float16).
    public var halfWeights = false
    public var activations: Int
    /// Attention's share of `activations` (P, or the log-sum-exp when fused).
    public var attention: Int

    /// Bytes of each part, in the order printed.
    public var parts: [(name: String, bytes: Int)] {
        [("parameters", 4 * parameters), ("gradients", 4 * parameters), ("AdamW moments", 8 * parameters)]
            + (halfWeights ? [("16-bit weights", 4 * parameters)] : []) + [("activations", 4 * activations)]
    }

    /// Total bytes (the parts cannot overflow: `of` checked them).
    public var total: Int { parts.reduce(0) { $0 + $1.bytes } }

    /// nil when any figure overflows (a size no machine has).
    public static func of(_ config: TrainConfig, vocabSize: Int, workers: Int) -> MemoryEstimate? {
        let model = config.modelConfig(vocabSize: vocabSize)
        guard let n = model.checkedParameterCount, n <= Int.max / 32,
              let footprint = ActivationFootprint.of(model, batch: config.batchSize, seqLen: config.blockSize,
                                                     workers: workers, options: config.memoryOptions),
              let activations = footprint.total, activations <= Int.max / 32 else { return nil }
        guard let attention = footprint.attention else { return nil }
        return MemoryEstimate(parameters: n, halfWeights: config.dtype != .float32, activations: activations,
                              attention: attention)
    }

    /// One line: "parameters 3.2 MB · gradients 3.2 MB · … = 49.9 MB".
    public var summary: String {
        parts.map { "\($0.name) \(Self.format(bytes: $0.bytes))" }.joined(separator: " · ")
            + " (attention \(Self.format(bytes: 4 * attention)))" + " = \(Self.format(bytes: total))"
    }

    /// The memory this process may use (see `MemoryBudget.available`).
    public static var available: Int { MemoryBudget.available.bytes }

    public static func format(bytes: Int) -> String { MemoryBudget.format(bytes) }
}
