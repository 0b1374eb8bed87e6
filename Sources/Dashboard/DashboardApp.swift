import Foundation
import Training
import TerminalUI

/// Opens the dashboard on the calling thread, which must be the only one touching the terminal,
/// and returns once the user has quit and the terminal is restored.
///
/// The trainer lives on its own thread behind `control`; the dashboard polls its snapshot each
/// frame and sends it commands. Quitting sends `.stop` and keeps drawing "saving…" until the
/// trainer reports `.finished` or `.failed` (or `options.shutdownTimeout` passes). Theme warnings
/// and colour hints are printed to stderr after the terminal is restored.
@discardableResult
public func runDashboard(control: any TrainingControl, options: DashboardOptions = DashboardOptions()) throws -> DashboardResult {
    let library = ThemeLibrary.load(from: options.themeDirectories ?? ThemeLibrary.standardDirectories())
    let backend = try NcursesBackend(maxColorMode: options.colorMode)
    let outcome: DashboardExit
    let interruptedBy: Int32?
    do {
        defer { backend.close() }
        let app = DashboardApp(control: control, backend: backend, themes: library, options: options)
        outcome = app.run()
        interruptedBy = app.interruptedBy
    }
    var notes = library.warnings.map(\.description)
    if let hint = backend.colorHint { notes.append(hint) }
    if outcome == .timedOut { notes.append("the trainer did not stop within \(options.shutdownTimeout); it may not have saved") }
    for note in notes { FileHandle.standardError.write(Data("nanoscope: \(note)\n".utf8)) }
    return DashboardResult(exit: outcome, interruptedBy: interruptedBy)
}

/// How the dashboard ended.
public struct DashboardResult: Equatable, Sendable {
    public var exit: DashboardExit
    /// The signal that ended it: SIGTERM or SIGHUP as received, SIGINT for Ctrl-C (a key in raw
    /// mode, but the same request as the headless run's SIGINT); nil after `q`. The program exits
    /// 128 + this, as shells report a process killed by it, so scripts see one code either way.
    public var interruptedBy: Int32?
}

/// The frame loop, generic over the backend so tests can run it in memory with a fake trainer.
public final class DashboardApp<Backend: TerminalBackend> {
    private let control: any TrainingControl
    private let backend: Backend
    private let themes: ThemeLibrary
    private let options: DashboardOptions
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    /// Changed only through `reduce` (see `dispatch`).
    public private(set) var ui: UIState
    /// The newest frame drawn, for tests and benchmarks.
    public private(set) var lastFrame: CellBuffer?

    private var shutdownStarted: ContinuousClock.Instant?
    private var exit: DashboardExit?
    /// The first interruption (see `DashboardResult.interruptedBy`).
    public private(set) var interruptedBy: Int32?
    private var lastDrawn: (snapshot: TrainingSnapshot, ui: UIState, console: ConsoleData, theme: Int, width: Int, height: Int)?

    /// Generates the console's text on its own thread.
    private let sampler = SamplingService()
    /// Lists the runs folder on its own thread (nil without a runs folder).
    private let watcher: CheckpointWatcher?
    /// What the console and browser panes draw, refreshed each frame from the two threads.
    public private(set) var console = ConsoleData()
    private var rowsKey: (version: Int, sort: BrowserSort, filter: String)?
    private var lastRequest: SamplingRequest?
    /// The checkpoints last pinned against retention (see `pinIfChanged`).
    private var lastPinned: Set<String> = []
    private var listingSeen = 0
    private var lastCheckpointSeen: String?
    private var askedForWeights = false
    private var lastMemoryRead: ContinuousClock.Instant?

    /// This process's resident set size from `/proc/self/statm` (nil where there is none).
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    public init(control: any TrainingControl, backend: Backend, themes: ThemeLibrary, options: DashboardOptions) {
        self.control = control
        self.backend = backend
        self.themes = themes
        self.options = options
        started = clock.now
        let start = options.theme.flatMap(themes.index(named:)) ?? 0
        // Browsing (no trainer), the checkpoint list is what there is to act on: focus starts there.
        ui = UIState(themeIndex: start, themeNames: themes.themes.map(\.name),
                     focus: control.snapshot().state == .idle && options.runsFolder != nil ? .checkpoints : .loss)
        watcher = options.runsFolder.map { CheckpointWatcher(folder: $0) }
        if let theme = options.theme, themes.index(named: theme) == nil {
            dispatch(.event(.notice("no theme named \(theme); using \(themes.themes[start].name)")), training: .idle)
        } else if !themes.warnings.isEmpty {
            dispatch(.event(.notice("\(themes.warnings.count) theme warning(s), listed on exit")), training: .idle)
        }
    }

    /// The dashboard's clock for the reducer: time since the app started.
    private var now: Duration { clock.now - started }

    /// The only place `ui` changes: the input goes through the reducer; its effects are returned.
    @discardableResult
    private func dispatch(_ input: Input, training: TrainingSnapshot.State,
                          limits: SelectionLimits = SelectionLimits()) -> [Effect] {
        let (next, effects) = reduce(ui, input, training: training, limits: limits, now: now)
        ui = next
        return effects
    }

    /// Runs until the user has quit and the trainer has stopped (or the wait was cut short).
    public func run() -> DashboardExit {
        defer {
            sampler.shutdown()
            watcher?.shutdown()
        }
        let frameMilliseconds = max(10, Int(1000 / max(1, options.framesPerSecond)))
        while true {
            let snapshot = control.snapshot()
            refreshConsole(snapshot)
            for _ in 0..<TerminalGuard.takeInterrupts() {
                let signal = TerminalGuard.firstInterruptSignal.load(ordering: .relaxed)
                interruptedBy = interruptedBy ?? (signal != 0 ? signal : SIGINT)
                handle(.interrupt, snapshot)
            }
            if let exit = checkShutdown(snapshot) { return exit }
            if options.exitWhenTrainingEnds && !snapshot.state.isActive { return .trainerStopped }
            // Events, like keys, go through the reducer: the trainer's new lines, then the clock.
            dispatch(.event(.trainerMessages(snapshot.messages)), training: snapshot.state)
            dispatch(.event(.tick), training: snapshot.state)
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
        if case .mouse(let event) = key {
            // Where things are is the view's knowledge: it turns a click into an action.
            let (width, height) = backend.size
            guard let action = MouseTargets.action(for: event, ui: ui, snapshot: snapshot, console: console,
                                                   width: width, height: height) else { return }
            handle(action, snapshot)
            return
        }
        guard let action = Keymap.action(for: key, in: ui) else { return }
        handle(action, snapshot)
    }

    private func handle(_ action: Action, _ snapshot: TrainingSnapshot) {
        if action == .interrupt { interruptedBy = interruptedBy ?? SIGINT }
        var limits = SelectionLimits(snapshot)
        limits.checkpoints = console.rows
        limits.vocab = console.sampling.columns.first?.vocabSize
        limits.generatedTokens = console.sampling.columns.first?.distributions.count ?? 0
        let (width, height) = backend.size
        (limits.textLines, limits.textRows) = SamplingPane.textExtent(ui: ui, snapshot: snapshot, console: console, width: width, height: height)
        if snapshot.state == .idle, let history = console.browser.history {
            limits.maxSteps = history.records.last?.step ?? 0
        }
        let effects = dispatch(.action(action), training: snapshot.state, limits: limits)
        // The request follows the settings at once: a slider move cancels the running generation
        // in this frame, not the next.
        submitIfChanged(snapshot)
        pinIfChanged()
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
            case .deleteCheckpoint(let path):
                watcher?.delete(path)
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

    /// Renders and presents a frame unless nothing it depends on has changed (a paused run
    /// then costs nothing but the wait for input).
    private func draw(_ snapshot: TrainingSnapshot) {
        let (width, height) = backend.size
        if let last = lastDrawn, last.width == width, last.height == height, last.theme == ui.themeIndex,
           last.ui == ui, last.snapshot == snapshot, last.console == console {
            return
        }
        let frame = DashboardView.render(snapshot: snapshot, ui: ui, console: console, theme: themes.themes[ui.themeIndex],
                                         colorMode: backend.colorMode, width: width, height: height)
        backend.present(frame)
        lastFrame = frame
        lastDrawn = (snapshot, ui, console, ui.themeIndex, width, height)
    }

    // MARK: Sampling console and checkpoint browser

    /// Polls the sampler and the watcher (two lock-protected copies), re-sorts the browser rows
    /// only when the listing, sort or filter changed, and keeps the sampler's request in step
    /// with the UI state. No disk access here: the watcher's thread does that.
    private func refreshConsole(_ snapshot: TrainingSnapshot) {
        // The console starts on the trainer's weights: ask for a copy once training runs.
        if !askedForWeights && snapshot.state.isActive && snapshot.liveWeights == nil {
            askedForWeights = true
            control.send(.snapshotWeights)
        }
        console.sampling = sampler.output()
        console.model = options.model
        // Resident memory, every two seconds (one small read of /proc).
        if lastMemoryRead.map({ clock.now - $0 > .seconds(2) }) ?? true {
            lastMemoryRead = clock.now
            console.residentBytes = Self.residentBytes()
        }
        if let watcher {
            if snapshot.lastCheckpoint != lastCheckpointSeen {
                lastCheckpointSeen = snapshot.lastCheckpoint
                watcher.refresh()
            }
            console.browser = watcher.data()
            if console.browser.version != listingSeen {
                listingSeen = console.browser.version
                if console.browser.error == nil {
                    let existing = Set(console.browser.runs.flatMap { $0.checkpoints.map(\.path) })
                    dispatch(.event(.checkpointsOnDisk(existing)), training: snapshot.state)
                }
            }
            let key = (console.browser.version, ui.browser.sort, ui.browser.filter)
            if rowsKey.map({ $0.version != key.0 || $0.sort != key.1 || $0.filter != key.2 }) ?? true {
                rowsKey = key
                console.rows = BrowserRow.rows(console.browser.runs, sort: ui.browser.sort, filter: ui.browser.filter)
            }
            if !console.rows.isEmpty {
                watcher.showLosses(ofRun: console.rows[min(max(0, ui.browser.selected), console.rows.count - 1)].runPath)
            }
            // The training run's own config joins the overlaid runs' for the diff.
            var overlays = ui.browser.overlays.map(\.path)
            if !overlays.isEmpty, let folder = options.runsFolder, snapshot.state != .idle {
                overlays.append(folder + "/" + snapshot.runName)
            }
            watcher.showOverlays(overlays)
        }
        submitIfChanged(snapshot)
        pinIfChanged()
    }

    /// The generation the UI state asks for (nil: nothing to sample yet).
    static func request(for ui: UIState, snapshot: TrainingSnapshot) -> SamplingRequest? {
        let sources: [SamplingSource]
        switch ui.sampling.source {
        case .live:
            guard let live = snapshot.liveWeights else { return nil }
            sources = [.live(live)]
        case .checkpoint(let path): sources = [.checkpoint(path)]
        case .compare(let a, let b): sources = [.checkpoint(a), .checkpoint(b)]
        }
        let v = ui.sampling
        return SamplingRequest(sources: sources, prompt: v.prompt, settings: v.settings, seed: v.seed, maxTokens: v.maxTokens,
                               strategies: v.compareStrategies ? v.strategies : [])
    }

    /// Tells the trainer which checkpoints the panes show — the console's and the marked ones —
    /// so that retention spares them. Sent when the set changes, and read by the trainer at
    /// once (not at its next step), since the save that ends the current step prunes.
    private func pinIfChanged() {
        let pinned = Set(ui.sampling.source.paths + ui.browser.marked)
        guard pinned != lastPinned else { return }
        lastPinned = pinned
        control.send(.pinCheckpoints(pinned))
    }

    private func submitIfChanged(_ snapshot: TrainingSnapshot) {
        guard let request = Self.request(for: ui, snapshot: snapshot), request != lastRequest else { return }
        lastRequest = request
        sampler.submit(request)
        console.sampling = sampler.output()
    }
}
