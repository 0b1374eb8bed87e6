import Foundation
import Synchronization

/// The `TrainingControl` a dashboard holds when training may start, stop and start again in
/// this process: it forwards to the current `TrainingSession` (if any) and can swap it for a
/// resumed run (`.resumeFrom(path)`, from the checkpoint browser).
///
/// With no session (`nanoscope browse`) it publishes an `.idle` snapshot, so the dashboard says
/// "no training" and still offers sampling and the browser. A swap runs on its own short-lived
/// thread: it stops the current run (which checkpoints), waits for its thread to end, and starts
/// a new session whose trainer thread loads the checkpoint — the UI thread never waits on disk.
public final class TrainingHost: TrainingControl {
    private struct State {
        var session: TrainingSession?
        /// Messages of the host itself (a resume that could not start), shown while idle.
        var messages: [String] = []
        /// A swap is under way; a second `r` is refused until it is done.
        var switching = false
        /// The user quit: a swap in progress must not start a new run afterwards.
        var stopped = false
        /// The latest `.pinCheckpoints`, handed to every session started here.
        var pinned: Set<String> = []
    }

    private let state: Mutex<State>
    private let idleName: String

    /// `session` nil: no training until a checkpoint is resumed.
    public init(session: TrainingSession?, idleName: String = "no training") {
        state = Mutex(State(session: session))
        self.idleName = idleName
    }

    public func snapshot() -> TrainingSnapshot {
        let (session, messages) = state.withLock { ($0.session, $0.messages) }
        if let session {
            var snapshot = session.snapshot()
            snapshot.messages += messages
            return snapshot
        }
        var idle = TrainingSnapshot(runName: idleName, maxSteps: 0)
        idle.state = .idle
        idle.messages = messages
        return idle
    }

    public func send(_ command: TrainerCommand) {
        switch command {
        case .resumeFrom(let path):
            resume(from: path)
        case .pinCheckpoints(let paths):
            state.withLock { s -> TrainingSession? in s.pinned = paths; return s.session }?.send(command)
        case .stop:
            let session = state.withLock { s -> TrainingSession? in s.stopped = true; return s.session }
            session?.send(.stop)
        default:
            state.withLock { $0.session }?.send(command)
        }
    }

    /// True when no trainer thread is running (none started, or the current one has returned).
    public var isDone: Bool {
        state.withLock { s in !s.switching && (s.session?.isDone ?? true) }
    }

    private func note(_ text: String) {
        state.withLock { s in
            s.messages.append(text)
            if s.messages.count > 20 { s.messages.removeFirst(s.messages.count - 20) }
        }
    }

    /// Checks the checkpoint and its run's `config.toml` at once (so a bad choice is reported
    /// without stopping the current run), then swaps runs on a helper thread.
    private func resume(from path: String) {
        let busy = state.withLock { s -> Bool in
            if s.switching || s.stopped { return true }
            s.switching = true
            return false
        }
        guard !busy else { note("a run is already being started"); return }
        let point: ResumePoint
        let config: TrainConfig
        do {
            point = try ResumePoint.locate(path)
            config = try TrainConfig.load(path: point.configPath)
        } catch {
            note("cannot resume: \(error)")
            state.withLock { $0.switching = false }
            return
        }
        let thread = Thread { [self] in
            if let old = state.withLock({ $0.session }) {
                old.send(.stop)
                while !old.isDone { Thread.sleep(forTimeInterval: 0.02) }
            }
            state.withLock { s in
                defer { s.switching = false }
                guard !s.stopped else { return }
                s.messages = ["resuming \(point.run.name) from step \(point.checkpoint.step)"]
                let session = TrainingSession(name: point.run.name, maxSteps: config.maxIters) {
                    try RunSetup.resume(from: point, config: config, report: { self.note($0) })
                }
                session.send(.pinCheckpoints(s.pinned))
                s.session = session
            }
        }
        thread.name = "nanoscope-resume"
        thread.start()
    }
}
