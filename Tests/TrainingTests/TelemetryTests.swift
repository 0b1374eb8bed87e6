import Foundation
import Testing
import GPT
import Kernels
import Tokenizers
@testable import Training
import SafeTensors

private func logHistogram(_ values: [Float]) -> LogMagnitudeHistogram {
    var h = LogMagnitudeHistogram()
    values.withUnsafeBufferPointer { h.add($0) }
    return h
}

@Suite struct HistogramBinningTests {
    @Test func logMagnitudeBinsAreQuarterDecadesFrom1eMinus10() {
        // Default: 44 bins of 0.25 decades, bin k = [10^(-10 + k/4), 10^(-10 + (k+1)/4)).
        let h = LogMagnitudeHistogram()
        #expect(h.counts.count == 44 && h.lower == -10 && h.upper == 1)
        #expect(h.placement(of: 1.5e-10) == .bin(0))        // 1e-10 ≤ x < 1.778e-10
        #expect(h.placement(of: 2e-10) == .bin(1))          // 1.778e-10 ≤ x < 3.16e-10
        #expect(h.placement(of: 0.99) == .bin(39))          // 10^-0.25 = 0.562 ≤ x < 1
        #expect(h.placement(of: 1) == .bin(40))             // edges are inclusive below: 1 = 10^0 starts bin 40
        #expect(h.placement(of: -1) == .bin(40))            // magnitude
        #expect(h.placement(of: -3e-5) == .bin(21))         // log10 = -4.52 → ⌊(10 − 4.52)/0.25⌋ = 21
        #expect(h.placement(of: 9.99) == .bin(43))
        #expect(h.placement(of: 10) == .above)
        #expect(h.placement(of: 3e38) == .above)
        #expect(h.placement(of: 9e-11) == .below)
    }

    @Test func zerosSubnormalsAndNonFiniteValuesAreCountedApart() {
        let subnormal = Float("1e-40")!
        #expect(subnormal.isSubnormal)
        let h = logHistogram([0, -0.0, subnormal, -Float.leastNonzeroMagnitude, 1e-12, .nan, .infinity, -.infinity, 5e-3, 5e-3])
        #expect(h.zeros == 2)
        #expect(h.below == 3)          // two subnormals and 1e-12, all under 1e-10
        #expect(h.nonFinite == 3)
        #expect(h.above == 0)
        // 5e-3: log10 = -2.30 → ⌊7.70 / 0.25⌋ = 30.
        #expect(h.counts[30] == 2)
        #expect(h.counts.reduce(0, +) == 2)
        #expect(h.total == 10)
    }

    @Test func aRangeReachingIntoSubnormalsBinsThemByMagnitude() {
        // Edges down to 1e-45 are themselves subnormal floats; the bit order still sorts them.
        var h = LogMagnitudeHistogram(lower: -44, binWidth: 1, bins: 8)  // 1e-44 … 1e-36
        let values = ["1e-40", "2e-40", "1e-38", "5e-37"].map { Float($0)! }
        #expect(values[0].isSubnormal && values[1].isSubnormal)
        values.withUnsafeBufferPointer { h.add($0) }
        #expect(h.counts == [0, 0, 0, 0, 2, 0, 1, 1])
    }

    @Test func valueBinsSplitMinusLimitToLimitEvenly() {
        // limit 1, 4 bins of width 0.5: [-1,-0.5) [-0.5,0) [0,0.5) [0.5,1], the top value in the last.
        let h = ValueHistogram(limit: 1, bins: 4)
        #expect([-1, -0.75, -0.5, -0.01, 0, 0.25, 0.5, 1].map { h.bin(of: $0) } == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(ValueHistogram(limit: 0, bins: 5).bin(of: 0) == 2)
    }

    @Test func tensorStatisticsMatchHandComputedValues() {
        // Values 0, 0, 3, -1, 2, NaN: finite mean (0+0+3-1+2)/5 = 0.8,
        // variance (0.64+0.64+4.84+3.24+1.44)/5 = 2.16, zeros 2 of 6.
        let values: [Float] = [0, 0, 3, -1, 2, .nan]
        let s = values.withUnsafeBufferPointer { TensorStatistics(name: "w", shape: [6], values: $0) }
        #expect(s.count == 5)
        #expect(abs(s.mean - 0.8) < 1e-6)
        #expect(abs(s.std - Float(2.16).squareRoot()) < 1e-6)
        #expect(abs(s.zeroFraction - 2.0 / 6.0) < 1e-6)
        #expect(s.logHistogram.nonFinite == 1 && s.logHistogram.zeros == 2)
        // Raw bins span ±3 in 41 bins of 6/41: 0 → 20, 3 → 40, -1 → ⌊2/6·41⌋ = 13, 2 → ⌊5/6·41⌋ = 34.
        #expect(s.valueHistogram.limit == 3)
        var expected = [Int](repeating: 0, count: 41)
        expected[20] = 2; expected[40] = 1; expected[13] = 1; expected[34] = 1
        #expect(s.valueHistogram.counts == expected)
    }

    @Test func updateRatioIsStdOfTheChangeOverStdOfTheWeights() {
        // θ = 1,2,3,4 scaled by 1.01: Δ = 0.01·θ, so std(Δ)/std(θ) = 0.01 exactly.
        let before: [Float] = [1, 2, 3, 4], after = before.map { $0 * 1.01 }
        var r = UpdateRatio()
        r.add(before: before, after: after, count: 4)
        #expect(abs(r.ratio! - 0.01) < 1e-6)
        // A constant shift has no spread: ratio 0. Constant weights: undefined.
        var shift = UpdateRatio()
        shift.add(before: before, after: before.map { $0 + 0.5 }, count: 4)
        #expect(shift.ratio! < 1e-6)
        var flat = UpdateRatio()
        flat.add(before: [1, 1, 1], after: [1.1, 0.9, 1], count: 3)
        #expect(flat.ratio == nil)
        // Groups combine over their elements, not by averaging ratios.
        var a = UpdateRatio(), b = UpdateRatio(), both = UpdateRatio()
        a.add(before: [1, 2], after: [1.5, 2], count: 2)
        b.add(before: [3, 4], after: [3, 4.5], count: 2)
        both.add(before: [1, 2, 3, 4], after: [1.5, 2, 3, 4.5], count: 4)
        a.add(b)
        #expect(a.ratio == both.ratio)
    }
}

@Suite struct TelemetryCollectionTests {
    @Test func theTrainerReportsGradientStatisticsUpdateRatiosAndMapsAtItsCadence() throws {
        let trainer = try tinyTrainer()
        let collector = TelemetryCollector(trainer: trainer)
        collector.interval = 4
        trainer.telemetry = collector
        var gradients: [Float] = [], weightsBefore: [Float] = []
        trainer.afterBackward = { model in
            gradients = model.grads.array
            weightsBefore = model.params.array
        }
        var reported: [Int] = []
        for _ in 0..<8 {
            let r = try trainer.trainStep()
            guard let t = r.telemetry else { continue }
            reported.append(t.step)
            #expect(t.step == r.step)
            // Statistics are of the gradient before clipping, tensor by tensor.
            for (tensor, stats) in zip(trainer.model.layout.tensors, t.tensors) {
                let expected = gradients[tensor.offset..<(tensor.offset + tensor.count)].withUnsafeBufferPointer {
                    TensorStatistics(name: tensor.name, shape: tensor.shape, values: $0)
                }
                #expect(stats.name == tensor.name)
                #expect(stats.logHistogram == expected.logHistogram && stats.std == expected.std)
            }
            // The layer ratio of block 0 is std(Δ)/std(θ) over its four matrices.
            let after = trainer.model.params.array
            var manual = UpdateRatio()
            for tensor in trainer.model.layout.tensors where tensor.name.hasPrefix("transformer.h.0.") && tensor.shape.count == 2 {
                let range = tensor.offset..<(tensor.offset + tensor.count)
                manual.add(before: Array(weightsBefore[range]), after: Array(after[range]), count: tensor.count)
            }
            let layer = try #require(t.layers.first { $0.name == "h.0" })
            #expect(abs(layer.ratio! - manual.ratio!) <= 1e-6 * manual.ratio!)
            #expect(t.layers.map(\.name) == ["embedding", "h.0", "h.1"])
            // Maps of the probe (the first block of the val split) with the updated weights.
            let maps = try #require(t.attention)
            #expect(maps.tokens == trainer.dataset.val.prefix(16).map { trainer.dataset.tokenizer.decode([$0]) })
            #expect(maps.layers == 2 && maps.heads == 2 && maps.weights.count == 2 * 2 * 16 * 16)
        }
        #expect(reported == [1, 4, 8])
    }

    @Test func probingDoesNotDisturbTrainingBuffersOrGradients() throws {
        let a = try tinyTrainer(), b = try tinyTrainer()
        var rng = RandomNumbers(seed: 3)
        let batch = a.dataset.batch(.train, batchSize: 8, blockSize: 16, rng: &rng)
        a.model.forward(tokens: batch.inputs, targets: batch.targets, batch: 8, seqLen: 16)
        let trainingMaps = a.model.attentionWeights(layer: 0).baseAddress
        a.model.backward()
        // The same, with a probe forward pass (another shape) between the forward passes.
        b.model.forward(tokens: batch.inputs, targets: batch.targets, batch: 8, seqLen: 16)
        let trainingMapsB = b.model.attentionWeights(layer: 0).baseAddress
        let probe = AttentionProbe(tokens: Array(b.dataset.val.prefix(11)), tokenizer: b.dataset.tokenizer)
        let maps = AttentionMaps.compute(model: b.model, probe: probe, step: 0)
        #expect(maps.size == 11)
        b.model.forward(tokens: batch.inputs, targets: batch.targets, batch: 8, seqLen: 16)
        b.model.backward()
        #expect(a.model.grads.array == b.model.grads.array)
        // The training shape kept its buffers: the same memory after the probe.
        #expect(b.model.attentionWeights(layer: 0).baseAddress == trainingMapsB)
        #expect(Array(b.model.attentionWeights(layer: 0)) == Array(a.model.attentionWeights(layer: 0)))
        a.model.forward(tokens: probe.tokens, targets: nil, batch: 1, seqLen: 11)
        a.model.forward(tokens: batch.inputs, targets: batch.targets, batch: 8, seqLen: 16)
        #expect(a.model.attentionWeights(layer: 0).baseAddress == trainingMaps)
    }

    @Test func mapsAreTheModelsOwnCausalSoftmax() throws {
        let trainer = try tinyTrainer()
        let probe = AttentionProbe(tokens: Array(trainer.dataset.val.prefix(12)), tokenizer: trainer.dataset.tokenizer)
        let maps = AttentionMaps.compute(model: trainer.model, probe: probe, step: 0)
        for layer in 0..<2 {
            trainer.model.forward(tokens: probe.tokens, targets: nil, batch: 1, seqLen: 12)
            #expect(Array(trainer.model.attentionWeights(layer: layer)) == Array(maps.weights[(layer * 2 * 144)..<((layer + 1) * 2 * 144)]))
        }
        for head in 0..<2 {
            for row in 0..<12 {
                let p = (0..<12).map { maps.weight(layer: 1, head: head, row: row, column: $0) }
                #expect(abs(p.reduce(0, +) - 1) < 1e-5)
                #expect(p[(row + 1)...].allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func aTypedProbeIsEncodedCutToTheBlockAndRefusedOutsideTheVocabulary() throws {
        let tok = try CharTokenizer(corpus: tinyCorpus)
        let probe = try AttentionProbe(text: "the cat", tokenizer: tok, blockSize: 16)
        #expect(probe.labels == ["t", "h", "e", " ", "c", "a", "t"] && !probe.truncated)
        let long = try AttentionProbe(text: String(repeating: "the dog. ", count: 4), tokenizer: tok, blockSize: 16)
        #expect(long.tokens.count == 16 && long.truncated)
        #expect(throws: ProbeError.self) { try AttentionProbe(text: "", tokenizer: tok, blockSize: 16) }
        do {
            _ = try AttentionProbe(text: "the café", tokenizer: tok, blockSize: 16)
            Issue.record("a character outside the vocabulary was accepted")
        } catch {
            #expect(error.message.contains("outside the vocabulary") && error.message.contains("é"))
        }
    }

    @Test func aWatchedSessionPublishesTelemetryAndObeysSetProbe() throws {
        let trainer = try tinyTrainer { $0.maxIters = 100_000; $0.telemetryInterval = 2; $0.evalInterval = 0 }
        nonisolated(unsafe) let handOver = trainer
        let session = TrainingSession(name: "t", maxSteps: 100_000) { TrainingRun(trainer: handOver, name: "t") }
        defer {
            session.send(.stop)
            while !session.isDone { Thread.sleep(forTimeInterval: 0.01) }
        }
        func waitFor(_ what: String, _ condition: (TrainingSnapshot) -> Bool) throws {
            let deadline = Date().addingTimeInterval(20)
            while !condition(session.snapshot()) {
                if Date() > deadline { Issue.record("timed out waiting for \(what)"); return }
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        try waitFor("telemetry") { $0.telemetry != nil && $0.updateRatios.count >= 2 && $0.attention != nil }
        let s = session.snapshot()
        #expect(s.gradClip == 1)
        #expect(s.telemetry?.attention == nil, "maps are published in `attention`, not twice")
        #expect(s.updateRatios.map(\.ratios.count).allSatisfy { $0 == 3 })
        session.send(.setProbe("the cat"))
        try waitFor("the new probe") { $0.attention?.tokens == ["t", "h", "e", " ", "c", "a", "t"] }
        session.send(.setProbe("naïve"))
        try waitFor("the refusal") { $0.messages.contains { $0.contains("outside the vocabulary") } }
        // The refused text left the probe as it was.
        #expect(session.snapshot().attention?.tokens == ["t", "h", "e", " ", "c", "a", "t"])
    }

    @Test func theTelemetryLogLineIsStrictJSONWithEverySection() throws {
        let trainer = try tinyTrainer()
        trainer.telemetry = TelemetryCollector(trainer: trainer)
        let r = try trainer.trainStep()
        let t = try #require(r.telemetry)
        let line = TelemetryLog.jsonLine(t, gradNorm: 2.5, gradClip: 1)
        #expect(!line.contains("\n"))
        guard case .object(let members) = try StrictJSON.parse(Array(line.utf8)) else {
            Issue.record("not an object"); return
        }
        #expect(members.map(\.key) == ["step", "grad_norm", "grad_clip", "clipped", "loss_scale", "layers", "tensors", "attention"])
        #expect(members.first { $0.key == "clipped" }?.value == .bool(true))
        guard case .array(let tensors)? = members.first(where: { $0.key == "tensors" })?.value else {
            Issue.record("no tensors"); return
        }
        #expect(tensors.count == trainer.model.layout.tensors.count)
    }
}
