import Foundation
import SafeTensors
import Training

/// A finished (or stopped) run's history as read from its folder — `metrics.jsonl` and, when
/// it was written, `telemetry.jsonl` — so that browse mode fills the loss, gradient and
/// attention panes with the selected run instead of leaving them empty.
public struct RunHistory: Equatable, Sendable {
    public var runPath: String
    public var runName: String
    public var records: [MetricsRecord] = []
    /// The newest telemetry line (gradient statistics and attention maps), if any.
    public var telemetry: Telemetry?
    public var attention: AttentionMaps?
    public var updateRatios: [TrainingSnapshot.UpdateRatioPoint] = []
    public var gradClip: Float = 0

    public init(runPath: String, runName: String) {
        self.runPath = runPath
        self.runName = runName
    }

    /// Reads a run folder; missing or malformed files leave their part empty.
    public static func read(runPath: String) -> RunHistory {
        let directory = RunDirectory(runPath)
        var history = RunHistory(runPath: runPath, runName: URL(fileURLWithPath: runPath).lastPathComponent)
        history.records = (try? MetricsLog.read(directory.metricsPath)) ?? []
        let telemetryPath = runPath + "/" + TelemetryLog.fileName
        if let data = FileManager.default.contents(atPath: telemetryPath) {
            let lines = data.split(separator: UInt8(ascii: "\n"))
            // Every line's update ratios (cheap next to the maps), the newest line in full.
            for (i, line) in lines.enumerated() {
                guard let json = try? StrictJSON.parse(line) else { continue }
                let step = json["step"]?.int ?? 0
                let layers = json["layers"]?.array ?? []
                history.updateRatios.append(.init(step: step, ratios: layers.map { $0["update_ratio"]?.float ?? .nan }))
                if i == lines.count - 1 || (i == lines.count - 2 && lines.last?.isEmpty == true) {
                    history.gradClip = json["grad_clip"]?.float ?? 0
                    history.telemetry = telemetry(json)
                    history.attention = json["attention"].flatMap(attention)
                }
            }
        }
        return history
    }

    static func telemetry(_ json: StrictJSON) -> Telemetry? {
        guard let step = json["step"]?.int, let tensors = json["tensors"]?.array else { return nil }
        let stats: [TensorStatistics] = tensors.compactMap { t in
            guard let name = t["name"]?.string else { return nil }
            let shape = t["shape"]?.array?.compactMap(\.int) ?? []
            var s = [Float]().withUnsafeBufferPointer { TensorStatistics(name: name, shape: shape, values: $0) }
            s.count = shape.reduce(1, *)
            s.mean = t["mean"]?.float ?? .nan
            s.std = t["std"]?.float ?? .nan
            s.zeroFraction = t["zero_fraction"]?.float ?? 0
            s.updateRatio = t["update_ratio"]?.float
            if let h = t["log10_abs"] {
                var log = LogMagnitudeHistogram(lower: h["lower"]?.float ?? -10, binWidth: max(1e-6, h["bin_width"]?.float ?? 0.25), bins: 1)
                log.counts = h["counts"]?.array?.compactMap(\.int) ?? []
                log.zeros = h["zeros"]?.int ?? 0
                log.below = h["below"]?.int ?? 0
                log.above = h["above"]?.int ?? 0
                log.nonFinite = h["non_finite"]?.int ?? 0
                s.logHistogram = log
            }
            if let v = t["values"] {
                var values = ValueHistogram(limit: v["limit"]?.float ?? 0, bins: 1)
                values.counts = v["counts"]?.array?.compactMap(\.int) ?? []
                s.valueHistogram = values
            }
            if let h = t["half_range"] {
                func fraction(_ key: String) -> Double { h[key]?.float.map(Double.init) ?? 0 }
                s.halfRange = HalfRangeStatistics(
                    float16: .init(underflow: fraction("float16_underflow"), overflow: fraction("float16_overflow")),
                    bfloat16: .init(underflow: fraction("bfloat16_underflow"), overflow: fraction("bfloat16_overflow")))
            }
            return s
        }
        let layers = (json["layers"]?.array ?? []).map {
            Telemetry.LayerRatio(name: $0["name"]?.string ?? "?", ratio: $0["update_ratio"]?.float)
        }
        return Telemetry(step: step, tensors: stats, layers: layers, attention: nil, lossScale: json["loss_scale"]?.float ?? 1)
    }

    static func attention(_ json: StrictJSON) -> AttentionMaps? {
        guard let step = json["step"]?.int, let tokens = json["tokens"]?.array?.compactMap(\.string),
              let layers = json["layers"]?.int, let heads = json["heads"]?.int, let weights = json["weights"]?.array else { return nil }
        var flat: [Float] = []
        flat.reserveCapacity(layers * heads * tokens.count * tokens.count)
        for layer in weights {
            for head in layer.array ?? [] {
                for row in head.array ?? [] {
                    flat += (row.array ?? []).map { $0.float ?? 0 }
                }
            }
        }
        guard flat.count == layers * heads * tokens.count * tokens.count else { return nil }
        return AttentionMaps(step: step, tokens: tokens, layers: layers, heads: heads, weights: flat)
    }

    /// The history as a snapshot the panes can draw (state `.idle`: nothing trains).
    func snapshot(idle: TrainingSnapshot) -> TrainingSnapshot {
        var s = idle
        s.runName = runName
        s.loadHistory(records)
        s.step = s.steps.last?.step ?? 0
        s.maxSteps = s.step
        s.telemetry = telemetry
        s.attention = attention
        s.updateRatios = updateRatios
        s.gradClip = gradClip
        return s
    }
}

extension StrictJSON {
    subscript(key: String) -> StrictJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    var array: [StrictJSON]? { if case .array(let a) = self { a } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) ?? Double(n).map { Int($0) } } else { nil } }
    var float: Float? { if case .number(let n) = self { Float(n) } else { nil } }
}
