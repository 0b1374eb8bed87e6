import GPT
import Kernels

/// What the trainer measures every `telemetry_interval` steps for the Gradients and Attention
/// panes (and `nanoscope train --telemetry`): per-tensor gradient statistics of the step (taken
/// after the backward pass, before clipping, so they show the true gradient), the update/data
/// ratio of the optimizer step, and the probe's attention maps after it.
public struct Telemetry: Sendable, Equatable {
    /// The optimizer step this describes (1-based, as `StepResult.step`).
    public var step: Int
    /// One entry per parameter tensor, in the model's layout order.
    public var tensors: [TensorStatistics]
    /// The update/data ratio over the matrices of each layer (see `TelemetryCollector.layerGroups`).
    public var layers: [LayerRatio]
    public var attention: AttentionMaps?
    /// S, the loss scale the step's backward pass used (1 without loss scaling): the tensors'
    /// `halfRange` fractions are of S·g, the gradient as a 16-bit backward pass holds it.
    public var lossScale: Float

    public init(step: Int, tensors: [TensorStatistics], layers: [LayerRatio], attention: AttentionMaps?, lossScale: Float = 1) {
        self.step = step; self.tensors = tensors; self.layers = layers; self.attention = attention
        self.lossScale = lossScale
    }

    public struct LayerRatio: Sendable, Equatable {
        public var name: String
        /// nil when the step was skipped (non-finite) and nothing changed.
        public var ratio: Float?
        public init(name: String, ratio: Float?) { self.name = name; self.ratio = ratio }
    }
}

/// Collects `Telemetry` on the trainer thread. The trainer calls it at step boundaries only, so
/// it never sees half-updated weights; it owns one spare copy of the parameters to measure what
/// the optimizer step changed.
///
/// Cost: three passes over the gradients (≈ one parameter-sized read each, with a binary search
/// per value for the log histogram and two 16-bit roundings per value for the range fractions),
/// a parameter copy and difference, and one batch-1 forward pass of the probe — a few
/// milliseconds for the baby model, paid once every `interval` steps.
public final class TelemetryCollector {
    /// Collect every this many steps (and at step 1, so the panes fill early); 0 = never.
    public var interval: Int
    public private(set) var probe: AttentionProbe?
    private let weightsBefore: FloatBuffer
    private let layout: ParameterLayout
    private let pool: WorkerPool

    public init(layout: ParameterLayout, interval: Int, probe: AttentionProbe?, pool: WorkerPool = .shared) {
        self.layout = layout
        self.interval = interval
        self.probe = probe
        self.pool = pool
        weightsBefore = FloatBuffer(count: layout.totalCount)
    }

    /// Collects for `trainer`'s model with its config's interval and the first validation window.
    public convenience init(trainer: Trainer) {
        self.init(layout: trainer.model.layout, interval: trainer.config.telemetryInterval,
                  probe: .firstValidationWindow(of: trainer.dataset, blockSize: trainer.config.blockSize))
    }

    public func setProbe(_ probe: AttentionProbe) { self.probe = probe }

    /// Whether step number `step` (1-based) is measured.
    public func isDue(step: Int) -> Bool { interval > 0 && (step == 1 || step % interval == 0) }

    /// Layers for the update/data ratio: the embeddings, then each transformer block. Only
    /// matrices (≥ 2-D tensors) count, as in Karpathy's plot: LayerNorm gains start as all ones
    /// (std 0) and biases as zeros, for which the ratio says nothing.
    public static func layerGroups(_ layout: ParameterLayout) -> [(name: String, tensors: [Int])] {
        var groups: [(String, [Int])] = [("embedding", [])]
        for i in 0..<layout.blocks.count { groups.append(("h.\(i)", [])) }
        for (index, t) in layout.tensors.enumerated() where t.shape.count >= 2 {
            if t.name.hasPrefix("transformer.h.") {
                let rest = t.name.dropFirst("transformer.h.".count)
                if let dot = rest.firstIndex(of: "."), let block = Int(rest[..<dot]) { groups[block + 1].1.append(index) }
            } else {
                groups[0].1.append(index)
            }
        }
        return groups.map { (name: $0.0, tensors: $0.1) }
    }

    /// Phase 1, after the backward pass: gradient statistics of every tensor, and a copy of the
    /// weights as they are before the optimizer step.
    ///
    /// `model.grads` holds the unscaled gradient g (the trainer has divided by S already), so the
    /// 16-bit range fractions are taken of S·g — up to float32 rounding exactly the scaled
    /// gradient the backward pass produced, S being a power of two — and say what float16 and
    /// bfloat16 would lose of it at this scale. Without loss scaling S = 1: what a 16-bit run
    /// loses, the question an FP32 run answers too.
    public func beginStep(model: GPT, step: Int, lossScale: Float = 1) -> Telemetry {
        let tensors = layout.tensors
        var stats = [TensorStatistics?](repeating: nil, count: tensors.count)
        let grads = UnsafePointer(model.grads.pointer)
        stats.withUnsafeMutableBufferPointer { out in
            let results = out.baseAddress!
            // Biggest first so the pool's work-claiming balances the two cores.
            let order = tensors.indices.sorted { tensors[$0].count > tensors[$1].count }
            pool.parallelFor(order.count) { i, _ in
                let t = tensors[order[i]]
                let values = UnsafeBufferPointer(start: grads + t.offset, count: t.count)
                var s = TensorStatistics(name: t.name, shape: t.shape, values: values)
                s.halfRange = HalfRangeStatistics(values, scale: lossScale)
                results[order[i]] = s
            }
        }
        weightsBefore.copy(from: model.params)
        return Telemetry(step: step, tensors: stats.map { $0! }, layers: [], attention: nil, lossScale: lossScale)
    }

    /// Phase 2, after the optimizer step (or after skipping it): the update/data ratios.
    public func finishUpdate(_ telemetry: inout Telemetry, model: GPT, updated: Bool) {
        var perTensor = [UpdateRatio](repeating: UpdateRatio(), count: layout.tensors.count)
        if updated {
            let before = UnsafePointer(weightsBefore.pointer), after = UnsafePointer(model.params.pointer)
            let tensors = layout.tensors
            perTensor.withUnsafeMutableBufferPointer { out in
                let results = out.baseAddress!
                pool.parallelFor(tensors.count) { i, _ in
                    var r = UpdateRatio()
                    r.add(before: before + tensors[i].offset, after: after + tensors[i].offset, count: tensors[i].count)
                    results[i] = r
                }
            }
            for i in telemetry.tensors.indices { telemetry.tensors[i].updateRatio = perTensor[i].ratio }
        }
        telemetry.layers = Self.layerGroups(layout).map { group in
            guard updated else { return .init(name: group.name, ratio: nil) }
            var combined = UpdateRatio()
            for i in group.tensors { combined.add(perTensor[i]) }
            return .init(name: group.name, ratio: combined.ratio)
        }
    }

    /// Phase 3: the probe's attention maps with the new weights.
    public func attentionMaps(model: GPT, step: Int) -> AttentionMaps? {
        guard let probe, !probe.tokens.isEmpty else { return nil }
        return AttentionMaps.compute(model: model, probe: probe, step: step)
    }
}
