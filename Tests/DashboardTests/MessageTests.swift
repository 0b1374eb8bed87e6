import Testing
@testable import Dashboard
import Training
import TerminalUI

/// The one message mechanism: a message has a time, expires, and a newer one replaces it.
@Suite struct MessageTests {
    private func feed(_ lines: [String], into state: UIState = UIState(), at now: Duration = .zero) -> UIState {
        reduce(state, .event(.trainerMessages(lines)), training: .running, now: now).0
    }

    private func tick(_ state: UIState, at now: Duration) -> UIState {
        reduce(state, .event(.tick), training: .running, now: now).0
    }

    /// The defect: `TrainingHost` appends its own "resuming … from step N" after the session's
    /// lines, so the snapshot's last line stayed that for the rest of the run.
    @Test func afterAResumeNewerTrainerLinesReplaceTheResumeLine() {
        let resuming = "resuming demo from step 40"
        var ui = feed([resuming])
        #expect(ui.message == Message(resuming, kind: .trainer, posted: .zero))
        // The new session writes a checkpoint: its line comes before the host's in the list.
        ui = feed(["checkpoint saved: runs/demo/checkpoints/step-000050.safetensors", resuming], into: ui, at: .seconds(2))
        #expect(ui.message?.text == "checkpoint saved: runs/demo/checkpoints/step-000050.safetensors")
        #expect(ui.message?.posted == .seconds(2))
        // The same list again is nothing new.
        let again = feed(ui.trainerMessagesSeen, into: ui, at: .seconds(3))
        #expect(again.message?.posted == .seconds(2))
    }

    @Test func aRepeatedLineIsNewEachTime() {
        var ui = feed(["a run is already being started"])
        ui = tick(ui, at: .seconds(60))
        #expect(ui.message == nil)
        ui = feed(["a run is already being started", "a run is already being started"], into: ui, at: .seconds(61))
        #expect(ui.message?.text == "a run is already being started")
    }

    @Test func linesDroppedFromTheFrontAreNotNew() {
        let old = (1...50).map { "checkpoint saved: step \($0)" }
        var ui = feed(old)
        ui = tick(ui, at: .seconds(60))
        ui = feed(Array(old.dropFirst()) + ["checkpoint saved: step 51"], into: ui, at: .seconds(61))
        #expect(ui.message?.text == "checkpoint saved: step 51")
        #expect(newTrainerMessages(["b", "c"], since: ["a", "b", "c"]).isEmpty)
    }

    @Test func messagesExpireByTheClock() {
        let (saved, _) = reduce(UIState(), .character("s"), training: .running, now: .seconds(10))
        #expect(saved.message == Message("checkpoint requested", kind: .notice, posted: .seconds(10)))
        #expect(tick(saved, at: .seconds(12)).message != nil)
        #expect(tick(saved, at: .seconds(13) + .milliseconds(1)).message == nil)
        let trainer = feed(["checkpoint saved: x"], at: .seconds(10))
        #expect(tick(trainer, at: .seconds(19)).message != nil)
        #expect(tick(trainer, at: .seconds(21)).message == nil)
    }

    @Test func newerReplacesOlderWhateverItsKind() {
        var ui = feed(["checkpoint saved: x"])
        ui = reduce(ui, .character("s"), training: .running, now: .seconds(1)).0
        #expect(ui.message?.text == "checkpoint requested" && ui.message?.kind == .notice)
        ui = feed(["checkpoint saved: x", "checkpoint saved: y"], into: ui, at: .seconds(2))
        #expect(ui.message?.text == "checkpoint saved: y" && ui.message?.kind == .trainer)
        ui = reduce(ui, .event(.notice("no theme named x")), training: .running, now: .seconds(3)).0
        #expect(ui.message?.text == "no theme named x")
    }

    @Test func theThemeKeyNamesTheThemeThroughTheReducer() {
        let ui = reduce(UIState(themeNames: ["dark", "paper"]), .character("t"), training: .running).0
        #expect(ui.themeIndex == 1 && ui.message?.text.hasPrefix("theme paper (2 of 2") == true)
    }

    /// End to end through the app loop: a line the trainer publishes after the resume line is
    /// drawn; the resume line no longer hides it.
    @Test func theAppShowsTheNewestTrainerLine() {
        var snapshot = sampleSnapshot()
        snapshot.messages = ["resuming demo from step 40"]
        let control = FakeTrainingControl(snapshot)
        let backend = MemoryBackend(width: 120, height: 40)
        backend.queue([.character("s"), .control("c")])
        let app = DashboardApp(control: control, backend: backend, themes: ThemeLibrary(themes: [.builtInDefault], warnings: []),
                               options: DashboardOptions())
        _ = app.run()
        let hints = backend.frames.map { $0.lines[39] }
        #expect(hints.first?.hasPrefix(" resuming demo from step 40") == true)
        // `s`: the fake trainer answers at once, so its line (newer than the "checkpoint
        // requested" notice) is what the next frame draws.
        #expect(hints.last?.hasPrefix(" checkpoint written: step-600") == true)
    }
}

/// One text entry for the probe, the prompt and the filter.
@Suite struct TextEntryTests {
    @Test func editsAreTheSameForEveryPurpose() {
        for purpose in [TextEntry.Purpose.probe, .prompt, .filter] {
            var entry = TextEntry(purpose, text: "ab")
            guard case .editing(let typed) = entry.applying(.type("c")) else { Issue.record("typing ended the entry"); continue }
            entry = typed
            #expect(entry.text == "abc" && entry.purpose == purpose)
            guard case .editing(let deleted) = entry.applying(.deleteBackward) else { Issue.record("deleting ended it"); continue }
            #expect(deleted.text == "ab")
            #expect(deleted.applying(.submit) == .submitted("ab"))
            #expect(deleted.applying(.cancel) == .cancelled)
        }
        #expect(TextEntry(.probe).applying(.deleteBackward) == .editing(TextEntry(.probe)))
    }

    @Test func theTextStopsAtTheMaximumLength() {
        let full = TextEntry(.prompt, text: String(repeating: "x", count: TextEntry.maximumLength))
        #expect(full.applying(.type("y")) == .editing(full))
    }

    @Test func theKeymapRoutesEveryEntryThroughTheSameActions() {
        var probe = UIState(), prompt = UIState()
        probe.textEntry = TextEntry(.probe)
        prompt.textEntry = TextEntry(.prompt)
        for state in [probe, prompt] {
            #expect(Keymap.action(for: .character("q"), in: state) == .editText(.type("q")))
            #expect(Keymap.action(for: .enter, in: state) == .editText(.submit))
            #expect(Keymap.action(for: .escape, in: state) == .editText(.cancel))
            #expect(Keymap.action(for: .backspace, in: state) == .editText(.deleteBackward))
        }
        // The help keeps its two sections: Enter means something else for a probe.
        #expect(Keymap.activeScopes(probe) == [.probeInput] && Keymap.activeScopes(prompt) == [.textInput])
    }
}
