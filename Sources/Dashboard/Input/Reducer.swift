import Training

/// Something the reducer wants done outside the UI state: the app loop carries it out.
public enum Effect: Equatable, Sendable {
    case send(TrainerCommand)
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

/// The dashboard's behaviour as a pure function: a key and the current training state in,
/// the next UI state and the effects to perform out.
public func reduce(_ state: UIState, _ key: Key, training: TrainingSnapshot.State,
                   limits: SelectionLimits = SelectionLimits()) -> (UIState, [Effect]) {
    guard let action = Keymap.action(for: key, in: state) else { return (state, []) }
    return reduce(state, action, training: training, limits: limits)
}

/// Longest probe text accepted from the keyboard (the trainer cuts it to block_size tokens).
let maximumProbeLength = 512

/// `index` moved by `delta`, kept in `0..<count` (unbounded above while the count is unknown).
private func moved(_ index: Int, by delta: Int, within count: Int?) -> Int {
    let next = max(0, index + delta)
    guard let count else { return next }
    return min(next, max(0, count - 1))
}

public func reduce(_ state: UIState, _ action: Action, training: TrainingSnapshot.State,
                   limits: SelectionLimits = SelectionLimits()) -> (UIState, [Effect]) {
    var s = state
    var effects: [Effect] = []

    // Once quitting has begun only Ctrl-C means anything: it gives up waiting for the trainer.
    if s.shutdown == .waitingForTrainer {
        return action == .interrupt ? (s, [.abandonShutdown]) : (s, [])
    }

    switch action {
    case .togglePause:
        switch training {
        case .paused:
            effects.append(.send(.resume)); s.notice = "resuming"
        case .starting, .running, .evaluating:
            effects.append(.send(.pause)); s.notice = "pausing after this step"
        case .idle:
            s.notice = "no training in this process (r in Checkpoints resumes one)"
        case .finished, .failed:
            s.notice = "training has ended"
        }
    case .saveCheckpoint:
        if training.isActive {
            effects.append(.send(.saveCheckpoint)); s.notice = "checkpoint requested"
        } else {
            s.notice = "training has ended; nothing new to save"
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
        s.focus = PaneID(rawValue: (s.focus.rawValue + 1) % PaneID.allCases.count)!
    case .focusPrevious:
        s.focus = PaneID(rawValue: (s.focus.rawValue + PaneID.allCases.count - 1) % PaneID.allCases.count)!
    case .toggleExpand:
        s.expanded.toggle()
    case .nextTheme:
        s.themeIndex = (s.themeIndex + 1) % max(1, s.themeCount)
    case .redraw:
        effects.append(.redraw)
    case .toggleSmoothing:
        s.loss.smoothing.toggle()
    case .toggleLogScale:
        s.loss.logScale.toggle()
    case .toggleFollow:
        s.loss.follow.toggle()
    case .widenWindow:
        s.loss.follow = true
        s.loss.windowSteps = min(s.loss.windowSteps * 2, LossViewState.windowRange.upperBound)
    case .narrowWindow:
        s.loss.follow = true
        s.loss.windowSteps = max(s.loss.windowSteps / 2, LossViewState.windowRange.lowerBound)
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
    case .editProbe:
        if training.isActive {
            s.probeInput = ""
        } else {
            s.notice = "training has ended; the probe cannot change"
        }
    case .typeProbe(let c):
        if var text = s.probeInput, text.unicodeScalars.count < maximumProbeLength {
            text.unicodeScalars.append(c)
            s.probeInput = text
        }
    case .deleteProbeCharacter:
        if var text = s.probeInput, !text.isEmpty {
            text.unicodeScalars.removeLast()
            s.probeInput = text
        }
    case .submitProbe:
        if let text = s.probeInput, !text.isEmpty {
            effects.append(.send(.setProbe(text)))
            s.notice = "probe sent; the trainer recomputes the maps"
        } else {
            s.notice = "empty probe: unchanged"
        }
        s.probeInput = nil
    case .cancelProbe:
        s.probeInput = nil
    }
    return (s, effects)
}
