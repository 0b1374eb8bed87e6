import Foundation
import GPT
import Kernels
import Testing
@testable import Training
import TestSupport

/// The loss-scaling lesson as the dashboard gets it: the 16-bit range fractions of each tensor's
/// gradient at the step's loss scale (telemetry), and the float16 scaler's state in the snapshot.
@Suite struct PrecisionTelemetryTests {
    /// 2⁻²⁵ is half of float16's smallest subnormal 2⁻²⁴: it ties to the even neighbour, zero;
    /// 65520 is halfway from float16's largest finite 65504 to 65536: it ties to ∞.
    @Test func fractionsCountFlushesAndOverflowsAtTheScale() {
        let tiny = Float(bitPattern: 0x3300_0000)  // 2⁻²⁵
        #expect(tiny == Float(1) / 33_554_432)
        let values: [Float] = [0, 1e-9, tiny, tiny.nextUp, 1e-3, 65519, 65520, -7e4, 1]
        values.withUnsafeBufferPointer { v in
            // S = 1, float16: 1e-9 and 2⁻²⁵ flush (2 of 9; the exact 0 was zero already and is
            // not a loss); 65520 and −7e4 overflow (2 of 9).
            #expect(HalfRangeFractions.of(v, scale: 1, format: .float16) == .init(underflow: 2.0 / 9, overflow: 2.0 / 9))
            // S = 65536 lifts every small value clear of the flush, and pushes 1 (→ 65536),
            // 65519, 65520 and −7e4 over the top.
            #expect(HalfRangeFractions.of(v, scale: 65536, format: .float16) == .init(underflow: 0, overflow: 4.0 / 9))
            // bfloat16 has float32's exponent range: nothing here is lost at either scale.
            #expect(HalfRangeFractions.of(v, scale: 1, format: .bfloat16) == .init(underflow: 0, overflow: 0))
            #expect(HalfRangeFractions.of(v, scale: 65536, format: .bfloat16) == .init(underflow: 0, overflow: 0))
        }
        // bfloat16 flushes only below 2⁻¹³⁴ (half its smallest subnormal).
        let bfloatEdge: [Float] = [Float(bitPattern: 0x8000), Float(bitPattern: 0x8001), .greatestFiniteMagnitude]
        bfloatEdge.withUnsafeBufferPointer { v in
            #expect(HalfRangeFractions.of(v, scale: 1, format: .bfloat16) == .init(underflow: 1.0 / 3, overflow: 1.0 / 3))
        }
    }

    /// The collector's fractions are of S·g for each tensor, S the scale it is given.
    @Test func theCollectorMeasuresEveryTensorAtTheLossScale() throws {
        let trainer = try tinyTrainer()
        let model = trainer.model
        let collector = TelemetryCollector(layout: model.layout, interval: 1, probe: nil)
        // Every tensor: its first quarter 1e-9 (below float16's range at S = 1, inside it at
        // S = 1024), one value 100 (over 65504 at S = 1024), the rest 1e-3.
        for tensor in model.layout.tensors {
            for i in 0..<tensor.count {
                model.grads[tensor.offset + i] = i < tensor.count / 4 ? 1e-9 : i == tensor.count - 1 ? 100 : 1e-3
            }
        }
        for scale: Float in [1, 1024] {
            let t = collector.beginStep(model: model, step: 1, lossScale: scale)
            #expect(t.lossScale == scale)
            for (tensor, stats) in zip(model.layout.tensors, t.tensors) {
                let n = Double(tensor.count)
                let flushed = scale == 1 ? Double(tensor.count / 4) / n : 0
                let overflowed = scale == 1 ? 0 : 1 / n
                let h = try #require(stats.halfRange, "\(tensor.name) not measured")
                #expect(h.float16 == .init(underflow: flushed, overflow: overflowed), "\(tensor.name) at S = \(scale)")
                #expect(h.bfloat16 == .init(underflow: 0, overflow: 0), "\(tensor.name) at S = \(scale)")
            }
        }
    }

    /// In a float16 run with loss scaling the telemetry is taken after the gradients are unscaled;
    /// its fractions must still be those of the scaled gradient the backward pass produced.
    @Test func aFloat16StepReportsTheFractionsOfTheScaledGradient() throws {
        let trainer = try tinyTrainer { $0.dtype = .float16 }
        let scale = try #require(trainer.lossScaler?.scale)
        #expect(scale == 65536)
        trainer.telemetry = TelemetryCollector(trainer: trainer)
        var scaled: [Float] = []
        trainer.afterBackward = { model in
            // A gradient of 1e-9 (the unscaled value): lost in float16 at S = 1, kept at S.
            model.grads[0] = 1e-9 * scale
            scaled = model.grads.array
        }
        let r = try trainer.trainStep()
        let t = try #require(r.telemetry)
        #expect(t.lossScale == scale && r.lossScale == scale)
        let wte = trainer.model.layout.tensors[0]
        let expected = scaled[wte.offset..<(wte.offset + wte.count)].withUnsafeBufferPointer { HalfRangeStatistics($0, scale: 1) }
        #expect(t.tensors[0].halfRange == expected)
        // Of the unscaled gradient at S = 1 the forced value would count as flushed: a different answer.
        let unscaled = scaled[wte.offset..<(wte.offset + wte.count)].map { $0 / scale }
        let atOne = unscaled.withUnsafeBufferPointer { HalfRangeStatistics($0, scale: 1) }
        #expect(atOne.float16.underflow > expected.float16.underflow)
        for (tensor, stats) in zip(trainer.model.layout.tensors, t.tensors) {
            let whole = scaled[tensor.offset..<(tensor.offset + tensor.count)].withUnsafeBufferPointer { HalfRangeStatistics($0, scale: 1) }
            #expect(stats.halfRange == whole, "\(tensor.name)")
        }
    }

    /// float16 without loss scaling: the fractions are at S = 1; and a 16-bit model's telemetry
    /// reads the probe's attention and logit lens from the 16-bit path's activations.
    @Test(arguments: [DType.float16, .bfloat16])
    func sixteenBitRunsWithoutAScaleReportScaleOne(dtype: DType) throws {
        let trainer = try tinyTrainer { $0.dtype = dtype; $0.lossScaling = false }
        trainer.telemetry = TelemetryCollector(trainer: trainer)
        let t = try #require(try trainer.trainStep().telemetry)
        #expect(t.lossScale == 1)
        #expect(t.tensors.allSatisfy { $0.halfRange != nil })
        let lens = try #require(t.attention?.lens)
        #expect(lens.layerNames.count == trainer.config.nLayer + 1)
    }

    /// A watched float16 run with forced overflows: the snapshot has the dtype, the scale after
    /// each halving, the skipped steps and the steps where the scale changed.
    @Test func theSnapshotFollowsTheLossScaler() throws {
        let trainer = try tinyTrainer { $0.dtype = .float16; $0.maxIters = 12; $0.evalInterval = 0; $0.telemetryInterval = 2 }
        // Overflows in the backward passes of steps 3 and 4 and 9 (1-based): the scale halves after each.
        trainer.afterBackward = { [unowned trainer] model in
            if [2, 3, 8].contains(trainer.step) { model.grads[5] = .infinity }
        }
        nonisolated(unsafe) let handOver = trainer
        let session = TrainingSession(name: "fp16", maxSteps: 12) { TrainingRun(trainer: handOver, name: "fp16") }
        let deadline = Date().addingTimeInterval(60)
        while !session.isDone && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(session.isDone)
        let s = session.snapshot()
        #expect(s.state == .finished)
        #expect(s.dtype == .float16)
        #expect(s.lossScale == 8192)
        #expect(s.skippedSteps == 3)
        #expect(s.scaleChanges == [.init(step: 3, scale: 32768), .init(step: 4, scale: 16384), .init(step: 9, scale: 8192)])
        // The last telemetry (step 12) was measured at the scale its backward pass used.
        #expect(s.telemetry?.step == 12 && s.telemetry?.lossScale == 8192)
        #expect(s.messages.filter { $0.contains("overflowed") }.count == 3)
    }

    @Test func aFloat32SessionHasNoScale() throws {
        let trainer = try tinyTrainer { $0.maxIters = 3; $0.evalInterval = 0 }
        nonisolated(unsafe) let handOver = trainer
        let session = TrainingSession(name: "fp32", maxSteps: 3) { TrainingRun(trainer: handOver, name: "fp32") }
        let deadline = Date().addingTimeInterval(60)
        while !session.isDone && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let s = session.snapshot()
        #expect(s.state == .finished && s.dtype == .float32 && s.lossScale == nil && s.skippedSteps == 0 && s.scaleChanges.isEmpty)
    }

    /// A resumed or browsed run's scale history comes from metrics.jsonl.
    @Test func theHistoryCarriesTheScaleChangesOfTheLog() {
        func record(_ step: Int, _ scale: Float, skipped: Int) -> MetricsRecord {
            var r = MetricsRecord(step: step, trainLoss: 2, lr: 1e-3, gradNorm: 1, time: 0)
            r.dtype = "float16"; r.lossScale = scale; r.skippedSteps = skipped
            return r
        }
        var s = TrainingSnapshot(runName: "r", maxSteps: 100)
        s.loadHistory([record(10, 65536, skipped: 0), record(20, 32768, skipped: 1), record(30, 32768, skipped: 1),
                       record(40, 65536, skipped: 1)])
        #expect(s.dtype == .float16 && s.lossScale == 65536 && s.skippedSteps == 1)
        #expect(s.scaleChanges == [.init(step: 20, scale: 32768), .init(step: 40, scale: 65536)])
    }

    @Test func theTelemetryLogCarriesTheScaleAndTheFractions() throws {
        let trainer = try tinyTrainer { $0.dtype = .float16 }
        trainer.telemetry = TelemetryCollector(trainer: trainer)
        let t = try #require(try trainer.trainStep().telemetry)
        let line = TelemetryLog.jsonLine(t, gradNorm: 1, gradClip: 1)
        #expect(line.contains("\"loss_scale\":65536"))
        #expect(line.components(separatedBy: "\"half_range\":{\"float16_underflow\":").count == t.tensors.count + 1)
    }
}
