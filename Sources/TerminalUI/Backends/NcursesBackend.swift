import CNcursesw
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public enum DashboardError: Error, CustomStringConvertible {
    case notATerminal
    case cannotInitialize(term: String)

    public var description: String {
        switch self {
        case .notATerminal:
            "the dashboard needs an interactive terminal (stdin and stdout); use --headless"
        case .cannotInitialize(let term):
            "ncurses cannot drive this terminal (TERM=\(term)); use --headless or set TERM"
        }
    }
}

/// The real terminal, through ncursesw. Owned by the main thread: ncurses is not thread-safe.
///
/// Each frame only the cells that changed since the previous frame are handed to ncurses, one
/// `setcchar` + `mvadd_wch` each, with the colour pair passed through `setcchar`'s `opts` pointer
/// because the classic pair argument holds only 8 bits. Pairs come from `alloc_pair`.
public final class NcursesBackend: TerminalBackend {
    public let colorMode: ColorMode
    /// A note for the user about colour support (printed after the dashboard closes).
    public let colorHint: String?
    private var screenPointer: OpaquePointer?
    private var previous: CellBuffer?
    private var pairs: [UInt64: Int32] = [:]
    private var paletteIndex: [RGB: Int32] = [:]
    private let maxPairs: Int
    private var closed = false
    /// Set when colour pairs were recycled mid-frame: cells drawn earlier may now show wrong colours.
    private var pairsWereReset = false

    /// Takes over the terminal. `maxColorMode` caps the detected mode (a user option).
    public init(maxColorMode: ColorMode? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw DashboardError.notATerminal }
        // Without the user's locale ncurses treats every byte as Latin-1 and braille comes out as garbage.
        setlocale(LC_ALL, "")
        // A parent that blocked SIGWINCH (some launchers and test runners do) would leave us
        // deaf to resizes: ncurses learns of them only through that signal.
        var winch = sigset_t()
        sigemptyset(&winch)
        sigaddset(&winch, SIGWINCH)
        pthread_sigmask(SIG_UNBLOCK, &winch, nil)
        TerminalGuard.install()
        guard let screen = ns_newterm_stdio() else {
            TerminalGuard.uninstall()
            throw DashboardError.cannotInitialize(term: environment["TERM"] ?? "")
        }
        screenPointer = screen
        let window = ns_stdscr()
        // raw rather than cbreak: Ctrl-C arrives as a key, so quitting goes through the reducer.
        raw()
        noecho()
        nonl()
        keypad(window, true)
        _ = curs_set(0)
        _ = set_escdelay(25)
        leaveok(window, true)
        // Clicks, the wheel and drags arrive as KEY_MOUSE; no click-interval wait (a press is
        // reported at once, so dragging a slider follows the pointer).
        _ = mousemask(ns_mouse_all(), nil)
        _ = mouseinterval(0)

        var detected = (mode: ColorMode.monochrome, hint: String?.none)
        if has_colors() {
            start_color()
            use_default_colors()
            detected = ColorMode.detect(colors: Int(ns_colors()), hasColors: true, environment: environment)
        } else {
            detected = ColorMode.detect(colors: 0, hasColors: false, environment: environment)
        }
        colorMode = min(detected.mode, maxColorMode ?? .truecolor)
        colorHint = detected.hint
        maxPairs = Int(ns_color_pairs())
    }

    deinit { close() }

    /// Gives the terminal back. Safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        endwin()
        if let screenPointer { delscreen(screenPointer) }
        screenPointer = nil
        TerminalGuard.uninstall()
    }

    public var size: (width: Int, height: Int) {
        var rows: Int32 = 0, cols: Int32 = 0
        ns_getmaxyx(ns_stdscr(), &rows, &cols)
        return (Int(cols), Int(rows))
    }

    public func invalidate() {
        previous = nil
        clearok(ns_stdscr(), true)
    }

    public func present(_ buffer: CellBuffer) {
        if let previous, previous.width != buffer.width || previous.height != buffer.height {
            invalidate()
        }
        if previous == nil { erase() }
        let width = buffer.width
        var cc = cchar_t()
        var glyph: (wchar_t, wchar_t) = (0, 0)
        let attributeMap = Self.attributeMap
        buffer.cells.withUnsafeBufferPointer { cells in
            buffer.forEachChange(from: previous) { i in
                let cell = cells[i]
                var pair = pairNumber(cell.fg, cell.bg)
                glyph.0 = wchar_t(bitPattern: cell.scalar.value)
                withUnsafePointer(to: &glyph) { p in
                    p.withMemoryRebound(to: wchar_t.self, capacity: 2) { text in
                        _ = setcchar(&cc, text, attributeMap[Int(cell.attributes.rawValue & 0x1F)], 0, &pair)
                    }
                }
                // The bottom-right cell returns ERR (the cursor cannot advance past it) but is drawn.
                _ = mvadd_wch(Int32(i / width), Int32(i % width), &cc)
            }
        }
        previous = pairsWereReset ? nil : buffer
        pairsWereReset = false
        refresh()
    }

    /// ncurses attribute bits for every combination of `TextAttributes`.
    private static let attributeMap: [attr_t] = (0..<32).map { raw in
        let a = TextAttributes(rawValue: UInt8(raw))
        var bits = ns_a_normal()
        if a.contains(.bold) { bits |= ns_a_bold() }
        if a.contains(.dim) { bits |= ns_a_dim() }
        if a.contains(.reverse) { bits |= ns_a_reverse() }
        if a.contains(.underline) { bits |= ns_a_underline() }
        if a.contains(.italic) { bits |= ns_a_italic() }
        return bits
    }

    private func pairNumber(_ fg: Color, _ bg: Color) -> Int32 {
        guard colorMode != .monochrome else { return 0 }
        let f = colorNumber(fg), b = colorNumber(bg)
        let key = UInt64(UInt32(bitPattern: f)) << 32 | UInt64(UInt32(bitPattern: b))
        if let pair = pairs[key] { return pair }
        if pairs.count >= maxPairs - 1 {
            // alloc_pair would now recycle pairs still on screen: start over and repaint.
            reset_color_pairs()
            pairs.removeAll(keepingCapacity: true)
            pairsWereReset = true
        }
        let pair = alloc_pair(f, b)
        pairs[key] = max(0, pair)
        return max(0, pair)
    }

    private func colorNumber(_ color: Color) -> Int32 {
        guard case .rgb(let rgb) = color else { return -1 }
        if colorMode == .truecolor { return Int32(bitPattern: rgb.hex) }
        if let index = paletteIndex[rgb] { return index }
        let index = Int32(colorMode == .palette256 ? ColorQuantizer.xterm256(rgb) : ColorQuantizer.ansi(rgb, count: min(16, Int(ns_colors()))))
        paletteIndex[rgb] = index
        return index
    }

    public func nextKey(timeoutMilliseconds: Int) -> Key? {
        let window = ns_stdscr()
        wtimeout(window, Int32(clamping: max(0, timeoutMilliseconds)))
        var value: wint_t = 0
        let result = wget_wch(window, &value)
        if result == KEY_CODE_YES {
            if Int32(bitPattern: value) == KEY_MOUSE { return mouseKey() }
            return Self.functionKey(Int32(bitPattern: value))
        }
        if result == OK { return Key(character: UInt32(value)) }
        return nil
    }

    private var buttonHeld = false

    private func mouseKey() -> Key? {
        var event = MEVENT()
        guard getmouse(&event) == OK else { return nil }
        let state = event.bstate, x = Int(event.x), y = Int(event.y)
        if state & ns_button4_pressed() != 0 { return .mouse(MouseEvent(.wheelUp, x: x, y: y)) }
        if state & ns_button5_pressed() != 0 { return .mouse(MouseEvent(.wheelDown, x: x, y: y)) }
        if state & (ns_button1_pressed() | ns_button1_clicked()) != 0 {
            buttonHeld = state & ns_button1_clicked() == 0
            return .mouse(MouseEvent(.press, x: x, y: y))
        }
        if state & ns_button1_released() != 0 {
            buttonHeld = false
            return .mouse(MouseEvent(.release, x: x, y: y))
        }
        if state & ns_report_position() != 0 && buttonHeld { return .mouse(MouseEvent(.drag, x: x, y: y)) }
        return nil
    }

    private static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: .up
        case KEY_DOWN: .down
        case KEY_LEFT: .left
        case KEY_RIGHT: .right
        case KEY_HOME: .home
        case KEY_END: .end
        case KEY_PPAGE: .pageUp
        case KEY_NPAGE: .pageDown
        case KEY_BTAB: .backTab
        case KEY_BACKSPACE: .backspace
        case KEY_DC: .delete
        case KEY_ENTER: .enter
        case KEY_RESIZE: .resize
        case ns_key_f(1)...ns_key_f(24): .function(Int(code - ns_key_f(0)))
        default: nil
        }
    }
}
