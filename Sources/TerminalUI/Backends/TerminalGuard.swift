#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Makes every way out of the dashboard leave a usable terminal.
///
/// SIGINT and SIGTERM only bump a counter: the main loop sees it within a frame and quits the
/// normal way (stop the trainer, wait for its checkpoint, `endwin`). A crash cannot go through
/// ncurses, so its handler does only async-signal-safe things — put back the terminal settings
/// saved before ncurses started, leave the alternate screen, show the cursor — and then lets the
/// signal kill the process as it would have.
public enum TerminalGuard {
    public static let pendingInterrupts = Atomic<Int>(0)

    // Written once before any handler is installed and only read by the crash handler afterwards.
    nonisolated(unsafe) private static var savedSettings = termios()
    nonisolated(unsafe) private static var haveSavedSettings = false
    nonisolated(unsafe) private static var previousHandlers: [Int32: sighandler_t?] = [:]

    private static let interruptSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    private static let crashSignals: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]

    /// Reset attributes, show the cursor, leave the alternate screen, new line.
    private static let restoreSequence: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n"

    public static func install() {
        haveSavedSettings = tcgetattr(STDIN_FILENO, &savedSettings) == 0
        _ = pendingInterrupts.load(ordering: .relaxed)
        for sig in interruptSignals {
            previousHandlers[sig] = signal(sig) { _ in
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
    }

    public static func uninstall() {
        for (sig, handler) in previousHandlers {
            signal(sig, handler ?? SIG_DFL)
        }
        previousHandlers = [:]
    }

    /// Interrupt signals received since the last call.
    public static func takeInterrupts() -> Int {
        pendingInterrupts.exchange(0, ordering: .relaxed)
    }

    private static func restoreAfterCrash() {
        if haveSavedSettings { _ = tcsetattr(STDIN_FILENO, TCSANOW, &savedSettings) }
        _ = write(STDOUT_FILENO, restoreSequence.utf8Start, restoreSequence.utf8CodeUnitCount)
    }
}
