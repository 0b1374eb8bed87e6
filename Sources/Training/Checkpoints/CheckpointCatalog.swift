import Foundation
import SafeTensors

/// One run folder and its checkpoints.
public struct RunListing: Sendable, Equatable {
    public var name: String
    public var path: String
    /// Oldest step first.
    public var checkpoints: [CheckpointInfo]

    public init(name: String, path: String, checkpoints: [CheckpointInfo]) {
        self.name = name
        self.path = path
        self.checkpoints = checkpoints
    }
}

/// Finds the runs under a runs folder and formats them for `nanoscope checkpoints [folder] [--json]`
/// and the dashboard's checkpoint browser. Reads file headers only, so it stays fast with many
/// large checkpoints.
public enum CheckpointCatalog {
    /// Every run under `folder` (sorted by name), or the run `folder` itself if it is one.
    public static func scan(_ folder: String) throws(CheckpointError) -> [RunListing] {
        let single = RunDirectory(folder)
        if single.exists { return [try listing(single)] }
        guard FileSystem.isDirectory(folder) else {
            throw CheckpointError(folder, FileSystem.exists(folder) ? "not a folder" : "no such folder")
        }
        var runs: [RunListing] = []
        for name in try FileSystem.list(folder) where !name.hasPrefix(".") {
            let run = RunDirectory(single.path + "/" + name)
            if run.exists { runs.append(try listing(run)) }
        }
        return runs
    }

    private static func listing(_ run: RunDirectory) throws(CheckpointError) -> RunListing {
        RunListing(name: run.name, path: run.path, checkpoints: try run.checkpoints())
    }

    // MARK: Text table

    /// An aligned table, one row per checkpoint, e.g.
    ///
    ///     RUN          STEP  TRAIN   VAL     AGE  SIZE    NOTE
    ///     shakespeare   500  1.9234  2.0112  3m   3.3 MB
    ///     shakespeare  1000  1.5012  1.7011  1m   3.3 MB  best val
    ///
    /// `now` is a parameter so the output is reproducible.
    public static func table(_ runs: [RunListing], now: Date) -> String {
        let rows = runs.flatMap { run in
            let best = RetentionPolicy.best(of: run.checkpoints)?.path
            return run.checkpoints.map { checkpoint -> [String] in
                var notes: [String] = []
                if let problem = checkpoint.problem { notes.append("unreadable: " + problem) }
                if checkpoint.path == best && run.checkpoints.count > 1 { notes.append("best val") }
                if checkpoint.isLoadable && !checkpoint.hasOptimizerState { notes.append("no optimizer state") }
                return [run.name, String(checkpoint.step), loss(checkpoint.trainLoss), loss(checkpoint.valLoss),
                        checkpoint.created.map { age(now.timeIntervalSince($0)) } ?? "?",
                        size(checkpoint.sizeBytes), notes.joined(separator: ", ")]
            }
        }
        guard !rows.isEmpty else {
            return runs.isEmpty ? "no runs found\n" : "no checkpoints yet in \(runs.map(\.name).joined(separator: ", "))\n"
        }
        let header = ["RUN", "STEP", "TRAIN", "VAL", "AGE", "SIZE", "NOTE"]
        let rightAligned: Set<Int> = [1, 2, 3, 4, 5]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            var line = row.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - row[column].count)
                return rightAligned.contains(column) ? pad + row[column] : row[column] + pad
            }
            .joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        .joined(separator: "\n") + "\n"
    }

    static func loss(_ value: Float?) -> String {
        guard let value else { return "—" }
        return value.isFinite ? String(format: "%.4f", Double(value)) : "\(value)"
    }

    /// `45s`, `12m`, `3h`, `2d` (negative ages, from clock skew, show as `0s`).
    public static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }

    /// `812 B`, `3.2 kB`, `10.7 MB`, `1.1 GB` (decimal units).
    static func size(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        var value = Double(bytes) / 1000
        for unit in ["kB", "MB", "GB"] {
            if value < 1000 || unit == "GB" { return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + unit }
            value /= 1000
        }
        return "\(bytes) B"
    }

    // MARK: JSON

    /// One JSON document (and a newline) for scripts:
    ///
    ///     {"runs":[{"name":"shakespeare","path":"runs/shakespeare","checkpoints":[
    ///       {"step":500,"path":"…","train_loss":1.92,"val_loss":2.01,"created":"2026-…Z",
    ///        "age_s":180,"size_bytes":3300000,"has_optimizer_state":true,
    ///        "config":{"vocab_size":65,…},"best":false,"error":null}]}]}
    ///
    /// Losses that are absent or not finite are `null`.
    public static func json(_ runs: [RunListing], now: Date) -> String {
        let runValues = runs.map { run -> StrictJSON in
            let best = RetentionPolicy.best(of: run.checkpoints)?.path
            let checkpoints = run.checkpoints.map { c -> StrictJSON in
                let config = c.config.map(CheckpointMetadata.configObject) ?? .null
                return .object([
                    ("step", .number(c.step)),
                    ("path", .string(c.path)),
                    ("train_loss", c.trainLoss.map(StrictJSON.number) ?? .null),
                    ("val_loss", c.valLoss.map(StrictJSON.number) ?? .null),
                    ("created", c.created.map { .string(CheckpointMetadata.formatDate($0)) } ?? .null),
                    ("age_s", c.created.map { .number(Int(max(0, now.timeIntervalSince($0)))) } ?? .null),
                    ("size_bytes", .number(c.sizeBytes)),
                    ("has_optimizer_state", .bool(c.hasOptimizerState)),
                    ("config", config),
                    ("best", .bool(c.path == best)),
                    ("error", c.problem.map(StrictJSON.string) ?? .null),
                ])
            }
            return .object([("name", .string(run.name)), ("path", .string(run.path)), ("checkpoints", .array(checkpoints))])
        }
        return StrictJSON.object([("runs", .array(runValues))]).serialized + "\n"
    }
}
