import Foundation
import Training

/// Opens the dashboard on the calling thread, which must be the only one touching the terminal,
/// and returns once the user has quit and the terminal is restored.
///
/// The trainer lives on its own thread behind `control`; the dashboard polls its snapshot each
/// frame and sends it commands. Quitting sends `.stop` and keeps drawing "saving…" until the
/// trainer reports `.finished` or `.failed` (or `options.shutdownTimeout` passes). Theme warnings
/// and colour hints are printed to stderr after the terminal is restored.
@discardableResult
public func runDashboard(control: any TrainingControl, options: DashboardOptions = DashboardOptions()) throws -> DashboardExit {
    let library = ThemeLibrary.load(from: options.themeDirectories ?? ThemeLibrary.standardDirectories())
    let backend = try NcursesBackend(maxColorMode: options.colorMode)
    let outcome: DashboardExit
    do {
        defer { backend.close() }
        let app = DashboardApp(control: control, backend: backend, themes: library, options: options)
        outcome = app.run()
    }
    var notes = library.warnings.map(\.description)
    if let hint = backend.colorHint { notes.append(hint) }
    if outcome == .timedOut { notes.append("the trainer did not stop within \(options.shutdownTimeout); it may not have saved") }
    for note in notes { FileHandle.standardError.write(Data("nanoscope: \(note)\n".utf8)) }
    return outcome
}

/// The frame loop, generic over the backend so tests can run it in memory with a fake trainer.
public final class DashboardApp<Backend: TerminalBackend> {
    private let control: any TrainingControl
    private let backend: Backend
    private let themes: ThemeLibrary
    private let options: DashboardOptions
    private let clock = ContinuousClock()
    public private(set) var ui: UIState
    /// The newest frame drawn, for tests and benchmarks.
    public private(set) var lastFrame: CellBuffer?

    private var shutdownStarted: ContinuousClock.Instant?
    private var noticeShownAt: ContinuousClock.Instant?
    private var exit: DashboardExit?
    private var lastDrawn: (snapshot: TrainingSnapshot, ui: UIState, theme: Int, width: Int, height: Int)?

    static var noticeDuration: Duration { .seconds(3) }

    public init(control: any TrainingControl, backend: Backend, themes: ThemeLibrary, options: DashboardOptions) {
        self.control = control
        self.backend = backend
        self.themes = themes
        self.options = options
        let start = options.theme.flatMap(themes.index(named:)) ?? 0
        ui = UIState(themeIndex: start, themeCount: themes.themes.count)
        if let theme = options.theme, themes.index(named: theme) == nil {
            show("no theme named \(theme); using \(themes.themes[start].name)")
        } else if !themes.warnings.isEmpty {
            show("\(themes.warnings.count) theme warning(s), listed on exit")
        }
    }

    /// Runs until the user has quit and the trainer has stopped (or the wait was cut short).
    public func run() -> DashboardExit {
        let frameMilliseconds = max(10, Int(1000 / max(1, options.framesPerSecond)))
        while true {
            let snapshot = control.snapshot()
            for _ in 0..<TerminalGuard.takeInterrupts() { handle(.interrupt, snapshot) }
            if let exit = checkShutdown(snapshot) { return exit }
            if options.exitWhenTrainingEnds && !snapshot.state.isActive { return .trainerStopped }
            expireNotice()
            draw(snapshot)

            // Waiting on input is the frame timer: no busy loop, and a key is answered at once.
            guard let key = backend.nextKey(timeoutMilliseconds: frameMilliseconds) else { continue }
            handle(key, snapshot)
            // Drain whatever else is queued (held keys, pasted text) before the next frame.
            var drained = 0
            while drained < 64, exit == nil, let more = backend.nextKey(timeoutMilliseconds: 0) {
                handle(more, snapshot)
                drained += 1
            }
            if let exit { return exit }
        }
    }

    func handle(_ key: Key, _ snapshot: TrainingSnapshot) {
        if key == .resize {
            backend.invalidate()
            return
        }
        guard let action = Keymap.action(for: key, in: ui) else { return }
        handle(action, snapshot)
    }

    private func handle(_ action: Action, _ snapshot: TrainingSnapshot) {
        let before = ui
        let (next, effects) = reduce(ui, action, training: snapshot.state, limits: SelectionLimits(snapshot))
        ui = next
        if ui.notice != before.notice, ui.notice != nil { noticeShownAt = clock.now }
        if ui.themeIndex != before.themeIndex { show("theme \(themes.themes[ui.themeIndex].name)") }
        for effect in effects {
            switch effect {
            case .send(let command):
                control.send(command)
            case .beginShutdown(let stopTrainer):
                if stopTrainer { control.send(.stop) }
                shutdownStarted = clock.now
            case .abandonShutdown:
                exit = .abandoned
            case .redraw:
                backend.invalidate()
                lastDrawn = nil
            }
        }
    }

    private func checkShutdown(_ snapshot: TrainingSnapshot) -> DashboardExit? {
        if let exit { return exit }
        guard ui.shutdown == .waitingForTrainer, let started = shutdownStarted else { return nil }
        if !snapshot.state.isActive { return .trainerStopped }
        if clock.now - started > options.shutdownTimeout { return .timedOut }
        return nil
    }

    private func show(_ notice: String) {
        ui.notice = notice
        noticeShownAt = clock.now
    }

    private func expireNotice() {
        if ui.notice != nil, let shown = noticeShownAt, clock.now - shown > Self.noticeDuration {
            ui.notice = nil
            noticeShownAt = nil
        }
    }

    /// Renders and presents a frame unless nothing it depends on has changed (a paused run
    /// then costs nothing but the wait for input).
    private func draw(_ snapshot: TrainingSnapshot) {
        let (width, height) = backend.size
        if let last = lastDrawn, last.width == width, last.height == height, last.theme == ui.themeIndex,
           last.ui == ui, last.snapshot == snapshot {
            return
        }
        let frame = DashboardView.render(snapshot: snapshot, ui: ui, theme: themes.themes[ui.themeIndex],
                                         colorMode: backend.colorMode, width: width, height: height)
        backend.present(frame)
        lastFrame = frame
        lastDrawn = (snapshot, ui, ui.themeIndex, width, height)
    }
}
