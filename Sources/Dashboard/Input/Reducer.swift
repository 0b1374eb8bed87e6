import Training
import TerminalUI

/// Something the reducer wants done outside the UI state: the app loop carries it out.
public enum Effect: Equatable, Sendable {
    case send(TrainerCommand)
    /// Delete a checkpoint's files (the user confirmed) and rescan the runs folder.
    case deleteCheckpoint(String)
    /// Start quitting: ask the trainer to stop (if it is still training) and wait for it.
    case beginShutdown(stopTrainer: Bool)
    /// Stop waiting for the trainer and release the terminal now.
    case abandonShutdown
    /// Repaint every cell (the screen may have been garbled by another program).
    case redraw
}

extension TrainingSnapshot.State {
    /// The trainer is alive and may still change the model: quitting must stop it cleanly.
    public var isActive: Bool {
        switch self {
        case .starting, .running, .paused, .evaluating: true
        case .finished, .failed, .idle: false
        }
    }
}

/// Something that happened that is not a key: the app feeds these to the reducer like keys.
public enum Event: Equatable, Sendable {
    /// A frame: the clock moved on, so an expired message goes.
    case tick
    /// The snapshot's message list this frame; a line not seen before becomes the message.
    case trainerMessages([String])
    /// Something the app has to say that no key asked for (a theme option naming no theme).
    case notice(String)
    /// The runs folder was listed: these weights files exist. A checkpoint the console samples
    /// or the browser has marked that is not among them was deleted (by retention, another
    /// program, a person): the panes let go of it.
    case checkpointsOnDisk(Set<String>)
}

/// What the reducer is fed.
public enum Input: Equatable, Sendable {
    case action(Action)
    case event(Event)
}

/// The dashboard's behaviour as a pure function: a key and the current training state in,
/// the next UI state and the effects to perform out. `now` is the dashboard's clock (time since
/// it started): messages are stamped with it and expire by it.
public func reduce(_ state: UIState, _ key: Key, training: TrainingSnapshot.State,
                   limits: SelectionLimits = SelectionLimits(), now: Duration = .zero) -> (UIState, [Effect]) {
    guard let action = Keymap.action(for: key, in: state) else { return (state, []) }
    return reduce(state, .action(action), training: training, limits: limits, now: now)
}

public func reduce(_ state: UIState, _ action: Action, training: TrainingSnapshot.State,
                   limits: SelectionLimits = SelectionLimits(), now: Duration = .zero) -> (UIState, [Effect]) {
    reduce(state, .action(action), training: training, limits: limits, now: now)
}

public func reduce(_ state: UIState, _ input: Input, training: TrainingSnapshot.State,
                   limits: SelectionLimits = SelectionLimits(), now: Duration = .zero) -> (UIState, [Effect]) {
    switch input {
    case .action(let action):
        var next = state
        var effects: [Effect] = []
        var notice: String?
        reduceAction(&next, action, training: training, limits: limits, notice: &notice, effects: &effects)
        if let notice { next.message = Message(notice, kind: .notice, posted: now) }
        return (next, effects)
    case .event(let event):
        return (reduceEvent(state, event, now: now), [])
    }
}

private func reduceEvent(_ state: UIState, _ event: Event, now: Duration) -> UIState {
    var s = state
    switch event {
    case .tick:
        if let message = s.message, message.isExpired(at: now) { s.message = nil }
    case .trainerMessages(let lines):
        guard lines != s.trainerMessagesSeen else { break }
        // Newer replaces older: of several new lines only the newest is shown. A line about a
        // checkpoint deleted since is stale: it is not shown.
        let fresh = newTrainerMessages(lines, since: s.trainerMessagesSeen).filter { line in
            !s.deletedPaths.contains { mentions(line, $0) }
        }
        if let newest = fresh.last {
            s.message = Message(newest, kind: .trainer, posted: now)
        }
        s.trainerMessagesSeen = lines
    case .notice(let text):
        s.message = Message(text, kind: .notice, posted: now)
    case .checkpointsOnDisk(let existing):
        let gone = Set(s.sampling.source.paths + s.browser.marked).subtracting(existing)
        guard !gone.isEmpty else { break }
        s.browser.marked.removeAll { gone.contains($0) }
        if s.sampling.source.paths.contains(where: gone.contains) {
            s.sampling.source = .live
            s.sampling.cursor = nil
        }
        let names = gone.sorted().map { $0.split(separator: "/").suffix(3).joined(separator: "/") }
        s.message = Message("\(names.joined(separator: ", ")) no longer exists; the console let go of it", kind: .notice, posted: now)
    }
    return s
}

/// `index` moved by `delta`, kept in `0..<count` (unbounded above while the count is unknown).
private func moved(_ index: Int, by delta: Int, within count: Int?) -> Int {
    let next = max(0, index + delta)
    guard let count else { return next }
    return min(next, max(0, count - 1))
}

/// A key's action: changes `s`, says what it did in `notice` (posted as the message), and
/// collects the effects.
private func reduceAction(_ s: inout UIState, _ action: Action, training: TrainingSnapshot.State, limits: SelectionLimits,
                          notice: inout String?, effects: inout [Effect]) {
    // Once quitting has begun only Ctrl-C means anything: it gives up waiting for the trainer.
    if s.shutdown == .waitingForTrainer {
        if action == .interrupt { effects.append(.abandonShutdown) }
        return
    }

    switch action {
    case .togglePause:
        switch training {
        case .paused:
            effects.append(.send(.resume)); notice = "resuming"
        case .starting, .running, .evaluating:
            effects.append(.send(.pause)); notice = "pausing after this step"
        case .idle:
            notice = "browsing: nothing trains here (r in Checkpoints resumes a run)"
        case .finished, .failed:
            notice = "training has ended"
        }
    case .saveCheckpoint:
        if training.isActive {
            effects.append(.send(.saveCheckpoint)); notice = "checkpoint requested"
        } else if training == .idle {
            notice = "browsing: nothing to save (r in Checkpoints resumes a run)"
        } else {
            notice = "training has ended; nothing new to save"
        }
    case .quit:
        if training.isActive {
            s.confirmingQuit = true
        } else {
            s.shutdown = .waitingForTrainer
            effects.append(.beginShutdown(stopTrainer: false))
        }
    case .interrupt, .confirmQuit:
        s.confirmingQuit = false
        s.showHelp = false
        s.shutdown = .waitingForTrainer
        effects.append(.beginShutdown(stopTrainer: training.isActive))
    case .cancelQuit:
        s.confirmingQuit = false
    case .toggleHelp:
        s.showHelp.toggle()
        s.helpScroll = 0
    case .closeOverlay:
        if s.showHelp { s.showHelp = false } else { s.expanded = false }
    case .scrollDown:
        // The renderer stops at the last line; this bound only keeps the number sane.
        s.helpScroll = min(s.helpScroll + 1, Keymap.bindings.count + KeyScope.allCases.count * 2)
    case .scrollUp:
        s.helpScroll = max(0, s.helpScroll - 1)
    case .focusNext:
        focus(&s, PaneID(rawValue: (s.focus.rawValue + 1) % PaneID.allCases.count)!)
    case .focusPrevious:
        focus(&s, PaneID(rawValue: (s.focus.rawValue + PaneID.allCases.count - 1) % PaneID.allCases.count)!)
    case .focusPane(let pane):
        focus(&s, pane)
    case .selectTensorRow(let row):
        focus(&s, .gradients)
        s.gradients.selected = moved(row, by: 0, within: limits.tensors)
    case .selectCheckpointRow(let row):
        focus(&s, .checkpoints)
        s.browser.selected = moved(row, by: 0, within: max(1, limits.checkpoints.count))
    case .setSlider(let slider, let fraction):
        focus(&s, .sampling)
        s.draggingSlider = slider
        let before = s.sampling
        s.sampling.slider = slider
        setSlider(&s.sampling, slider, fraction: min(max(fraction, 0), 1), vocab: limits.vocab)
        if s.sampling.settings != before.settings || s.sampling.maxTokens != before.maxTokens {
            s.sampling.cursor = nil
            if !s.sampling.seedLocked { s.sampling.seed &+= 1 }
        }
    case .releaseMouse:
        s.draggingSlider = nil
    case .toggleExpand:
        s.expanded.toggle()
    case .nextTheme:
        let next = (s.themeIndex + 1) % max(1, s.themeCount)
        notice = next != s.themeIndex
            ? "theme \(s.themeNames[next]) (\(next + 1) of \(s.themeCount); t for the next)"
            : "theme \(s.themeNames[next]) is the only one installed"
        s.themeIndex = next
    case .redraw:
        effects.append(.redraw)
    case .toggleSmoothing:
        s.loss.smoothingLevel = (s.loss.smoothingLevel + 1) % LossViewState.smoothingWeights.count
        notice = s.loss.smoothing ? "EMA smoothing \(s.loss.smoothingWeight) (m: stronger, then off)" : "EMA smoothing off (m turns it on)"
    case .toggleLogScale:
        s.loss.logScale.toggle()
    case .toggleFollow:
        s.loss.follow.toggle()
    case .toggleLossAxis:
        s.loss.xAxis = s.loss.xAxis == .step ? .tokens : .step
        notice = s.loss.xAxis == .step ? "x axis: steps" : "x axis: tokens seen (step × batch × block × accumulation)"
    case .widenWindow:
        // Round windows, and none longer than the run: past its length the whole run shows.
        if !s.loss.follow { notice = "showing the whole run"; break }
        let next = LossViewState.windowChoices.first { $0 > s.loss.windowSteps } ?? LossViewState.windowRange.upperBound
        if limits.maxSteps > 0 && next >= limits.maxSteps {
            s.loss.follow = false
        } else {
            s.loss.windowSteps = next
        }
    case .narrowWindow:
        var current = s.loss.windowSteps
        if !s.loss.follow && limits.maxSteps > 0 { current = limits.maxSteps }
        s.loss.follow = true
        s.loss.windowSteps = LossViewState.windowChoices.last { $0 < current } ?? LossViewState.windowRange.lowerBound
    case .selectNext:
        s.gradients.selected = moved(s.gradients.selected, by: 1, within: limits.tensors)
    case .selectPrevious:
        s.gradients.selected = moved(s.gradients.selected, by: -1, within: limits.tensors)
    case .toggleRawValues:
        s.gradients.rawValues.toggle()
    case .nextLayer:
        s.attention.layer = moved(s.attention.layer, by: 1, within: limits.layers)
    case .previousLayer:
        s.attention.layer = moved(s.attention.layer, by: -1, within: limits.layers)
    case .nextHead:
        s.attention.head = moved(s.attention.head, by: 1, within: limits.heads)
    case .previousHead:
        s.attention.head = moved(s.attention.head, by: -1, within: limits.heads)
    case .moveCursor(let rows, let columns):
        moveAttentionCursor(&s.attention, rows: rows, columns: columns, probeLength: limits.probeLength)
    case .toggleModelCard:
        s.showModelCard.toggle()
    case .toggleLens:
        s.attention.showLens.toggle()
        s.attention.tokens = .off
    case .cycleTokensView:
        s.attention.tokens = TokensView(rawValue: (s.attention.tokens.rawValue + 1) % TokensView.allCases.count)!
        if s.attention.tokens != .off { s.attention.showLens = false }
    case .cycleAttentionScaling:
        let all = AttentionScaling.allCases
        s.attention.scaling = all[(s.attention.scaling.rawValue + 1) % all.count]
        notice = "attention colour: \(s.attention.scaling.name)"
    case .editProbe:
        if training.isActive {
            s.textEntry = TextEntry(.probe)
        } else {
            notice = "training has ended; the probe cannot change"
        }
    case .nextSlider, .previousSlider, .increaseSlider, .decreaseSlider, .toggleSeedLock, .newSeed, .editPrompt,
         .cursorEarlier, .cursorLater, .useLiveWeights, .scrollTextUp, .scrollTextDown, .followText, .toggleStrategies:
        reduceSampling(&s, action, training: training, limits: limits, notice: &notice, effects: &effects)
    case .focusCheckpoints, .nextCheckpoint, .previousCheckpoint, .loadCheckpoint, .resumeCheckpoint, .deleteCheckpoint,
         .confirmDelete, .cancelDelete, .confirmResume, .cancelResume, .markCheckpoint, .toggleOverlay, .cycleSort, .editFilter:
        reduceBrowser(&s, action, training: training, limits: limits, notice: &notice, effects: &effects)
    case .editText(let edit):
        guard let entry = s.textEntry else { break }
        switch entry.applying(edit) {
        case .editing(let next):
            s.textEntry = next
        case .cancelled:
            s.textEntry = nil
        case .submitted(let text):
            s.textEntry = nil
            use(text, for: entry.purpose, &s, notice: &notice, effects: &effects)
        }
    }
}

/// What Enter does with typed text, by what it was typed for.
private func use(_ text: String, for purpose: TextEntry.Purpose, _ s: inout UIState, notice: inout String?,
                 effects: inout [Effect]) {
    switch purpose {
    case .probe:
        if text.isEmpty {
            notice = "empty probe: unchanged"
        } else {
            effects.append(.send(.setProbe(text)))
            notice = "probe sent; the trainer recomputes the maps"
        }
    case .prompt:
        s.sampling.prompt = text
        s.sampling.cursor = nil
        if !s.sampling.seedLocked { s.sampling.seed &+= 1 }
    case .filter:
        s.browser.filter = text
        s.browser.selected = 0
    }
}

/// One step of a slider: temperature and top-p by 0.05, top-k and max tokens through lists of
/// useful values (top-k stops at the vocabulary, where it would cut nothing).
private func stepSlider(_ v: inout SamplingViewState, up: Bool, vocab: Int?) {
    func step<T: Comparable>(_ value: T, through values: [T]) -> T {
        if up { return values.first { $0 > value } ?? values.last ?? value }
        return values.last { $0 < value } ?? values.first ?? value
    }
    switch v.slider {
    case .temperature:
        let next = ((v.temperature + (up ? 0.05 : -0.05)) * 100).rounded() / 100
        v.temperature = min(max(next, SamplingViewState.temperatureRange.lowerBound), SamplingViewState.temperatureRange.upperBound)
    case .topP:
        v.topP = min(max(((v.topP + (up ? 0.05 : -0.05)) * 100).rounded() / 100, 0), 1)
    case .topK:
        let vocab = vocab ?? Int.max
        var values = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000].filter { $0 < vocab }
        if vocab != Int.max { values.append(vocab) }
        v.topK = step(v.topK, through: values)
    case .maxTokens:
        v.maxTokens = step(v.maxTokens, through: SamplingViewState.maxTokensSteps)
    }
}

/// A slider put at `fraction` of its track by the mouse, snapped to the values its keys reach.
private func setSlider(_ v: inout SamplingViewState, _ slider: SamplingSlider, fraction: Double, vocab: Int?) {
    func nearest(_ target: Double, _ values: [Int]) -> Int {
        values.min { abs(Double($0) - target) < abs(Double($1) - target) } ?? Int(target)
    }
    switch slider {
    case .temperature:
        v.temperature = Float((fraction * 2 / 0.05).rounded() * 0.05 * 100).rounded() / 100
    case .topP:
        v.topP = Float((fraction / 0.05).rounded() * 0.05 * 100).rounded() / 100
    case .topK:
        let top = vocab ?? 50_000
        var values = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000].filter { $0 < top }
        values.append(top)
        v.topK = nearest(fraction * Double(top), values)
    case .maxTokens:
        let r = SamplingViewState.maxTokensRange
        v.maxTokens = nearest(Double(r.lowerBound) + fraction * Double(r.upperBound - r.lowerBound), SamplingViewState.maxTokensSteps)
    }
}

/// Focus moves to `pane`; a pane other than Loss becomes the one shown beside it when space is short.
private func focus(_ s: inout UIState, _ pane: PaneID) {
    s.focus = pane
    if pane != .loss { s.detailPane = pane }
}

/// Whether a message is about this checkpoint (its path, or its file name).
func mentions(_ text: String, _ path: String) -> Bool {
    if text.contains(path) { return true }
    let file = path.split(separator: "/").last.map(String.init) ?? path
    return !file.isEmpty && text.contains(file)
}

private func reduceSampling(_ s: inout UIState, _ action: Action, training: TrainingSnapshot.State,
                            limits: SelectionLimits, notice: inout String?, effects: inout [Effect]) {
    let sliders = SamplingSlider.allCases.count
    switch action {
    case .nextSlider:
        s.sampling.slider = SamplingSlider(rawValue: (s.sampling.slider.rawValue + 1) % sliders)!
    case .previousSlider:
        s.sampling.slider = SamplingSlider(rawValue: (s.sampling.slider.rawValue + sliders - 1) % sliders)!
    case .increaseSlider, .decreaseSlider:
        let before = s.sampling
        stepSlider(&s.sampling, up: action == .increaseSlider, vocab: limits.vocab)
        if s.sampling != before {
            s.sampling.cursor = nil
            if !s.sampling.seedLocked { s.sampling.seed &+= 1 }
        }
    case .toggleSeedLock:
        s.sampling.seedLocked.toggle()
        notice = s.sampling.seedLocked ? "seed \(s.sampling.seed) locked: settings compare on the same draws" : "seed unlocked: every change draws anew"
    case .newSeed:
        s.sampling.seed &+= 1
        s.sampling.cursor = nil
    case .editPrompt:
        s.textEntry = TextEntry(.prompt, text: s.sampling.prompt)
    case .cursorEarlier:
        let last = max(0, limits.generatedTokens - 1)
        s.sampling.cursor = max(0, (s.sampling.cursor ?? last) - 1)
    case .cursorLater:
        if let c = s.sampling.cursor { s.sampling.cursor = c + 1 >= limits.generatedTokens ? nil : c + 1 }
    case .scrollTextUp:
        let page = max(1, limits.textRows - 1)
        let top = s.sampling.textScroll ?? max(0, limits.textLines - limits.textRows)
        s.sampling.textScroll = max(0, top - page)
    case .scrollTextDown:
        guard let top = s.sampling.textScroll else { break }
        let next = top + max(1, limits.textRows - 1)
        s.sampling.textScroll = next >= limits.textLines - limits.textRows ? nil : next
    case .followText:
        s.sampling.textScroll = nil
    case .toggleStrategies:
        s.sampling.compareStrategies.toggle()
        s.sampling.cursor = nil
        s.sampling.textScroll = nil
        notice = s.sampling.compareStrategies
            ? "four strategies on seed \(s.sampling.seed): the sliders set the temperature, top-k and top-p columns (v: back)"
            : "one text and its next-token view"
    case .useLiveWeights:
        if training.isActive {
            effects.append(.send(.snapshotWeights))
            s.sampling.source = .live
            s.browser.marked = []
            notice = "sampling the trainer's weights (a copy at the next step)"
        } else {
            notice = "no training in progress: load a checkpoint from the browser (c, Enter)"
        }
    default:
        break
    }
}

private func reduceBrowser(_ s: inout UIState, _ action: Action, training: TrainingSnapshot.State, limits: SelectionLimits,
                           notice: inout String?, effects: inout [Effect]) {
    let rows = limits.checkpoints
    let index = min(max(0, s.browser.selected), max(0, rows.count - 1))
    let row = rows.isEmpty ? nil : rows[index]
    switch action {
    case .focusCheckpoints:
        focus(&s, .checkpoints)
    case .nextCheckpoint:
        s.browser.selected = moved(index, by: 1, within: rows.count)
    case .previousCheckpoint:
        s.browser.selected = moved(index, by: -1, within: rows.count)
    case .loadCheckpoint:
        guard let row else { notice = "no checkpoint selected"; return }
        s.sampling.source = .checkpoint(row.info.path)
        s.sampling.cursor = nil
        s.browser.marked = []
        notice = "sampling \(row.info.run) step \(row.info.step)"
    case .resumeCheckpoint:
        // Resuming rewrites history: it asks, naming the step and what becomes of later checkpoints.
        guard let row else { notice = "no checkpoint selected"; return }
        s.browser.confirmingResume = ResumeConfirmation(path: row.info.path, run: row.info.run, step: row.info.step,
                                                        laterSteps: row.laterSteps, stopsCurrentRun: training.isActive)
    case .confirmResume:
        guard let question = s.browser.confirmingResume else { return }
        s.browser.confirmingResume = nil
        effects.append(.send(.resumeFrom(question.path)))
        notice = "resuming \(question.run) from step \(question.step)"
    case .cancelResume:
        s.browser.confirmingResume = nil
    case .deleteCheckpoint:
        guard let row else { notice = "no checkpoint selected"; return }
        var warnings: [String] = []
        if row.isBest { warnings.append("the run's best val") }
        if s.sampling.source.paths.contains(row.info.path) { warnings.append("loaded in Sampling") }
        if s.browser.marked.contains(row.info.path) { warnings.append("marked to compare") }
        s.browser.confirmingDelete = DeleteConfirmation(path: row.info.path, label: "\(row.info.run) step \(row.info.step)",
                                                        onlyCheckpoint: row.checkpointsInRun <= 1, stage: 1, warnings: warnings)
    case .confirmDelete:
        guard var question = s.browser.confirmingDelete else { return }
        if question.onlyCheckpoint && question.stage == 1 {
            question.stage = 2
            s.browser.confirmingDelete = question
            return
        }
        s.browser.confirmingDelete = nil
        s.deletedPaths.append(question.path)
        if let m = s.message, mentions(m.text, question.path) { s.message = nil }
        s.browser.marked.removeAll { $0 == question.path }
        if s.sampling.source.paths.contains(question.path) { s.sampling.source = .live }
        effects.append(.deleteCheckpoint(question.path))
        notice = "deleted \(question.label)"
    case .cancelDelete:
        s.browser.confirmingDelete = nil
    case .markCheckpoint:
        guard let row else { return }
        if let i = s.browser.marked.firstIndex(of: row.info.path) {
            s.browser.marked.remove(at: i)
        } else {
            s.browser.marked.append(row.info.path)
            if s.browser.marked.count > 2 { s.browser.marked.removeFirst() }
        }
        if s.browser.marked.count == 2 {
            s.sampling.source = .compare(s.browser.marked[0], s.browser.marked[1])
            s.sampling.cursor = nil
            notice = "comparing two checkpoints side by side on seed \(s.sampling.seed)"
        }
    case .toggleOverlay:
        guard let row else { return }
        if let i = s.browser.overlays.firstIndex(where: { $0.path == row.runPath }) {
            s.browser.overlays.remove(at: i)
            notice = "\(row.info.run) off the loss chart"
        } else if training.isActive && row.info.run == limits.trainingRun {
            notice = "\(row.info.run) is the training run: the loss chart always shows it"
        } else if s.browser.overlays.count >= OverlayRun.limit {
            notice = "at most \(OverlayRun.limit) runs overlaid: remove one first (a on its row)"
        } else {
            let used = Set(s.browser.overlays.map(\.slot))
            s.browser.overlays.append(OverlayRun(path: row.runPath, slot: (0..<OverlayRun.limit).first { !used.contains($0) } ?? 0))
            notice = "\(row.info.run) overlaid on the loss chart (a again removes it)"
        }
    case .cycleSort:
        s.browser.sort = BrowserSort(rawValue: (s.browser.sort.rawValue + 1) % BrowserSort.allCases.count)!
        s.browser.selected = 0
        notice = "sorted by \(s.browser.sort.title)"
    case .editFilter:
        s.textEntry = TextEntry(.filter, text: s.browser.filter)
    default:
        break
    }
}

/// The attention cursor stays on the causal triangle (a key at or before its query): above the
/// diagonal P is zero by the mask, nothing to read.
private func moveAttentionCursor(_ a: inout AttentionViewState, rows: Int, columns: Int, probeLength: Int?) {
    a.cursorRow = moved(a.cursorRow, by: rows, within: probeLength)
    a.cursorColumn = min(moved(a.cursorColumn, by: columns, within: probeLength), a.cursorRow)
}
