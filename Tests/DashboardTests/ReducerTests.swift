import Testing
@testable import Dashboard
import Training
import TerminalUI

/// Feeds `keys` through the reducer from `state`, collecting every effect in order.
private func play(_ keys: [Key], from state: UIState = UIState(themeNames: ["dark", "light", "paper", "mono"]),
                  training: TrainingSnapshot.State = .running, limits: SelectionLimits = SelectionLimits()) -> (UIState, [Effect]) {
    var s = state
    var all: [Effect] = []
    for key in keys {
        let (next, effects) = reduce(s, key, training: training, limits: limits)
        s = next
        all += effects
    }
    return (s, all)
}

@Suite struct ReducerTests {
    @Test func spacePausesAndResumes() {
        #expect(play([.character(" ")]).1 == [.send(.pause)])
        #expect(play([.character(" ")], training: .paused).1 == [.send(.resume)])
        let (state, effects) = play([.character(" ")], training: .finished)
        #expect(effects.isEmpty)
        #expect(state.message?.text == "training has ended")
    }

    @Test func sRequestsACheckpoint() {
        let (state, effects) = play([.character("s")])
        #expect(effects == [.send(.saveCheckpoint)])
        #expect(state.message?.text == "checkpoint requested")
        #expect(play([.character("s")], training: .failed("x")).1.isEmpty)
    }

    @Test func quittingWhileTrainingAsksFirst() {
        let (asking, effects) = play([.character("q")])
        #expect(asking.confirmingQuit)
        #expect(effects.isEmpty)

        let (kept, none) = play([.character("q"), .character("n")])
        #expect(!kept.confirmingQuit && kept.shutdown == .none && none.isEmpty)

        let (quitting, stop) = play([.character("q"), .character("y")])
        #expect(stop == [.beginShutdown(stopTrainer: true)])
        #expect(quitting.shutdown == .waitingForTrainer)
    }

    @Test func thePromptSwallowsOtherKeys() {
        let (state, effects) = play([.character("q"), .character(" "), .character("t"), .tab])
        #expect(effects.isEmpty)
        #expect(state.confirmingQuit && state.themeIndex == 0 && state.focus == .loss)
    }

    @Test func quittingAFinishedRunNeedsNoConfirmation() {
        #expect(play([.character("q")], training: .finished).1 == [.beginShutdown(stopTrainer: false)])
        #expect(play([.character("q")], training: .failed("nan")).1 == [.beginShutdown(stopTrainer: false)])
    }

    @Test func ctrlCQuitsAtOnceAndASecondOneStopsWaiting() {
        #expect(play([.control("c")]).1 == [.beginShutdown(stopTrainer: true)])
        #expect(play([.character("q"), .control("c")]).1 == [.beginShutdown(stopTrainer: true)])
        #expect(play([.control("c"), .character("q"), .control("c")]).1 == [.beginShutdown(stopTrainer: true), .abandonShutdown])
    }

    @Test func tabCyclesFocusBothWays() {
        let forward = (1...5).map { n in play(Array(repeating: .tab, count: n)).0.focus }
        #expect(forward == [.gradients, .attention, .sampling, .checkpoints, .loss])
        #expect(play([.backTab]).0.focus == .checkpoints)
        #expect(play([.tab, .tab, .backTab]).0.focus == .gradients)
    }

    @Test func eExpandsAndEscOrERestores() {
        #expect(play([.character("e")]).0.expanded)
        #expect(!play([.character("e"), .character("e")]).0.expanded)
        #expect(!play([.character("e"), .escape]).0.expanded)
    }

    @Test func tCyclesThemes() {
        #expect(play([.character("t")]).0.themeIndex == 1)
        #expect(play(Array(repeating: .character("t"), count: 5)).0.themeIndex == 1)
        #expect(play([.character("t")], from: UIState(themeNames: ["dark"])).0.themeIndex == 0)
    }

    @Test func helpOpensWithQuestionMarkOrF1AndQClosesIt() {
        #expect(play([.character("?")]).0.showHelp)
        #expect(play([.function(1)]).0.showHelp)
        let (state, effects) = play([.character("?"), .character("q")])
        #expect(!state.showHelp && !state.confirmingQuit && effects.isEmpty)
        #expect(!play([.character("?"), .escape]).0.showHelp)
    }

    @Test func arrowsScrollHelpAndReopeningStartsAtTheTop() {
        #expect(play([.character("?"), .down, .down, .character("j"), .up]).0.helpScroll == 2)
        #expect(play([.character("?"), .up]).0.helpScroll == 0)
        #expect(play([.character("?"), .down, .character("?"), .character("?")]).0.helpScroll == 0)
        // Without help open the arrows belong to the loss pane, not to scrolling.
        #expect(play([.down, .character("j")]).0.helpScroll == 0)
    }

    @Test func globalKeysStillWorkUnderHelp() {
        let (state, effects) = play([.character("?"), .character(" ")])
        #expect(state.showHelp)
        #expect(effects == [.send(.pause)])
    }

    @Test func lossKeysOnlyActWhenTheLossPaneHasFocus() {
        let start = UIState()
        let (toggled, _) = play([.character("m"), .character("g"), .character("a")], from: start)
        #expect(toggled.loss.smoothingWeight != start.loss.smoothingWeight)
        #expect(toggled.loss.logScale != start.loss.logScale)
        #expect(toggled.loss.follow != start.loss.follow)
        let (elsewhere, _) = play([.tab, .character("m"), .character("g")], from: start)
        #expect(elsewhere.loss == start.loss)
    }

    @Test func theWindowZoomsThroughRoundNumbersWithinTheRun() {
        #expect(play([.left]).0.loss.windowSteps == 1000)
        #expect(play([.right, .character("l")]).0.loss.windowSteps == 100)
        #expect(play([.right, .right, .right]).0.loss.windowSteps == 50)
        #expect(play(Array(repeating: .right, count: 20)).0.loss.windowSteps == LossViewState.windowRange.lowerBound)
        #expect(play(Array(repeating: .left, count: 30)).0.loss.windowSteps == LossViewState.windowRange.upperBound)
        // A window as long as the run is the whole run: "last 3968" of a 2000-step run never shows.
        var limits = SelectionLimits()
        limits.maxSteps = 2000
        let (wide, _) = play([.left, .left], limits: limits)
        #expect(!wide.loss.follow && wide.loss.windowSteps == 1000)
        #expect(play([.left, .left, .right], limits: limits).0.loss.windowSteps == 1000)
        // Zooming in while showing the whole run goes back to following.
        #expect(play([.character("a"), .right]).0.loss.follow)
    }

    @Test func smoothingStrengthIsAKey() {
        var state = UIState()
        var seen: [Double] = []
        for _ in LossViewState.smoothingWeights {
            state = play([.character("m")], from: state).0
            seen.append(state.loss.smoothingWeight)
        }
        #expect(Set(seen).count == LossViewState.smoothingWeights.count && seen.contains(0) && seen.contains(0.99))
    }

    @Test func unboundKeysChangeNothing() {
        let start = UIState(themeNames: ["dark", "light", "paper", "mono"])
        let (state, effects) = play([.character("Z"), .function(9), .resize, .pageDown], from: start)
        #expect(state == start && effects.isEmpty)
    }
}

@Suite struct KeymapTests {
    @Test func noKeyIsBoundTwiceInOneScope() {
        for scope in KeyScope.allCases {
            let keys = Keymap.bindings.filter { $0.scope == scope }.flatMap(\.keys)
            #expect(Set(keys).count == keys.count, "duplicate key in \(scope)")
        }
    }

    @Test func helpListsEveryBinding() {
        let lines = Keymap.helpSections().flatMap(\.lines)
        #expect(lines.count == Keymap.bindings.count)
        #expect(lines.contains { $0.keys == "Space" && $0.summary == "pause / resume training" })
        #expect(lines.contains { $0.keys == "? F1" })
        #expect(lines.contains { $0.keys == "Shift-Tab" })
    }

    @Test func hintsComeFromTheTable() {
        #expect(Keymap.hints().map(\.word) == ["pause", "save", "focus", "expand", "checkpoints", "theme", "help", "quit"])
        #expect(Keymap.hints().first?.key == "Space")
        // The focused pane's own keys come first; keys that need a trainer are left out without one.
        var ui = UIState()
        ui.focus = .checkpoints
        let browsing = Keymap.hints(for: ui, training: false)
        #expect(browsing.pane.map(\.word).starts(with: ["sample", "resume", "delete"]))
        #expect(!browsing.global.map(\.word).contains("pause") && !browsing.global.map(\.word).contains("save"))
        #expect(Keymap.hints(for: UIState(), training: true).pane.map(\.word) == ["EMA", "log", "all", "zoom"])
    }

    @Test func terminalBytesDecodeToKeys() {
        #expect(Key(character: 3) == .control("c"))
        #expect(Key(character: 9) == .tab)
        #expect(Key(character: 13) == .enter)
        #expect(Key(character: 27) == .escape)
        #expect(Key(character: 127) == .backspace)
        #expect(Key(character: 0x71) == .character("q"))
        #expect(Key(character: 0x20) == .character(" "))
    }
}
