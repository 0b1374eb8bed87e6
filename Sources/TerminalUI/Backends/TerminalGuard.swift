#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Makes every way out of the dashboard leave a usable terminal.
///
/// SIGINT, SIGTERM and SIGHUP only bump a counter (and remember which signal came first): the
/// main loop sees it within a frame and quits the normal way (stop the trainer, wait for its
/// checkpoint, `endwin`), and the program then exits 128 + that signal, as the headless path
/// does. A crash cannot go through ncurses, so its handler does only async-signal-safe things —
/// put back the terminal settings saved before ncurses started and write one precomputed reset
/// sequence — and then lets the signal kill the process as it would have. An `exit` from any
/// thread while ncurses still owns the terminal gets the same reset from an `atexit` handler.
public enum TerminalGuard {
    public static let pendingInterrupts = Atomic<Int>(0)
    /// The first interrupt signal received since `install` (0: none).
    public static let firstInterruptSignal = Atomic<Int32>(0)
    /// True between `install` and `uninstall`: the terminal is in ncurses' modes.
    private static let active = Atomic<Bool>(false)

    // Written once before any handler is installed and only read by the crash handler afterwards.
    nonisolated(unsafe) private static var savedSettings = termios()
    nonisolated(unsafe) private static var haveSavedSettings = false
    nonisolated(unsafe) private static var previousHandlers: [Int32: sighandler_t?] = [:]
    nonisolated(unsafe) private static var exitHandlerRegistered = false

    private static let interruptSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// What `endwin` would have undone, without ncurses (which is not async-signal-safe): reset
    /// attributes; mouse reporting off (SGR, any-motion, button-motion, click); application
    /// cursor keys off and keypad-transmit off (`rmkx`: `ESC [ ? 1 l ESC >`), or the shell's
    /// arrow keys type `^[OA`; cursor visible; leave the alternate screen; a new line.
    public static let resetSequence: StaticString =
        "\u{1B}[0m\u{1B}[?1006l\u{1B}[?1003l\u{1B}[?1002l\u{1B}[?1000l\u{1B}[?1l\u{1B}>\u{1B}[?25h\u{1B}[?1049l\r\n"

    public static func install() {
        haveSavedSettings = tcgetattr(STDIN_FILENO, &savedSettings) == 0
        _ = pendingInterrupts.load(ordering: .relaxed)
        firstInterruptSignal.store(0, ordering: .relaxed)
        for sig in interruptSignals {
            previousHandlers[sig] = signal(sig) { sig in
                _ = TerminalGuard.firstInterruptSignal.compareExchange(expected: 0, desired: sig, ordering: .relaxed)
                TerminalGuard.pendingInterrupts.add(1, ordering: .relaxed)
            }
        }
        for sig in crashSignals {
            previousHandlers[sig] = signal(sig) { sig in
                TerminalGuard.restoreAfterCrash()
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
        if !exitHandlerRegistered {
            exitHandlerRegistered = true
            atexit { TerminalGuard.restoreAfterCrash() }
        }
        active.store(true, ordering: .releasing)
    }

    public static func uninstall() {
        active.store(false, ordering: .releasing)
        for (sig, handler) in previousHandlers {
            signal(sig, handler ?? SIG_DFL)
        }
        previousHandlers = [:]
    }

    /// Interrupt signals received since the last call.
    public static func takeInterrupts() -> Int {
        pendingInterrupts.exchange(0, ordering: .relaxed)
    }

    /// Only while ncurses owns the terminal: after `endwin` the reset would move the cursor
    /// (leaving an alternate screen restores the cursor position saved on entering it).
    private static func restoreAfterCrash() {
        guard active.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if haveSavedSettings { _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedSettings) }
        _ = write(STDOUT_FILENO, resetSequence.utf8Start, resetSequence.utf8CodeUnitCount)
    }
}
