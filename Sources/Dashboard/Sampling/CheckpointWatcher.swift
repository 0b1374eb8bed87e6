import Foundation
import Synchronization
import Training
import TerminalUI

/// What the checkpoint browser shows, read from disk off the UI thread.
public struct BrowserData: Equatable, Sendable {
    /// Changes whenever anything else does.
    public var version = 0
    public var folder: String?
    public var runs: [RunListing] = []
    /// Why the folder could not be listed.
    public var error: String?
    /// Train loss over steps of the run at `lossRunPath` (from its metrics.jsonl), for the mini curve.
    public var lossRunPath: String?
    public var losses: [(step: Int, loss: Float)] = []
    /// The same run's whole history (metrics and telemetry), for browse mode's panes.
    public var history: RunHistory?
    /// The runs the loss pane overlays, and the training run (for the config diff), by folder
    /// path, read from their `config.toml` and `metrics.jsonl`; a run that cannot be read is absent.
    public var overlays: [String: RunSummary] = [:]
    /// The time of the scan, for checkpoint ages.
    public var scannedAt = Date(timeIntervalSince1970: 0)

    public init() {}

    public static func == (a: BrowserData, b: BrowserData) -> Bool { a.version == b.version }
}

/// One row of the browser: a checkpoint and how many its run has (deleting the only one needs a
/// second confirmation).
public struct BrowserRow: Equatable, Sendable {
    public var runPath: String
    public var info: CheckpointInfo
    public var checkpointsInRun: Int
    /// Steps of the run's checkpoints after this one (what resuming from it abandons).
    public var laterSteps: [Int] = []
    /// The run's best by val loss (what `nanoscope checkpoints` calls "best val").
    public var isBest = false
}

/// Browser orderings, cycled with `o`.
public enum BrowserSort: Int, CaseIterable, Sendable {
    case runThenStep, newest, bestVal

    public var title: String {
        switch self {
        case .runThenStep: "run, step"
        case .newest: "newest"
        case .bestVal: "best val"
        }
    }
}

extension BrowserRow {
    /// The rows to show: every checkpoint of every run whose run name or step contains `filter`
    /// (case-insensitive), in `sort` order. Pure, so the app computes it only when an input changes.
    public static func rows(_ runs: [RunListing], sort: BrowserSort, filter: String) -> [BrowserRow] {
        let needle = filter.lowercased()
        var rows = runs.flatMap { run in
            let best = run.checkpoints.count > 1 ? RetentionPolicy.best(of: run.checkpoints)?.path : nil
            return run.checkpoints.map { c in
                BrowserRow(runPath: run.path, info: c, checkpointsInRun: run.checkpoints.count,
                           laterSteps: run.checkpoints.map(\.step).filter { $0 > c.step }, isBest: c.path == best)
            }
        }
        if !needle.isEmpty {
            rows = rows.filter { $0.info.run.lowercased().contains(needle) || String($0.info.step).contains(needle) }
        }
        switch sort {
        case .runThenStep: break  // the catalog's order: runs by name, steps ascending
        case .newest: rows.sort { ($0.info.created ?? .distantPast) > ($1.info.created ?? .distantPast) }
        case .bestVal: rows.sort { ($0.info.valLoss ?? .infinity) < ($1.info.valLoss ?? .infinity) }
        }
        return rows
    }
}

/// Rescans the runs folder on its own thread — every `interval`, and at once after `refresh()`
/// or a deletion — so the UI thread never reads the disk while drawing.
public final class CheckpointWatcher: Sendable {
    private struct Shared {
        var data = BrowserData()
        var wantedLossRun: String?
        var wantedOverlays: [String] = []
        var deletions: [String] = []
        var poked = false
        var shutdown = false
    }

    private let shared = Mutex(Shared())
    private let wake = DispatchSemaphore(value: 0)
    private let folder: String
    private let interval: Duration

    public init(folder: String, interval: Duration = .seconds(2)) {
        self.folder = folder
        self.interval = interval
        let thread = Thread { [self] in self.loop() }
        thread.name = "nanoscope-checkpoints"
        thread.start()
    }

    public func data() -> BrowserData { shared.withLock { $0.data } }

    /// Rescan now (after an event: a checkpoint written, a run resumed).
    public func refresh() {
        shared.withLock { $0.poked = true }
        wake.signal()
    }

    /// Reads this run's metrics for the mini loss curve (nil: none).
    public func showLosses(ofRun path: String?) {
        let changed = shared.withLock { s -> Bool in
            guard s.wantedLossRun != path else { return false }
            s.wantedLossRun = path
            s.poked = true
            return true
        }
        if changed { wake.signal() }
    }

    /// Reads these runs' curves and configs for the loss pane's overlay (re-read when a run's
    /// metrics change, so a run training in another process keeps growing on the chart).
    public func showOverlays(_ paths: [String]) {
        let changed = shared.withLock { s -> Bool in
            guard s.wantedOverlays != paths else { return false }
            s.wantedOverlays = paths
            s.poked = true
            return true
        }
        if changed { wake.signal() }
    }

    /// Deletes a checkpoint's weights and optimizer files, then rescans.
    public func delete(_ path: String) {
        shared.withLock { $0.deletions.append(path); $0.poked = true }
        wake.signal()
    }

    public func shutdown() {
        shared.withLock { $0.shutdown = true }
        wake.signal()
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private func loop() {
        var metricsCache: (path: String, modified: [Date?], history: RunHistory)?
        var overlayCache: [String: (modified: [Date?], summary: RunSummary)] = [:]
        while true {
            let (deletions, lossRun, overlayRuns, stop) = shared.withLock { s in
                defer { s.deletions.removeAll(); s.poked = false }
                return (s.deletions, s.wantedLossRun, s.wantedOverlays, s.shutdown)
            }
            if stop { return }
            var notes: [String] = []
            for path in deletions {
                let optimizer = path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) + ".optimizer.safetensors" : nil
                do {
                    try FileManager.default.removeItem(atPath: path)
                    if let optimizer, FileManager.default.fileExists(atPath: optimizer) {
                        try FileManager.default.removeItem(atPath: optimizer)
                    }
                } catch {
                    notes.append("could not delete \(path): \(error.localizedDescription)")
                }
            }
            var scanned = BrowserData()
            scanned.folder = folder
            scanned.scannedAt = Date()
            do { scanned.runs = try CheckpointCatalog.scan(folder) } catch { scanned.error = error.description }
            if let notes = notes.first { scanned.error = notes }
            if let lossRun {
                let files = [RunDirectory(lossRun).metricsPath, lossRun + "/" + TelemetryLog.fileName]
                let modified = files.map(Self.modificationDate)
                if metricsCache?.path != lossRun || metricsCache?.modified != modified {
                    metricsCache = (lossRun, modified, RunHistory.read(runPath: lossRun))
                }
                scanned.lossRunPath = lossRun
                scanned.history = metricsCache?.history
                scanned.losses = (metricsCache?.history.records ?? []).compactMap { r in r.trainLoss.map { (r.step, $0) } }
            }
            overlayCache = overlayCache.filter { overlayRuns.contains($0.key) }
            for path in overlayRuns {
                let directory = RunDirectory(path)
                let modified = [directory.metricsPath, directory.configPath].map(Self.modificationDate)
                if overlayCache[path]?.modified != modified, let summary = try? RunSummary.load(path) {
                    overlayCache[path] = (modified, summary)
                }
                scanned.overlays[path] = overlayCache[path]?.summary
            }
            shared.withLock { s in
                scanned.version = s.data.version + 1
                s.data = scanned
            }
            _ = wake.wait(timeout: .now() + .milliseconds(Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)))
        }
    }
}
