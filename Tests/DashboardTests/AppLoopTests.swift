import Testing
@testable import Dashboard
import Training
import TerminalUI

/// The frame loop driven through the in-memory terminal and the fake trainer.
/// Serialized: the loop reads the process-wide interrupt counter.
@Suite(.serialized) struct AppLoopTests {
    private func makeApp(_ control: FakeTrainingControl, _ backend: MemoryBackend,
                         options: DashboardOptions = DashboardOptions()) -> DashboardApp<MemoryBackend> {
        let themes = ThemeLibrary(themes: [.builtInDefault, { var t = Theme.builtInDefault; t.name = "other"; t[.mainBackground] = .hex(0xFFFFFF); return t }()])
        return DashboardApp(control: control, backend: backend, themes: themes, options: options)
    }

    @Test func keysBecomeTrainerCommandsAndQuitWaitsForTheStop() {
        let control = FakeTrainingControl(sampleSnapshot())
        let backend = MemoryBackend(width: 120, height: 40)
        backend.queue([.character(" "), .character(" "), .character("s"), .character("q"), .character("y")])
        let exit = makeApp(control, backend).run()
        #expect(exit == .trainerStopped)
        // The console asks for a copy of the weights once training runs; the keys' commands follow.
        #expect(control.commands.filter { $0 != .snapshotWeights } == [.pause, .resume, .saveCheckpoint, .stop])
        // The prompt and then the "saving…" notice were on screen before the loop returned.
        #expect(backend.frames.contains { $0.lines.contains { $0.contains("Stop it, save a checkpoint and quit?") } })
        #expect(backend.frames.contains { $0.lines[0].contains("‖ paused") })
    }

    @Test func aTrainerThatNeverStopsTimesOut() {
        let control = FakeTrainingControl(sampleSnapshot(), obeysStop: false)
        let backend = MemoryBackend(width: 80, height: 24)
        backend.queue([.control("c")])
        let exit = makeApp(control, backend, options: DashboardOptions(shutdownTimeout: .milliseconds(50))).run()
        #expect(exit == .timedOut)
        #expect(control.commands.filter { $0 != .snapshotWeights } == [.stop])
        #expect(backend.screen.lines[0].contains("saving…"))
    }

    @Test func aSecondCtrlCStopsWaiting() {
        let control = FakeTrainingControl(sampleSnapshot(), obeysStop: false)
        let backend = MemoryBackend(width: 80, height: 24)
        backend.queue([.control("c"), .control("c")])
        #expect(makeApp(control, backend).run() == .abandoned)
    }

    @Test func aSignalQuitsLikeCtrlC() {
        let control = FakeTrainingControl(sampleSnapshot())
        let backend = MemoryBackend(width: 80, height: 24)
        TerminalGuard.pendingInterrupts.add(1, ordering: .relaxed)
        #expect(makeApp(control, backend).run() == .trainerStopped)
        #expect(control.commands.filter { $0 != .snapshotWeights } == [.stop])
    }

    @Test func aFinishedRunQuitsWithoutStopping() {
        let control = FakeTrainingControl(sampleSnapshot(state: .finished))
        let backend = MemoryBackend(width: 80, height: 24)
        backend.queue([.character("q")])
        #expect(makeApp(control, backend).run() == .trainerStopped)
        #expect(control.commands.isEmpty)
    }

    @Test func resizingRelaysOutAtOnce() throws {
        let control = FakeTrainingControl(sampleSnapshot())
        let backend = MemoryBackend(width: 120, height: 40)
        backend.queue([.character("?")])
        backend.resize(width: 60, height: 15)
        backend.queue([.escape])
        backend.resize(width: 120, height: 40)
        backend.queue([.control("c")])
        _ = makeApp(control, backend).run()
        let sizes = backend.frames.map { "\($0.width)×\($0.height)" }
        #expect(sizes.contains("60×15"))
        #expect(sizes.last == "120×40")
        let small = backend.frames.filter { $0.width == 60 }
        try #require(small.count == 2)
        // Help was open when the terminal shrank: it is redrawn to fit, then closed with Esc.
        #expect(small[0].lines.contains { $0.contains("┏ Keys ━") })
        #expect(small[1].lines[1].hasPrefix(" Loss   Grad   Attn"))
    }

    @Test func themeKeyRecoloursTheScreenAndNamesTheTheme() {
        let control = FakeTrainingControl(sampleSnapshot())
        let backend = MemoryBackend(width: 80, height: 24)
        backend.queue([.character("t"), .control("c")])
        _ = makeApp(control, backend).run()
        let before = backend.frames.first!, after = backend.frames.first { $0[40, 12].bg == .hex(0xFFFFFF) }
        #expect(before[40, 12].bg != .hex(0xFFFFFF))
        #expect(after?.lines[23].contains("theme other") == true)
    }

    @Test func unchangedFramesAreNotRedrawnAndChangesWriteOnlyChangedCells() {
        let backend = MemoryBackend(width: 120, height: 40)
        let first = DashboardView.render(snapshot: sampleSnapshot(steps: 300), ui: UIState(), theme: .builtInDefault,
                                         colorMode: .truecolor, width: 120, height: 40)
        backend.present(first)
        #expect(backend.cellsWrittenLastFrame == 120 * 40)
        var ui = UIState()
        ui.focus = .gradients
        let second = DashboardView.render(snapshot: sampleSnapshot(steps: 300), ui: ui, theme: .builtInDefault,
                                          colorMode: .truecolor, width: 120, height: 40)
        backend.present(second)
        #expect(backend.cellsWrittenLastFrame > 0 && backend.cellsWrittenLastFrame < 120 * 40 / 4)
        #expect(backend.screen == second)
        backend.present(second)
        #expect(backend.cellsWrittenLastFrame == 0)
        backend.invalidate()
        backend.present(second)
        #expect(backend.cellsWrittenLastFrame == 120 * 40)
    }

    @Test func anUnknownThemeOptionFallsBackAndSaysSo() {
        let control = FakeTrainingControl(sampleSnapshot())
        let backend = MemoryBackend(width: 80, height: 24)
        let app = makeApp(control, backend, options: DashboardOptions(theme: "solarized"))
        #expect(app.ui.themeIndex == 0)
        #expect(app.ui.message?.text == "no theme named solarized; using dark")
        #expect(makeApp(control, backend, options: DashboardOptions(theme: "other")).ui.themeIndex == 1)
    }
}
