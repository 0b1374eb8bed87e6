import Foundation
import SafeTensors

/// `runs/<run>/telemetry.jsonl`, written by `nanoscope train --telemetry`: one JSON object per
/// telemetry step with what the dashboard's insight panes show, for looking at later.
///
///     {"step":50,"grad_norm":0.83,"grad_clip":1,"clipped":false,"loss_scale":1,
///      "layers":[{"name":"h.0","update_ratio":0.0011},…],
///      "tensors":[{"name":"transformer.wte.weight","shape":[65,128],"mean":…,"std":…,"zero_fraction":0,
///                  "update_ratio":0.0009,
///                  "half_range":{"float16_underflow":0.031,"float16_overflow":0,"bfloat16_underflow":0,"bfloat16_overflow":0},
///                  "log10_abs":{"lower":-10,"bin_width":0.25,"counts":[…],"zeros":0,"below":0,"above":0,"non_finite":0},
///                  "values":{"limit":0.012,"counts":[…]}},…],
///      "attention":{"step":50,"tokens":["F","i",…],"layers":4,"heads":4,"weights":[[[[…T…]…T…]…heads…]…layers…]}}
///
/// Values that are not finite or not defined are `null`. Attention weights are rounded to 5 decimals.
/// `half_range`: the fractions of `loss_scale`·g that float16 and bfloat16 would flush to zero or ∞.
public enum TelemetryLog {
    public static let fileName = "telemetry.jsonl"

    public static func jsonLine(_ t: Telemetry, gradNorm: Float, gradClip: Float) -> String {
        func number(_ x: Float?) -> StrictJSON { x.map { StrictJSON.number($0) } ?? .null }
        func ints(_ xs: [Int]) -> StrictJSON { .array(xs.map { StrictJSON.number($0) }) }
        let tensors: [StrictJSON] = t.tensors.map { s in
            var members: [(key: String, value: StrictJSON)] = [
                ("name", .string(s.name)), ("shape", ints(s.shape)),
                ("mean", number(s.mean)), ("std", number(s.std)), ("zero_fraction", number(s.zeroFraction)),
                ("update_ratio", number(s.updateRatio)),
                ("log10_abs", .object([
                    ("lower", number(s.logHistogram.lower)), ("bin_width", number(s.logHistogram.binWidth)),
                    ("counts", ints(s.logHistogram.counts)), ("zeros", .number(s.logHistogram.zeros)),
                    ("below", .number(s.logHistogram.below)), ("above", .number(s.logHistogram.above)),
                    ("non_finite", .number(s.logHistogram.nonFinite)),
                ])),
                ("values", .object([("limit", number(s.valueHistogram.limit)), ("counts", ints(s.valueHistogram.counts))])),
            ]
            if let h = s.halfRange {
                members.append(("half_range", .object([
                    ("float16_underflow", .number(h.float16.underflow)), ("float16_overflow", .number(h.float16.overflow)),
                    ("bfloat16_underflow", .number(h.bfloat16.underflow)), ("bfloat16_overflow", .number(h.bfloat16.overflow)),
                ])))
            }
            return .object(members)
        }
        var members: [(key: String, value: StrictJSON)] = [
            ("step", .number(t.step)), ("grad_norm", number(gradNorm)), ("grad_clip", number(gradClip)),
            ("clipped", .bool(gradClip > 0 && gradNorm > gradClip)), ("loss_scale", number(t.lossScale)),
            ("layers", .array(t.layers.map { .object([("name", .string($0.name)), ("update_ratio", number($0.ratio))]) })),
            ("tensors", .array(tensors)),
        ]
        if let a = t.attention {
            let size = a.size
            let layers: [StrictJSON] = (0..<a.layers).map { l in
                .array((0..<a.heads).map { h in
                    let map = Array(a.map(layer: l, head: h))
                    return .array((0..<size).map { r in
                        .array(map[(r * size)..<((r + 1) * size)].map { StrictJSON.number((Double($0) * 1e5).rounded() / 1e5) })
                    })
                })
            }
            members.append(("attention", .object([
                ("step", .number(a.step)), ("tokens", .array(a.tokens.map(StrictJSON.string))),
                ("layers", .number(a.layers)), ("heads", .number(a.heads)), ("weights", .array(layers)),
            ])))
        }
        return StrictJSON.object(members).serialized
    }

    /// Appends one line (creating the file and its folder if needed).
    public static func append(_ line: String, to path: String) throws(CheckpointError) {
        try FileSystem.makeDirectories(AtomicFile.splitPath(path).folder)
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else {
            throw CheckpointError(path, "cannot open the telemetry log for writing")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw CheckpointError(path, "cannot write the telemetry log: \(error.localizedDescription)")
        }
    }
}
